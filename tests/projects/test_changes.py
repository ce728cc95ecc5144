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
        delivery.add_milestone("t", "s", project, "完成选址", TODAY - timedelta(days=10))
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
