"""The terms migration (14a0000000c7) on a copy of the demo database, seeded at head. Taken back
to the schema before terms (14a0000000b2) it refuses, keeping what the older schema has no place
for: the demo registry's contacts, office changes, deputies of other levels and term dates.
With those cleared, back and forward again: every session has its term, every roster row its
person, and the demo district's sessions share one term whose deputies are matched by number
(the demo town's session has a term of its own). On
PostgreSQL (TEST_DATABASE_URL) the same runs on the test database itself."""

from sqlalchemy import inspect, text

from tests.conftest import PG_URL

BEFORE_TERMS, TERMS = "14a0000000b2", "14a0000000c7"
BEFORE_PLANS = "15a0000000b1"  # the revision before the project plans (16a0000000a1)
TOWN = "太平店镇"  # the demo's town congress, whose session holds its priority ballot


def _seed(database, tmp_path) -> None:
    database.upgrade()
    result = database.app.test_cli_runner().invoke(args=["seed-demo", "--force", "--logins-file", str(tmp_path / "logins.txt")])
    assert result.exit_code == 0, result.output
    database.close()


def _snapshot(database) -> dict:
    """What the migration must carry: sessions, their roster rows, who is the same person."""
    with database.engine.connect() as connection:
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
            # roster, so the schema before terms has nothing to keep them in (the downgrade refuses).
            "term_deputies": connection.execute(text("SELECT count(*) FROM term_deputies WHERE level = 'district'")).scalar(),
            "supervision": connection.execute(
                text("SELECT supervision_records.id, deputies.term_deputy_id FROM supervision_records "
                     "JOIN deputies ON deputies.id = supervision_records.deputy_id ORDER BY supervision_records.id")
            ).all(),
        }
    return snapshot


def _refused_with_the_registry_kept(database, before: dict) -> None:
    """The demo's registry holds what the older schema cannot: the downgrade says what, and keeps
    it. PostgreSQL rolls the whole downgrade back; SQLite's DDL is committed revision by revision
    (alembic's way there), so it stops at the terms revision with the terms' data whole."""
    head, changes = database.version(), database.scalar("SELECT count(*) FROM office_changes")
    contacts = database.scalar("SELECT count(*) FROM term_deputies WHERE contact <> ''")
    assert contacts > 200 and changes == 4  # 2 resignations, 2 by-elections
    assert database.refused_downgrade(BEFORE_TERMS) == (
        f"Downgrade below {TERMS} refused: the older schema has no place for {contacts} deputies' contacts, "
        "4 changes in office recorded since the upgrade, 479 deputies on no session's roster, 1 terms' dates. "
        "They are untouched. Back up the database; to go back all the same, delete or clear them first."
    )
    assert database.version() == (head if PG_URL else TERMS)
    assert _snapshot(database) == before
    assert database.scalar("SELECT count(*) FROM office_changes") == changes


def _below_plans(database) -> None:
    """The demo's project plans and change requests, its reminder letters and its visits' second
    issues have no place below their revisions (which refuse to drop them), nor its ad-hoc
    supervision group below the checkpoints': cleared, as an operator going back would, so the
    downgrade reaches the terms revision."""
    with database.sql() as connection:
        connection.execute(text("DELETE FROM reminder_letters"))
        connection.execute(text("DELETE FROM supervision_issues WHERE id NOT IN "
                                "(SELECT MIN(id) FROM supervision_issues GROUP BY record_id)"))
        connection.execute(text("DELETE FROM project_change_requests"))
        ad_hoc = "SELECT id FROM deputy_groups WHERE kind = 'ad_hoc'"
        connection.execute(text(f"UPDATE projects SET supervision_group_id = NULL WHERE supervision_group_id IN ({ad_hoc})"))
        connection.execute(text(f"DELETE FROM group_memberships WHERE group_id IN ({ad_hoc})"))
        connection.execute(text("DELETE FROM deputy_groups WHERE kind = 'ad_hoc'"))
        connection.execute(text("UPDATE project_milestones SET sub_item_id = NULL"))
        for table in ("project_target_reports", "project_targets", "project_sub_items"):
            connection.execute(text(f"DELETE FROM {table}"))
    database.downgrade(BEFORE_PLANS)


