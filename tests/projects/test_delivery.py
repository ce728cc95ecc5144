"""Following delivery: stage dates and milestones (staff), progress notes with photos
(department officers, own projects only), supervision by deputies, the overdue dashboard,
and the public list's filters."""

import io
import re
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.ballots.helpers import as_deputy, as_role
from tests.conftest import make_user, post, sign_in
from tests.images import jpeg_bytes
from voting_app.audit import AuditEntry
from voting_app.db import db
from voting_app.images import clean_image
from voting_app.projects import delivery, schedule
from voting_app.projects.models import Photo, ProgressNote, Project, SupervisionRecord
from voting_app.projects.service import create_project

TODAY = schedule.beijing_today()


def new_project(app, department="区交通运输局", **values) -> int:
    with app.app_context():
        project = create_project("test", "staff", **({"name": "农村公路桥梁新改建", "year": TODAY.year, "department": department} | values))
        db.session.commit()
        return project.id


def officer_client(app, department: str):
    from voting_app.auth.service import create_user
    from voting_app.projects.service import department_named

    client = app.test_client()
    with app.app_context():
        user = create_user(f"officer{department[-3:]}{TODAY.toordinal()}", "王科长", "department_officer", "a long password 1",
                           department=department_named(department))
        db.session.commit()
        sign_in(client, user)
    return client


def photo_upload(data: bytes, name: str = "site.jpg"):
    return (io.BytesIO(data), name)


# ---- staff: stage dates and milestones ------------------------------------------------


def test_stage_dates_are_checked_and_an_actual_start_moves_the_stage(app, world):
    project_id = new_project(app)
    staff = as_role(app, world, "staff")
    bad = post(staff, f"/projects/{project_id}/schedule", {"in_progress-planned_start": "2026-05-01", "in_progress-planned_end": "2026-04-01"})
    assert bad.status_code == 400 and "cannot end before it starts" in bad.get_data(as_text=True)
    future = (TODAY + timedelta(days=3)).isoformat()
    bad = post(staff, f"/projects/{project_id}/schedule", {"in_progress-actual_start": future})
    assert bad.status_code == 400 and "cannot be in the future" in bad.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Project, project_id).stage_plans == []
    started = (TODAY - timedelta(days=10)).isoformat()
    ok = post(staff, f"/projects/{project_id}/schedule",
              {"in_progress-planned_start": started, "in_progress-planned_end": TODAY.isoformat(), "in_progress-actual_start": started})
    assert ok.status_code == 302
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert project.stage == "in_progress"
        assert project.plan_for("in_progress").actual_start.isoformat() == started
        assert {change.field for change in project.changes} >= {"in_progress.planned_start", "in_progress.actual_start", "stage"}
    page = app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    assert "Under way (实施) began" in page and started in page, "the timeline tells the stage's start"
    history = app.test_client().get(f"/projects/{project_id}/history").get_data(as_text=True)
    assert "Under way (实施) · Actual start" in history and started in history


def test_milestones_overdue_flag_and_only_unreached_ones_can_be_removed(app, world):
    project_id = new_project(app)
    staff = as_role(app, world, "staff")
    late = (TODAY - timedelta(days=5)).isoformat()
    assert post(staff, f"/projects/{project_id}/milestones", {"name": "桥梁主体完工", "planned_on": late}).status_code == 302
    assert post(staff, f"/projects/{project_id}/milestones", {"name": "", "planned_on": late}).status_code == 400
    page = app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    assert "桥梁主体完工" in page and "overdue" in page
    board = staff.get("/projects/dashboard").get_data(as_text=True)
    assert "桥梁主体完工" in board
    with app.app_context():
        milestone = db.session.get(Project, project_id).milestones[0]
        delivery.complete_milestone("test", "staff", milestone.project, milestone, TODAY)
        db.session.commit()
        milestone_id = milestone.id
    assert "桥梁主体完工" not in staff.get("/projects/dashboard").get_data(as_text=True)
    refused = post(staff, f"/projects/{project_id}/milestones/{milestone_id}/remove", follow_redirects=True)
    assert "stays on the record" in refused.get_data(as_text=True)


# ---- department officers: their own projects only ---------------------------------------


