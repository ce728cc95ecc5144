"""Issue 13, delivery pages: departments chosen from the managed list (added inline, warned
about when no officer serves them, a dashboard column and filter), one form for every
stage's dates (all or nothing, errors naming stage and field, no duplicate ids), and the
project's explicit year, named with the field in every date message."""

import re
from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.ballots.helpers import as_role
from tests.conftest import post
from tests.projects.test_delivery import TODAY, new_project, officer_client
from tests.projects.test_projects import counted_round
from voting_app.audit import AuditEntry
from voting_app.auth.models import User
from voting_app.ballots.models import Round
from voting_app.db import db
from voting_app.permissions import owns_project
from voting_app.projects import delivery
from voting_app.projects.models import Department, Project
from voting_app.projects.service import department_named
from voting_app.sessions.models import CongressSession, Deputy

PROJECT = {"name": "背街小巷改造", "year": "2027", "stage": "approved", "progress_percent": "0"}


def department_id(app, name: str) -> int:
    with app.app_context():
        department = department_named(name)
        db.session.commit()
        return department.id


def duplicate_ids(html: str) -> list[str]:
    return [name for name, count in Counter(re.findall(r'\sid="([^"]+)"', html)).items() if count > 1]


# ---- departments ------------------------------------------------------------------------


def test_a_project_chosen_from_the_list_reaches_that_departments_officer(app, world):
    urban = department_id(app, "区城市管理执法局")
    officer = officer_client(app, "区城市管理执法局")
    staff = as_role(app, world, "staff")
    page = staff.get("/projects/new").get_data(as_text=True)
    assert f'<option value="{urban}">区城市管理执法局</option>' in page
    created = post(staff, "/projects/new", PROJECT | {"department_id": str(urban)})
    assert created.status_code == 302
    with app.app_context():
        project = db.session.scalars(select(Project)).one()
        assert project.department_id == urban
        assert db.session.scalar(select(func.count()).select_from(Department)) == 1, "no second, look-alike department"
    mine = officer.get("/projects/mine").get_data(as_text=True)
    assert "背街小巷改造" in mine


def test_a_department_is_added_inline_once_and_a_typed_existing_name_reuses_it(app, world):
    staff = as_role(app, world, "staff")
    created = post(staff, "/projects/new", PROJECT | {"department_id": "", "new_department": "  区民政局 "})
    assert created.status_code == 302
    again = post(staff, "/projects/new", PROJECT | {"name": "社区食堂", "new_department": "区民政局"})
    assert again.status_code == 302
    with app.app_context():
        departments = db.session.scalars(select(Department)).all()
        assert [d.name for d in departments] == ["区民政局"]
        assert {p.department_id for p in db.session.scalars(select(Project))} == {departments[0].id}
        assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "department.create")).all() == [
            "department.create"]
    # The new department is now in the list the form offers.
    assert "区民政局" in staff.get("/projects/new").get_data(as_text=True)


@pytest.mark.parametrize("value", ["999999", "abc", "-1"])
def test_a_department_not_in_the_list_is_refused_and_nothing_is_stored(app, world, value):
    response = post(as_role(app, world, "staff"), "/projects/new", PROJECT | {"department_id": value})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Project)) == 0


def test_a_refused_project_leaves_no_inline_department_behind(app, world):
    response = post(as_role(app, world, "staff"), "/projects/new", PROJECT | {"new_department": "区教育局", "progress_percent": "150"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Department)) == 0


def test_staff_are_warned_when_no_officer_serves_the_department(app, world):
    served = department_id(app, "区交通运输局")
    officer_client(app, "区交通运输局")
    unserved = department_id(app, "区城市管理局")
    project_id = new_project(app, department="区城市管理局")
    staff = as_role(app, world, "staff")
    form = staff.get(f"/projects/{project_id}/edit").get_data(as_text=True)
    assert "No officer serves 区城市管理局" in form
    assert f'<option selected value="{unserved}">区城市管理局 (no officer)</option>' in form
    assert f'<option value="{served}">区交通运输局</option>' in form
    detail = staff.get(f"/projects/{project_id}").get_data(as_text=True)
    assert "No officer serves 区城市管理局" in detail
    assert "No officer serves" not in app.test_client().get(f"/projects/{project_id}").get_data(as_text=True), "staff only"
    board = staff.get("/projects/dashboard").get_data(as_text=True)
    assert "1 department has projects but no officer" in board and "区城市管理局" in board
    # Moving the project to the served department: the officer now reaches it, and the warning goes.
    moved = post(staff, f"/projects/{project_id}/edit", PROJECT | {"name": "农村公路桥梁新改建", "year": str(TODAY.year),
                                                                    "department_id": str(served)})
    assert moved.status_code == 302
    assert "No officer serves" not in staff.get(f"/projects/{project_id}").get_data(as_text=True)
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert ("department", "区城市管理局", "区交通运输局") in [(c.field, c.old_value, c.new_value) for c in project.changes]
        officer = db.session.scalars(select(User).where(User.department_id == served)).one()
        assert owns_project(officer, project)


