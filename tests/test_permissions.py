"""Every route with every role: only the roles in the permission table get through."""

import pytest

from tests.conftest import build_world, csrf_token, sign_in
from voting_app.permissions import (
    ANONYMOUS,
    DEPARTMENT_OFFICER,
    DEPUTY,
    ENDPOINTS,
    GRID_WORKER,
    PRESIDING,
    SCRUTINEER,
    STAFF,
    allowed_roles,
)

ROLES = (ANONYMOUS, STAFF, PRESIDING, SCRUTINEER, GRID_WORKER, DEPARTMENT_OFFICER, DEPUTY)


def survey_world(world) -> dict:
    """A project with a survey, a placement, a question and a comment, for the survey routes."""
    from surveys import service as surveys
    from voting_app.db import db
    from voting_app.projects.models import Project
    from voting_app.projects.service import department_named

    project = Project(name="农村公路桥梁新改建", year=2026, department=department_named("区交通运输局"), stage="operating")
    db.session.add(project)
    db.session.flush()
    survey = surveys.create_from_template("test", "桥梁满意度", project.id, "operating")
    text_question = survey.questions[-1]
    response = surveys.submit_response(
        survey, survey.placements[0], {q.id: (["satisfied"] if q.kind == "satisfaction" else []) for q in survey.questions}
        | {text_question.id: ["很好"]},
    )
    delivery_ids = delivery_world(project, world)
    from surveys.models import SampleFrame

    frame = SampleFrame(survey_id=survey.id, size=1, seed="0", list_size=1, drawn_by="test")
    db.session.add(frame)
    db.session.commit()
    return {
        **delivery_ids,
        "frame_id": frame.id,
        "project_id": project.id,
        "survey_id": survey.id,
        "question_id": survey.questions[0].id,
        "placement_id": survey.placements[0].id,
        "answer_id": next(a.id for a in response.answers if a.text),
        "response_id": response.id,
        "code": survey.placements[0].code,
    }


def delivery_world(project, world) -> dict:
    """A milestone, a sub-item with a target, a supervision record awaiting its verdict, a public photo, a station and a
    proposal, so that every delivery and proposal route has something real to act on."""
    from datetime import date

    from tests.images import jpeg_bytes
    from voting_app.ballots.credentials import active_credential
    from voting_app.images import clean_image
    from decimal import Decimal

    from voting_app.projects import delivery, letters, planning
    from voting_app.proposals import reasons as decline_reasons, service as proposals

    deputy = active_credential(world.deputy_ids[0]).deputy
    milestone = delivery.add_milestone("test", "staff", project, "主体完工", date(2026, 5, 1))
    record = delivery.record_supervision("test", deputy, project, date(2026, 3, 2), "护栏缺失", "补装护栏", date(2026, 3, 30),
                                         [clean_image(jpeg_bytes())], today=date(2026, 3, 2))
    delivery.answer_issue("test", department_officer(project.department_id), record.issues[0], "已补装")
    station = proposals.add_station("test", "樊城区米公联络站")
    proposal = proposals.submit_proposal(station, "修缮米公祠路面", "路面坑洼，雨天积水严重", "米公祠", "roads_transport", "", [])
    reason = decline_reasons.add_reason("test", "测试用理由")
    item = planning.add_sub_item("test", "staff", project, "新建学校", project.department)
    target = planning.add_target("test", "staff", item, "新增学位", Decimal(7000), "个", date(2026, 9, 1))
    letter = letters.issue_letters("test", "staff", letters.LetterSettings("樊城区人大常委会", "樊人大提", 15), date(2026, 6, 1))[0]
    return {
        "issue_id": record.issues[0].id,
        "letter_id": letter.id,
        "item_id": item.id,
        "target_id": target.id,
        "reason_id": reason.id,
        "milestone_id": milestone.id,
        "record_id": record.id,
        "photo_token": record.photos[0].token,
        "station_code": station.code,
        "station_id": station.id,
        "proposal_id": proposal.id,
    }


def department_officer(project_department):
    from tests.conftest import make_user

    officer = make_user(DEPARTMENT_OFFICER)
    officer.department_id = project_department
    return officer


def term_world(world) -> dict:
    """The world's session's term, its congress and a deputy of its registry."""
    from voting_app.db import db
    from voting_app.sessions.models import CongressSession

    term = db.session.get(CongressSession, world.session_id).term
    return {"term_id": term.id, "congress_id": term.congress_id, "person_id": term.deputies[0].id}


