"""The documents migration (15a0000000c1): rounds that exist keep their state and get no
adoption record; the downgrade takes the adoption table and the count-report column away.
On PostgreSQL (TEST_DATABASE_URL) it runs on the test schema itself."""

from sqlalchemy import inspect, text

BEFORE_DOCUMENTS = "15a0000000a1"


def test_rounds_survive_the_documents_migration_both_ways(migration_db):
    migration_db.upgrade(BEFORE_DOCUMENTS)
    with migration_db.sql() as connection:
        connection.execute(text("INSERT INTO congresses (name, level, created_at) VALUES ('樊城区人民代表大会', 'district', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO terms (congress_id, number, created_at) SELECT id, 19, CURRENT_TIMESTAMP FROM congresses"))
        connection.execute(text("INSERT INTO congress_sessions (term_id, name, venue, created_at) "
                                "SELECT id, '第六次会议', '会堂', CURRENT_TIMESTAMP FROM terms"))
        connection.execute(text(
            "INSERT INTO rounds (session_id, title, method, seats, threshold_base, satisfaction_bar, mode, kind, state, rules_json, grading, created_at) "
            "SELECT id, '差额票决', 'choose_up_to', 2, 'roster', 60, 'paper', 'regular', 'draft', '{}', 'bar', CURRENT_TIMESTAMP FROM congress_sessions"))
    migration_db.upgrade()
    assert migration_db.scalar("SELECT count(*) FROM round_adoptions") == 0
    assert migration_db.scalar("SELECT state FROM rounds") == "draft"
    with migration_db.sql() as connection:
        assert "count_report_round_id" in {c["name"] for c in inspect(connection).get_columns("photos")}
    migration_db.downgrade(BEFORE_DOCUMENTS)
    with migration_db.sql() as connection:
        inspector = inspect(connection)
        assert "round_adoptions" not in inspector.get_table_names()
        assert "count_report_round_id" not in {c["name"] for c in inspector.get_columns("photos")}
    assert migration_db.scalar("SELECT title FROM rounds") == "差额票决"
