"""Issue 16, the ledger and reminder letters, on the demo: a target of the street-lighting plan
passes its due date unmet; the staff issue the reminder letters now, find the new 提醒函 in
their list and print it on A4; the department responsible reads it on a phone among its own
supervision issues; the staff's ledger lists the issues with their departments."""

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from tests.browser.conftest import seeded
from tests.browser.test_print_reports import A4_POINTS, folded, pdf_of
from tests.browser.test_project_lifecycle import Axe, Watch, sign_in, submit

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def _late_target(server) -> str:
    """A target of the lighting plan's first section, due three days ago with nothing reported."""
    from voting_app.db import db
    from voting_app.projects import planning, schedule
    from voting_app.projects.models import SubItem

    with server.app.app_context():
        item = db.session.scalars(select(SubItem).where(SubItem.name == "太平店镇段")).first()
        planning.add_target("test", "staff", item, "箱式变压器", Decimal(4), "台", schedule.beijing_today() - timedelta(days=3))
        db.session.commit()
        return item.department.name


@pytest.mark.demo
def test_an_overdue_target_produces_a_reminder_letter(live_server, page_factory, screenshot):
    passwords, *_ = seeded(live_server)
    department = _late_target(live_server)
    watch, axe = Watch(), Axe()

    staff = watch.page(page_factory, "desktop", "staff", **FULL_HD)
    sign_in(staff, live_server, "staff", passwords["staff"])
    assert staff.goto(live_server.url("/ledger/letters")).status == 200
    pending = staff.locator("#overdue-heading ~ .table-wrap tr", has_text="箱式变压器")
    assert pending.count() == 1 and pending.locator("[data-lettered]").get_attribute("data-lettered") == "no"
    # The demo's morning run already wrote the other letters; none about the school programme's guard
    # posts: the programme is deferred, so they are due by its new deadline (delivery.overdue_items).
    assert staff.locator("main table a[href*='/ledger/letters/']").count() >= 1
    assert staff.locator("main table tr", has_text="护学岗亭").count() == 0
    screenshot(staff, "letters-before-1920")
    assert submit(staff, "main form[method=post] button[type=submit]").status == 200
    flashed = staff.locator(".flash-success").inner_text()
    assert flashed.count("樊人大提〔") == 1, flashed  # only the new target's: the demo's morning run sent the rest
    row = staff.locator("main table tr", has_text="箱式变压器").filter(has=staff.locator("a[href*='/ledger/letters/']"))
    assert row.count() == 1 and department in row.inner_text()
    serial = row.locator("td").first.inner_text()
    assert serial.startswith("樊人大提〔") and serial.endswith("号")
    screenshot(staff, "letters-after-1920")
    axe.check(staff, "letters-after-1920")
    # A second run finds nothing new.
    staff.goto(live_server.url("/ledger/letters"))
    submit(staff, "main form[method=post] button[type=submit]")
    assert staff.locator("main a", has_text=serial).count() == 1 \
        and pending.first.locator("[data-lettered]").get_attribute("data-lettered") == "yes"

    with staff.expect_navigation():
        staff.locator("main a", has_text=serial).click()
    assert staff.inner_text('[data-key="serial"]') == serial
    assert staff.inner_text('[data-key="addressee"]').startswith(department)
    body = staff.inner_text('[data-key="body"]')
    assert "箱式变压器" in body and "4 台" in body
    screenshot(staff, "letter-1920")
    reader = pdf_of(staff, screenshot, "letter-a4", axe)
    assert len(reader.pages) == 1
    width, height = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2
    printed = folded(reader.pages[0].extract_text())
    assert folded(serial) in printed and folded("樊城区人大常委会") in printed and "返回系统" not in printed

    officer = watch.page(page_factory, "phone", "officer")
    sign_in(officer, live_server, "dept-urban", passwords["dept-urban"])
    assert officer.goto(live_server.url("/ledger/mine")).status == 200
    assert officer.locator("main a", has_text=serial).count() == 1
    screenshot(officer, "department-issues-phone")
    axe.check(officer, "department-issues-phone")
    with officer.expect_navigation():
        officer.locator("main a", has_text=serial).click()
    assert officer.inner_text('[data-key="serial"]') == serial
    screenshot(officer, "letter-phone")
    axe.check(officer, "letter-phone")
    width = officer.evaluate("document.documentElement.scrollWidth")
    assert width <= officer.viewport_size["width"], f"the letter scrolls sideways ({width}px)"

    ledger = watch.page(page_factory, "phone", "ledger")
    sign_in(ledger, live_server, "staff", passwords["staff"])
    assert ledger.goto(live_server.url("/ledger/?year=all")).status == 200
    assert ledger.locator("main tbody tr", has_text="围挡占用人行道").count() == 1
    screenshot(ledger, "ledger-phone")
    axe.check(ledger, "ledger-phone")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
