"""The residents' rate as staff and the public read it, on the demo data: the results page, the
public project page and the year and project reports show the 95% interval as a range with n,
never "±", and a survey of only three answers says it is for reference only. Phone and desktop;
every page passes axe."""

import pytest
from sqlalchemy import select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, sign_in

SMALL = "样本少于30，仅供参考"


def small_survey(server) -> tuple[int, int, str]:
    """A new survey on a demo project with three answers, two of them satisfied: 66.6%."""
    from surveys import service
    from voting_app.db import db
    from voting_app.projects.models import Project

    with server.app.app_context():
        project = db.session.scalar(select(Project).where(Project.stage == "operating").order_by(Project.id))
        survey = service.create_from_template("test", "竣工后回访", project.id, "operating")
        db.session.flush()
        question = next(q.id for q in survey.questions if q.kind == "satisfaction")
        for rating in ("satisfied", "mostly_satisfied", "dissatisfied"):
            service.submit_response(survey, None, {question: [rating]})
        db.session.commit()
        return survey.id, project.id, project.name


@pytest.mark.demo
def test_the_interval_shows_as_a_range_with_a_small_sample_warning(live_server, page_factory, screenshot):
    passwords, *_ = seeded(live_server)
    survey_id, project_id, project_name = small_survey(live_server)
    watch, axe = Watch(), Axe()
    expected = "66.6% (95% 区间 20.7%–93.9%, n=3)"

    staff = watch.page(page_factory, "desktop", "staff")
    sign_in(staff, live_server, "staff", passwords["staff"])
    assert staff.goto(live_server.url(f"/surveys/{survey_id}/results")).status == 200
    figures = staff.locator("main dl.figures").inner_text()
    assert expected in " ".join(figures.split()) and SMALL in figures and "±" not in staff.locator("main").inner_text()
    screenshot(staff, "results-desktop")
    axe.check(staff, "results-desktop")

    for path, name in ((f"/reports/projects/{project_id}", "project-report"), ("/reports/projects?year=all", "year-report")):
        assert staff.goto(live_server.url(path)).status == 200
        text = " ".join(staff.locator("main").inner_text().split())
        assert expected in text and SMALL in text and "±" not in text, name
        screenshot(staff, name)
        axe.check(staff, name)
    # a demo survey with hundreds of answers: a range, and no warning beside it
    assert "95% 区间" in staff.locator("main").inner_text()

    phone = watch.page(page_factory, "phone", "staff phone")
    sign_in(phone, live_server, "staff", passwords["staff"])
    assert phone.goto(live_server.url(f"/surveys/{survey_id}/results")).status == 200
    assert SMALL in phone.locator("main dl.figures").inner_text()
    screenshot(phone, "results-phone")
    axe.check(phone, "results-phone")

    public = watch.page(page_factory, "phone", "public phone")
    assert public.goto(live_server.url(f"/projects/{project_id}")).status == 200
    panel = " ".join(public.locator("main section[aria-labelledby=residents-heading]").inner_text().split())
    assert project_name in public.locator("main h1").inner_text() and "95% 区间" in panel and "±" not in panel
    shot = screenshot(public, "project-page-phone")
    public.locator("main section[aria-labelledby=residents-heading]").screenshot(path=str(shot.with_name("06-residents-panel-phone.png")))
    axe.check(public, "project-page-phone")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
