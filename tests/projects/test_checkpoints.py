"""Issue 16, the supervision cycle: a year's three checkpoints (default days from the setting,
days staff set, refused with reasons), a project's supervising group (a deputy group or an
ad-hoc group formed for it, all or nothing), and the report pack at a checkpoint: what was on
record by its day, on the A4 page and in Excel, for staff and the supervising group only."""

import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.ballots.helpers import as_deputy, as_role
from tests.conftest import post
from voting_app.audit import AuditEntry
from voting_app.db import db
from voting_app.projects import checkpoints, delivery, planning, supervision
from voting_app.projects.models import Project, SupervisionCheckpoint, SupervisionIssue
from voting_app.projects.service import create_project, department_named, projects_of_member
from voting_app.registry import groups
from voting_app.registry.group_rules import AD_HOC
from voting_app.registry.models import DeputyGroup
from voting_app.sessions.models import CongressSession, Deputy

YEAR = 2026
DAYS = {"plan": (3, 31), "progress": (7, 31), "effect": (11, 30)}
TODAY = date(2026, 12, 5)


def _world_term(world):
    return db.session.get(CongressSession, world.session_id).term


def _project_with_record(app, world) -> int:
    """A street-lighting project with a plan, reports and a visit on both sides of 31 July."""
    with app.app_context():
        project = create_project("test", "staff", name="“一号公路”亮化工程", year=YEAR, department="区城市管理执法局",
                                 budget=Decimal(980), spent=Decimal(400))
        item = planning.add_sub_item("test", "staff", project, "路灯安装", project.department, 9_800_000, 4_000_000)
        lights = planning.add_target("test", "staff", item, "新装路灯", Decimal(1100), "盏", date(2026, 10, 31))
        from voting_app.projects.models import TargetReport

        lights.reports.append(TargetReport(actual=Decimal(300), reported_on=date(2026, 5, 20)))
        lights.reports.append(TargetReport(actual=Decimal(900), reported_on=date(2026, 9, 1)))
        lights.actual = Decimal(900)
        delivery.add_milestone("test", "staff", project, "完成招标", date(2026, 4, 1))
        delivery.add_milestone("test", "staff", project, "城区段亮灯", date(2026, 7, 15))
        delivery.complete_milestone("test", "staff", project, project.milestones[0], date(2026, 3, 28), today=TODAY)
        delivery.complete_milestone("test", "staff", project, project.milestones[1], date(2026, 8, 20), today=TODAY)
        deputy = db.session.get(Deputy, world.deputy_ids[0])
        early = delivery.record_supervision("test", deputy, project, date(2026, 6, 10), "部分灯杆未接电", "七月底前接电",
                                            date(2026, 7, 20), [], today=TODAY)
        early.issues[0].answer, early.issues[0].answered_at = "已安排施工", datetime(2026, 7, 10, 2)
        delivery.record_supervision("test", deputy, project, date(2026, 9, 5), "太平店段进度慢", "", None, [], today=TODAY)
        db.session.commit()
        return project.id


def test_default_days_come_from_the_setting_and_staff_set_all_three_in_order(app, world):
    with app.app_context():
        assert app.config["SUPERVISION_CHECKPOINT_DAYS"] == DAYS
        items = checkpoints.year_checkpoints(YEAR, DAYS)
        assert [(item.kind, item.day, item.is_set) for item in items] == [
            ("plan", date(2026, 3, 31), False), ("progress", date(2026, 7, 31), False), ("effect", date(2026, 11, 30), False)]
        for days, field in (({"plan": date(2025, 3, 1), "progress": date(2026, 7, 1), "effect": date(2026, 11, 1)}, "plan"),
                            ({"plan": date(2026, 3, 1), "progress": date(2026, 2, 1), "effect": date(2026, 11, 1)}, "progress"),
                            ({"plan": date(2026, 3, 1), "progress": date(2026, 7, 1), "effect": None}, "effect")):
            with pytest.raises(supervision.CheckpointDaysError) as refused:
                supervision.set_checkpoint_days("test", YEAR, days)
            assert refused.value.field == field
        assert db.session.scalars(select(SupervisionCheckpoint)).all() == []
        days = {"plan": date(2026, 3, 27), "progress": date(2026, 7, 24), "effect": date(2026, 11, 27)}
        assert supervision.set_checkpoint_days("test", YEAR, days) == ["plan", "progress", "effect"]
        assert supervision.set_checkpoint_days("test", YEAR, days) == []
        db.session.commit()
        assert [(item.day, item.is_set) for item in checkpoints.year_checkpoints(YEAR, DAYS)] == [(day, True) for day in days.values()]
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "checkpoint.days")) is not None