def test_the_dashboard_shows_the_department_and_filters_by_it(app, world):
    late = TODAY - timedelta(days=5)
    bridge = new_project(app, name="农村公路桥梁新改建", department="区交通运输局")
    lights = new_project(app, name="一号公路亮化工程", department="区城市管理执法局")
    with app.app_context():
        for project_id, name in ((bridge, "桥梁主体完工"), (lights, "路灯安装完成")):
            project = db.session.get(Project, project_id)
            delivery.add_milestone("test", "staff", project, name, late)
        db.session.commit()
    urban = department_id(app, "区城市管理执法局")
    staff = as_role(app, world, "staff")
    board = staff.get("/projects/dashboard").get_data(as_text=True)
    assert "桥梁主体完工" in board and "路灯安装完成" in board
    assert re.search(r"一号公路亮化工程</a></td><td>区城市管理执法局", board)
    filtered = staff.get(f"/projects/dashboard?department={urban}").get_data(as_text=True)
    assert "路灯安装完成" in filtered and "桥梁主体完工" not in filtered
    assert f'<option value="{urban}" selected>' in filtered
    for odd in ("abc", "-1", "999999", "99999999999999999999"):
        response = staff.get(f"/projects/dashboard?department={odd}")
        assert response.status_code == 200 and "桥梁主体完工" in response.get_data(as_text=True)


# ---- one form for every stage's dates ---------------------------------------------------------


def test_all_stage_dates_are_saved_by_one_button(app, world):
    project_id = new_project(app)
    staff = as_role(app, world, "staff")
    page = staff.get(f"/projects/{project_id}/schedule").get_data(as_text=True)
    assert page.count("Save all dates") == 1 and page.count('name="approved-planned_start"') == 1
    day = (TODAY - timedelta(days=30)).isoformat()
    saved = post(staff, f"/projects/{project_id}/schedule", {
        "approved-planned_start": day, "approved-planned_end": TODAY.isoformat(), "approved-actual_start": day,
        "in_progress-planned_end": (TODAY + timedelta(days=90)).isoformat(),
        "accepted-planned_start": (TODAY + timedelta(days=120)).isoformat(),
    })
    assert saved.status_code == 302
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert project.plan_for("approved").actual_start.isoformat() == day
        assert project.plan_for("in_progress").planned_end == TODAY + timedelta(days=90)
        assert project.plan_for("accepted").planned_start == TODAY + timedelta(days=120)
        assert project.plan_for("operating") is None
    # The page shows the saved dates back in the one form.
    page = staff.get(f"/projects/{project_id}/schedule").get_data(as_text=True)
    assert f'name="in_progress-planned_end" type="date" value="{(TODAY + timedelta(days=90)).isoformat()}"' in page


def test_a_bad_date_in_one_stage_stores_nothing_and_names_stage_and_field(app, world):
    project_id = new_project(app)
    staff = as_role(app, world, "staff")
    future = (TODAY + timedelta(days=3)).isoformat()
    refused = post(staff, f"/projects/{project_id}/schedule", {
        "approved-planned_start": "2026-01-01", "approved-planned_end": "2026-02-01",
        "in_progress-actual_start": future,
        "operating-planned_start": "2026-05-01", "operating-planned_end": "2026-04-01",
        "accepted-planned_end": "not a date",
    })
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Under way (实施) · Actual start: An actual date cannot be in the future." in html
    assert "In operation (运营) · Planned end: A stage cannot end before it starts." in html
    assert "Accepted (验收) · Planned end: Not a valid date value." in html
    assert "Nothing was saved" in html
    # What was typed is shown again, for every stage, so nothing has to be typed twice.
    assert 'name="approved-planned_start" type="date" value="2026-01-01"' in html
    assert duplicate_ids(html) == []
    with app.app_context():
        assert db.session.get(Project, project_id).stage_plans == []


