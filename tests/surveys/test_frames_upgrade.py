"""The sample frames upgrade keeps the household codes it adds a column to; with households,
frames and codes of a frame in the tables, the downgrade drops the new tables and gives the
codes back without their frame, and the upgrade runs again."""

from sqlalchemy import inspect, text

BEFORE, THIS = "14a0000000f3", "14a0000000f5"
NEW_TABLES = ("households", "survey_sample_frames", "survey_frame_households")


def test_the_frame_tables_come_and_go_with_the_codes_kept(migration_db):
    migration_db.upgrade(BEFORE)
    with migration_db.sql() as connection:
        run = connection.execute
        run(text("INSERT INTO grids (id, code, name, level, created_at) VALUES (1, 'C1', '一中心', 1, CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO surveys (id, title, intro, mode, short_code, threshold_percent, hold_after, created_at) "
                 "VALUES (1, '满意度', '', 'tokened', 'S1', 60, 5, CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO survey_household_codes (survey_id, code_hash, grid_id, created_at) VALUES (1, 'h1', 1, CURRENT_TIMESTAMP)"))
    migration_db.upgrade(THIS)
    with migration_db.sql() as connection:
        run = connection.execute
        assert run(text("SELECT frame_id FROM survey_household_codes")).all() == [(None,)]
        run(text("INSERT INTO households (id, grid_id, address, imported_at) VALUES (1, 1, '幸福路1号', CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO survey_sample_frames (id, survey_id, size, seed, list_size, drawn_by, drawn_at) "
                 "VALUES (1, 1, 1, 'abc', 1, 'staff', CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO survey_frame_households (frame_id, household_id) VALUES (1, 1)"))
        run(text("INSERT INTO survey_household_codes (survey_id, code_hash, grid_id, frame_id, created_at) "
                 "VALUES (1, 'h2', NULL, 1, CURRENT_TIMESTAMP)"))
    migration_db.downgrade(BEFORE)
    with migration_db.sql() as connection:
        tables = inspect(connection).get_table_names()
        assert not set(NEW_TABLES) & set(tables)
        assert "frame_id" not in {column["name"] for column in inspect(connection).get_columns("survey_household_codes")}
        assert sorted(connection.execute(text("SELECT code_hash FROM survey_household_codes")).scalars()) == ["h1", "h2"]
    migration_db.upgrade()
    with migration_db.sql() as connection:
        assert set(NEW_TABLES) <= set(inspect(connection).get_table_names())