def test_an_officer_reports_progress_with_a_photo_stripped_of_its_metadata(app, world):
    project_id = new_project(app)
    officer = officer_client(app, "区交通运输局")
    form = {"body": "3座桥梁桩基完成", "progress_percent": "40", "photos": [photo_upload(jpeg_bytes(gps=True))]}
    response = post(officer, f"/projects/{project_id}/notes/new", form, content_type="multipart/form-data")
    assert response.status_code == 302
    with app.app_context():
        project = db.session.get(Project, project_id)
        assert project.progress_percent == 40
        note = project.notes[0]
        assert note.department_name == "区交通运输局" and len(note.photos) == 1
        token = note.photos[0].token
        assert any(change.field == "progress_percent" and change.new_value == "40" for change in project.changes)
    page = app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    assert "3座桥梁桩基完成" in page and f"/projects/photos/{token}" in page
    served = app.test_client().get(f"/projects/photos/{token}")
    assert served.status_code == 200 and served.headers["Content-Type"] == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.format == "JPEG" and len(image.getexif()) == 0 and b"Phone X" not in served.data


@pytest.mark.parametrize("bad_upload", [b"<html><script>alert(1)</script></html>", b"GIF89a" + b"\x00" * 64, b""])
def test_a_bad_upload_is_refused_and_leaves_nothing_behind(app, world, bad_upload):
    project_id = new_project(app)
    officer = officer_client(app, "区交通运输局")
    photos = [photo_upload(jpeg_bytes()), photo_upload(bad_upload or b"\x00", "evil.jpg")]
    response = post(officer, f"/projects/{project_id}/notes/new",
                    {"body": "进度说明", "progress_percent": "55", "photos": photos}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "JPEG, PNG or WebP" in response.get_data(as_text=True) or "empty" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Photo.id))) == 0
        assert db.session.scalar(select(func.count(ProgressNote.id))) == 0
        assert db.session.get(Project, project_id).progress_percent == 0


def test_an_officer_cannot_touch_another_departments_project(app, world):
    theirs = new_project(app, department="区住建局")
    officer = officer_client(app, "区交通运输局")
    assert officer.get(f"/projects/{theirs}/notes/new").status_code == 403
    response = post(officer, f"/projects/{theirs}/notes/new", {"body": "越权"}, content_type="multipart/form-data")
    assert response.status_code == 403
    with app.app_context():
        assert db.session.scalar(select(func.count(ProgressNote.id))) == 0
    page = officer.get(f"/projects/{theirs}").get_data(as_text=True)
    assert "Report progress" not in page


def test_an_officer_account_takes_its_department_from_the_managed_list(app, world):
    from voting_app.auth.models import User
    from voting_app.projects.models import Department

    staff = as_role(app, world, "staff")
    form = {"username": "wang", "display_name": "王", "role": "department_officer", "password": "a long password 1",
            "department_id": "", "new_department": ""}
    response = post(staff, "/accounts/new", form)
    assert response.status_code == 400 and "needs its department" in response.get_data(as_text=True)
    page = staff.get("/accounts/new").get_data(as_text=True)
    assert re.search(r'<select[^>]*name="department_id"', page) and "<datalist" not in page
    # A name not on the list is added to it (audited) and the account serves it.
    assert post(staff, "/accounts/new", form | {"new_department": " 区城市管理执法局 "}).status_code == 302
    with app.app_context():
        enforcement = db.session.scalars(select(Department).where(Department.name == "区城市管理执法局")).one()
        assert db.session.scalars(select(User).where(User.username == "wang")).one().department_id == enforcement.id
        enforcement_id = enforcement.id
    # A second officer picks it from the list: one department, two officers, no look-alike.
    assert post(staff, "/accounts/new", form | {"username": "zhao", "department_id": str(enforcement_id)}).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Department.id)).where(Department.name.contains("城市管理"))) == 1
    refused = post(staff, "/accounts/new", form | {"username": "li", "role": "staff", "new_department": "区某某局"})
    assert "Only department officers" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Department.id).where(Department.name == "区某某局")) is None  # nothing half-stored
        assert db.session.scalar(select(User.id).where(User.username == "li")) is None


# ---- deputies: supervision ------------------------------------------------------------


def supervise(deputy, project_id, **fields):
    form = {"visited_on": TODAY.isoformat(), "findings": "护栏未安装", "rectification": "两周内补装护栏",
            "rectification_due": (TODAY + timedelta(days=14)).isoformat(), "photos": [photo_upload(jpeg_bytes())]} | fields
    return post(deputy, f"/projects/{project_id}/supervision/new", form, content_type="multipart/form-data")


