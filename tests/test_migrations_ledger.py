"""The ledger migration (16a0000000d1): a supervision record made before it becomes a visit
with one issue holding its findings, rectification, due date, answer and verdict, owned by the
project's department; its photos stay with the visit. The downgrade puts the issue back on the
record and refuses while a visit holds two issues or a reminder letter exists. On PostgreSQL
with TEST_DATABASE_URL."""

from sqlalchemy import inspect, text

BEFORE_LEDGER, LEDGER = "16a0000000c1", "16a0000000d1"
RECORD = ("桥梁北端护栏缺失", "补齐北端引道护栏", "2026-04-20", "已全部安装", "交通局 王强", True)


def _seed(database) -> None:
    with database.sql() as connection:
        run = lambda sql: connection.execute(text(sql))  # noqa: E731
        run("INSERT INTO congresses (id, name, level, created_at) VALUES (101, '樊城区人民代表大会', 'district', CURRENT_TIMESTAMP)")
        run("INSERT INTO terms (id, congress_id, number, created_at) VALUES (101, 101, 19, CURRENT_TIMESTAMP)")
        run("INSERT INTO term_deputies (id, term_id, number, name, delegation, unit, level, contact, left_reason, created_at) "
            "VALUES (101, 101, '001', '张三', '米公', '', 'district', '', '', CURRENT_TIMESTAMP)")
        run("INSERT INTO congress_sessions (id, term_id, name, venue, created_at) "
            "VALUES (101, 101, '第六次会议', '会堂', CURRENT_TIMESTAMP)")
        run("INSERT INTO deputies (id, session_id, term_deputy_id, number, name, delegation, unit, term_end_reason) "
            "VALUES (101, 101, 101, '001', '张三', '米公', '', '')")
        run("INSERT INTO departments (id, name, created_at) VALUES (101, '区交通运输局', CURRENT_TIMESTAMP)")
        run("INSERT INTO projects (id, name, summary, department_id, year, location, stage, progress_percent, created_at) "
            "VALUES (101, '农村公路桥梁新改建', '', 101, 2026, '', 'in_progress', 40, CURRENT_TIMESTAMP)")
        connection.execute(text(
            "INSERT INTO supervision_records (id, project_id, deputy_id, deputy_name, visited_on, findings, rectification, "
            "rectification_due, answer, answered_at, answered_by_name, settled, judged_at, created_at) VALUES (101, 101, 101, "
            "'张三', '2026-04-01', :findings, :rectification, :due, :answer, CURRENT_TIMESTAMP, :by, :settled, "
            "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
            dict(zip(("findings", "rectification", "due", "answer", "by", "settled"), RECORD)))
        connection.execute(text("INSERT INTO photos (token, content_type, data, width, height, is_public, supervision_id, created_at) "
                                "VALUES ('tok101', 'image/jpeg', :data, 1, 1, TRUE, 101, CURRENT_TIMESTAMP)"), {"data": b"\xff\xd8"})


def _record_before(database) -> tuple:
    with database.sql() as connection:
        row = connection.execute(text(
            "SELECT findings, rectification, rectification_due, answer, answered_by_name, settled FROM supervision_records")).one()
    return (*row[:2], str(row[2]), *row[3:5], bool(row[5]))


def test_a_record_becomes_one_issue_and_comes_back(migration_db):
    migration_db.upgrade(BEFORE_LEDGER)
    _seed(migration_db)
    before = _record_before(migration_db)
    assert before == RECORD
    migration_db.upgrade(LEDGER)
    with migration_db.sql() as connection:
        issue = connection.execute(text(
            "SELECT record_id, department_id, problem, rectification, due_on, answer, answered_by_name, settled, answered_at "
            "FROM supervision_issues")).one()
        assert issue[:2] == (101, 101)
        assert (issue[2], issue[3], str(issue[4]), issue[5], issue[6], bool(issue[7])) == RECORD
        assert issue.answered_at is not None
        assert "findings" not in {c["name"] for c in inspect(connection).get_columns("supervision_records")}
        assert connection.execute(text("SELECT supervision_id FROM photos")).scalar() == 101
        # A second issue at the same visit, and a letter: the downgrade refuses until they are gone.
        connection.execute(text(
            "INSERT INTO supervision_issues (record_id, department_id, problem, rectification, answer, answered_by_name, created_at) "
            "VALUES (101, 101, '警示标志缺失', '', '', '', CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO reminder_letters (department_id, project_id, subject_kind, subject_id, subject_name, asked, due_on, "
            "issued_on, reply_by, year, number, serial, issued_by, created_at) VALUES (101, 101, 'rectification', 1, '护栏', '', "
            "'2026-04-20', '2026-05-01', '2026-05-16', 2026, 1, '樊人大提〔2026〕1号', 'cli', CURRENT_TIMESTAMP)"))
    assert "reminder letters exist" in migration_db.refused_downgrade(BEFORE_LEDGER)
    with migration_db.sql() as connection:
        connection.execute(text("DELETE FROM reminder_letters"))
    assert "more than one issue" in migration_db.refused_downgrade(BEFORE_LEDGER)
    with migration_db.sql() as connection:
        connection.execute(text("DELETE FROM supervision_issues WHERE problem = '警示标志缺失'"))
    migration_db.downgrade(BEFORE_LEDGER)
    assert migration_db.version() == BEFORE_LEDGER and _record_before(migration_db) == before
    migration_db.upgrade()
    assert migration_db.scalar("SELECT problem FROM supervision_issues") == RECORD[0]
