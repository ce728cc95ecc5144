"""Collection as practice runs it, in the browser on the demo: staff set a year's collection
window (a short one warns), the resident's form on a phone shows the window and, outside it,
says collection is closed and when it opens next; staff keep a proposal in the reserve, which
the screening list marks and filters, and the proposer's tracking page says it is kept."""

from datetime import timedelta

import pytest

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, flashes, sign_in, submit


def set_window(page, server, year: int, opens, closes):
    page.goto(server.url("/proposals/windows"))
    page.fill("#year", str(year))
    page.fill("#opens_on", opens.isoformat())
    page.fill("#closes_on", closes.isoformat())
    return submit(page, "main form.stack button[type=submit]")


@pytest.mark.demo
def test_collection_window_and_reserve_on_the_demo(live_server, page_factory, screenshot):
    from voting_app.db import db
    from voting_app.projects.schedule import beijing_today
    from voting_app.proposals.models import LiaisonStation, Proposal

    passwords, _, proposal, station = seeded(live_server)
    with live_server.app.app_context():
        code = db.session.get(LiaisonStation, station).code
        tracking = db.session.get(Proposal, proposal).tracking_code
        title = db.session.get(Proposal, proposal).title
    watch, axe = Watch(), Axe()
    today = beijing_today()

    staff = watch.page(page_factory, "desktop", "staff")
    sign_in(staff, live_server, "staff", passwords["staff"])
    assert set_window(staff, live_server, today.year, today - timedelta(days=3), today + timedelta(days=16)).status == 200
    assert any("征集期少于30天" in text for text in flashes(staff, "warn")), flashes(staff, "warn")
    screenshot(staff, "staff-window-short-warning")
    axe.check(staff, "staff-window-short-warning")

    resident = watch.page(page_factory, "phone", "resident")
    assert resident.goto(live_server.url(f"/p/{code}")).status == 200
    assert "征集时间：" in resident.locator("main").inner_text()
    assert resident.locator("#title").count() == 1
    screenshot(resident, "phone-form-inside-window")
    axe.check(resident, "phone-form-inside-window")

    set_window(staff, live_server, today.year, today - timedelta(days=40), today - timedelta(days=5))
    next_opens = today.replace(year=today.year + 1, month=7, day=1)
    set_window(staff, live_server, today.year + 1, next_opens, next_opens + timedelta(days=45))
    assert resident.goto(live_server.url(f"/p/{code}")).status == 200
    closed = resident.locator("main").inner_text()
    assert "征集已结束" in closed and next_opens.isoformat() in closed and resident.locator("#title").count() == 0
    screenshot(resident, "phone-form-outside-window")
    axe.check(resident, "phone-form-outside-window")

    staff.goto(live_server.url(f"/proposals/{proposal}"))
    staff.fill("#note", "方案较好，今年资金不足，明年再议")
    assert submit(staff, "section[aria-labelledby=reserve-heading] button[type=submit]").status == 200
    assert flashes(staff, "success")
    staff.goto(live_server.url("/proposals/"))
    staff.check("input[name=reserve]")
    assert submit(staff, "form.filters button[type=submit]").status == 200
    rows = staff.locator("main tbody tr")
    texts = rows.all_inner_texts()  # the demo keeps a few in the reserve too
    assert texts and all("来自储备库" in text for text in texts) and any(title in text for text in texts)
    screenshot(staff, "staff-list-from-the-reserve")
    axe.check(staff, "staff-list-from-the-reserve")

    assert resident.goto(live_server.url(f"/p/track?code={tracking}")).status == 200
    assert "储备库" in resident.locator("main").inner_text()
    screenshot(resident, "phone-tracker-in-the-reserve")
    axe.check(resident, "phone-tracker-in-the-reserve")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