def test_supervision_loop_record_answer_judge(app, world):
    project_id = new_project(app)
    deputy = as_deputy(app, world, 0)
    assert supervise(deputy, project_id).status_code == 302
    with app.app_context():
        record = db.session.scalars(select(SupervisionRecord)).one()
        record_id = record.id
        issue_id = record.issues[0].id
        assert record.deputy_name == "代表1" and len(record.photos) == 1
        assert delivery.supervision_status(record.issues[0]) == delivery.AWAITING_ANSWER
    # The deputy cannot judge before the department answers.
    early = post(deputy, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/judge", {"settled": "yes"}, follow_redirects=True)
    assert "has not answered yet" in early.get_data(as_text=True)
    officer = officer_client(app, "区交通运输局")
    assert post(officer, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/answer", {"answer": "已补装护栏"}).status_code == 302
    # Another deputy cannot judge someone else's record.
    other = as_deputy(app, world, 1)
    assert post(other, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/judge", {"settled": "yes"}).status_code == 403
    assert post(deputy, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/judge", {"settled": "no"}).status_code == 302
    with app.app_context():
        assert db.session.get(SupervisionRecord, record_id).issues[0].settled is False
    # Not settled: the department answers again, and the deputy is asked anew.
    assert post(officer, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/answer", {"answer": "已加固护栏并验收"}).status_code == 302
    assert post(deputy, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/judge", {"settled": "yes"}).status_code == 302
    with app.app_context():
        record = db.session.get(SupervisionRecord, record_id)
        assert record.issues[0].settled is True and record.issues[0].answer == "已加固护栏并验收"
        actions = set(db.session.scalars(select(AuditEntry.action)))
        assert {"supervision.record", "supervision.answer", "supervision.judge"} <= actions
    late = post(officer, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/answer", {"answer": "再答"}, follow_redirects=True)
    assert "already marked this as settled" in late.get_data(as_text=True)
    public = app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    assert "护栏未安装" in public and "已加固护栏并验收" in public and "Settled" in public


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"findings": ""}, "This field is required"),
        ({"visited_on": (TODAY + timedelta(days=1)).isoformat()}, "cannot be in the future"),
        ({"rectification_due": ""}, "needs a due date"),
        ({"rectification": ""}, "needs a due date"),
        ({"rectification_due": (TODAY - timedelta(days=1)).isoformat()}, "cannot be before the visit"),
    ],
)
def test_supervision_records_are_checked(app, world, fields, message):
    project_id = new_project(app)
    response = supervise(as_deputy(app, world, 0), project_id, **fields)
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(SupervisionRecord.id))) == 0
        assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_overdue_rectifications_are_flagged_until_settled(app, world):
    project_id = new_project(app)
    with app.app_context():
        deputy = world.credential(world.deputy_ids[0]).deputy
        project = db.session.get(Project, project_id)
        visit = TODAY - timedelta(days=30)
        delivery.record_supervision("test", deputy, project, visit, "路灯不亮", "修复路灯", visit + timedelta(days=7), [])
        db.session.commit()
    staff = as_role(app, world, "staff")
    board = staff.get("/projects/dashboard").get_data(as_text=True)
    assert "修复路灯" in board and ">23<" in board  # days late
    assert "rectification overdue" in app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    with app.app_context():
        record = db.session.scalars(select(SupervisionRecord)).one()
        delivery.answer_issue("test", make_user("department_officer"), record.issues[0], "已修复")
        delivery.judge_issue("test", record.issues[0], True)
        db.session.commit()
    assert "修复路灯" not in staff.get("/projects/dashboard").get_data(as_text=True)


# ---- the public list ------------------------------------------------------------------


def test_public_list_filters_by_year_stage_department_and_satisfaction(app, world):
    new_project(app, name="农村公路桥梁新改建", year=2026, stage="operating")
    lights = new_project(app, name="一号公路亮化工程", year=2026, department="区住建局", stage="in_progress")
    new_project(app, name="文化长廊改造", year=2025, department="区住建局", stage="accepted")
    client = app.test_client()

    def names(query: str) -> set[str]:
        page = client.get(f"/projects/?{query}").get_data(as_text=True)
        return {name for name in ("农村公路桥梁新改建", "一号公路亮化工程", "文化长廊改造") if name in page}

    assert names("") == {"农村公路桥梁新改建", "一号公路亮化工程"}  # the latest year by default
    assert names("year=all") == {"农村公路桥梁新改建", "一号公路亮化工程", "文化长廊改造"}
    assert names("year=2025") == {"文化长廊改造"}
    assert names("year=all&stage=in_progress") == {"一号公路亮化工程"}
    with app.app_context():
        housing = db.session.get(Project, lights).department_id
    assert names(f"year=all&department={housing}") == {"一号公路亮化工程", "文化长廊改造"}
    assert names("year=all&satisfaction=unrated") == {"农村公路桥梁新改建", "一号公路亮化工程", "文化长廊改造"}
    assert names("year=all&satisfaction=below") == set()


# ---- review follow-ups ------------------------------------------------------------------


@pytest.mark.parametrize("query", ["year=²", "year=99999999999999999999999", "department=-1", "department=²&stage=x&satisfaction=y"])
def test_odd_query_values_are_ignored_not_errors(app, world, query):
    new_project(app)
    assert app.test_client().get(f"/projects/?{query}").status_code == 200
    assert as_role(app, world, "staff").get(f"/proposals/?station=²&{query}").status_code == 200


def test_a_stage_the_project_moved_past_is_not_overdue(app, world):
    project_id = new_project(app)
    with app.app_context():
        project = db.session.get(Project, project_id)
        delivery.set_stage_plan("test", "staff", project, "in_progress",
                                planned_start=TODAY - timedelta(days=90), planned_end=TODAY - timedelta(days=30),
                                actual_start=TODAY - timedelta(days=88))
        db.session.commit()
        assert [item.what for item in delivery.dashboard().stages] == ["in_progress"]
        delivery.set_stage_plan("test", "staff", project, "operating", actual_start=TODAY - timedelta(days=2))
        db.session.commit()
        assert project.stage == "operating" and delivery.dashboard().stages == []


def test_officers_mark_their_own_milestones_and_answer_only_their_own_records(app, world):
    ours, theirs = new_project(app), new_project(app, department="区住建局")
    with app.app_context():
        deputy = world.credential(world.deputy_ids[0]).deputy
        ids = {}
        for project_id in (ours, theirs):
            project = db.session.get(Project, project_id)
            milestone = delivery.add_milestone("test", "staff", project, "招标", TODAY - timedelta(days=3))
            record = delivery.record_supervision("test", deputy, project, TODAY, "问题", "整改", TODAY + timedelta(days=5), [])
            ids[project_id] = (milestone.id, record.id, record.issues[0].id)
        db.session.commit()
    officer = officer_client(app, "区交通运输局")
    milestone_id, record_id, issue_id = ids[theirs]
    assert post(officer, f"/projects/{theirs}/milestones/{milestone_id}/done", {"done_on": TODAY.isoformat()}).status_code == 403
    assert post(officer, f"/projects/{theirs}/supervision/{record_id}/issues/{issue_id}/answer", {"answer": "越权答复"}).status_code == 403
    # An id from the other project through our own project's address is not found.
    assert post(officer, f"/projects/{ours}/supervision/{record_id}/issues/{issue_id}/answer", {"answer": "越权答复"}).status_code == 404
    milestone_id, record_id, issue_id = ids[ours]
    assert post(officer, f"/projects/{ours}/milestones/{milestone_id}/done", {"done_on": TODAY.isoformat()}).status_code == 302
    assert post(officer, f"/projects/{ours}/supervision/{record_id}/issues/{issue_id}/answer", {"answer": "已整改"}).status_code == 302
    second = post(officer, f"/projects/{ours}/supervision/{record_id}/issues/{issue_id}/answer", {"answer": "再次答复"}, follow_redirects=True)
    assert "not yet judged the last answer" in second.get_data(as_text=True)
    with app.app_context():
        project = db.session.get(Project, ours)
        assert project.milestones[0].done_on == TODAY
        assert project.supervisions[0].issues[0].answer == "已整改"
        assert db.session.get(Project, theirs).supervisions[0].issues[0].answer == ""
        fields = [change.field for change in project.changes]
        assert {"supervision.recorded", "supervision.answered", "milestone.done"} <= set(fields)
    history = app.test_client().get(f"/projects/{ours}").get_data(as_text=True)
    assert "Department answered the supervision" in history


def test_nothing_to_answer_when_no_rectification_was_asked(app, world):
    project_id = new_project(app)
    with app.app_context():
        deputy = world.credential(world.deputy_ids[0]).deputy
        record = delivery.record_supervision("test", deputy, db.session.get(Project, project_id), TODAY, "施工规范", "", None, [])
        db.session.commit()
        record_id = record.id
        issue_id = record.issues[0].id
    officer = officer_client(app, "区交通运输局")
    refused = post(officer, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/answer", {"answer": "收到"}, follow_redirects=True)
    assert "nothing to answer" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(SupervisionRecord, record_id).issues[0].answer == ""


def test_staff_see_a_proposal_photo_and_the_public_does_not(app, world):
    from voting_app.proposals import service as proposals

    with app.app_context():
        station = proposals.add_station("test", "北站")
        proposal = proposals.submit_proposal(station, "加装路灯", "晚上太黑，需要路灯照明。", "", "roads_transport", "", [clean_image(jpeg_bytes())])
        db.session.commit()
        token = proposal.photos[0].token
    assert app.test_client().get(f"/projects/photos/{token}").status_code == 404
    seen = as_role(app, world, "staff").get(f"/projects/photos/{token}")
    assert seen.status_code == 200 and seen.headers["Cache-Control"] == "private, no-store"


def test_residents_ratings_take_the_surveys_main_question_and_feed_the_filter(app, world):
    from surveys import service as surveys
    from tests.surveys.helpers import build_survey

    built = build_survey(app)
    with app.app_context():
        from surveys.models import Survey

        survey = db.session.get(Survey, built.survey_id)
        # A second satisfaction question everybody loves must not lift the main rate.
        surveys.add_question("test", survey, "satisfaction", "您对施工期间的管理满意吗？", True, [])
        db.session.refresh(survey)
        main, extra = [q for q in survey.questions if q.kind == "satisfaction"]
        for index in range(10):
            answers = {q.id: {"single": [built.options["single"][0]], "rating": ["4"]}.get(q.kind, []) for q in survey.questions}
            answers[main.id] = ["satisfied" if index < 5 else "dissatisfied"]
            answers[extra.id] = ["satisfied"]
            surveys.submit_response(survey, survey.placements[0], answers)
        db.session.commit()
        rating = surveys.residents_ratings()[survey.project_id]
        assert (rating.rate_text, rating.rated, rating.is_below_bar) == ("50.0", 10, True)
    page = app.test_client().get("/projects/?year=all&satisfaction=below").get_data(as_text=True)
    assert "亮化工程" in page and "Residents 50.0%" in page


def test_a_deputy_with_a_later_sessions_card_still_judges_their_own_record(app, world):
    from voting_app.ballots.credentials import issue_missing_cards
    from voting_app.sessions import service as sessions
    from voting_app.registry.roster import RosterParse, RosterRow

    project_id = new_project(app)
    with app.app_context():
        first = world.credential(world.deputy_ids[0]).deputy
        record = delivery.record_supervision("test", first, db.session.get(Project, project_id), TODAY, "路面破损", "修补路面",
                                             TODAY + timedelta(days=7), [])
        delivery.answer_issue("test", make_user("department_officer"), record.issues[0], "已修补")
        record_id = record.id
        issue_id = record.issues[0].id
        later = sessions.create_session("test", "下一次会议", "会堂")
        rows = (RosterRow(2, first.number, first.name, "第一代表团", ""), RosterRow(3, "002", "另一位代表", "第一代表团", ""))
        sessions.import_roster("test", later, RosterParse(rows, ()))
        db.session.refresh(later)
        from voting_app.ballots.credentials import active_credential

        cards = {card.deputy.name: active_credential(card.deputy.id) for card in issue_missing_cards("test", later)}
        db.session.commit()
        again, stranger = app.test_client(), app.test_client()
        sign_in(again, cards[first.name])
        sign_in(stranger, cards["另一位代表"])
    assert f"#supervision-{record_id}" not in stranger.get("/projects/supervision").get_data(as_text=True)
    assert post(stranger, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/judge", {"settled": "yes"}).status_code == 403
    with app.app_context():
        # The same number and name in another congress (a town's) is another person.
        from tests.conftest import fresh_term

        town = sessions.create_session("test", "乡镇人代会", "会堂", term=fresh_term())
        sessions.import_roster("test", town, RosterParse((RosterRow(2, first.number, first.name, "第一代表团", ""),), ()))
        db.session.refresh(town)
        namesake_card = active_credential(issue_missing_cards("test", town)[0].deputy.id)
        db.session.commit()
        namesake = app.test_client()
        sign_in(namesake, namesake_card)
    assert post(namesake, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/judge", {"settled": "yes"}).status_code == 403
    assert f"#supervision-{record_id}" in again.get("/projects/supervision").get_data(as_text=True)
    assert post(again, f"/projects/{project_id}/supervision/{record_id}/issues/{issue_id}/judge", {"settled": "yes"}).status_code == 302
    with app.app_context():
        assert db.session.get(SupervisionRecord, record_id).issues[0].settled is True
