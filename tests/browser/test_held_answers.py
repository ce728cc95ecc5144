"""Answers held past a survey's daily count per address, on the demo data: the public project
list says how many are held, staff review them by day and placement on a 1920x1080 screen and
on a phone, and count them in with JavaScript off. Every page passes axe and fits a phone."""

import pytest
from sqlalchemy import func, select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, sign_in, submit

DESKTOP_FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def flood_latest_project_survey(server, answers: int) -> tuple[int, str]:
    """`answers` answers to a project's latest survey from one address; returns the survey id and the project's name."""
    from surveys import service
    from surveys.models import Survey
    from voting_app.db import db

    with server.app.app_context():
        survey = db.session.get(Survey, db.session.scalar(select(func.max(Survey.id)).where(Survey.project_id.is_not(None), Survey.mode == "open")))
        satisfaction = next(question for question in survey.questions if question.kind == "satisfaction")
        for _ in range(answers):
            service.submit_response(survey, survey.placements[0], {satisfaction.id: ["dissatisfied"]}, address="one-estate-gateway")
        db.session.commit()
        return survey.id, survey.project.name


@pytest.mark.demo
def test_held_answers_are_said_in_public_and_counted_in_by_staff(live_server, page_factory, screenshot):
    passwords, *_ = seeded(live_server)
    survey_id, project_name = flood_latest_project_survey(live_server, 9)  # five count, four are held
    watch, axe = Watch(), Axe()

    public = watch.page(page_factory, "phone", "public phone")
    assert public.goto(live_server.url("/projects/?year=all")).status == 200
    row = public.locator("main tbody tr", has_text="待审核")
    assert row.count() == 1 and project_name in row.inner_text() and "另有4份待审核，未计入" in row.inner_text()
    screenshot(public, "public-list-with-held")
    axe.check(public, "public-list-with-held")

    staff = watch.page(page_factory, "desktop", "staff", **DESKTOP_FULL_HD)
    sign_in(staff, live_server, "staff", passwords["staff"])
    assert staff.goto(live_server.url(f"/surveys/{survey_id}/held")).status == 200
    assert staff.locator("main tbody tr").count() == 1
    assert staff.locator("main tbody td.num").inner_text().strip() == "4"
    screenshot(staff, "staff-held-desktop")
    axe.check(staff, "staff-held-desktop")

    phone = watch.page(page_factory, "phone", "staff phone, no JavaScript", java_script_enabled=False)
    sign_in(phone, live_server, "staff", passwords["staff"])
    assert phone.goto(live_server.url(f"/surveys/{survey_id}/held")).status == 200
    widths = phone.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], widths
    screenshot(phone, "staff-held-phone")
    assert submit(phone, "main tbody tr form:has(input[value=release]) button").status == 200
    assert "4份待审核答卷已计入结果。" in phone.locator("main").inner_text()
    assert phone.locator("main tbody tr").inner_text().strip() == "没有待审核的答卷。"
    screenshot(phone, "staff-held-released")
    assert staff.goto(live_server.url(f"/surveys/{survey_id}/results")).status == 200
    assert staff.locator("main dd[data-key=held]").inner_text().strip() == "0"

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