def grid_worker():
    from tests.conftest import make_user

    return make_user(GRID_WORKER)


def url_arguments(world) -> dict:
    arguments = {
        "session_id": world.session_id,
        "round_id": world.round_id,
        "deputy_id": world.deputy_ids[0],
        "user_id": world.scrutineer_ids[1],
        "candidate_id": world.candidate_ids[0],
        "index": 0,
        "year": 2026,
        "token": "not-a-real-card",
        "filename": "css/app.css",
        "name": "plotly-basic-4.1.1.min.js",
        "year": 2026,  # the world's project's year, at its first supervision checkpoint
        "kind": "plan",
        **survey_world(world),
        **group_world(world),
        **duty_arguments(world),
        **term_world(world),
    }
    return arguments | change_world(arguments["project_id"])


def change_world(project_id: int) -> dict:
    """A pending change request the world's project's department made (so its officers may
    withdraw it), and a kind of request to ask for."""
    from voting_app.db import db
    from voting_app.projects.models import ChangeRequest, Project

    asker = department_officer(db.session.get(Project, project_id).department_id)
    request = ChangeRequest(project_id=project_id, kind="defer", reason="冬季停工", requested_by_id=asker.id,
                            requested_by_name=asker.display_name)
    db.session.add(request)
    db.session.commit()
    return {"request_id": request.id, "kind": "defer"}


def group_world(world) -> dict:
    """A deputy group of the world's term with one member, supervising the world's project."""
    from voting_app.db import db
    from voting_app.projects.models import Project
    from voting_app.registry import groups
    from voting_app.sessions.models import CongressSession

    term = db.session.get(CongressSession, world.session_id).term
    group = groups.create_group("test", term, "米公街道代表小组")
    membership = groups.add_member("test", group, term.deputies[0])
    db.session.scalars(db.select(Project)).first().supervision_group_id = group.id
    db.session.commit()
    return {"group_id": group.id, "membership_id": membership.id}


def duty_arguments(world) -> dict:
    """The world's term and its first deputy, for the duty-record routes."""
    from voting_app.db import db
    from voting_app.sessions.models import Deputy

    deputy = db.session.get(Deputy, world.deputy_ids[0])
    return {"term_id": deputy.session.term_id, "person_id": deputy.term_deputy_id}


def routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_endpoint_is_in_the_permission_table(app):
    missing = sorted({rule.endpoint for rule, _ in routes(app)} - set(ENDPOINTS))
    assert missing == [], f"endpoints without a permission (refused to everyone): {missing}"
    stale = sorted(set(ENDPOINTS) - {rule.endpoint for rule, _ in routes(app)})
    assert stale == [], f"permission table names endpoints that do not exist: {stale}"


@pytest.mark.parametrize("role", ROLES)
def test_every_route_admits_exactly_the_allowed_roles(app, role):
    with app.app_context():
        world = build_world()
        arguments = url_arguments(world)
        from voting_app.db import db
        from voting_app.projects.models import Project

        project_department = db.session.get(Project, arguments["project_id"]).department_id
        principal = {
            DEPARTMENT_OFFICER: department_officer(project_department) if role == DEPARTMENT_OFFICER else None,
            STAFF: world.user(world.staff_id),
            PRESIDING: world.user(world.presiding_id),
            SCRUTINEER: world.user(world.scrutineer_ids[0]),
            GRID_WORKER: grid_worker(),
            DEPUTY: world.credential(world.deputy_ids[0]),
        }.get(role)
        checked = []
        for rule, method in routes(app):
            if rule.endpoint in ("auth.logout", "auth.login_code"):
                continue  # sign-out ends the session; the code step sends anyone without a password step back to /login
            values = dict(arguments)
            if rule.endpoint == "main.language":
                values["code"] = "en"
            client = app.test_client()
            if principal is not None:
                sign_in(client, principal)
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **{k: v for k, v in values.items() if k in rule.arguments})
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(url, data={"csrf_token": csrf_token(client)})
            assert response.status_code < 500, f"{role} broke {method} {url}: {response.status_code}"
            allowed = role in allowed_roles(rule.endpoint)
            denied_as = (
                response.status_code == 403
                or (response.status_code == 302 and "/login" in response.headers.get("Location", ""))
            )
            if allowed:
                assert not denied_as, f"{role} refused at {method} {url}: {response.status_code}"
            elif role == ANONYMOUS and allowed_roles(rule.endpoint) == {DEPUTY}:
                assert response.status_code == 401 and "voting card" in response.get_data(as_text=True), f"{method} {url}"
            elif role == ANONYMOUS:
                assert response.status_code == 302 and "/login" in response.headers["Location"], f"{method} {url}"
            else:
                assert response.status_code == 403, f"{role} reached {method} {url}: {response.status_code}"
            checked.append(rule.endpoint)
        assert len(set(checked)) >= len(ENDPOINTS) - 2