def test_the_schedule_page_has_no_duplicate_ids(app, world):
    project_id = new_project(app)
    with app.app_context():
        delivery.add_milestone("test", "staff", db.session.get(Project, project_id), "完成施工招标", TODAY)
        delivery.add_milestone("test", "staff", db.session.get(Project, project_id), "竣工验收", TODAY + timedelta(days=60))
        db.session.commit()
    html = as_role(app, world, "staff").get(f"/projects/{project_id}/schedule").get_data(as_text=True)
    assert 'id="stage"' not in html
    assert duplicate_ids(html) == []


def test_the_service_checks_every_stage_before_writing_any(app, world):
    project_id = new_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        with pytest.raises(delivery.StageDatesError) as refused:
            delivery.set_stage_plans("test", "staff", project, {
                "approved": {"planned_start": date(2026, 1, 1)},
                "accepted": {"actual_end": TODAY - timedelta(days=1)},
            }, today=TODAY)
        assert [(p.stage, p.field) for p in refused.value.problems] == [("accepted", "actual_end")]
        assert project.stage_plans == []


# ---- the project's year -----------------------------------------------------------------------


def test_a_project_takes_its_year_from_the_rounds_title_not_the_session_date(app, world):
    with app.app_context():
        db.session.get(CongressSession, world.session_id).starts_on = date(2028, 12, 20)
        db.session.get(Round, world.round_id).title = "2029年度民生实事项目票决"
        db.session.commit()
    a, _ = counted_round(app, world)
    staff = as_role(app, world, "staff")
    # The round page offers the year its title states; staff confirm it (or correct it) as they make the project.
    round_page = staff.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert re.search(r'<input id="year-%d" name="year" type="number"[^>]* value="2029"' % a, round_page)
    for bad, message in (("", "Project year: enter the year the project belongs to"), ("29", "Project year: enter a year from 2000 to 2100")):
        refused = post(staff, f"/projects/from-candidate/{a}", {"year": bad}, follow_redirects=True)
        assert message in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Project.id))) == 0  # nothing half-made
    assert post(staff, f"/projects/from-candidate/{a}", {"year": "2029"}).status_code == 302
    with app.app_context():
        project = db.session.scalars(select(Project)).one()
        assert project.year == 2029
        project_id = project.id
    page = app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    assert "Project year" in page and "Year 2029" in page


def test_without_a_stated_year_the_session_year_is_used(app, world):
    with app.app_context():
        db.session.get(CongressSession, world.session_id).starts_on = date(2028, 1, 10)
        db.session.commit()
    a, _ = counted_round(app, world)
    staff = as_role(app, world, "staff")
    assert 'value="2028"' in staff.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    post(staff, f"/projects/from-candidate/{a}", {"year": "2028"})
    with app.app_context():
        assert db.session.scalars(select(Project.year)).one() == 2028


def test_staff_edit_the_year_and_it_is_on_the_history(app, world):
    project_id = new_project(app, year=2028)
    staff = as_role(app, world, "staff")
    edited = post(staff, f"/projects/{project_id}/edit", PROJECT | {"name": "农村公路桥梁新改建", "year": "2029"})
    assert edited.status_code == 302
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert project.year == 2029
        assert ("year", "2028", "2029") in [(c.field, c.old_value, c.new_value) for c in project.changes]
    assert "Project year" in app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)


def test_marking_a_milestone_reached_names_the_field_and_the_projects_year(app, world):
    project_id = new_project(app, year=TODAY.year + 2)
    with app.app_context():
        project = db.session.get(Project, project_id)
        milestone = delivery.add_milestone("test", "staff", project, "完成施工招标", date(TODAY.year + 2, 3, 1))
        db.session.commit()
        milestone_id = milestone.id
    officer = officer_client(app, "区交通运输局")
    refused = post(officer, f"/projects/{project_id}/milestones/{milestone_id}/done", {"done_on": TODAY.isoformat()},
                   follow_redirects=True)
    assert f"Reached on: The date is long before the project’s year ({TODAY.year + 2}); check the year you typed." in (
        refused.get_data(as_text=True))
    # The year was wrong: staff correct it, and the same date is accepted.
    with app.app_context():
        db.session.get(Project, project_id).year = TODAY.year
        db.session.commit()
    post(officer, f"/projects/{project_id}/milestones/{milestone_id}/done", {"done_on": TODAY.isoformat()})
    with app.app_context():
        assert db.session.get(Project, project_id).milestones[0].done_on == TODAY


