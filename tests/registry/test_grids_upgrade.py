"""The grids upgrade keeps every row of the tables it touches (placements, household codes,
proposals, responses, answers; none has a grid yet), and the downgrade gives them back without
their grids, also when photos point at the proposals it rebuilds."""

from sqlalchemy import inspect, text

BEFORE, THIS = "14a0000000a1", "14a0000000e5"
TABLES = ("survey_placements", "survey_household_codes", "proposals", "survey_responses", "survey_answers")


def _rows(connection):
    return {table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar() for table in TABLES}


def test_the_grid_columns_come_and_go_with_the_rows_kept(migration_db):
    migration_db.upgrade(BEFORE)
    with migration_db.sql() as connection:
        run = connection.execute
        run(text("INSERT INTO liaison_stations (id, code, name, address, created_at) VALUES (1, 'ST0001', '米公站', '', CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO proposals (id, tracking_code, station_id, title, description, location, theme, contact, status, "
                 "decline_reason, screened_by_name, reserve_note, created_at) VALUES (1, 'AAAAAAAAAA', 1, '路灯', '晚上路很黑', '', "
                 "'other', '', 'received', '', '', '', CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO photos (token, content_type, data, width, height, proposal_id, is_public, created_at) "
                 "VALUES ('p1', 'image/jpeg', :data, 1, 1, 1, false, CURRENT_TIMESTAMP)"), {"data": b"\xff\xd8"})
        run(text("INSERT INTO surveys (id, title, intro, mode, short_code, threshold_percent, hold_after, created_at) "
                 "VALUES (1, '满意度', '', 'tokened', 'S1', 60, 5, CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO survey_questions (id, survey_id, position, kind, prompt, prompt_en, is_required, options) "
                 "VALUES (1, 1, 0, 'satisfaction', '满意吗', '', true, '[]')"))
        run(text("INSERT INTO survey_placements (id, survey_id, name, code, created_at) VALUES (1, 1, '桥北端', 'P1', CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO survey_household_codes (survey_id, code_hash, created_at) VALUES (1, 'h1', CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO survey_responses (id, survey_id, placement_id, submitted_at, week_start, is_assisted, is_flagged) "
                 "VALUES (1, 1, 1, CURRENT_TIMESTAMP, '2026-11-30', false, false)"))
        run(text("INSERT INTO survey_answers (response_id, question_id, survey_id, value, is_hidden, placement_id, week_start, "
                 "is_assisted, is_flagged, is_held) VALUES (1, 1, 1, 'satisfied', false, 1, '2026-11-30', false, false, false)"))
        before = _rows(connection)
    migration_db.upgrade(THIS)
    with migration_db.sql() as connection:
        assert _rows(connection) == before
        assert all(connection.execute(text(f"SELECT grid_id FROM {table}")).scalar() is None for table in TABLES)
        connection.execute(text("INSERT INTO grids (id, code, name, level, created_at) VALUES (1, 'C1', '一中心', 1, CURRENT_TIMESTAMP)"))
        connection.execute(text("UPDATE grids SET centre_id = 1"))
        for table in TABLES:
            connection.execute(text(f"UPDATE {table} SET grid_id = 1"))
        assert "ix_survey_answers_question_grid" in {index["name"] for index in inspect(connection).get_indexes("survey_answers")}
    migration_db.downgrade(BEFORE)
    with migration_db.sql() as connection:
        assert _rows(connection) == before
        assert "grids" not in inspect(connection).get_table_names()
        assert all("grid_id" not in {column["name"] for column in inspect(connection).get_columns(table)} for table in TABLES)
        assert connection.execute(text("SELECT proposal_id FROM photos")).scalar() == 1
    migration_db.upgrade()
