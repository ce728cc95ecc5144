"""The checkpoints migration (16a0000000c1): projects and groups that exist are kept; the days
staff set are stored per year and kind, once; a database with an ad-hoc supervision group
refuses the downgrade until the group is gone (the code before it knows no such kind);
without one it goes down and up again. On PostgreSQL with TEST_DATABASE_URL."""

import pytest
from sqlalchemy.exc import IntegrityError

BEFORE = "16a0000000b1"
CHECKPOINTS = "16a0000000c1"


def _seed(database) -> None:
    with database.sql() as connection:
        connection.exec_driver_sql("INSERT INTO congresses (name, level, created_at) VALUES ('樊城区人民代表大会', 'district', CURRENT_TIMESTAMP)")
        connection.exec_driver_sql("INSERT INTO terms (congress_id, number, created_at) VALUES ((SELECT id FROM congresses), 19, CURRENT_TIMESTAMP)")
        connection.exec_driver_sql(
            "INSERT INTO deputy_groups (term_id, name, kind, note, created_at) "
            "VALUES ((SELECT id FROM terms), '牛首镇第一代表小组', 'regional', '', CURRENT_TIMESTAMP)")
        connection.exec_driver_sql(
            "INSERT INTO projects (name, summary, year, location, stage, progress_percent, created_at, supervision_group_id) "
            "VALUES ('“一号公路”亮化工程', '', 2026, '', 'in_progress', 40, CURRENT_TIMESTAMP, (SELECT id FROM deputy_groups))")


def _state(database) -> tuple:
    return (database.scalar("SELECT name FROM projects"), database.scalar("SELECT kind FROM deputy_groups"),
            database.scalar("SELECT COUNT(*) FROM projects WHERE supervision_group_id IS NOT NULL"))


def test_the_checkpoints_migration_keeps_groups_and_refuses_to_drop_an_ad_hoc_group(migration_db):
    migration_db.upgrade(BEFORE)
    _seed(migration_db)
    before = _state(migration_db)
    migration_db.upgrade(CHECKPOINTS)
    assert _state(migration_db) == before
    with migration_db.sql() as connection:
        connection.exec_driver_sql("INSERT INTO supervision_checkpoints (year, kind, held_on, created_at) "
                                   "VALUES (2026, 'plan', '2026-03-27', CURRENT_TIMESTAMP)")
    with pytest.raises(IntegrityError):
        with migration_db.sql() as connection:
            connection.exec_driver_sql("INSERT INTO supervision_checkpoints (year, kind, held_on, created_at) "
                                       "VALUES (2026, 'plan', '2026-03-31', CURRENT_TIMESTAMP)")
    with migration_db.sql() as connection:
        connection.exec_driver_sql(
            "INSERT INTO deputy_groups (term_id, name, kind, note, created_at) "
            "VALUES ((SELECT id FROM terms), '亮化工程督办小组', 'ad_hoc', '', CURRENT_TIMESTAMP)")
    reason = migration_db.refused_downgrade(BEFORE)
    assert "1 ad-hoc supervision groups" in reason and migration_db.version() == CHECKPOINTS
    with migration_db.sql() as connection:
        connection.exec_driver_sql("DELETE FROM deputy_groups WHERE kind = 'ad_hoc'")
    migration_db.downgrade(BEFORE)
    assert migration_db.version() == BEFORE and _state(migration_db) == before
    migration_db.upgrade()
    assert _state(migration_db) == before
    assert migration_db.scalar("SELECT COUNT(*) FROM supervision_checkpoints") == 0
