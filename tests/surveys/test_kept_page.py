"""The answer page each worker keeps (surveys.routes._blank_page): a change staff make on one
worker shows at once to residents on every other, with nothing left of the old page, and
answers are checked against the survey as it is now. Two apps on one database stand for two
gunicorn workers; each keeps its own copy."""

from datetime import timedelta

import pytest

from tests.conftest import AUDIT_KEY, SECRET, EnglishClient
from tests.surveys.helpers import build_survey, count, full_answer, resident, text_of
from surveys.models import Response
from voting_app import create_app
from voting_app.db import db, utcnow

PLACE = "桥北端"


@pytest.fixture
def other_worker(db_url):
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "SQLALCHEMY_DATABASE_URI": db_url,
                      "RATELIMIT_ENABLED": False, "SERVER_NAME": "localhost"})
    app.test_client_class = EnglishClient
    yield app
    with app.app_context():
        db.engine.dispose()


def staff_change(app, built, change):
    """Run `change(survey)` through the services on `app`, as a staff member's request would."""
    from surveys import service
    from surveys.models import Survey

    with app.app_context():
        survey = db.session.get(Survey, built.survey_id)
        change(service, survey)
        db.session.commit()


def page(app, code, **environ):
    phone = resident(app, **environ)
    return text_of(phone.get(f"/s/{code}"))


def test_a_staff_edit_on_one_worker_shows_at_once_on_another(app, other_worker):
    built = build_survey(app)
    code = built.placements[PLACE]
    first, second = page(app, code), page(app, code)
    assert "一号公路亮化满意度" in first and second == first.replace(_token(first), _token(second))

    staff_change(other_worker, built, lambda service, survey: service.update_survey(
        "staff", survey, title="二号公路满意度", intro="请花一分钟回答"))
    changed = page(app, code)
    assert "二号公路满意度" in changed and "请花一分钟回答" in changed
    assert "一号公路亮化满意度" not in changed

    staff_change(other_worker, built, lambda service, survey: service.add_question(
        "staff", survey, "text", "路灯晚上几点亮？", True, [], prompt_en="When do the lamps come on?"))
    assert "When do the lamps come on?" in page(app, code)

    question_id = built.questions["satisfaction"]
    staff_change(other_worker, built, lambda service, survey: service.translate_question(
        "staff", survey, next(q for q in survey.questions if q.id == question_id), "Happy with the lights?", []))
    assert "Happy with the lights?" in page(app, code)


def test_the_project_name_shown_follows_the_project(app, other_worker):
    from voting_app.projects.models import Project

    built = build_survey(app)
    code = built.placements[PLACE]
    assert "“一号公路”亮化工程" in page(app, code)
    with other_worker.app_context():
        project = db.session.scalars(db.select(Project)).one()
        project.name, project.summary = "滨江路亮化工程", "路灯 800 盏"
        db.session.commit()
    shown = page(app, code)
    assert "滨江路亮化工程" in shown and "路灯 800 盏" in shown and "“一号公路”" not in shown


def test_closing_on_one_worker_closes_the_page_and_the_answers_on_another(app, other_worker):
    built = build_survey(app)
    code = built.placements[PLACE]
    phone = resident(app)
    token = _token(text_of(phone.get(f"/s/{code}")))
    staff_change(other_worker, built, lambda service, survey: service.update_survey(
        "staff", survey, closes_at=utcnow() - timedelta(minutes=1)))
    shown = page(app, code)
    assert "This survey closed on" in shown and "<form" not in shown
    refused = phone.post(f"/s/{code}", data={**full_answer(built), "csrf_token": token})
    assert refused.status_code == 409
    assert count(app, Response, survey_id=built.survey_id) == 0


def test_answers_are_checked_against_the_survey_as_it_is_now(app, other_worker):
    built = build_survey(app)
    code = built.placements[PLACE]
    phone = resident(app)
    token = _token(text_of(phone.get(f"/s/{code}")))  # the page as it was: four questions
    added = {}
    staff_change(other_worker, built, lambda service, survey: added.setdefault("id", service.add_question(
        "staff", survey, "rating", "施工噪音如何？", True, []).id))
    refused = phone.post(f"/s/{code}", data={**full_answer(built), "csrf_token": token})
    assert refused.status_code == 400
    assert f'id="q{added["id"]}-error"' in text_of(refused) and "Please answer this question." in text_of(refused)
    assert count(app, Response, survey_id=built.survey_id) == 0
    accepted = phone.post(f"/s/{code}", data={**full_answer(built), f"q{added['id']}": "3", "csrf_token": token})
    assert accepted.status_code == 302
    assert count(app, Response, survey_id=built.survey_id) == 1


def test_a_moved_placement_counts_answers_for_its_new_grid_at_once(app, other_worker):
    from surveys.models import Placement
    from voting_app.registry.models import Grid

    built = build_survey(app)
    code = built.placements[PLACE]
    page(app, code)
    with other_worker.app_context():
        grid = Grid(code="N1", name="北苑中心", level=1)
        db.session.add(grid)
        db.session.flush()
        db.session.get(Placement, built.placement_ids[PLACE]).grid_id = grid.id
        db.session.commit()
        grid_id = grid.id
    phone = resident(app)
    token = _token(text_of(phone.get(f"/s/{code}")))
    assert phone.post(f"/s/{code}", data={**full_answer(built), "csrf_token": token}).status_code == 302
    assert count(app, Response, survey_id=built.survey_id, grid_id=grid_id) == 1


def test_each_resident_gets_their_own_token_household_code_and_links(app):
    built = build_survey(app, mode="tokened")
    first, second = resident(app), resident(app, address="198.51.100.11")
    one = text_of(first.get(f"/s/{built.short_code}?code=AB12-CD34"))
    two = text_of(second.get(f"/s/{built.short_code}?code=<b>X\"Y"))
    assert _token(one) != _token(two)
    assert 'value="AB12-CD34"' in one and "AB12-CD34" not in two
    assert 'value="&lt;b&gt;X&#34;Y"' in two and "<b>X" not in two
    assert "text=large" in one and "code%3DAB12-CD34" in one  # the header's links are this request's
    assert "slot-" not in one + two


def _token(body: str) -> str:
    import re

    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', body).group(1)
