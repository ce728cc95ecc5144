"""The plans migration (16a0000000a1): projects and milestones that exist keep their data and
belong to no sub-item; a database with a plan refuses the downgrade until the plan is gone;
without one it goes down and up again. On PostgreSQL with TEST_DATABASE_URL."""

BEFORE_PLANS = "15a0000000b1"
PLANS = "16a0000000a1"


def _seed_project(database) -> None:
    with database.sql() as connection:
        connection.exec_driver_sql(
            "INSERT INTO projects (name, summary, year, location, stage, progress_percent, created_at) "
            "VALUES ('农村公路桥梁新改建', '', 2026, '', 'in_progress', 40, CURRENT_TIMESTAMP)")
        connection.exec_driver_sql(
            "INSERT INTO project_milestones (project_id, name, planned_on) "
            "VALUES ((SELECT id FROM projects), '完成施工招标', '2026-03-01')")


def _project(database) -> tuple:
    return (database.scalar("SELECT progress_percent FROM projects"),
            database.scalar("SELECT name FROM project_milestones"))


def test_the_plans_migration_keeps_projects_and_refuses_to_drop_a_plan(migration_db):
    migration_db.upgrade(BEFORE_PLANS)
    _seed_project(migration_db)
    before = _project(migration_db)
    migration_db.upgrade(PLANS)
    assert _project(migration_db) == before
    assert migration_db.scalar("SELECT sub_item_id FROM project_milestones") is None
    with migration_db.sql() as connection:
        connection.exec_driver_sql(
            "INSERT INTO project_sub_items (project_id, name, budget_yuan, created_at) "
            "VALUES ((SELECT id FROM projects), '桥梁', 8600000, CURRENT_TIMESTAMP)")
        connection.exec_driver_sql(
            "INSERT INTO project_targets (sub_item_id, name, planned, unit, actual) "
            "VALUES ((SELECT id FROM project_sub_items), '新改建桥梁', 12, '座', 5)")
        connection.exec_driver_sql(
            "INSERT INTO project_target_reports (target_id, actual, reported_on, created_at) "
            "VALUES ((SELECT id FROM project_targets), 5, '2026-06-01', CURRENT_TIMESTAMP)")
        connection.exec_driver_sql("UPDATE project_milestones SET sub_item_id = (SELECT id FROM project_sub_items)")
    assert migration_db.scalar("SELECT budget_yuan FROM project_sub_items") == 8_600_000
    reason = migration_db.refused_downgrade(BEFORE_PLANS)
    assert "1 sub-items" in reason and migration_db.version() == PLANS
    with migration_db.sql() as connection:
        connection.exec_driver_sql("UPDATE project_milestones SET sub_item_id = NULL")
        for table in ("project_target_reports", "project_targets", "project_sub_items"):
            connection.exec_driver_sql(f"DELETE FROM {table}")
    migration_db.downgrade(BEFORE_PLANS)
    assert migration_db.version() == BEFORE_PLANS and _project(migration_db) == before
    migration_db.upgrade()
    assert _project(migration_db) == before
