"""The change-control migration (16a0000000b1): projects that exist become active with an
unpublished plan and keep their data; a database with a change request refuses the downgrade
(the standing committee's decisions would go); without one it goes down and up again. On
PostgreSQL with TEST_DATABASE_URL."""

PLANS = "16a0000000a1"
CHANGES = "16a0000000b1"


def _project(database) -> tuple:
    return (database.scalar("SELECT name FROM projects"), database.scalar("SELECT budget FROM projects"),
            database.scalar("SELECT planned FROM project_targets"))


def test_the_change_migration_keeps_projects_active_and_refuses_to_drop_a_decision(migration_db):
    migration_db.upgrade(PLANS)
    with migration_db.sql() as connection:
        connection.exec_driver_sql(
            "INSERT INTO projects (name, summary, year, budget, location, stage, progress_percent, created_at) "
            "VALUES ('义务教育学校新建扩建工程', '', 2026, 48050, '', 'in_progress', 40, CURRENT_TIMESTAMP)")
        connection.exec_driver_sql(
            "INSERT INTO project_sub_items (project_id, name, budget_yuan, created_at) "
            "VALUES ((SELECT id FROM projects), '新建扩建校舍', 456000000, CURRENT_TIMESTAMP)")
        connection.exec_driver_sql(
            "INSERT INTO project_targets (sub_item_id, name, planned, unit) "
            "VALUES ((SELECT id FROM project_sub_items), '新增学位', 7000, '个')")
    before = _project(migration_db)
    migration_db.upgrade(CHANGES)
    assert _project(migration_db) == before
    assert migration_db.scalar("SELECT status FROM projects") == "active"
    assert migration_db.scalar("SELECT plan_published_on FROM projects") is None
    with migration_db.sql() as connection:
        connection.exec_driver_sql("UPDATE projects SET plan_published_on = '2026-03-01', status = 'deferred'")
        connection.exec_driver_sql(
            "INSERT INTO project_change_requests (project_id, kind, reason, proposed, state, requested_by_name, requested_at, "
            "meeting, decided_on, decision_number, decided_by_name) VALUES ((SELECT id FROM projects), 'defer', '冬季停工', "
            "'{}', 'approved', '区教育局', CURRENT_TIMESTAMP, '区人大常委会第二十三次会议', '2026-11-20', '樊人常决〔2026〕12号', '李敏')")
    reason = migration_db.refused_downgrade(PLANS)
    assert "1 change requests" in reason and migration_db.version() == CHANGES
    with migration_db.sql() as connection:
        connection.exec_driver_sql("DELETE FROM project_change_requests")
    migration_db.downgrade(PLANS)
    assert migration_db.version() == PLANS and _project(migration_db) == before
    migration_db.upgrade()
    assert _project(migration_db) == before and migration_db.scalar("SELECT status FROM projects") == "active"