def test_the_pack_reads_the_record_up_to_the_checkpoint(app, world):
    project_id = _project_with_record(app, world)
    with app.app_context():
        project = db.session.get(Project, project_id)
        progress = checkpoints.checkpoint_of(YEAR, "progress", DAYS)
        pack = checkpoints.project_pack(project, progress, {}, today=TODAY)
        assert pack.as_of == date(2026, 7, 31)
        [lights] = pack.targets
        assert (lights.actual, lights.reported_on, lights.percent) == (Decimal(300), date(2026, 5, 20), 27)
        assert [(line.done_on, line.is_overdue) for line in pack.milestones] == [(date(2026, 3, 28), False), (None, True)]
        assert [record.findings for record in pack.findings] == ["部分灯杆未接电"]
        [open_item] = pack.rectifications
        assert (open_item.answer, open_item.status, open_item.is_overdue) == ("已安排施工", "awaiting_verdict", True)
        assert pack.progress_percent == (27 + 100 + 0) // 3
        effect = checkpoints.project_pack(project, checkpoints.checkpoint_of(YEAR, "effect", DAYS), {}, today=TODAY)
        assert effect.targets[0].actual == Decimal(900) and effect.milestones_done == 2 and len(effect.findings) == 2
        plan = checkpoints.project_pack(project, checkpoints.checkpoint_of(YEAR, "plan", DAYS), {}, today=TODAY)
        assert plan.targets[0].actual is None and plan.rectifications == [] and plan.findings == []
        # settled before the effect checkpoint: no longer open then, still open at mid-year
        issue = db.session.scalar(select(SupervisionIssue).where(SupervisionIssue.rectification != ""))
        issue.settled, issue.judged_at = True, datetime(2026, 8, 1, 2)
        assert checkpoints.open_rectifications(project, date(2026, 11, 30)) == []
        assert len(checkpoints.open_rectifications(project, date(2026, 7, 31))) == 1
        ahead = checkpoints.project_pack(project, checkpoints.Checkpoint(YEAR, "effect", date(2026, 12, 20), True), {}, today=TODAY)
        assert ahead.as_of == TODAY


def _member_group(world):
    term = _world_term(world)
    numbers = "\n".join(deputy.number for deputy in term.deputies_in_roster_order[:3])
    return term, numbers


def test_an_ad_hoc_group_supervises_a_project_and_its_members_see_it(app, world):
    project_id = _project_with_record(app, world)
    with app.app_context():
        project = db.session.get(Project, project_id)
        term, numbers = _member_group(world)
        with pytest.raises(groups.BulkAddError):
            supervision.form_ad_hoc_group("test", "staff", project, term, "亮化工程督办小组", numbers + "\n999", "")
        db.session.rollback()
        project = db.session.get(Project, project_id)
        with pytest.raises(groups.GroupError) as refused:
            supervision.form_ad_hoc_group("test", "staff", project, term, "亮化工程督办小组", numbers, "008")
        assert refused.value.field == "leader"
        db.session.rollback()
        assert db.session.scalar(select(DeputyGroup).where(DeputyGroup.kind == AD_HOC)) is None, "nothing half-stored"
        project = db.session.get(Project, project_id)
        group = supervision.form_ad_hoc_group("test", "staff", project, term, "亮化工程督办小组", numbers, "2")
        db.session.commit()
        assert group.kind == AD_HOC and group.convener.number == "002" and len(group.memberships) == 3
        assert project.supervision_group_id == group.id
        assert any(change.field == "supervision_group" and change.new_value == "亮化工程督办小组" for change in project.changes)
        first = db.session.get(Deputy, world.deputy_ids[0]).person
        assert [p.id for p in projects_of_member(first)] == [project_id]


