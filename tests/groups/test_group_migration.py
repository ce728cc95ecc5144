"""The upgrade that brings deputy groups keeps the registry and the projects made before it
(no project has a supervision group), holds groups, members and a project's group, and a
downgrade takes them away and keeps everything else. On SQLite, or on PostgreSQL when
TEST_DATABASE_URL is set."""

from sqlalchemy import inspect, text

BEFORE, THIS = "14a0000000e5", "14a0000000e9"


def test_groups_upgrade_and_downgrade_with_rows(migration_db):
    migration_db.upgrade(BEFORE)
    with migration_db.sql() as connection:
        connection.execute(text("INSERT INTO congresses (id, name, level, created_at) VALUES (1, '樊城区人民代表大会', 'district', CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO terms (id, congress_id, number, created_at) VALUES (1, 1, 19, CURRENT_TIMESTAMP)"))
        for number, name in (("001", "张三"), ("002", "李四")):
            connection.execute(text(
                "INSERT INTO term_deputies (term_id, number, name, delegation, unit, level, contact, left_reason, created_at) "
                "VALUES (1, :number, :name, '米公街道代表团', '', 'district', '', '', CURRENT_TIMESTAMP)"), {"number": number, "name": name})
        connection.execute(text("INSERT INTO projects (id, name, summary, year, location, stage, progress_percent, created_at) "
                                "VALUES (1, '文化长廊改造', '', 2027, '', 'approved', 0, CURRENT_TIMESTAMP)"))
    migration_db.upgrade(THIS)
    with migration_db.sql() as connection:
        assert connection.execute(text("SELECT name, supervision_group_id FROM projects")).one() == ("文化长廊改造", None)
    migration_db.upgrade()  # today's models need today's schema
    with migration_db.app.app_context():
        from voting_app.db import db
        from voting_app.projects.models import Project
        from voting_app.registry import groups
        from voting_app.registry.models import Term

        term = db.session.get(Term, 1)
        group = groups.create_group("test", term, "米公街道代表小组")
        groups.add_members_by_numbers("test", group, "001\n002")
        groups.update_group("test", group, group.name, group.kind, "", term.deputies[0])
        db.session.get(Project, 1).supervision_group_id = group.id
        db.session.commit()
    with migration_db.sql() as connection:
        assert connection.execute(text("SELECT count(*) FROM group_memberships")).scalar() == 2
    migration_db.downgrade(BEFORE)
    with migration_db.sql() as connection:
        tables = inspect(connection).get_table_names()
        assert "deputy_groups" not in tables and "group_memberships" not in tables
        assert "supervision_group_id" not in {column["name"] for column in inspect(connection).get_columns("projects")}
        assert connection.execute(text("SELECT name FROM projects")).scalar() == "文化长廊改造"
        assert connection.execute(text("SELECT count(*) FROM term_deputies")).scalar() == 2
    migration_db.upgrade()  # and up again, to the newest schema
    with migration_db.sql() as connection:
        assert connection.execute(text("SELECT count(*) FROM deputy_groups")).scalar() == 0
