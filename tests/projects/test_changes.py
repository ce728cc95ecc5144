"""Issue 16, change control: a published plan's targets, funds, departments and deadlines change,
and a project is deferred or terminated, only by a change request the standing committee
approves. The services (gating, approval applies through the plan's own functions, refusal
leaves the project as it is, a stale request cannot be approved, nothing half-stored), who may
do what, the pages without JavaScript, and the next session's report."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.ballots.helpers import as_role
from tests.conftest import post
from tests.projects.test_delivery import TODAY, officer_client
from tests.projects.test_plans import planned_project
from voting_app.audit import AuditEntry
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.projects import changes, delivery, planning
from voting_app.projects.models import ChangeRequest, Project, ProjectChange
from voting_app.projects.service import PublishedPlanError, department_named, update_project
from voting_app.reports.data import project_report

DEADLINE = TODAY + timedelta(days=90)


class Staff:
    id = None
    label = "区人大常委会办公室 李敏"


def published(app) -> int:
    """The planned school programme with its deadline, published."""
    project_id = planned_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        delivery.set_stage_plan("test", "staff", project, "in_progress", planned_start=TODAY - timedelta(days=100),
                                planned_end=DEADLINE)
        changes.publish_plan("test", "staff", project, TODAY)
        db.session.commit()
    return project_id


def _decide(request, approve=True, number="樊人常决〔2026〕12号", day=TODAY):
    changes.decide_change("test", Staff(), request, approve, "区人大常委会第二十三次会议", day, number)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_published_plan_refuses_direct_edits_of_what_it_holds_to_but_takes_small_ones(app, world):
    project_id = published(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        item, target = project.sub_items[0], project.targets[0]
        for edit in (lambda: planning.update_target("t", "s", target, planned=Decimal(8)),
                     lambda: planning.update_target("t", "s", target, due_on=DEADLINE + timedelta(days=1)),
                     lambda: planning.update_sub_item("t", "s", item, budget_yuan=1),
                     lambda: planning.update_sub_item("t", "s", item, department=department_named("区民政局")),
                     lambda: update_project("t", "s", project, budget=Decimal(1)),
                     lambda: update_project("t", "s", project, department="区民政局"),
                     lambda: delivery.set_stage_plan("t", "s", project, "in_progress", planned_start=TODAY - timedelta(days=100),
                                                     planned_end=DEADLINE + timedelta(days=30))):
            with pytest.raises(PublishedPlanError, match="请提交变更申请"):
                edit()
            db.session.rollback()
            project = db.session.get(Project, project_id)
            item, target = project.sub_items[0], project.targets[0]
        assert target.planned == 7 and project.plan_for("in_progress").planned_end == DEADLINE
        # Names, units, the summary stay direct, and are in the history.
        planning.update_target("t", "s", target, name="新建学校（含扩建）", unit="所", planned=Decimal(7))
        update_project("t", "s", project, summary="新建、扩建中小学校7所。", budget=project.budget)
        delivery.set_stage_plan("t", "s", project, "in_progress", planned_start=TODAY - timedelta(days=100),
                                planned_end=DEADLINE, actual_start=TODAY - timedelta(days=90))
        db.session.commit()
        fields = {change.field for change in project.changes}
        assert {"target.name", "summary", "in_progress.actual_start", "plan.published"} <= fields
        with pytest.raises(ConflictError):
            changes.publish_plan("t", "s", project)


def test_an_approved_deferral_takes_effect_and_is_in_the_history_and_the_audit(app, world):
    project_id = published(app)
    new_deadline = DEADLINE + timedelta(days=120)
    with app.app_context():
        project = db.session.get(Project, project_id)
        request = changes.submit_change("t", Staff(), project, "defer", "冬季停工，主体工程顺延。", deadline=new_deadline)
        db.session.commit()
        assert project.status == "active" and project.plan_for("in_progress").planned_end == DEADLINE, "nothing yet"
        assert project.changes[0].field == "change.requested.defer"
        _decide(request)
        db.session.commit()
        assert request.state == "approved" and request.decision_number == "樊人常决〔2026〕12号"
        assert project.status == "deferred" and project.plan_for("in_progress").planned_end == new_deadline
        fields = [change.field for change in project.changes]
        assert {"change.approved", "status", "in_progress.planned_end"} <= set(fields)
        approved = next(change for change in project.changes if change.field == "change.approved")
        assert "樊人常决〔2026〕12号" in approved.new_value
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"project.change_request", "project.change_decide", "project.stage_plan"} <= actions
        with pytest.raises(ConflictError):
            _decide(request, approve=False)


def test_a_refused_request_leaves_the_project_unchanged(app, world):
    project_id = published(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        places = next(t for t in project.targets if t.name == "新增学位")
        request = changes.submit_change("t", Staff(), project, "edit", "生源减少。",
                                        {f"target.{places.id}.planned": Decimal(6000)})
        assert request.proposed[f"target.{places.id}.planned"] | {} == {
            "what": "新建学校 · 新增学位", "field": "planned", "old": "7000.00", "new": "6000.00",
            "old_text": "7,000", "new_text": "6,000"}
        _decide(request, approve=False, number="樊人常决〔2026〕13号")
        db.session.commit()
        assert request.state == "refused" and places.planned == 7000
        refused = project.changes[0]
        assert refused.field == "change.refused" and "13号" in refused.new_value


def test_an_approved_edit_applies_every_value_through_the_plan_and_recomputes(app, world):
    project_id = published(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        places = next(t for t in project.targets if t.name == "新增学位")
        roads = project.sub_items[1]
        welfare = department_named("区民政局")
        request = changes.submit_change("t", Staff(), project, "edit", "调整", {
            f"target.{places.id}.planned": Decimal(7500), f"sub_item.{roads.id}.department": welfare,
            f"sub_item.{roads.id}.budget_yuan": 4_000_000, "budget": Decimal("9999.50"),
            f"target.{places.id}.due_on": places.due_on})  # unchanged: not part of the request
        assert set(request.proposed) == {f"target.{places.id}.planned", f"sub_item.{roads.id}.department",
                                         f"sub_item.{roads.id}.budget_yuan", "budget"}
        _decide(request)
        db.session.commit()
        assert places.planned == 7500 and roads.department == welfare and roads.budget_yuan == 4_000_000
        assert project.budget == Decimal("9999.50")
        assert {"target.planned", "sub_item.department", "sub_item.budget_yuan", "budget"} <= {c.field for c in project.changes}


def test_a_stale_request_is_refused_and_nothing_of_it_is_stored(app, world):
    project_id = published(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        places = next(t for t in project.targets if t.name == "新增学位")
        schools = next(t for t in project.targets if t.name == "新建学校")
        first = changes.submit_change("t", Staff(), project, "edit", "一", {f"target.{places.id}.planned": Decimal(6000)})
        second = changes.submit_change("t", Staff(), project, "edit", "二", {
            f"target.{schools.id}.planned": Decimal(8), f"target.{places.id}.planned": Decimal(6500)})
        _decide(first)
        db.session.commit()
        before = _count(ProjectChange)
        assert changes.stale_values(second) == [f"target.{places.id}.planned"]
        with pytest.raises(ConflictError, match="申请提出后项目已发生变化"):
            _decide(second)
        db.session.rollback()
        project = db.session.get(Project, project_id)
        assert _count(ProjectChange) == before and db.session.get(ChangeRequest, second.id).state == "pending"
        assert next(t for t in project.targets if t.name == "新建学校").planned == 7
        _decide(db.session.get(ChangeRequest, second.id), approve=False, number="樊人常决〔2026〕14号")
        db.session.commit()


def test_bad_requests_and_decisions_are_refused_with_reasons(app, world):
    project_id = published(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        target = project.targets[0]
        for kind, reason, values, deadline in (
            ("defer", "", None, DEADLINE + timedelta(days=1)),  # no reason
            ("defer", "顺延", None, None),  # no deadline
            ("defer", "顺延", None, DEADLINE - timedelta(days=1)),  # earlier, not later
            ("edit", "调整", {f"target.{target.id}.planned": target.planned}, None),  # nothing new
            ("edit", "调整", {"target.999999.planned": Decimal(1)}, None),  # not of this plan
            ("edit", "调整", {"status": "terminated"}, None),  # termination is its own kind
            ("edit", "调整", {f"target.{target.id}.due_on": date(TODAY.year - 5, 1, 1)}, None),
            ("edit", "调整", {"stage.in_progress.planned_end": TODAY - timedelta(days=200)}, None),  # before its start
            ("merge", "调整", None, None),
        ):
            with pytest.raises(DomainError):
                changes.submit_change("t", Staff(), project, kind, reason, values, deadline)
        assert _count(ChangeRequest) == 0
        request = changes.submit_change("t", Staff(), project, "terminate", "选址无法落实。")
        for meeting, day, number in (("", TODAY, "1号"), ("会议", None, "1号"), ("会议", TODAY, " "),
                                     ("会议", TODAY + timedelta(days=1), "1号")):
            with pytest.raises(DomainError):
                changes.decide_change("t", Staff(), request, True, meeting, day, number)
        assert request.state == "pending" and project.status == "active"
        _decide(request)
        assert project.status == "terminated" and project.is_terminated
        with pytest.raises(ConflictError):
            changes.submit_change("t", Staff(), project, "defer", "再议", deadline=DEADLINE + timedelta(days=9))


def test_an_unpublished_plan_stays_direct_and_asks_no_edit_request(app, world):
    project_id = planned_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        planning.update_target("t", "s", project.targets[0], planned=Decimal(9))
        with pytest.raises(DomainError, match="尚未公布"):
            changes.submit_change("t", Staff(), project, "edit", "调整", {"budget": Decimal(1)})


def test_a_terminated_project_has_nothing_overdue(app, world):
    project_id = published(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        _decide(changes.submit_change("t", Staff(), project, "edit", "增加选址节点。", {
            "add_milestone.1": {"name": "完成选址", "planned_on": TODAY - timedelta(days=10), "sub_item": None}}))
        assert any(o.subject.project_id == project_id for o in delivery.dashboard().milestones)
        _decide(changes.submit_change("t", Staff(), project, "terminate", "选址无法落实。"))
        db.session.commit()
        board = delivery.dashboard()
        assert all(o.subject.project_id != project_id for o in board.milestones + board.targets)
        assert all(o.project.id != project_id for o in board.stages)
        assert not delivery.overdue_items(TODAY + timedelta(days=400))
        assert not any(line.is_overdue for item in planning.plan_lines(project, TODAY + timedelta(days=400)) for line in item.targets)
        assert project_report(project, {}).milestones_overdue == 0


def test_a_pending_request_can_be_withdrawn_once_and_then_not_decided(app, world):
    project_id = published(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        request = changes.submit_change("t", Staff(), project, "terminate", "选址无法落实。")
        changes.withdraw_change("t", Staff(), request)
        assert request.state == "withdrawn" and "change.withdrawn" in {change.field for change in project.changes}
        with pytest.raises(ConflictError):
            changes.withdraw_change("t", Staff(), request)
        with pytest.raises(ConflictError):
            _decide(request)
        assert project.status == "active" and changes.pending_requests() == []


# ---- pages ---------------------------------------------------------------------------------


def test_a_department_asks_for_its_own_project_only_and_only_staff_decide(app, world):
    project_id = published(app)
    own, other = officer_client(app, "区教育局"), officer_client(app, "区交通运输局")
    deferral = {"reason": "冬季停工，主体工程顺延。", "deadline": (DEADLINE + timedelta(days=60)).isoformat()}
    assert other.get(f"/projects/{project_id}/changes/new/defer").status_code == 403, "a sub-item's department asks through the lead"
    assert post(other, f"/projects/{project_id}/changes/new/defer", deferral).status_code == 403
    assert own.get(f"/projects/{project_id}/changes/new/merge").status_code == 404
    page = own.get(f"/projects/{project_id}/changes/new/defer")
    assert page.status_code == 200 and DEADLINE.isoformat() in page.text
    assert post(own, f"/projects/{project_id}/changes/new/defer", {"reason": ""}).status_code == 400
    response = post(own, f"/projects/{project_id}/changes/new/defer", deferral)
    assert response.status_code == 302
    with app.app_context():
        request_id = db.session.scalar(select(ChangeRequest.id))
    detail = own.get(response.headers["Location"])
    assert detail.status_code == 200 and "Awaiting the standing committee" in detail.text and 'id="decide"' not in detail.text
    decision = {"outcome": "approved", "meeting": "区人大常委会第二十三次会议", "decided_on": TODAY.isoformat(),
                "decision_number": "樊人常决〔2026〕12号"}
    assert post(own, f"/projects/{project_id}/changes/{request_id}/decide", decision).status_code == 403
    assert app.test_client().get(f"/projects/{project_id}/changes/{request_id}").status_code == 302, "anonymous: sign in"
    staff = as_role(app, world, "staff")
    assert f"/projects/{project_id}/changes/{request_id}" in staff.get("/projects/dashboard").text, "awaiting the committee"
    assert 'id="decide"' in staff.get(f"/projects/{project_id}/changes/{request_id}").text
    assert post(staff, f"/projects/{project_id}/changes/{request_id}/decide", decision | {"decision_number": ""}).status_code == 400
    assert post(staff, f"/projects/{project_id}/changes/{request_id}/decide", decision).status_code == 302
    public = app.test_client().get(f"/projects/{project_id}")
    assert "Deferred (延期)" in public.text and "樊人常决〔2026〕12号" in public.text
    assert "Standing committee approved the change" in public.text and "Change requests" not in public.text
    assert "Deferred (延期)" in app.test_client().get("/projects/?year=all").text


def test_staff_publish_the_plan_and_ask_for_an_edit_on_the_form(app, world):
    project_id = planned_project(app)
    staff = as_role(app, world, "staff")
    assert "Publish the plan" in staff.get(f"/projects/{project_id}/plan").text
    assert post(staff, f"/projects/{project_id}/plan/publish").status_code == 302
    assert 'id="published"' in staff.get(f"/projects/{project_id}/plan").text
    with app.app_context():
        project = db.session.get(Project, project_id)
        places = next(t for t in project.targets if t.name == "新增学位")
        key = f"target.{places.id}.planned"
    # The project's edit page refuses a new budget with the reason; the name still changes.
    edit = staff.get(f"/projects/{project_id}/edit")
    assert edit.status_code == 200 and 'id="published"' in edit.text
    refused = post(staff, f"/projects/{project_id}/edit", {"name": "义务教育学校建设（2026）", "year": TODAY.year, "budget": "1",
                                                            "stage": "approved", "department_id": ""})
    assert refused.status_code == 400 and "Submit a change request" in refused.text
    with app.app_context():
        assert db.session.get(Project, project_id).name == "义务教育学校建设"
    form = staff.get(f"/projects/{project_id}/changes/new/edit")
    assert form.status_code == 200 and f'name="value-{key}"' in form.text
    bad = post(staff, f"/projects/{project_id}/changes/new/edit", {"reason": "调整", f"value-{key}": "many"})
    assert bad.status_code == 400 and "Enter a value of this kind" in bad.text
    nothing = post(staff, f"/projects/{project_id}/changes/new/edit", {"reason": "调整", f"value-{key}": "7,000"})
    assert nothing.status_code == 400 and "proposes nothing new" in nothing.text
    assert post(staff, f"/projects/{project_id}/changes/new/edit", {"reason": "生源增加", f"value-{key}": "7,500"}).status_code == 302
    with app.app_context():
        request = db.session.scalars(select(ChangeRequest)).one()
        assert request.proposed[key]["new"] == "7500.00" and request.requested_by_name
    target_page = staff.get(f"/projects/{project_id}/plan/{places.sub_item_id}/targets/{places.id}")
    assert target_page.status_code == 200
    refused = post(staff, f"/projects/{project_id}/plan/{places.sub_item_id}/targets/{places.id}",
                   {"target-name": "新增学位", "target-planned": "9000", "target-unit": "个"})
    assert refused.status_code == 400 and "Submit a change request" in refused.text


def test_the_next_sessions_report_lists_the_decisions_since_the_session_before(app, world):
    from voting_app.sessions.models import CongressSession

    project_id = published(app)
    with app.app_context():
        session = db.session.get(CongressSession, world.session_id)
        session.starts_on = TODAY + timedelta(days=30)
        project = db.session.get(Project, project_id)
        _decide(changes.submit_change("t", Staff(), project, "defer", "顺延", deadline=DEADLINE + timedelta(days=30)))
        _decide(changes.submit_change("t", Staff(), project, "terminate", "无法落实"), approve=False, number="樊人常决〔2026〕13号")
        db.session.commit()
        assert [r.decision_number for r in changes.decided_for_session(session)] == ["樊人常决〔2026〕12号", "樊人常决〔2026〕13号"]
        session.starts_on = TODAY - timedelta(days=1)
        assert changes.decided_for_session(session) == [], "decided after the session began: for the next one"
        session.starts_on = TODAY + timedelta(days=30)
        db.session.commit()
    with app.app_context():  # a vote of another congress's session: its changes are reported there, not here
        from voting_app.ballots.models import Candidate, Round
        from voting_app.registry.models import Congress, Term

        town = Congress(name="太平店镇人民代表大会", level="town")
        other = CongressSession(term=Term(congress=town, number=21), name="太平店镇第二十一届人大第四次会议")
        db.session.add(Candidate(round=Round(session=other, title="2027年度太平店镇民生实事项目票决", method="choose_up_to", seats=1), name="镇道",
                                 project_id=project_id))
        db.session.flush()
        assert changes.decided_for_session(db.session.get(CongressSession, world.session_id)) == []
        assert len(changes.decided_for_session(other)) == 2
        db.session.rollback()
    staff = as_role(app, world, "staff")
    report = staff.get(f"/reports/sessions/{world.session_id}")
    assert report.status_code == 200 and "樊人常决〔2026〕13号" in report.text and "Refused" in report.text
    assert staff.get(f"/reports/sessions/{world.session_id}/report.xlsx").status_code == 200


def test_a_published_plan_adds_and_removes_targets_and_milestones_and_moves_dates_only_by_a_request(app, world):
    project_id = planned_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        delivery.add_milestone("t", "s", project, "完成选址", TODAY + timedelta(days=10))
        changes.publish_plan("t", "s", project, TODAY)
        db.session.commit()
        item, target, milestone = project.sub_items[0], project.targets[0], project.milestones[0]
        for edit in (lambda: planning.add_sub_item("t", "s", project, "校园绿化", None),
                     lambda: planning.remove_sub_item("t", "s", project.sub_items[1]),
                     lambda: planning.add_target("t", "s", item, "新建食堂", Decimal(2), "个", TODAY),
                     lambda: planning.remove_target("t", "s", target),
                     lambda: delivery.add_milestone("t", "s", project, "开工", TODAY),
                     lambda: delivery.remove_milestone("t", "s", project, milestone),
                     lambda: delivery.move_milestone("t", "s", project, milestone, TODAY + timedelta(days=40)),
                     lambda: update_project("t", "s", project, year=TODAY.year + 1)):
            with pytest.raises(PublishedPlanError):
                edit()
            db.session.rollback()
            project = db.session.get(Project, project_id)
            item, target, milestone = project.sub_items[0], project.targets[0], project.milestones[0]
        assert (len(project.sub_items), len(project.targets), len(project.milestones)) == (2, 3, 1)
        new_day = TODAY + timedelta(days=40)
        request = changes.submit_change("t", Staff(), project, "edit", "增建食堂，调整节点。", {
            "add_target.1": {"sub_item": item, "name": " 新建食堂 ", "planned": Decimal(2), "unit": "个", "due_on": new_day},
            f"remove_target.{target.id}": True, f"remove_target.{project.targets[1].id}": False,
            "add_milestone.1": {"name": "主体封顶", "planned_on": new_day, "sub_item": None},
            f"milestone.{milestone.id}.planned_on": TODAY + timedelta(days=20), "year": TODAY.year + 1})
        db.session.commit()
        assert len(project.targets) == 3, "nothing changes before the decision"
        _decide(request)
        db.session.commit()
        names = {t.name: t for t in project.targets}
        assert target.id not in {t.id for t in project.targets} and names["新建食堂"].due_on == new_day
        assert {m.name: m.planned_on for m in project.milestones} == {"完成选址": TODAY + timedelta(days=20), "主体封顶": new_day}
        assert project.year == TODAY.year + 1
        fields = {change.field for change in project.changes}
        assert {"target.added", "target.removed", "milestone.added", "milestone.planned_on", "year"} <= fields
        with pytest.raises(DomainError):  # a new target without its due date, or of another project's sub-item
            changes.submit_change("t", Staff(), project, "edit", "x", {
                "add_target.1": {"sub_item": item, "name": "食堂", "planned": Decimal(1), "unit": "个", "due_on": None}})


def test_the_staff_pages_of_a_published_plan_offer_no_direct_additions_and_the_request_form_does(app, world):
    project_id = planned_project(app)
    staff = as_role(app, world, "staff")
    with app.app_context():
        project = db.session.get(Project, project_id)
        item, target = project.sub_items[0], project.targets[0]
    assert "Add the sub-item" in staff.get(f"/projects/{project_id}/plan").text
    assert post(staff, f"/projects/{project_id}/plan/publish").status_code == 302
    plan = staff.get(f"/projects/{project_id}/plan").text
    assert "Add the sub-item" not in plan
    page = staff.get(f"/projects/{project_id}/plan/{item.id}").text
    assert "Add the target" not in page and f"/targets/{target.id}/remove" not in page
    assert f"/projects/{project_id}/changes/new/edit" in page
    schedule_page = staff.get(f"/projects/{project_id}/schedule").text
    assert "Add a milestone" not in schedule_page and f"/projects/{project_id}/changes/new/edit" in schedule_page
    refused = post(staff, f"/projects/{project_id}/plan/{item.id}/targets", {"target-name": "食堂", "target-planned": "2",
                                                                            "target-unit": "个"})
    with app.app_context():
        assert len(db.session.get(Project, project_id).targets) == 3, refused.status_code
    form = staff.get(f"/projects/{project_id}/changes/new/edit").text
    assert 'name="add_target-name"' in form and f'name="value-remove_target.{target.id}"' in form
    response = post(staff, f"/projects/{project_id}/changes/new/edit", {
        "reason": "增建食堂", "add_target-sub_item": str(item.id), "add_target-name": "新建食堂", "add_target-planned": "2",
        "add_target-unit": "个", "add_target-due_on": (TODAY + timedelta(days=30)).isoformat(),
        "add_milestone-name": "食堂开工", "add_milestone-planned_on": (TODAY + timedelta(days=5)).isoformat(),
        f"value-remove_target.{target.id}": "1"})
    assert response.status_code == 302
    detail = staff.get(response.headers["Location"]).text
    assert "New target" in detail and "新建食堂" in detail and "Target removed" in detail and "New milestone" in detail
    with app.app_context():
        request = db.session.scalars(select(ChangeRequest)).one()
        assert sorted(key.partition(".")[0] for key in request.proposed) == ["add_milestone", "add_target", "remove_target"]


def test_a_terminated_projects_pending_request_cannot_be_approved_but_can_be_refused(app, world):
    project_id = published(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        places = next(t for t in project.targets if t.name == "新增学位")
        edit = changes.submit_change("t", Staff(), project, "edit", "调增学位", {f"target.{places.id}.planned": Decimal(7500)})
        _decide(changes.submit_change("t", Staff(), project, "terminate", "选址无法落实。"))
        db.session.commit()
        with pytest.raises(ConflictError):
            _decide(edit)
        db.session.rollback()
        edit = db.session.get(ChangeRequest, edit.id)
        assert edit.is_pending and db.session.get(Project, project_id).targets[1].planned == 7000
        _decide(edit, approve=False)
        db.session.commit()
        assert edit.state == "refused"


def test_a_request_cannot_blank_a_department_or_a_due_date(app, world):
    project_id = published(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        item, places = project.sub_items[0], project.targets[1]
        for values in ({"department": None}, {f"sub_item.{item.id}.department": None},
                       {f"target.{places.id}.due_on": None}, {changes.DEADLINE: None}):
            with pytest.raises(DomainError):
                changes.submit_change("t", Staff(), project, "edit", "清空", values)
            db.session.rollback()
            project = db.session.get(Project, project_id)
        assert _count(ChangeRequest) == 0
    staff = as_role(app, world, "staff")
    page = post(staff, f"/projects/{project_id}/changes/new/edit", {"reason": "调整", "value-department": ""})
    assert page.status_code == 400 and "cannot leave a department" in page.text
    with app.app_context():
        assert _count(ChangeRequest) == 0 and db.session.get(Project, project_id).department is not None


def test_only_the_asking_side_withdraws_a_request(app, world):
    project_id = published(app)
    officer, staff = officer_client(app, "区教育局"), as_role(app, world, "staff")
    deferral = {"reason": "冬季停工。", "deadline": (DEADLINE + timedelta(days=60)).isoformat()}
    filed_by_staff = post(staff, f"/projects/{project_id}/changes/new/defer", deferral).headers["Location"]
    filed_by_officer = post(officer, f"/projects/{project_id}/changes/new/defer", deferral).headers["Location"]
    assert "Withdraw the request" not in officer.get(filed_by_staff).text
    assert post(officer, f"{filed_by_staff}/withdraw").status_code == 403
    assert "Withdraw the request" in officer.get(filed_by_officer).text
    assert post(officer, f"{filed_by_officer}/withdraw").status_code == 302
    assert post(staff, f"{filed_by_staff}/withdraw").status_code == 302
    with app.app_context():
        assert [r.state for r in db.session.scalars(select(ChangeRequest).order_by(ChangeRequest.id))] == ["withdrawn"] * 2
    second = post(officer, f"/projects/{project_id}/changes/new/defer", deferral).headers["Location"]
    assert post(staff, f"{second}/withdraw").status_code == 302, "staff withdraw any pending request"


def test_a_deferred_projects_late_target_gets_no_letter_until_the_new_deadline(app, world):
    from tests.projects.test_ledger import SETTINGS
    from voting_app.projects import letters

    project_id = published(app)
    new_deadline = DEADLINE + timedelta(days=60)
    with app.app_context():
        project = db.session.get(Project, project_id)
        _decide(changes.submit_change("t", Staff(), project, "defer", "汛期停工。", deadline=new_deadline))
        db.session.commit()
        late_day = TODAY + timedelta(days=70)  # the targets were due at TODAY + 60
        assert project.status == "deferred"
        assert not [o for o in delivery.overdue_items(late_day) if o.subject.kind == "target"]
        assert letters.issue_letters("t", "s", SETTINGS, late_day) == []
        after = new_deadline + timedelta(days=1)
        late = [o for o in delivery.overdue_items(after) if o.subject.kind == "target"]
        assert late and {o.subject.due for o in late} == {new_deadline} and {o.days_late for o in late} == {1}
        assert letters.issue_letters("t", "s", SETTINGS, after)


def test_every_page_and_pack_counts_a_deferred_projects_plan_dates_from_its_new_deadline(app, world):
    """The public plan table, the project report and the report pack agree with the letters:
    a target due before the approved new deadline is not late until that deadline."""
    from voting_app.projects import checkpoints
    from voting_app.reports.data import project_report

    project_id = published(app)
    new_deadline = DEADLINE + timedelta(days=60)
    late_day = TODAY + timedelta(days=70)  # past the targets' own due day, before the new deadline
    with app.app_context():
        project = db.session.get(Project, project_id)
        target = project.targets[0]
        assert project.is_late(target.due_on, False, late_day), "late while the project is active"
        _decide(changes.submit_change("t", Staff(), project, "defer", "汛期停工。", deadline=new_deadline))
        db.session.commit()
        assert not project.is_late(target.due_on, False, late_day)
        assert project.is_late(target.due_on, False, new_deadline + timedelta(days=1))
        assert not any(line.is_overdue for item in planning.plan_lines(project, late_day) for line in item.targets)
        pack = checkpoints.project_pack(project, checkpoints.Checkpoint(project.year, "effect", late_day, True), {}, today=late_day)
        assert not any(line.is_overdue for line in pack.targets)
        assert project_report(project, {}, late_day).milestones_overdue == 0