def test_staff_pages_set_days_and_groups_and_deputies_read_only_their_packs(app, world):
    project_id = _project_with_record(app, world)
    staff = as_role(app, world, "staff")
    staff.set_cookie("lang", "en")
    page = staff.get(f"/reports/checkpoints?year={YEAR}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Default day, not yet set" in text and f"/reports/checkpoints/{YEAR}/progress/projects/{project_id}" in text
    bad = post(staff, f"/reports/checkpoints/{YEAR}", {"plan": "2026-08-01", "progress": "2026-07-24", "effect": "2026-11-27"})
    assert bad.status_code == 400 and "plan, then progress, then effect" in bad.get_data(as_text=True)
    ok = post(staff, f"/reports/checkpoints/{YEAR}", {"plan": "2026-03-27", "progress": "2026-07-24", "effect": "2026-11-27"})
    assert ok.status_code == 302
    with app.app_context():
        term, numbers = _member_group(world)
    refused = post(staff, f"/projects/{project_id}/supervisors", {"which": "ad_hoc", "name": "督办组", "numbers": "404\n001"})
    assert refused.status_code == 400 and "No deputy of this term has this number." in refused.get_data(as_text=True)
    formed = post(staff, f"/projects/{project_id}/supervisors", {"which": "ad_hoc", "name": "亮化工程督办小组", "numbers": numbers, "leader": ""})
    assert formed.status_code == 302

    pack = staff.get(f"/reports/checkpoints/{YEAR}/progress/projects/{project_id}")
    text = pack.get_data(as_text=True)
    assert pack.status_code == 200 and "As of 2026-07-24" in text and "亮化工程督办小组" in text and "部分灯杆未接电" in text
    assert "太平店段进度慢" not in text, "a visit after the checkpoint is not in its pack"
    workbook = staff.get(f"/reports/checkpoints/{YEAR}/progress/projects/{project_id}.xlsx")
    assert workbook.status_code == 200
    book = load_workbook(io.BytesIO(workbook.data))
    assert book.sheetnames == ["Pack", "Plan and targets", "Milestones", "Spending", "Supervision findings", "Open rectifications",
                               "Satisfaction"]
    assert [cell.value for cell in book["Plan and targets"][2]][3:8] == ["新装路灯", 1100, "盏", datetime(2026, 10, 31), 300]
    every = staff.get(f"/reports/checkpoints/{YEAR}/effect.xlsx")
    assert every.status_code == 200 and load_workbook(io.BytesIO(every.data))["Pack"].max_row >= 2

    member, outsider = as_deputy(app, world, 0), as_deputy(app, world, 5)
    assert member.get(f"/reports/checkpoints/{YEAR}/plan/projects/{project_id}").status_code == 200
    assert member.get(f"/reports/checkpoints/{YEAR}/plan/projects/{project_id}.xlsx").status_code == 200
    assert outsider.get(f"/reports/checkpoints/{YEAR}/plan/projects/{project_id}").status_code == 403
    assert member.get(f"/reports/checkpoints?year={YEAR}").status_code == 403
    assert "Report packs:" in member.get("/projects/supervision").get_data(as_text=True)
    assert staff.get(f"/reports/checkpoints/{YEAR}/autumn/projects/{project_id}").status_code == 404
    assert staff.get(f"/reports/checkpoints/{YEAR + 1}/plan/projects/{project_id}").status_code == 404
    assert staff.get("/reports/checkpoints?year=99999").status_code == 404
    assert staff.get("/reports/checkpoints/99999/plan.xlsx").status_code == 404


def test_a_formula_in_a_finding_stays_text_in_the_pack(app, world):
    project_id = _project_with_record(app, world)
    with app.app_context():
        project = db.session.get(Project, project_id)
        delivery.record_supervision("test", db.session.get(Deputy, world.deputy_ids[0]), project, date(2026, 7, 1),
                                    "=HYPERLINK(\"http://x\")", "", None, [], today=TODAY)
        db.session.commit()
    staff = as_role(app, world, "staff")
    book = load_workbook(io.BytesIO(staff.get(f"/reports/checkpoints/{YEAR}/effect/projects/{project_id}.xlsx").data))
    cells = [row[3] for row in book["Supervision findings"].iter_rows(min_row=2)]
    assert any(cell.value.startswith("=HYPERLINK") and cell.data_type == "s" for cell in cells)


def test_the_group_choice_keeps_working_for_deputy_groups(app, world):
    with app.app_context():
        term = _world_term(world)
        group = groups.create_group("test", term, "牛首镇代表小组")
        project = create_project("test", "staff", name="农村饮水", year=YEAR, department=department_named("区水利局"))
        db.session.commit()
        group_id, project_id = group.id, project.id
    staff = as_role(app, world, "staff")
    assert staff.get(f"/projects/{project_id}/supervisors").status_code == 200
    assert post(staff, f"/projects/{project_id}/supervisors", {"which": "choose", "supervision_group_id": str(group_id)}).status_code == 302
    assert post(staff, f"/projects/{project_id}/supervisors", {"which": "choose", "supervision_group_id": "99999"}).status_code == 400
    with app.app_context():
        assert db.session.get(Project, project_id).supervision_group_id == group_id


def test_a_project_without_a_plan_shows_the_progress_and_spending_recorded_by_the_day(app, world):
    from voting_app.projects.service import update_project

    with app.app_context():
        project = create_project("test", "staff", name="市百货站小区文化长廊改造", year=YEAR, progress_percent=10, spent=Decimal(100))
        project.created_at = datetime(2026, 2, 1, 2)
        update_project("test", "staff", project, progress_percent=40, spent=Decimal(300))
        for change in project.changes:
            if change.field in ("progress_percent", "spent"):
                change.at = datetime(2026, 6, 1, 2)
        update_project("test", "staff", project, progress_percent=70)
        next(c for c in project.changes if c.field == "progress_percent" and c.new_value == "70").at = datetime(2026, 9, 1, 2)
        db.session.flush()

        def seen(day):
            pack = checkpoints.project_pack(project, checkpoints.Checkpoint(YEAR, "plan", day, True), {}, today=TODAY)
            return pack.progress_percent, pack.spent and (pack.spent.value, pack.spent.recorded_on)

        assert seen(date(2026, 1, 15)) == (None, None), "not yet a project"
        assert seen(date(2026, 3, 31)) == (10, (Decimal(100), date(2026, 2, 1)))
        assert seen(date(2026, 7, 31)) == (40, (Decimal(300), date(2026, 6, 1)))
        assert seen(date(2026, 11, 30)) == (70, (Decimal(300), date(2026, 6, 1)))
