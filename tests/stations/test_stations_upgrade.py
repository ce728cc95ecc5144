"""The upgrade to 14a0000000f3 keeps the stations, deputies and proposals made before it: stations
receive on the 15th, nobody is at a station yet, no proposal has an entering deputy. The downgrade
keeps every row it found, and drops only what it added (duty, changes, the entering deputy)."""

from sqlalchemy import inspect, text

BEFORE, THIS = "14a0000000f7", "14a0000000f3"


def test_stations_deputies_and_proposals_survive_the_upgrade_and_the_downgrade(migration_db):
    migration_db.upgrade(BEFORE)
    with migration_db.sql() as connection:
        connection.execute(text("INSERT INTO liaison_stations (id, code, name, address, created_at) "
                                "VALUES (101, 'ST0101', '米公站', '', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO congresses (id, name, level, created_at) VALUES (101, '樊城区人民代表大会', 'district', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO terms (id, congress_id, number, created_at) VALUES (101, 101, 19, CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO term_deputies (id, term_id, number, name, delegation, unit, level, contact, left_reason, created_at) "
                                "VALUES (101, 101, '001', '张三', '米公', '', 'district', '', '', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO office_changes (id, term_deputy_id, kind, effective_on, note, recorded_by, created_at) "
                                "VALUES (101, 101, 'elected', '2026-01-01', '', '', CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO proposals (id, tracking_code, station_id, channel, title, description, location, theme, contact, status, "
            "decline_reason, screened_by_name, reserve_note, created_at) VALUES (101, 'AAAAAAA101', 101, 'reception_day', '路灯', "
            "'晚上路很黑，希望加装路灯', '', 'other', '', 'received', '', '', '', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO proposals (id, tracking_code, station_id, channel, title, description, location, theme, "
                                "contact, status, decline_reason, screened_by_name, reserve_note, merged_into_id, created_at) VALUES "
                                "(102, 'AAAAAAA102', 101, 'station_qr', '路灯二', '晚上路很黑，希望加装路灯', '', 'other', '', 'merged', "
                                "'', '', '', 101, CURRENT_TIMESTAMP)"))
    migration_db.upgrade(THIS)
    with migration_db.sql() as connection:
        assert connection.execute(text("SELECT reception_day FROM liaison_stations")).scalars().all() == [15]
        assert connection.execute(text("SELECT station_id FROM term_deputies")).scalars().all() == [None]
        assert connection.execute(text("SELECT id, entered_by_deputy_id, merged_into_id FROM proposals ORDER BY id")).all() == [
            (101, None, None), (102, None, 101)]
        connection.execute(text("UPDATE term_deputies SET station_id = 101"))
        connection.execute(text("UPDATE proposals SET entered_by_deputy_id = 101, entered_at = CURRENT_TIMESTAMP WHERE id = 101"))
        connection.execute(text("INSERT INTO reception_duties (station_id, scheduled_on, term_deputy_id, created_at) "
                                "VALUES (101, '2026-05-15', 101, CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO reception_changes (station_id, scheduled_on, moved_to, reason, recorded_by, created_at) "
                                "VALUES (101, '2026-06-15', NULL, '防汛', 'staff', CURRENT_TIMESTAMP)"))
    migration_db.downgrade(BEFORE)
    with migration_db.sql() as connection:
        tables = set(inspect(connection).get_table_names())
        assert not {"reception_duties", "reception_changes"} & tables
        assert "entered_by_deputy_id" not in {c["name"] for c in inspect(connection).get_columns("proposals")}
        assert connection.execute(text("SELECT id, channel, merged_into_id FROM proposals ORDER BY id")).all() == [
            (101, "reception_day", None), (102, "station_qr", 101)]
        assert connection.execute(text("SELECT name FROM term_deputies")).scalars().all() == ["张三"]
        assert connection.execute(text("SELECT count(*) FROM office_changes")).scalar() == 1
        assert connection.execute(text("SELECT name FROM liaison_stations")).scalars().all() == ["米公站"]
    migration_db.upgrade()
