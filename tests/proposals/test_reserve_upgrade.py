"""The upgrade that adds collection windows and the reserve keeps the proposals made before it
(none in the reserve, no note). The downgrade refuses while a window is set or a proposal is in
the reserve, since the older schema would lose them, and goes through once they are cleared."""

from datetime import date

from sqlalchemy import inspect, text

from tests.conftest import PG_URL

BEFORE, THIS = "13a0000000c3", "14a0000000b2"


def test_proposals_survive_the_upgrade_and_the_downgrade_refuses_to_drop_the_reserve(migration_db):
    migration_db.upgrade(BEFORE)
    with migration_db.sql() as connection:
        connection.execute(text("INSERT INTO liaison_stations (id, code, name, address, created_at) "
                                "VALUES (1, 'ST0001', '米公站', '', CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO proposals (id, tracking_code, station_id, title, description, location, theme, contact, status, "
            "decline_reason, screened_by_name, created_at) VALUES (1, 'AAAAAAAAAA', 1, '路灯', '晚上路很黑，希望加装路灯', "
            "'', 'other', '', 'received', '', '', CURRENT_TIMESTAMP)"))
    migration_db.upgrade(THIS)
    with migration_db.sql() as connection:
        assert connection.execute(text("SELECT reserved_at, reserve_note FROM proposals")).one() == (None, "")
    migration_db.upgrade()  # the app's models are the newest schema's: later columns (a proposal's grid) must exist
    with migration_db.app.app_context():
        from voting_app.db import db
        from voting_app.proposals import service
        from voting_app.proposals.models import Proposal

        service.reserve_proposal("test", "测试", db.session.get(Proposal, 1), "今年未入选，明年再议")
        service.set_window("test", 2026, date(2026, 7, 1), date(2026, 8, 31))
        db.session.commit()
    head = migration_db.version()

    assert migration_db.refused_downgrade(BEFORE) == (
        f"Downgrade below {THIS} refused: the older schema has no place for 1 collection windows, "
        "1 proposals in or once in the reserve. They are untouched. "
        "Back up the database; to go back all the same, delete or clear them first."
    )
    # PostgreSQL rolls the whole downgrade back; SQLite commits it revision by revision, up to this one.
    assert migration_db.version() == (head if PG_URL else THIS)
    with migration_db.sql() as connection:
        assert connection.execute(text("SELECT status, reserve_note FROM proposals")).one() == ("reserved", "今年未入选，明年再议")
        assert connection.execute(text("SELECT year FROM collection_windows")).scalar() == 2026

    migration_db.downgrade(THIS)
    with migration_db.sql() as connection:
        connection.execute(text("UPDATE proposals SET status = 'received', reserved_at = NULL, reserve_note = ''"))
        connection.execute(text("DELETE FROM collection_windows"))
    migration_db.downgrade(BEFORE)
    assert migration_db.version() == BEFORE
    with migration_db.sql() as connection:
        assert connection.execute(text("SELECT title, status FROM proposals")).one() == ("路灯", "received")
        assert "collection_windows" not in inspect(connection).get_table_names()
        assert "reserve_note" not in {column["name"] for column in inspect(connection).get_columns("proposals")}
