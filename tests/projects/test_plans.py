"""Issue 16, plans with targets: the progress rule and the money and quantity rules on their
own (plans.py), the plan's services (history, audit, all or nothing), staff's plan pages
without JavaScript, departments reporting actual figures of their own sub-items only, and
the public page's planned against actual."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.ballots.helpers import as_role
from tests.conftest import post
from tests.projects.test_delivery import TODAY, new_project, officer_client
from voting_app.audit import AuditEntry
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.projects import delivery, planning, plans
from voting_app.projects.models import Project, SubItem, Target, TargetReport
from voting_app.projects.service import department_named, update_project

# ---- the rules (no database) --------------------------------------------------------------

quantities = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False)
measures = st.lists(st.builds(plans.Measure, quantities.filter(lambda q: q > 0), st.none() | quantities), max_size=12)


@given(measures)
def test_progress_is_a_whole_percent_and_100_only_when_everything_is_done(items):
    percent = plans.progress_percent(items)
    assert 0 <= percent <= 100
    assert (percent == 100) == (bool(items) and all(item.actual is not None and item.actual >= item.planned for item in items))


@given(measures, st.integers(min_value=0, max_value=11), quantities)
@settings(max_examples=200)
def test_more_actual_never_lowers_the_progress(items, index, extra):
    if not items:
        return
    index %= len(items)
    grown = list(items)
    grown[index] = plans.Measure(items[index].planned, (items[index].actual or 0) + extra)
    assert plans.progress_percent(grown) >= plans.progress_percent(items)


def test_targets_and_milestones_weigh_the_same_and_overshooting_counts_as_done():
    schools = plans.target_measure(Decimal(7), Decimal(5))  # 5 of 7 schools
    places = plans.target_measure(Decimal(7000), Decimal(9000))  # more places than planned: done, not more
    reached, open_ = plans.milestone_measure(date(2026, 3, 1)), plans.milestone_measure(None)
    # (5/7 + 1 + 1 + 0) / 4 = 67.857...% -> 67
    assert plans.progress_percent([schools, places, reached, open_]) == 67
    assert plans.progress_percent([]) == 0
    assert plans.share_percent(Decimal(420), Decimal(419)) == 99, "rounded down: not done is never shown as 100%"


@given(st.integers(min_value=0, max_value=10**12))
def test_yuan_read_as_wan_come_back_to_the_same_yuan(yuan):
    assert plans.yuan_from_wan(plans.wan(yuan)) == yuan


def test_money_and_quantities_read_as_people_write_them():
    assert plans.wan_text(8_600_000) == "860" and plans.wan_text(355_000) == "35.5" and plans.wan_text(12_000_125) == "1,200.0125"
    assert plans.number_text(Decimal("7000.00")) == "7,000" and plans.number_text(Decimal("3.20")) == "3.2"
    assert plans.parse_quantity(" 7,000 ") == Decimal(7000) and plans.parse_quantity("") is None
    for bad in ("-1", "abc", "1.234", "NaN", "Infinity", "1e30"):
        with pytest.raises(ValueError):
            plans.parse_quantity(bad)
    with pytest.raises(ValueError):
        plans.yuan_from_wan(Decimal("1.23456"))


# ---- services ----------------------------------------------------------------------------


def planned_project(app, year=None):
    """A school programme under the education bureau with a road sub-item of the transport bureau."""
    with app.app_context():
        project = db.session.get(Project, new_project(app, department="区教育局", name="义务教育学校建设", year=year or TODAY.year))
        schools = planning.add_sub_item("test", "staff", project, "新建学校", project.department, 60_000_000, 0)
        planning.add_target("test", "staff", schools, "新建学校", Decimal(7), "所", TODAY + timedelta(days=60))
        planning.add_target("test", "staff", schools, "新增学位", Decimal(7000), "个", TODAY + timedelta(days=60))
        roads = planning.add_sub_item("test", "staff", project, "学校周边道路", department_named("区交通运输局"), 3_550_000)
        planning.add_target("test", "staff", roads, "道路改造", Decimal("3.2"), "公里", None)
        db.session.commit()
        return project.id


def ids(app, project_id):
    with app.app_context():
        project = db.session.get(Project, project_id)
        return {target.name: target.id for target in project.targets}


def test_a_plan_computes_the_progress_and_every_edit_is_in_the_history_and_audit(app, world):
    project_id = planned_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert project.has_plan and project.progress_percent == 0
        delivery.add_milestone("test", "staff", project, "完成选址", TODAY - timedelta(days=30), project.sub_items[0])
        milestone = project.milestones[0]
        delivery.complete_milestone("test", "staff", project, milestone, TODAY - timedelta(days=29))
        assert project.progress_percent == 25, "one of four measures done"
        places = next(t for t in project.targets if t.name == "新增学位")
        planning.update_target("test", "staff", places, planned=Decimal(7200), unit="个")
        planning.update_sub_item("test", "staff", project.sub_items[1], budget_yuan=4_000_000)
        db.session.commit()
        fields = [change.field for change in project.changes]
        assert {"sub_item.added", "target.added", "target.planned", "sub_item.budget_yuan", "milestone.done", "progress_percent"} <= set(fields)
        budget = next(change for change in project.changes if change.field == "sub_item.budget_yuan")
        assert (budget.old_value, budget.new_value) == ("学校周边道路: 355", "学校周边道路: 400")
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"project.sub_item_add", "project.target_add", "project.target_update", "project.sub_item_update"} <= actions


def test_plan_edits_are_refused_with_reasons_and_reported_targets_stay(app, world):
    project_id = planned_project(app)
    officer_client(app, "区教育局")
    with app.app_context():
        project = db.session.get(Project, project_id)
        item = project.sub_items[0]
        for values in ({"name": " "}, {"planned": Decimal(0)}, {"unit": ""}, {"due_on": date(TODAY.year - 5, 1, 1)}):
            with pytest.raises(DomainError):
                planning.update_target("test", "staff", item.targets[0], **values)
        with pytest.raises(DomainError):
            planning.add_sub_item("test", "staff", project, "绿化", None, budget_yuan=-1)
        with pytest.raises(ConflictError):
            planning.remove_sub_item("test", "staff", item)
        with pytest.raises(DomainError):
            update_project("test", "staff", project, progress_percent=50)
        officer = _officer("区教育局")
        delivery.add_progress_note("o", officer, project, "两所学校主体完工", None, [], {item.targets[0].id: Decimal(2)})
        with pytest.raises(ConflictError):
            planning.remove_target("test", "staff", item.targets[0])


def _officer(department):
    from voting_app.auth.models import User

    return db.session.scalars(select(User).where(User.department_id == department_named(department).id)).one()


def test_a_department_reports_its_own_figures_all_or_nothing(app, world):
    project_id = planned_project(app)
    officer_client(app, "区教育局")
    with app.app_context():
        project = db.session.get(Project, project_id)
        targets = {t.name: t for t in project.targets}
        education = _officer("区教育局")
        assert [t.name for t in planning.own_targets(education.department_id, project)] == ["新建学校", "新增学位"]
        with pytest.raises(planning.ForeignTargetError):
            delivery.add_progress_note("o", education, project, "顺带报道路", None, [],
                                       {targets["新增学位"].id: Decimal(3000), targets["道路改造"].id: Decimal(1)})
        with pytest.raises(DomainError):
            delivery.add_progress_note("o", education, project, "进度", 50, [], {})
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(TargetReport)) == 0
        project = db.session.get(Project, project_id)
        assert project.notes == [] and all(t.actual is None for t in project.targets)


# ---- pages -------------------------------------------------------------------------------


def test_staff_build_a_plan_with_forms_and_read_clear_errors(app, world):
    project_id = new_project(app, department="区教育局", name="义务教育学校建设")
    education = department_named_id(app, "区教育局")
    staff = as_role(app, world, "staff")
    bad = post(staff, f"/projects/{project_id}/plan", {"name": "", "budget": "12.345678"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 400 and "Enter the sub-item's name." in page and "at most four decimals" in page
    added = post(staff, f"/projects/{project_id}/plan", {"name": "新建学校", "department_id": str(education), "budget": "6000", "spent": "1234.5"})
    assert added.status_code == 302
    with app.app_context():
        item = db.session.scalars(select(SubItem)).one()
        assert (item.budget_yuan, item.spent_yuan, item.department_id) == (60_000_000, 12_345_000, education)
        item_id = item.id
    base = f"/projects/{project_id}/plan/{item_id}"
    bad = post(staff, f"{base}/targets", {"target-name": "新增学位", "target-planned": "七千", "target-unit": "个"})
    assert bad.status_code == 400 and "Enter a number, zero or more" in bad.get_data(as_text=True)
    bad = post(staff, f"{base}/targets", {"target-name": "新增学位", "target-planned": "0", "target-unit": "个"})
    assert bad.status_code == 400 and "The planned quantity is a number above zero." in bad.get_data(as_text=True)
    assert post(staff, f"{base}/targets", {"target-name": "新增学位", "target-planned": "7,000", "target-unit": "个",
                                             "target-due_on": f"{TODAY.year}-08-31"}).status_code == 302
    with app.app_context():
        target = db.session.scalars(select(Target)).one()
        assert (target.planned, target.unit, target.due_on) == (Decimal(7000), "个", date(TODAY.year, 8, 31))
        assert db.session.get(Project, project_id).has_plan
    edit = staff.get(f"{base}/targets/{target.id}").get_data(as_text=True)
    assert 'value="7,000"' in edit
    assert post(staff, f"{base}/targets/{target.id}", {"target-name": "新增学位", "target-planned": "7200", "target-unit": "个"}).status_code == 302
    plan_page = staff.get(f"/projects/{project_id}/plan").get_data(as_text=True)
    assert "7,200" in plan_page and "6,000" in plan_page
    edit_page = staff.get(f"/projects/{project_id}/edit").get_data(as_text=True)
    assert 'name="progress_percent"' not in edit_page, "a planned project's progress is not typed"


def department_named_id(app, name):
    with app.app_context():
        department = department_named(name)
        db.session.commit()
        return department.id


def test_a_department_reports_actuals_on_its_own_targets_and_is_refused_anothers(app, world):
    project_id = planned_project(app)
    targets = ids(app, project_id)
    education = officer_client(app, "区教育局")
    transport = officer_client(app, "区交通运输局")
    form = education.get(f"/projects/{project_id}/notes/new").get_data(as_text=True)
    assert f'name="actual-{targets["新增学位"]}"' in form and f'name="actual-{targets["道路改造"]}"' not in form
    assert 'name="progress_percent"' not in form

    refused = post(education, f"/projects/{project_id}/notes/new",
                   {"body": "顺带报道路", f"actual-{targets['新增学位']}": "3000", f"actual-{targets['道路改造']}": "3.2"})
    assert refused.status_code == 403
    bad = post(education, f"/projects/{project_id}/notes/new", {"body": "进度", f"actual-{targets['新增学位']}": "-5"})
    assert bad.status_code == 400 and "zero or more" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(TargetReport)) == 0
        assert db.session.get(Project, project_id).notes == []

    ok = post(education, f"/projects/{project_id}/notes/new",
              {"body": "3所学校主体完工", f"actual-{targets['新建学校']}": "3", f"actual-{targets['新增学位']}": "3,000"})
    assert ok.status_code == 302
    # The transport bureau leads no sub-item of education but reports on its own road sub-item.
    assert post(transport, f"/projects/{project_id}/notes/new", {"body": "道路完工", f"actual-{targets['道路改造']}": "3.2"}).status_code == 302
    with app.app_context():
        project = db.session.get(Project, project_id)
        reports = db.session.scalars(select(TargetReport).order_by(TargetReport.id)).all()
        assert [(r.target.name, r.actual, r.reported_on, r.note.body) for r in reports] == [
            ("新建学校", Decimal(3), TODAY, "3所学校主体完工"), ("新增学位", Decimal(3000), TODAY, "3所学校主体完工"),
            ("道路改造", Decimal("3.2"), TODAY, "道路完工")]
        # (3/7 + 3000/7000 + 1) / 3 = 61.9% -> 61
        assert project.progress_percent == 61
        assert project.notes[0].department_name == "区交通运输局"
        assert "project.target_actuals" in set(db.session.scalars(select(AuditEntry.action)))
    public = app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    assert "7,000" in public and "3,000" in public and "3.2" in public and "61%" in public
    assert '<meter min="0" max="100" value="42"' in public, "3,000 of 7,000 places"
    assert "新增学位: 3,000 个 to date" in public


def test_a_sub_items_milestone_is_marked_by_its_department(app, world):
    project_id = planned_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        road = delivery.add_milestone("test", "staff", project, "道路开工", TODAY - timedelta(days=3), project.sub_items[1])
        db.session.commit()
        road_id = road.id
    education = officer_client(app, "区教育局")
    transport = officer_client(app, "区交通运输局")
    assert post(education, f"/projects/{project_id}/milestones/{road_id}/done", {"done_on": TODAY.isoformat()}).status_code == 403
    assert post(transport, f"/projects/{project_id}/milestones/{road_id}/done", {"done_on": TODAY.isoformat()}).status_code == 302
    mine = transport.get("/projects/mine").get_data(as_text=True)
    assert "义务教育学校建设" in mine


def test_a_target_past_its_due_date_and_not_reached_shows_overdue(app, world):
    project_id = planned_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        planning.update_target("test", "staff", project.targets[0], due_on=TODAY - timedelta(days=2))
        lines = planning.plan_lines(project, TODAY)
        assert [t.is_overdue for line in lines for t in line.targets] == [True, False, False]
        db.session.commit()
    assert "overdue" in app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)


def test_an_emptied_sub_item_goes_and_its_removed_milestone_with_it(app, world):
    project_id = planned_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        roads = project.sub_items[1]
        milestone = delivery.add_milestone("test", "staff", project, "道路开工", TODAY + timedelta(days=3), roads)
        assert project.progress_percent == 0
        delivery.remove_milestone("test", "staff", project, milestone)
        planning.remove_target("test", "staff", roads.targets[0])
        planning.remove_sub_item("test", "staff", roads)
        db.session.commit()
        project = db.session.get(Project, project_id)
        assert [item.name for item in project.sub_items] == ["新建学校"] and project.milestones == []
        assert {"sub_item.removed", "target.removed", "milestone.removed"} <= {change.field for change in project.changes}


def test_a_project_without_sub_items_keeps_its_typed_progress(app, world):
    project_id = new_project(app)
    officer = officer_client(app, "区交通运输局")
    form = officer.get(f"/projects/{project_id}/notes/new").get_data(as_text=True)
    assert 'name="progress_percent"' in form and "actual-" not in form
    assert post(officer, f"/projects/{project_id}/notes/new", {"body": "桩基完成", "progress_percent": "40"}).status_code == 302
    with app.app_context():
        assert db.session.get(Project, project_id).progress_percent == 40
    assert 'id="plan"' not in app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
