"""The terms migration (14a0000000c7) on a copy of the demo database: seeded at head, taken back
to the schema before terms (14a0000000b2) and forward again, every session has its term, every
roster row its person, and the demo's two sessions share one term whose deputies are matched by
number. On PostgreSQL (TEST_DATABASE_URL) the same round trip runs on the test schema itself."""

import shutil

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from tests.conftest import AUDIT_KEY, PG_URL, ROOT, SECRET
from voting_app import create_app

MIGRATIONS = str(ROOT / "migrations")
BEFORE_TERMS = "14a0000000b2"


def _app(url: str):
    return create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "TESTING": True, "SERVER_NAME": "localhost"}
    )


def _seed(url: str, tmp_path) -> None:
    app = _app(url)
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--force", "--logins-file", str(tmp_path / "logins.txt")])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from voting_app.db import db

        db.engine.dispose()


def _snapshot(url: str) -> dict:
    """What the migration must carry: sessions, their roster rows, who is the same person."""
    engine = create_engine(url)
    with engine.connect() as connection:
        sessions = connection.execute(text("SELECT id, name, term_id, meeting_number FROM congress_sessions ORDER BY id")).all()
        rows = connection.execute(text("SELECT id, session_id, number, name, term_deputy_id FROM deputies ORDER BY id")).all()
        snapshot = {
            "sessions": [(s.id, s.name, s.meeting_number) for s in sessions],
            "session_terms": {s.id: s.term_id for s in sessions},
            "rows": [(r.id, r.session_id, r.number, r.name) for r in rows],
            "persons": {r.id: r.term_deputy_id for r in rows},
            "terms": connection.execute(
                text("SELECT terms.number, congresses.name FROM terms JOIN congresses ON congresses.id = terms.congress_id")
            ).all(),
            # The district's own deputies: those of other levels (the demo's 479) are on no session's
            # roster, so the schema before terms has nothing to keep them in.
            "term_deputies": connection.execute(text("SELECT count(*) FROM term_deputies WHERE level = 'district'")).scalar(),
            "supervision": connection.execute(
                text("SELECT supervision_records.id, deputies.term_deputy_id FROM supervision_records "
                     "JOIN deputies ON deputies.id = supervision_records.deputy_id ORDER BY supervision_records.id")
            ).all(),
        }
    engine.dispose()
    return snapshot


def _round_trip(url: str) -> None:
    app = _app(url)
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision=BEFORE_TERMS)
        upgrade(directory=MIGRATIONS)
        from voting_app.db import db

        db.engine.dispose()


def _check(before: dict, after: dict) -> None:
    # The demo: 第五次, 第六次 and 第七次会议, in one term 19 (ordered by id: the sixth was made first).
    assert sorted(meeting for _, _, meeting in after["sessions"]) == [5, 6, 7]
    assert [(name, meeting) for _, name, meeting in after["sessions"]] == [(name, meeting) for _, name, meeting in before["sessions"]]
    assert after["terms"] == [(19, "樊城区人民代表大会")]
    assert all(term is not None for term in after["session_terms"].values())
    assert len(set(after["session_terms"].values())) == 1
    # Every roster row kept, with its person; the same number in both sessions is one person.
    assert after["rows"] == before["rows"]
    assert all(person is not None for person in after["persons"].values())
    by_number: dict = {}
    for row_id, _, number, _ in after["rows"]:
        by_number.setdefault(number, set()).add(after["persons"][row_id])
    assert all(len(people) == 1 for people in by_number.values())
    assert after["term_deputies"] == len(by_number)
    # Rows that were one person before are one person after (and the other way round).
    pairs = lambda snapshot: {(a, b) for a in snapshot["persons"] for b in snapshot["persons"] if snapshot["persons"][a] == snapshot["persons"][b]}
    assert pairs(after) == pairs(before)
    # Supervision visits still lead to their person.
    assert len(after["supervision"]) == len(before["supervision"]) and all(person for _, person in after["supervision"])


def _demo_term_checks(before: dict) -> None:
    """The seeded demo at head: its term holds the fifth, sixth and seventh sessions; 017
    resigned between the sixth and the seventh, and a by-election added 242 (241 came in one
    before the sixth, replacing a deputy who resigned after the fifth)."""
    rows = before["rows"]
    by_meeting = {meeting: session_id for session_id, _, meeting in before["sessions"]}
    assert sorted(by_meeting) == [5, 6, 7]
    sixth, seventh = by_meeting[6], by_meeting[7]
    numbers = {session_id: {number for _, s, number, _ in rows if s == session_id} for session_id in (sixth, seventh)}
    assert "017" in numbers[sixth] and "017" not in numbers[seventh]
    assert numbers[seventh] - numbers[sixth] == {"242"} and "241" in numbers[sixth]
    assert len(numbers[sixth]) == 240 and len(numbers[seventh]) == 240
    assert before["term_deputies"] == 242


def test_the_terms_migration_on_a_copy_of_the_demo_database(tmp_path):
    if PG_URL:
        engine = create_engine(PG_URL)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _seed(PG_URL, tmp_path)
        before = _snapshot(PG_URL)
        _demo_term_checks(before)
        _round_trip(PG_URL)
        _check(before, _snapshot(PG_URL))
        return
    demo = tmp_path / "demo.sqlite3"
    _seed(f"sqlite:///{demo}", tmp_path)
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(demo, copy)
    before = _snapshot(f"sqlite:///{demo}")
    _demo_term_checks(before)
    _round_trip(f"sqlite:///{copy}")
    _check(before, _snapshot(f"sqlite:///{copy}"))
    assert _snapshot(f"sqlite:///{demo}") == before  # the original is untouched
