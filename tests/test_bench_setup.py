"""`make bench` is not part of `make test`, so its scenarios are set up here on a small scale:
a rule the app gains (the 票决办法 adopted before a round opens) must not break the bench
unnoticed until someone measures."""

from bench import run


def test_the_bench_scenarios_set_up_against_the_app_as_it_is(tmp_path):
    url = f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    run.migrate(url)
    storm = run.Storm(url, 3)
    assert len(storm.calls) == len(storm.receipts) == 3
    assert all(call.path == f"/ballots/rounds/{storm.round_id}/ballot/cast" for call in storm.calls)
    code, answers, survey_id, staff_cookie = run.survey_setup(url)
    assert code and answers and survey_id and staff_cookie
