"""The supervision ledger and the reminder letters: what is overdue (pure rules), issues per
department answered by their own department, the staff's ledger and its export, and letters
issued once per overdue item however often the reminder runs, two runs at once included
(SQLite, and PostgreSQL with TEST_DATABASE_URL)."""

import ast
import io
import threading
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.ballots.helpers import as_deputy, as_role
from tests.conftest import post
from tests.projects.test_delivery import new_project, officer_client
from voting_app.audit import AuditEntry
from voting_app.db import db
from voting_app.projects import delivery, letters, overdue, planning
from voting_app.projects.models import Project, ReminderLetter, SupervisionIssue
from voting_app.projects.service import department_named

DAY = date(2026, 7, 1)
SETTINGS = letters.LetterSettings("樊城区人大常委会", "樊人大提", 15)


def subject(kind, id_, due, finished=False, department=(1, "区交通运输局")):
    return overdue.Subject(kind, id_, 1, "桥梁", *department, "事项", due, finished)


def test_overdue_rules_on_plain_rows():
    rows = [
        subject(overdue.TARGET, 1, DAY - timedelta(days=3)),
        subject(overdue.MILESTONE, 2, DAY - timedelta(days=3), department=(None, "")),
        subject(overdue.RECTIFICATION, 3, DAY),  # the due day itself is on time
        subject(overdue.MILESTONE, 4, DAY - timedelta(days=9), finished=True),
        subject(overdue.RECTIFICATION, 5, DAY - timedelta(days=10), department=(2, "区住建局")),
        subject(overdue.TARGET, 6, None),
    ]
    late = overdue.late_items(rows, DAY)
    assert [(item.subject.id, item.days_late) for item in late] == [(5, 10), (2, 3), (1, 3)]
    assert [(name, [item.subject.id for item in items]) for name, items in overdue.by_department(late)] == [
        ("区交通运输局", [1]), ("区住建局", [5]), ("", [2])]
    assert overdue.by_department([]) == [] and overdue.late_items([], DAY) == []
    assert overdue.target_is_finished(Decimal(7000), Decimal(7000)) and not overdue.target_is_finished(Decimal(7000), None)
    assert not overdue.rectification_is_finished(False) and overdue.rectification_is_finished(True)


def test_the_overdue_rules_import_no_flask_and_no_database():
    source = Path(overdue.__file__).read_text(encoding="utf-8")
    names = {alias.name for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in names if name.split(".")[0] in ("flask", "flask_babel", "sqlalchemy")}


def late_world(app, world) -> dict:
    """A bridge project of 区交通运输局 with a sub-item of 区住建局: a target of the sub-item behind
    its due date, a milestone of the project past its date, and a visit with two issues (one for
    each department) whose rectifications are past due."""
    project_id = new_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        housing = department_named("区住建局")
        item = planning.add_sub_item("test", "staff", project, "北岸引桥", housing)
        target = planning.add_target("test", "staff", item, "新建桥梁", Decimal(3), "座", DAY - timedelta(days=20))
        milestone = delivery.add_milestone("test", "staff", project, "完成施工招标", DAY - timedelta(days=5))
        deputy = world.credential(world.deputy_ids[0]).deputy
        visit = DAY - timedelta(days=40)
        record = delivery.record_supervision("test", deputy, project, visit, "护栏缺失", "补装护栏", visit + timedelta(days=10), [],
                                             today=DAY)
        second = delivery.add_issue("test", record, "引桥排水不畅", "疏通排水", visit + timedelta(days=20), housing)
        db.session.commit()
        return {"project_id": project_id, "record_id": record.id, "first_id": record.issues[0].id, "second_id": second.id,
                "target_id": target.id, "milestone_id": milestone.id, "housing_id": housing.id,
                "transport_id": project.department_id}


def test_a_visits_issues_belong_to_their_departments(app, world):
    ids = late_world(app, world)
    transport, housing = officer_client(app, "区交通运输局"), officer_client(app, "区住建局")
    base = f"/projects/{ids['project_id']}/supervision/{ids['record_id']}/issues"
    assert post(transport, f"{base}/{ids['second_id']}/answer", {"answer": "越权"}).status_code == 403
    assert post(housing, f"{base}/{ids['second_id']}/answer", {"answer": "已疏通"}).status_code == 302
    assert post(housing, f"{base}/{ids['first_id']}/answer", {"answer": "越权"}).status_code == 403
    deputy = as_deputy(app, world, 0)
    assert post(deputy, f"{base}/{ids['second_id']}/judge", {"settled": "yes"}).status_code == 302
    added = post(deputy, base, {"problem": "警示标志缺失", "rectification": "", "due_on": ""})
    assert added.status_code == 302
    assert post(as_deputy(app, world, 1), base, {"problem": "别人的", "rectification": "", "due_on": ""}).status_code == 403
    with app.app_context():
        issues = db.session.scalars(select(SupervisionIssue).order_by(SupervisionIssue.id)).all()
        assert [(issue.problem, issue.department.name, delivery.supervision_status(issue)) for issue in issues] == [
            ("护栏缺失", "区交通运输局", "awaiting_answer"), ("引桥排水不畅", "区住建局", "settled"),
            ("警示标志缺失", "区交通运输局", "noted")]
    page = app.test_client().get(f"/projects/{ids['project_id']}").get_data(as_text=True)
    assert "引桥排水不畅" in page and "已疏通" in page and "区住建局" in page
    mine = housing.get("/ledger/mine").get_data(as_text=True)
    assert "引桥排水不畅" in mine and "护栏缺失" not in mine


