"""Staff build a survey through the web: the satisfaction template, placements, questions
added, moved and removed, the opening window, and QR codes and posters that decode to the
placement's short URL, which stays the same when the survey is edited."""

import re
from datetime import datetime

import pytest

from surveys.models import Placement, Question, Survey
from tests.conftest import post
from tests.qr_decode import decode_all_svgs, decode_png
from tests.surveys.helpers import (
    build_survey,
    count,
    error_flash,
    full_answer,
    resident,
    rows,
    text_of,
    user_client,
)

TEMPLATE_KINDS = ["satisfaction", "single", "rating", "text"]


@pytest.fixture
def staff(app):
    return user_client(app, "staff")


@pytest.fixture
def project_id(app):
    from voting_app.db import db
    from voting_app.projects.models import Project
    from voting_app.projects.service import department_named

    with app.app_context():
        project = Project(name="农村公路桥梁新改建", summary="新建和改建农村公路桥梁 12 座", year=2026, department=department_named("区交通运输局"))
        db.session.add(project)
        db.session.commit()
        return project.id


def survey_form(**overrides) -> dict:
    data = {
        "title": "桥梁满意度调查",
        "intro": "请对桥梁项目打分",
        "project_id": "",
        "stage": "operating",
        "mode": "open",
        "opens_at": "",
        "closes_at": "",
        "threshold_percent": "60",
        "use_template": "y",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def create(staff, **overrides) -> int:
    response = post(staff, "/surveys/new", survey_form(**overrides))
    assert response.status_code == 302, text_of(response)
    match = re.fullmatch(r"/surveys/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def questions_of(app, survey_id: int) -> list[dict]:
    return rows(app, Question, Question.survey_id == survey_id, order=Question.position)


def placement_codes(page: str) -> list[str]:
    return re.findall(r"<code>http://localhost/s/([A-Z0-9]+)</code>", page)


# ---- creating ----------------------------------------------------------------------------


def test_staff_create_a_project_survey_from_the_template_in_one_step(app, staff, project_id):
    survey_id = create(
        staff, project_id=str(project_id), opens_at="2026-05-01T08:00", closes_at="2026-06-01T00:00", threshold_percent="70"
    )
    [survey] = rows(app, Survey, Survey.id == survey_id)
    assert survey["title"] == "桥梁满意度调查" and survey["intro"] == "请对桥梁项目打分"
    assert survey["project_id"] == project_id and survey["stage"] == "operating" and survey["mode"] == "open"
    # the form takes Beijing time; the database keeps UTC
    assert survey["opens_at"] == datetime(2026, 5, 1, 0, 0)
    assert survey["closes_at"] == datetime(2026, 5, 31, 16, 0)
    assert survey["threshold_percent"] == 70
    assert re.fullmatch(r"[2-9A-Z]{6}", survey["short_code"])

    questions = questions_of(app, survey_id)
    assert [q["kind"] for q in questions] == TEMPLATE_KINDS
    assert [q["position"] for q in questions] == [1, 2, 3, 4]
    assert [q["is_required"] for q in questions] == [True, False, False, False]
    assert [o["label"] for o in questions[1]["options"]] == ["明显改善", "有所改善", "没有变化", "变差了"]
    assert questions[3]["max_length"] == 500
    placements = rows(app, Placement, Placement.survey_id == survey_id)
    assert [p["name"] for p in placements] == ["通用二维码"]

    page = text_of(staff.get(f"/surveys/{survey_id}"))
    assert "桥梁满意度调查" in page and "农村公路桥梁新改建" in page
    assert placement_codes(page) == [placements[0]["code"]]


def test_without_the_template_the_survey_starts_empty(app, staff):
    survey_id = create(staff, use_template=None)
    assert questions_of(app, survey_id) == []
    assert count(app, Placement, survey_id=survey_id) == 1


@pytest.mark.parametrize(
    ("opens_at", "closes_at"),
    [("2026-06-01T08:00", "2026-05-01T08:00"), ("2026-06-01T08:00", "2026-06-01T08:00")],
)
def test_a_survey_that_closes_before_or_when_it_opens_is_refused(app, staff, opens_at, closes_at):
    response = post(staff, "/surveys/new", survey_form(opens_at=opens_at, closes_at=closes_at))
    assert response.status_code == 200
    assert error_flash(text_of(response)) == ["Closes at: the survey must close after it opens (Opens at)."]
    assert count(app, Survey) == 0
    assert count(app, Question) == 0 and count(app, Placement) == 0


def test_editing_with_a_window_that_closes_first_is_refused_and_changes_nothing(app, staff):
    survey_id = create(staff)
    response = post(
        staff, f"/surveys/{survey_id}/edit", survey_form(title="改了", opens_at="2026-06-02T08:00", closes_at="2026-06-01T08:00")
    )
    assert response.status_code == 200
    assert error_flash(text_of(response)) == ["Closes at: the survey must close after it opens (Opens at)."]
    [survey] = rows(app, Survey, Survey.id == survey_id)
    assert survey["title"] == "桥梁满意度调查" and survey["opens_at"] is None and survey["closes_at"] is None


# ---- questions ---------------------------------------------------------------------------


def test_staff_add_move_and_remove_questions(app, staff):
    survey_id = create(staff)
    added = post(
        staff,
        f"/surveys/{survey_id}/questions",
        {"kind": "multiple", "prompt": "您常在哪些时段经过这条路？", "is_required": "y", "options": "早上\n\n白天\r\n夜间  \n", "max_length": ""},
    )
    assert added.status_code == 302
    questions = questions_of(app, survey_id)
    assert [q["kind"] for q in questions] == [*TEMPLATE_KINDS, "multiple"]
    multiple = questions[-1]
    assert [o["label"] for o in multiple["options"]] == ["早上", "白天", "夜间"]
    assert len({o["key"] for o in multiple["options"]}) == 3 and multiple["is_required"] is True

    # up twice: it becomes the third question
    for _ in range(2):
        post(staff, f"/surveys/{survey_id}/questions/{multiple['id']}/move", {"direction": "up"})
    assert [q["kind"] for q in questions_of(app, survey_id)] == ["satisfaction", "single", "multiple", "rating", "text"]
    assert [q["position"] for q in questions_of(app, survey_id)] == [1, 2, 3, 4, 5]
    post(staff, f"/surveys/{survey_id}/questions/{multiple['id']}/move", {"direction": "down"})
    assert [q["kind"] for q in questions_of(app, survey_id)] == ["satisfaction", "single", "rating", "multiple", "text"]
    # the first question cannot go further up
    first = questions[0]["id"]
    post(staff, f"/surveys/{survey_id}/questions/{first}/move", {"direction": "up"})
    assert questions_of(app, survey_id)[0]["id"] == first

    # the page lists them in that order
    page = text_of(staff.get(f"/surveys/{survey_id}"))
    listed = re.findall(r"<li><strong>(.*?)</strong>", page)
    assert listed[3] == "您常在哪些时段经过这条路？" and len(listed) == 5

    removed = post(staff, f"/surveys/{survey_id}/questions/{multiple['id']}/delete")
    assert removed.status_code == 302
    assert [q["kind"] for q in questions_of(app, survey_id)] == TEMPLATE_KINDS


def test_a_choice_question_needs_two_options(app, staff):
    survey_id = create(staff)
    for kind in ("single", "multiple"):
        response = post(
            staff, f"/surveys/{survey_id}/questions", {"kind": kind, "prompt": "只有一个选项", "options": "唯一\n  \n"},
            follow_redirects=True,
        )
        assert error_flash(text_of(response)) == ["A choice question needs at least two options, one per line."]
    response = post(
        staff, f"/surveys/{survey_id}/questions", {"kind": "single", "prompt": "重复选项", "options": "是\n是"}, follow_redirects=True
    )
    assert error_flash(text_of(response)) == ["Two options have the same text."]
    assert len(questions_of(app, survey_id)) == 4
    # a rating question needs no options
    post(staff, f"/surveys/{survey_id}/questions", {"kind": "rating", "prompt": "照明效果打分", "options": ""})
    assert [q["kind"] for q in questions_of(app, survey_id)][-1] == "rating"


def test_a_question_residents_have_answered_cannot_be_removed(app, staff):
    built = build_survey(app)
    phone = resident(app)
    assert post(phone, f"/s/{built.short_code}", full_answer(built)).status_code == 302
    satisfaction = built.questions["satisfaction"]
    response = post(staff, f"/surveys/{built.survey_id}/questions/{satisfaction}/delete", follow_redirects=True)
    assert error_flash(text_of(response)) == ["Residents have answered this question; it cannot be removed."]
    assert count(app, Question, survey_id=built.survey_id) == 4
    assert count(app, Question, id=satisfaction) == 1


# ---- placements, editing and QR codes ----------------------------------------------------------


def test_a_placement_gets_its_own_short_url(app, staff):
    survey_id = create(staff)
    assert post(staff, f"/surveys/{survey_id}/placements", {"name": "  桥北端  "}).status_code == 302
    assert post(staff, f"/surveys/{survey_id}/placements", {"name": ""}, follow_redirects=True).status_code == 200
    placements = rows(app, Placement, Placement.survey_id == survey_id)
    assert [p["name"] for p in placements] == ["通用二维码", "桥北端"]
    codes = [p["code"] for p in placements]
    assert len(set(codes)) == 2
    page = text_of(staff.get(f"/surveys/{survey_id}"))
    assert placement_codes(page) == codes
    # the short URL opens the survey for that placement
    landing = resident(app).get(f"/s/{codes[1]}")
    assert landing.status_code == 200 and "桥梁满意度调查" in text_of(landing)


def test_editing_the_survey_keeps_every_short_url(app, staff):
    survey_id = create(staff)
    post(staff, f"/surveys/{survey_id}/placements", {"name": "社区公告栏"})
    before_page = text_of(staff.get(f"/surveys/{survey_id}"))
    before = placement_codes(before_page)
    [survey] = rows(app, Survey, Survey.id == survey_id)
    assert len(before) == 2

    edit_page = text_of(staff.get(f"/surveys/{survey_id}/edit"))
    assert 'value="桥梁满意度调查"' in edit_page
    response = post(
        staff,
        f"/surveys/{survey_id}/edit",
        survey_form(title="桥梁满意度调查（第二轮）", intro="整改后再评价", closes_at="2030-01-01T00:00", threshold_percent="65"),
    )
    assert response.status_code == 302
    after = placement_codes(text_of(staff.get(f"/surveys/{survey_id}")))
    assert after == before
    [edited] = rows(app, Survey, Survey.id == survey_id)
    assert edited["short_code"] == survey["short_code"]
    assert edited["title"] == "桥梁满意度调查（第二轮）" and edited["threshold_percent"] == 65
    assert edited["closes_at"] == datetime(2029, 12, 31, 16, 0)
    for code in before:
        page = text_of(resident(app).get(f"/s/{code}"))
        assert "桥梁满意度调查（第二轮）" in page and "整改后再评价" in page


def test_qr_downloads_and_the_poster_decode_to_the_placement_short_url(app, staff, project_id):
    survey_id = create(staff, project_id=str(project_id))
    post(staff, f"/surveys/{survey_id}/placements", {"name": "桥北端"})
    placement = rows(app, Placement, Placement.survey_id == survey_id)[-1]
    expected = f"http://localhost/s/{placement['code']}"
    base = f"/surveys/{survey_id}/placements/{placement['id']}"

    png = staff.get(f"{base}/qr.png")
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert "attachment" in png.headers["Content-Disposition"]
    assert decode_png(png.data) == expected

    svg = staff.get(f"{base}/qr.svg")
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    assert decode_all_svgs(text_of(svg)) == [("", expected)]

    poster = staff.get(f"{base}/poster")
    assert poster.status_code == 200
    page = text_of(poster)
    assert decode_all_svgs(page) == [("桥梁满意度调查", expected)]
    assert "<h1>农村公路桥梁新改建</h1>" in page
    assert "新建和改建农村公路桥梁 12 座" in page
    assert f'<p class="url">{expected}</p>' in page
    assert "扫一扫" in page and "满意" in page and "每部手机填写一次" in page
    assert "张贴位置：桥北端" in page
    assert 'lang="zh-CN"' in page


def test_a_placement_of_another_survey_is_not_found_under_this_one(app, staff):
    first, second = create(staff), create(staff, title="另一个调查")
    other = rows(app, Placement, Placement.survey_id == second)[0]
    assert staff.get(f"/surveys/{first}/placements/{other['id']}/qr.png").status_code == 404
    assert staff.get(f"/surveys/{first}/placements/{other['id']}/poster").status_code == 404


def test_only_staff_build_surveys(app, project_id):
    anonymous = app.test_client()
    response = post(anonymous, "/surveys/new", survey_form())
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    for role in ("presiding", "grid_worker"):
        assert post(user_client(app, role), "/surveys/new", survey_form()).status_code == 403
    assert count(app, Survey) == 0