def _round_trip(database) -> None:
    """Back to the terms revision, clear what the refusal named (as an operator who means to go
    back would), then before terms and forward to head."""
    database.downgrade(TERMS)
    with database.sql() as connection:
        connection.execute(text("UPDATE term_deputies SET contact = ''"))
        connection.execute(text("DELETE FROM office_changes WHERE recorded_by <> 'migration'"))
        connection.execute(text("DELETE FROM term_deputies WHERE NOT EXISTS "
                                "(SELECT 1 FROM deputies WHERE deputies.term_deputy_id = term_deputies.id)"))
        connection.execute(text("UPDATE terms SET starts_on = NULL, ends_on = NULL"))
    database.downgrade(BEFORE_TERMS)
    database.upgrade()


def _check(before: dict, after: dict) -> None:
    # The demo: the district's 第五次, 第六次 and 第七次会议 in its term 19 (ordered by id: the sixth
    # was made first), and the town's 第四次会议 in the town's term 21.
    assert sorted(meeting for _, name, meeting in after["sessions"] if name.startswith("樊城区")) == [5, 6, 7]
    assert [meeting for _, name, meeting in after["sessions"] if name.startswith(TOWN)] == [4]
    assert [(name, meeting) for _, name, meeting in after["sessions"]] == [(name, meeting) for _, name, meeting in before["sessions"]]
    assert sorted(after["terms"]) == [(19, "樊城区人民代表大会"), (21, f"{TOWN}人民代表大会")]
    assert all(term is not None for term in after["session_terms"].values())
    terms = {name.startswith(TOWN): after["session_terms"][session_id] for session_id, name, _ in after["sessions"]}
    assert len(set(after["session_terms"].values())) == len(set(terms.values())) == 2
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
    by_meeting = {meeting: session_id for session_id, name, meeting in before["sessions"] if name.startswith("樊城区")}
    assert sorted(by_meeting) == [5, 6, 7]
    sixth, seventh = by_meeting[6], by_meeting[7]
    numbers = {session_id: {number for _, s, number, _ in rows if s == session_id} for session_id in (sixth, seventh)}
    assert "017" in numbers[sixth] and "017" not in numbers[seventh]
    assert numbers[seventh] - numbers[sixth] == {"242"} and "241" in numbers[sixth]
    assert len(numbers[sixth]) == 240 and len(numbers[seventh]) == 240
    assert before["term_deputies"] == 242


def test_the_terms_migration_on_a_copy_of_the_demo_database(migration_db, tmp_path):
    _seed(migration_db, tmp_path)
    before = _snapshot(migration_db)
    _demo_term_checks(before)
    copy = migration_db if PG_URL else migration_db.copy_to(tmp_path / "copy.sqlite3")
    _below_plans(copy)
    _refused_with_the_registry_kept(copy, before)
    _round_trip(copy)
    _check(before, _snapshot(copy))
    if not PG_URL:
        copy.close()
        assert _snapshot(migration_db) == before  # the original is untouched


def test_a_term_without_sessions_and_a_deputy_on_no_roster_stop_the_downgrade_until_they_are_gone(migration_db):
    """A town congress's term set up in the registry before any session, with a deputy: the
    older schema knows only sessions and their rosters, so going back would lose both."""
    migration_db.upgrade(TERMS)
    with migration_db.sql() as connection:
        connection.execute(text("INSERT INTO congresses (id, name, level, created_at) "
                                "VALUES (1, '太平店镇人民代表大会', 'town', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO terms (id, congress_id, number, created_at) VALUES (1, 1, 21, CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO term_deputies (term_id, number, name, delegation, unit, level, contact, left_reason, created_at) "
            "VALUES (1, '001', '张三', '', '', 'town', '', '', CURRENT_TIMESTAMP)"))
    assert migration_db.refused_downgrade(BEFORE_TERMS) == (
        f"Downgrade below {TERMS} refused: the older schema has no place for 1 deputies on no session's roster, "
        "1 terms with no session. They are untouched. Back up the database; to go back all the same, delete or clear them first."
    )
    assert migration_db.version() == TERMS
    assert migration_db.scalar("SELECT name FROM term_deputies") == "张三"
    with migration_db.sql() as connection:
        connection.execute(text("DELETE FROM term_deputies"))
        connection.execute(text("DELETE FROM terms"))
    migration_db.downgrade(BEFORE_TERMS)  # the congress alone is made again from session names: it may go
    assert migration_db.version() == BEFORE_TERMS
    with migration_db.sql() as connection:
        assert "congresses" not in inspect(connection).get_table_names()