def test_the_staff_ledger_filters_and_exports(app, world):
    ids = late_world(app, world)
    staff = as_role(app, world, "staff")
    everything = staff.get("/ledger/?year=all").get_data(as_text=True)
    assert "护栏缺失" in everything and "引桥排水不畅" in everything
    housing_only = staff.get(f"/ledger/?year=all&department={ids['housing_id']}").get_data(as_text=True)
    assert "引桥排水不畅" in housing_only and "护栏缺失" not in housing_only
    assert "护栏缺失" not in staff.get("/ledger/?year=all&state=settled").get_data(as_text=True)
    exported = staff.get(f"/ledger/issues.xlsx?year=all&department={ids['transport_id']}")
    rows = list(load_workbook(io.BytesIO(exported.data)).active.values)
    assert exported.mimetype.endswith("spreadsheetml.sheet") and len(rows) == 3
    assert rows[2][4] == "护栏缺失" and rows[2][5] == "区交通运输局" and rows[2][6] == "补装护栏"
    assert as_role(app, world, "presiding").get("/ledger/").status_code == 200
    assert as_deputy(app, world, 0).get("/ledger/").status_code == 403


def test_the_reminder_issues_one_letter_per_overdue_item(app, world):
    ids = late_world(app, world)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["remind", "--date", DAY.isoformat()])
    assert first.exit_code == 0, first.output
    assert "4 reminder letters issued" in first.output and "樊人大提〔2026〕1号" in first.output
    again = runner.invoke(args=["remind", "--date", DAY.isoformat()])
    assert again.exit_code == 0 and "0 reminder letters issued" in again.output
    with app.app_context():
        issued = db.session.scalars(select(ReminderLetter).order_by(ReminderLetter.number)).all()
        assert [(letter.subject_kind, letter.department.name) for letter in issued] == [
            ("rectification", "区交通运输局"), ("target", "区住建局"), ("rectification", "区住建局"), ("milestone", "区交通运输局")]
        assert [letter.serial for letter in issued] == [f"樊人大提〔2026〕{n}号" for n in range(1, 5)]
        assert issued[1].subject_id == ids["target_id"] and issued[1].asked == "3 座"
        assert all(letter.reply_by == DAY + timedelta(days=15) for letter in issued)
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "reminder.issue")) == 4
        # The next day nothing new is late; a later letter numbers on.
        assert letters.issue_letters("test", "staff", SETTINGS, DAY + timedelta(days=1)) == []
        letter_id, target_letter = issued[0].id, issued[1].id
    housing, transport = officer_client(app, "区住建局"), officer_client(app, "区交通运输局")
    assert housing.get(f"/ledger/letters/{letter_id}").status_code == 403
    printed = housing.get(f"/ledger/letters/{target_letter}").get_data(as_text=True)
    assert "樊人大提〔2026〕2号" in printed and "区住建局" in printed and "北岸引桥 · 新建桥梁" in printed and "樊城区人大常委会" in printed
    assert "樊人大提〔2026〕1号" in transport.get("/ledger/mine").get_data(as_text=True)


def test_the_staff_button_issues_letters_and_lists_them(app, world):
    late_world(app, world)
    staff = as_role(app, world, "staff")
    page = staff.get("/ledger/letters").get_data(as_text=True)
    assert "No reminder letter yet." in page and "区住建局" in page  # overdue, grouped by department
    done = post(staff, "/ledger/letters/generate", {}, follow_redirects=True).get_data(as_text=True)
    assert "reminder letters issued" in done and "樊人大提" in done
    again = post(staff, "/ledger/letters/generate", {}, follow_redirects=True).get_data(as_text=True)
    assert "No new reminder letter" in again
    assert post(as_role(app, world, "presiding"), "/ledger/letters/generate", {}).status_code == 403


def test_two_reminder_runs_at_once_issue_each_letter_once(app, world):
    late_world(app, world)
    barrier, counts, errors = threading.Barrier(2), [], []

    def run():
        try:
            with app.app_context():
                barrier.wait()
                issued = letters.issue_letters("cli", "cli", SETTINGS)
                db.session.commit()
                counts.append(len(issued))
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == [] and sorted(counts) == [0, 4]
    with app.app_context():
        assert db.session.scalar(select(func.count(ReminderLetter.id))) == 4
        assert len(set(db.session.scalars(select(ReminderLetter.serial)))) == 4
