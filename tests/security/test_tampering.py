"""Someone with write access to the database changes history directly: a stored ballot, the
round's confirmed digest, an audit entry, or appends an audit entry of their own. Each
change is reported by the tools the committee and the public use."""

import json

import pytest
from sqlalchemy import insert, select, text

from tests.ballots.helpers import announce_round, as_deputy, as_role, cast, close_round, confirm_round, open_round
from tests.conftest import post
from tests.helpers import lift_audit_guard
from voting_app.audit import AuditEntry
from voting_app.ballots.models import Ballot, Round
from voting_app.db import db

WARNING = "Warning: the ballots no longer match the digest confirmed by the scrutineers"


def announced_round(app, world, voters=4):
    open_round(app, world)
    for index in range(voters):
        assert cast(as_deputy(app, world, index), world.round_id, choices=world.candidate_ids[index % 2: index % 2 + 1]).status_code == 302
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def change_one_ballot(app, world):
    with app.app_context():
        receipt = db.session.scalars(select(Ballot.receipt).where(Ballot.round_id == world.round_id)).first()
        db.session.execute(text("UPDATE ballots SET choices = :c WHERE round_id = :r AND receipt = :receipt"),
                           {"c": json.dumps([world.candidate_ids[3]]), "r": world.round_id, "receipt": receipt})
        db.session.commit()


def pages_warn(app, world) -> dict[str, bool]:
    public = app.test_client()
    staff = as_role(app, world, "staff")
    return {
        "results": WARNING in public.get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True),
        "board": WARNING in public.get(f"/ballots/rounds/{world.round_id}/board").get_data(as_text=True),
        "session report": WARNING in staff.get(f"/reports/sessions/{world.session_id}").get_data(as_text=True),
    }


def test_an_untouched_round_verifies_everywhere(app, world):
    announced_round(app, world)
    assert run(app, "board-verify").exit_code == 0
    assert run(app, "audit-verify").exit_code == 0
    assert pages_warn(app, world) == {"results": False, "board": False, "session report": False}


def test_a_changed_ballot_is_reported_by_the_pages_and_board_verify(app, world):
    announced_round(app, world)
    change_one_ballot(app, world)
    assert pages_warn(app, world) == {"results": True, "board": True, "session report": True}
    result = run(app, "board-verify")
    assert result.exit_code == 1 and "no longer match the digest confirmed" in result.output


def test_a_changed_ballot_with_the_rounds_digest_rewritten_to_match_is_caught_by_the_audit_log(app, world):
    """The careful forger also updates the digest stored on the round; the audit log keeps
    the digest the scrutineers confirmed."""
    announced_round(app, world)
    change_one_ballot(app, world)
    with app.app_context():
        from voting_app.ballots.service import round_board

        forged = round_board(db.session.get(Round, world.round_id))["digest"]
        db.session.execute(text("UPDATE rounds SET board_digest = :d WHERE id = :r"), {"d": forged, "r": world.round_id})
        db.session.commit()
    assert pages_warn(app, world)["results"] is False  # the page compares with the round's own field
    result = run(app, "board-verify")
    assert result.exit_code == 1 and "differs from the one written in the audit log" in result.output


def test_a_forger_who_also_edits_the_audit_entry_breaks_the_chain(app, world):
    announced_round(app, world)
    change_one_ballot(app, world)
    with app.app_context():
        from voting_app.ballots.service import round_board

        forged = round_board(db.session.get(Round, world.round_id))["digest"]
        db.session.execute(text("UPDATE rounds SET board_digest = :d WHERE id = :r"), {"d": forged, "r": world.round_id})
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "round.confirm")).one()
        details = {**entry.details, "digest": forged}
        lift_audit_guard(db.session)
        db.session.execute(text("UPDATE audit_entries SET details = :d WHERE id = :id"), {"d": json.dumps(details), "id": entry.id})
        db.session.commit()
        entry_id = entry.id
    board = run(app, "board-verify")
    assert "ballots match the confirmed digest" in board.output  # every digest now agrees...
    assert board.exit_code == 1 and "the audit log does not verify" in board.output  # ...but the chain does not
    audit = run(app, "audit-verify")
    assert audit.exit_code == 1 and f"entry {entry_id}" in audit.output


def forged_confirmation(forgery: str, prev_hash: str, round_id: int, digest: str) -> dict:
    """The row an attacker with INSERT rights but without the audit key appends: a
    confirmation of the round carrying the digest of ballots they changed."""
    from voting_app.audit import KEYED, entry_hash, entry_mac
    from voting_app.db import utcnow

    fields = {"at": utcnow(), "actor": "scrutineer-1", "action": "round.confirm", "target": f"round:{round_id}",
              "details": {"digest": digest}}
    link = (prev_hash, fields["at"], fields["actor"], fields["action"], fields["target"], fields["details"])
    if forgery == "unkeyed SHA-256, scheme left to the column default":
        return {**fields, "prev_hash": prev_hash, "hash": entry_hash(*link)}
    if forgery == "unkeyed SHA-256 labelled as keyed":
        return {**fields, "prev_hash": prev_hash, "hash": entry_hash(*link), "scheme": KEYED}
    if forgery == "HMAC under a wrong key":
        return {**fields, "prev_hash": prev_hash, "hash": entry_mac(b"a guessed key, not the audit key", *link), "scheme": KEYED}
    return {**fields, "prev_hash": prev_hash, "hash": "伪" * 64, "scheme": KEYED}  # reported, not a crash of the verifier


