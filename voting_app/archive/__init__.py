"""The archive of a session or a year: one zip of its reports, boards, counts, audit log and
rules, with the sums and the standard-library verifier (`voting_app.verify_archive`)."""