def test_the_chinese_message_reads_as_the_issue_asks(app, world):
    year = TODAY.year + 3
    project_id = new_project(app, year=year)
    with app.app_context():
        project = db.session.get(Project, project_id)
        milestone = delivery.add_milestone("test", "staff", project, "完成施工招标", date(year, 3, 1))
        db.session.commit()
        milestone_id = milestone.id
    officer = officer_client(app, "区交通运输局")
    officer.set_cookie("lang", "zh_CN")
    refused = post(officer, f"/projects/{project_id}/milestones/{milestone_id}/done", {"done_on": TODAY.isoformat()},
                   follow_redirects=True)
    assert f"完成日期：日期比项目年度（{year}年度）早太多，请检查输入的年份。" in refused.get_data(as_text=True)


@pytest.mark.parametrize(("call", "message"), [
    ("future_visit", "Visit date: The date cannot be in the future."),
    ("due_before_visit", "Rectification due by: The due date cannot be before the visit."),
    ("future_done", "Reached on: An actual date cannot be in the future."),
    ("early_plan", "Planned date: The date is long before the project’s year"),
])
def test_every_date_message_names_its_field(app, world, call, message):
    project_id = new_project(app)
    with app.test_request_context(headers={"Cookie": "lang=en"}):  # messages in English, as the other tests read them
        project = db.session.get(Project, project_id)
        deputy = db.session.get(Deputy, world.deputy_ids[0])
        with pytest.raises(delivery.DomainError) as refused:
            if call == "future_visit":
                delivery.record_supervision("test", deputy, project, TODAY + timedelta(days=1), "看过", "", None, [], today=TODAY)
            elif call == "due_before_visit":
                delivery.record_supervision("test", deputy, project, TODAY, "看过", "修", TODAY - timedelta(days=1), [], today=TODAY)
            elif call == "future_done":
                milestone = delivery.add_milestone("test", "staff", project, "完工", TODAY)
                delivery.complete_milestone("test", "staff", project, milestone, TODAY + timedelta(days=1), today=TODAY)
            else:
                delivery.add_milestone("test", "staff", project, "完工", date(TODAY.year - 3, 1, 1))
        assert str(refused.value.message).startswith(message)
        db.session.rollback()


def test_demo_departments_come_from_the_managed_list():
    from voting_app.demo import CANDIDATES, DELIVERED_2026
    from voting_app.demo_delivery import DEPARTMENTS, OFFICERS, UNDER_WAY_2026

    used = {row[3] for row in CANDIDATES} | {row[3] for row in DELIVERED_2026} | {row[3] for row in UNDER_WAY_2026}
    assert used | {row[2] for row in OFFICERS} <= set(DEPARTMENTS)


def test_staff_keep_the_department_list_and_see_who_serves_each(app, world):
    officer_client(app, "区交通运输局")
    new_project(app, department="区城市管理局")
    staff = as_role(app, world, "staff")
    page = staff.get("/projects/departments").get_data(as_text=True)
    assert re.search(r"区交通运输局</a></td>\s*<td>王科长</td>", page)
    assert re.search(r"区城市管理局</a></td>\s*<td><span class=\"badge warn\">no officer</span></td>\s*<td class=\"num\">1</td>", page)
    assert post(staff, "/projects/departments", {"name": " 区民政局 "}).status_code == 302
    again = post(staff, "/projects/departments", {"name": "区民政局"})
    assert again.status_code == 409 and "区民政局 is already on the list." in again.get_data(as_text=True)
    assert post(staff, "/projects/departments", {"name": "   "}).status_code == 400
    with app.app_context():
        assert db.session.scalars(select(Department.name).order_by(Department.name)).all() == sorted(
            ["区交通运输局", "区城市管理局", "区民政局"])
    for role in ("presiding", "scrutineer"):
        assert as_role(app, world, role).get("/projects/departments").status_code == 403