def test_posts_without_a_csrf_token_are_refused(app, world):
    client = app.test_client()
    with app.app_context():
        sign_in(client, world.user(world.presiding_id))
    response = client.post(f"/ballots/rounds/{world.round_id}/open")
    assert response.status_code == 400
    from tests.ballots.test_rounds import round_state

    assert round_state(app, world.round_id) == "draft"


def test_the_policy_itself():
    """The table's content, stated independently: who confirms, announces, votes and manages."""
    assert allowed_roles("ballots.round_confirm") == {SCRUTINEER}
    assert allowed_roles("ballots.round_announce") == {PRESIDING}
    assert allowed_roles("ballots.ballot_cast") == {DEPUTY}
    assert allowed_roles("ballots.paper_entry_submit") == {SCRUTINEER}
    assert allowed_roles("sessions.roster_import") == {STAFF}
    assert allowed_roles("sessions.credential_issue_all") == {STAFF}
    assert allowed_roles("audit.audit_log") == {STAFF}
    deputy_reach = {endpoint for endpoint in ENDPOINTS if DEPUTY in allowed_roles(endpoint)}
    public = {endpoint for endpoint in ENDPOINTS if ANONYMOUS in allowed_roles(endpoint)}
    assert deputy_reach - public == {
        "auth.logout",
        "sessions.checkin_self",
        "ballots.deputy_home",
        "ballots.ballot_form",
        "ballots.ballot_confirm",
        "ballots.ballot_cast",
        "ballots.ballot_receipt",
        "projects.supervision_list",
        "projects.supervision_new",
        "projects.supervision_judge",
        "projects.supervision_issue_add",
        "stations.reception_entry",
        # narrowed by reads_supervision_pack() to the packs of the deputy's group's projects
        "reports.checkpoint_pack",
        "reports.checkpoint_pack_xlsx",
    }
    assert public == {
        "static",
        "main.index",
        "main.language",
        "main.text_size",
        "main.favicon",
        "auth.login",
        "auth.login_code",
        "auth.card",
        "auth.card_pin",
        "ballots.results",
        "ballots.board",
        "ballots.board_json",
        "documents.notice",
        "projects.project_list",
        "projects.project_detail",
        "projects.project_history",
        "surveys.respond",
        "surveys.respond_submit",
        "surveys.thanks",
        "projects.photo",
        "projects.photo_thumbnail",
        "proposals.propose",
        "proposals.propose_submit",
        "proposals.propose_online",
        "proposals.propose_online_submit",
        "proposals.track",
        "proposals.summary",
        "proposals.summary_csv",
        "assets.vendor",
    }
    assert allowed_roles("surveys.assisted_entry") == {STAFF, GRID_WORKER}
    assert allowed_roles("surveys.comment_hide") == {STAFF}
    grid_reach = {endpoint for endpoint in ENDPOINTS if GRID_WORKER in allowed_roles(endpoint)} - public
    assert grid_reach == {"auth.logout", "auth.account_security", "surveys.survey_list", "surveys.assisted_entry"}
    officer_reach = {endpoint for endpoint in ENDPOINTS if DEPARTMENT_OFFICER in allowed_roles(endpoint)} - public
    assert officer_reach == {
        "auth.logout",
        "auth.account_security",
        "projects.my_projects",
        "projects.note_new",
        "projects.milestone_done",
        "projects.supervision_answer",
        "projects.change_new",
        "projects.change_detail",
        "projects.change_withdraw",
        "ledger.department_issues",
        "ledger.letter_detail",
    }
    assert allowed_roles("projects.change_decide") == {STAFF} == allowed_roles("projects.plan_publish")
    assert allowed_roles("proposals.proposal_accept") == {STAFF}
    assert allowed_roles("projects.dashboard") == {STAFF, PRESIDING}
    assert allowed_roles("screen.go") == {STAFF, PRESIDING} == allowed_roles("screen.slide_fragment")
    assert all(allowed_roles(endpoint) == {STAFF} for endpoint in ENDPOINTS if endpoint.startswith("duty."))
