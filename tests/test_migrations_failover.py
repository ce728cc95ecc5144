"""The failover migration (15a0000000b1): a paper round whose ballots were already accepted gets
its close time as `paper_stored_at` (the new sign of agreement), other rounds none; the
downgrade takes the columns away and leaves the rounds as they were. On PostgreSQL
(TEST_DATABASE_URL) the round trip runs on the test schema itself (`migration_db`)."""

from sqlalchemy import inspect, text

BEFORE_FAILOVER = "15a0000000c1"
ROUNDS = [("纸质已录入", "paper", True), ("纸质未录入", "paper", False), ("电子已开启", "electronic", True)]


def _seed(migration_db) -> None:
    with migration_db.sql() as connection:
        connection.execute(text("INSERT INTO congresses (name, level, created_at) VALUES ('樊城区人民代表大会', 'district', CURRENT_TIMESTAMP)"))
        congress = connection.execute(text("SELECT id FROM congresses")).scalar()
        connection.execute(text("INSERT INTO terms (congress_id, number, created_at) VALUES (:c, 19, CURRENT_TIMESTAMP)"), {"c": congress})
        term = connection.execute(text("SELECT id FROM terms")).scalar()
        connection.execute(
            text("INSERT INTO congress_sessions (term_id, name, venue, created_at) VALUES (:t, '第六次会议', '会堂', CURRENT_TIMESTAMP)"),
            {"t": term},
        )
        session = connection.execute(text("SELECT id FROM congress_sessions")).scalar()
        for number, (title, mode, with_ballot) in enumerate(ROUNDS):
            connection.execute(
                text("INSERT INTO rounds (session_id, title, method, seats, threshold_base, satisfaction_bar, mode, kind, state, "
                     "rules_json, grading, created_at, closed_at) VALUES (:s, :title, 'choose_up_to', 1, 'roster', 60, :mode, "
                     "'regular', 'closed', '{}', 'bar', CURRENT_TIMESTAMP, :closed)"),
                {"s": session, "title": title, "mode": mode, "closed": f"2026-03-0{number + 1} 10:00:00"},
            )
            round_id = connection.execute(text("SELECT max(id) FROM rounds")).scalar()
            if with_ballot:
                connection.execute(
                    text("INSERT INTO ballots (round_id, receipt, choices) VALUES (:r, :receipt, '[]')"),
                    {"r": round_id, "receipt": f"AAAA-BBBB-CCCC-DDD{number + 2}"},
                )


def _rounds(migration_db) -> tuple[list, set]:
    with migration_db.sql() as connection:
        columns = {column["name"] for column in inspect(connection).get_columns("rounds")}
        stored = "paper_stored_at = closed_at" if "paper_stored_at" in columns else "NULL"
        rows = connection.execute(text(f"SELECT title, mode, {stored} FROM rounds ORDER BY id")).all()
    return [tuple(row) for row in rows], columns


def test_accepted_paper_rounds_keep_their_acceptance(migration_db):
    migration_db.upgrade(BEFORE_FAILOVER)
    _seed(migration_db)
    before, columns = _rounds(migration_db)
    assert "paper_from_at" not in columns
    migration_db.upgrade()
    after, columns = _rounds(migration_db)
    assert {"paper_from_at", "paper_from_by_id", "paper_reason", "phone_voters", "paper_issued", "paper_stored_at"} <= columns
    assert [(title, mode, bool(stored) if stored is not None else None) for title, mode, stored in after] == [
        ("纸质已录入", "paper", True), ("纸质未录入", "paper", None), ("电子已开启", "electronic", None)
    ]
    migration_db.downgrade(BEFORE_FAILOVER)
    back, columns = _rounds(migration_db)
    assert back == before and "paper_stored_at" not in columns
    migration_db.upgrade()
    assert _rounds(migration_db)[0] == after