FORGERIES = ("unkeyed SHA-256, scheme left to the column default", "unkeyed SHA-256 labelled as keyed",
             "HMAC under a wrong key", "a hash that is not hex at all")


@pytest.mark.parametrize("forgery", FORGERIES)
def test_an_appended_entry_forged_without_the_audit_key_is_caught(app, world, forgery):
    """The outside review's attack: an unkeyed SHA-256 chain can be extended by anyone who
    may INSERT. The forger changes a ballot and the round's digest, then appends a correctly
    linked confirmation with the new digest, which board-verify (newest confirmation wins)
    would otherwise take. Neither audit-verify, with or without an anchor taken before or
    after the forgery, nor board-verify lets it pass."""
    announced_round(app, world)
    anchor_before = run(app, "audit-anchor").output.strip()
    change_one_ballot(app, world)
    with app.app_context():
        from voting_app.ballots.service import round_board

        digest = round_board(db.session.get(Round, world.round_id))["digest"]
        db.session.execute(text("UPDATE rounds SET board_digest = :d WHERE id = :r"), {"d": digest, "r": world.round_id})
        newest = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        row = forged_confirmation(forgery, newest.hash, world.round_id, digest)
        db.session.execute(insert(AuditEntry.__table__).values(**row))  # INSERT is all the append-only guard allows
        db.session.commit()
        forged_id = newest.id + 1
    anchor_after = run(app, "audit-anchor").output.strip()  # e.g. a session report printed after the forgery
    checks = [(), ("--anchor", anchor_before), ("--anchor", anchor_after)]
    if forgery == "a hash that is not hex at all":
        assert run(app, "audit-verify", *checks.pop()).exit_code == 2  # not even an anchor
    for args in checks:
        audit = run(app, "audit-verify", *args)
        assert audit.exit_code == 1 and f"BROKEN at entry {forged_id}" in audit.output, (args, audit.output)
    # Staff go on working: the app's next keyed entry links onto the forged one.
    assert post(as_role(app, world, "staff"), f"/sessions/{world.session_id}/cards/{world.deputy_ids[5]}/revoke").status_code == 302
    for args in checks:
        audit = run(app, "audit-verify", *args)
        assert audit.exit_code == 1 and f"BROKEN at entry {forged_id}" in audit.output, (args, audit.output)
    board = run(app, "board-verify")
    assert "ballots match the confirmed digest" in board.output  # the forged confirmation fooled the digest check...
    assert board.exit_code == 1 and "the audit log does not verify" in board.output  # ...not the log check


def test_a_whole_log_forged_without_the_audit_key_is_caught(app, world):
    """An attacker who empties the log and writes a new unkeyed chain from the start (a valid
    SHA-256 chain that passed before the key) is refused: unkeyed entries pass only as the
    beginning an upgrade sealed with a keyed entry."""
    announced_round(app, world)
    with app.app_context():
        from voting_app.audit import GENESIS, entry_hash

        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        rows = [{"at": e.at, "actor": e.actor, "action": e.action, "target": e.target, "details": e.details} for e in entries]
        lift_audit_guard(db.session)
        db.session.execute(text("DELETE FROM audit_entries"))
        prev = GENESIS
        for row in rows:
            new = entry_hash(prev, row["at"], row["actor"], row["action"], row["target"], row["details"])
            db.session.execute(insert(AuditEntry.__table__).values(**row, prev_hash=prev, hash=new))
            prev = new
        db.session.commit()
        first_id = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id))
    result = run(app, "audit-verify")
    assert result.exit_code == 1 and f"BROKEN at entry {first_id}: the log ends in unkeyed entries" in result.output


def test_unkeyed_entries_slipped_in_before_the_first_keyed_one_are_not_taken_for_a_sealed_beginning(app):
    """On a new installation the log starts empty. A forger who gets an unkeyed entry in
    first has the app's next (keyed) entry link onto it, which looks like an upgraded log;
    only the upgrade's own keyed entry, naming how many unkeyed entries it seals, vouches
    for them."""
    from voting_app import audit
    from voting_app.audit import GENESIS, entry_hash
    from voting_app.db import utcnow

    with app.app_context():
        at, details = utcnow(), {"name": "伪造的会议"}
        db.session.execute(insert(AuditEntry.__table__).values(
            at=at, actor="staff-1", action="session.create", target="session:1", details=details, prev_hash=GENESIS,
            hash=entry_hash(GENESIS, at, "staff-1", "session.create", "session:1", details)))
        db.session.commit()
        audit.record("staff-1", "session.update", "session:1")
        db.session.commit()
        forged_id = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id))
    result = run(app, "audit-verify")
    assert result.exit_code == 1 and f"BROKEN at entry {forged_id}: unkeyed entries that no upgrade sealed" in result.output
