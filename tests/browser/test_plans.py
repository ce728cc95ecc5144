"""Issue 16, plans with targets, on the demo: a department reports the actual figure of its own
sub-item's target with a progress note (its form offers no other department's targets), and
the public project page shows planned against actual per target, on a phone and at 1920x1080."""

import pytest
from sqlalchemy import select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, sign_in, submit
from voting_app.demo_delivery import SCHOOLS_2026

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def _programme(server) -> tuple[int, dict, dict]:
    from voting_app.db import db
    from voting_app.projects.models import Project

    with server.app.app_context():
        project = db.session.scalars(select(Project).where(Project.name == SCHOOLS_2026[0])).one()
        return (project.id, {f"{t.sub_item.name}/{t.name}": t.id for t in project.targets},
                {item.name: item.id for item in project.sub_items})


@pytest.mark.demo
def test_a_department_reports_its_figures_and_the_public_reads_planned_against_actual(live_server, page_factory, screenshot):
    passwords, *_ = seeded(live_server)
    project_id, targets, items = _programme(live_server)
    watch, axe = Watch(), Axe()

    officer = watch.page(page_factory, "phone", "officer")
    sign_in(officer, live_server, "dept-urban", passwords["dept-urban"])
    assert officer.goto(live_server.url(f"/projects/{project_id}/notes/new")).status == 200
    fields = officer.locator("#actuals input").evaluate_all("inputs => inputs.map(i => i.name)")
    assert fields == [f"actual-{targets['校门口交通安全设施/隔离护栏']}", f"actual-{targets['校门口交通安全设施/护学岗亭']}"]
    officer.fill("#body", "新增护学岗亭3个，已投入使用。")
    officer.fill(f"#actual-{targets['校门口交通安全设施/护学岗亭']}", "-3")
    refused = submit(officer, "main form button[type=submit]")
    assert refused.status == 400 and officer.locator("#actuals .error").count() == 1
    screenshot(officer, "officer-report-refused-phone")
    axe.check(officer, "officer-report-refused-phone")
    officer.fill(f"#actual-{targets['校门口交通安全设施/护学岗亭']}", "12")
    assert submit(officer, "main form button[type=submit]").status == 200
    screenshot(officer, "officer-report-published-phone")

    for kind, options in (("phone", {}), ("desktop", FULL_HD)):
        public = watch.page(page_factory, kind, f"public {kind}", **options)
        assert public.goto(live_server.url(f"/projects/{project_id}")).status == 200
        table = public.locator("#plan")
        assert table.locator("section.sub-item").count() == 4
        row = table.locator("tr", has_text="护学岗亭")
        assert row.locator("td").all_inner_texts()[:2] == ["14\xa0个", "12\xa0个"]
        assert row.locator("meter").get_attribute("value") == "85"
        assert "4,050\xa0个" in table.locator("tr", has_text="新增学位").inner_text()
        table.scroll_into_view_if_needed()
        screenshot(public, f"public-plan-{kind}")
        axe.check(public, f"public-plan-{kind}")
        width = public.evaluate("document.documentElement.scrollWidth")
        assert width <= public.viewport_size["width"], f"{kind}: the page scrolls sideways ({width}px)"

    staff = watch.page(page_factory, "phone", "staff")
    sign_in(staff, live_server, "staff", passwords["staff"])
    for path, name in ((f"/projects/{project_id}/plan", "staff-plan-phone"), (f"/projects/{project_id}/plan/{items['新建扩建校舍']}", "staff-sub-item-phone")):
        assert staff.goto(live_server.url(path)).status == 200, path
        screenshot(staff, name)
        axe.check(staff, name)

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
