"""The rule-profile migration (15a0000000a1) with rounds in the database: each round that exists
gets a copy of the default rules with its own pass base and bar, graded by the bar; the
downgrade takes the copies and the profile table away and leaves the rounds as they were. On
PostgreSQL (TEST_DATABASE_URL) the round trip runs on the test schema itself."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from tests.conftest import PG_URL, ROOT, SECRET
from voting_app import create_app
from voting_app.ballots import profile_rules as rules

MIGRATIONS = str(ROOT / "migrations")
BEFORE_PROFILES = "14a0000000f5"
ROUNDS = [("差额票决", "choose_up_to", "roster", 60, "announced"), ("逐项表决", "for_against", "voters", 60, "draft"),
          ("满意度测评", "satisfaction", "roster", 75, "confirmed")]


def _migrate(url: str, step, revision: str | None = None) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "TESTING": True})
    with app.app_context():
        step(directory=MIGRATIONS, **({"revision": revision} if revision else {}))
        from voting_app.db import db

        db.engine.dispose()


def _seed_rounds(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO congresses (name, level, created_at) VALUES ('樊城区人民代表大会', 'district', CURRENT_TIMESTAMP)"))
        congress = connection.execute(text("SELECT id FROM congresses")).scalar()
        connection.execute(text("INSERT INTO terms (congress_id, number, created_at) VALUES (:c, 19, CURRENT_TIMESTAMP)"), {"c": congress})
        term = connection.execute(text("SELECT id FROM terms")).scalar()
        connection.execute(
            text("INSERT INTO congress_sessions (term_id, name, venue, created_at) VALUES (:t, '第六次会议', '会堂', CURRENT_TIMESTAMP)"),
            {"t": term},
        )
        session = connection.execute(text("SELECT id FROM congress_sessions")).scalar()
        for title, method, base, bar, state in ROUNDS:
            connection.execute(
                text("INSERT INTO rounds (session_id, title, method, seats, threshold_base, satisfaction_bar, mode, kind, state, created_at) "
                     "VALUES (:s, :title, :method, 2, :base, :bar, 'paper', 'regular', :state, CURRENT_TIMESTAMP)"),
                {"s": session, "title": title, "method": method, "base": base, "bar": bar, "state": state},
            )
    engine.dispose()


def _rounds(url: str) -> list:
    engine = create_engine(url)
    with engine.connect() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("rounds")}
        extra = ", rules_json, rule_profile_version_id, grading" if "rules_json" in columns else ""
        rows = connection.execute(text(f"SELECT title, method, threshold_base, satisfaction_bar, state{extra} FROM rounds ORDER BY id")).all()
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    return [tuple(row) for row in rows], tables


def _round_trip(url: str) -> None:
    _seed_rounds(url)
    before, tables = _rounds(url)
    assert "rule_profile_versions" not in tables
    _migrate(url, upgrade)
    after, tables = _rounds(url)
    assert "rule_profile_versions" in tables
    for (title, method, base, bar, state), row in zip(before, after):
        assert row[:5] == (title, method, base, bar, state)
        copy, version, grading = row[5:]
        assert rules.loads(copy) == rules.DEFAULT_PROFILE.for_round(base, bar)
        assert rules.loads(copy).pass_base == base and rules.loads(copy).satisfaction_bar == bar
        assert copy == rules.to_json(rules.DEFAULT_PROFILE.for_round(base, bar)), "the same file the app writes"
        assert (version, grading) == (None, "bar")
    _migrate(url, downgrade, BEFORE_PROFILES)
    back, tables = _rounds(url)
    assert back == before and "rule_profile_versions" not in tables
    _migrate(url, upgrade)
    assert _rounds(url)[0] == after


def test_existing_rounds_get_the_default_rules_they_were_held_under(tmp_path):
    if PG_URL:
        engine = create_engine(PG_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(PG_URL, upgrade, BEFORE_PROFILES)
        _round_trip(PG_URL)
        return
    url = f"sqlite:///{tmp_path / 'profiles.sqlite3'}"
    _migrate(url, upgrade, BEFORE_PROFILES)
    _round_trip(url)
