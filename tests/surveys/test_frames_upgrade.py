"""The sample frames upgrade keeps the household codes it adds a column to; with households,
frames and codes of a frame in the tables, the downgrade drops the new tables and gives the
codes back without their frame, and the upgrade runs again."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from tests.conftest import AUDIT_KEY, PG_URL, ROOT, SECRET
from voting_app import create_app

MIGRATIONS = str(ROOT / "migrations")
BEFORE, THIS = "14a0000000f3", "14a0000000f5"
NEW_TABLES = ("households", "survey_sample_frames", "survey_frame_households")


def test_the_frame_tables_come_and_go_with_the_codes_kept(tmp_path):
    if PG_URL:
        url = PG_URL
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    else:
        url = f"sqlite:///{tmp_path / 'frames.sqlite3'}"
        engine = create_engine(url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "TESTING": True})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=BEFORE)
    with engine.begin() as connection:
        run = connection.execute
        run(text("INSERT INTO grids (id, code, name, level, created_at) VALUES (1, 'C1', '一中心', 1, CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO surveys (id, title, intro, mode, short_code, threshold_percent, hold_after, created_at) "
                 "VALUES (1, '满意度', '', 'tokened', 'S1', 60, 5, CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO survey_household_codes (survey_id, code_hash, grid_id, created_at) VALUES (1, 'h1', 1, CURRENT_TIMESTAMP)"))
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=THIS)
    with engine.begin() as connection:
        run = connection.execute
        assert run(text("SELECT frame_id FROM survey_household_codes")).all() == [(None,)]
        run(text("INSERT INTO households (id, grid_id, address, imported_at) VALUES (1, 1, '幸福路1号', CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO survey_sample_frames (id, survey_id, size, seed, list_size, drawn_by, drawn_at) "
                 "VALUES (1, 1, 1, 'abc', 1, 'staff', CURRENT_TIMESTAMP)"))
        run(text("INSERT INTO survey_frame_households (frame_id, household_id) VALUES (1, 1)"))
        run(text("INSERT INTO survey_household_codes (survey_id, code_hash, grid_id, frame_id, created_at) "
                 "VALUES (1, 'h2', NULL, 1, CURRENT_TIMESTAMP)"))
    with app.app_context():
        from voting_app.db import db

        db.session.remove()
        downgrade(directory=MIGRATIONS, revision=BEFORE)
        db.engine.dispose()
    with engine.begin() as connection:
        tables = inspect(connection).get_table_names()
        assert not set(NEW_TABLES) & set(tables)
        assert "frame_id" not in {column["name"] for column in inspect(connection).get_columns("survey_household_codes")}
        assert sorted(connection.execute(text("SELECT code_hash FROM survey_household_codes")).scalars()) == ["h1", "h2"]
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    with engine.begin() as connection:
        assert set(NEW_TABLES) <= set(inspect(connection).get_table_names())
    engine.dispose()
