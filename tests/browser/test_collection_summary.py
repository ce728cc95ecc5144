"""The public collection summary and the decline form, in the browser on the demo: anyone reads
a year's figures by channel and station on a phone and a desktop (also without JavaScript), the
totals add up, and no proposer's contact shows; staff decline a proposal choosing reasons from
the list, and the proposer's tracking page names them."""

import pytest

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, flashes, sign_in, submit


def _numbers(row) -> list[int]:
    return [int(text) for text in row.locator("td").all_inner_texts()]


@pytest.mark.demo
def test_collection_summary_and_decline_reasons_on_the_demo(live_server, page_factory, screenshot):
    from sqlalchemy import select

    from voting_app.db import db
    from voting_app.projects.schedule import beijing_today
    from voting_app.proposals.models import Proposal

    passwords, _, proposal, _ = seeded(live_server)
    with live_server.app.app_context():
        tracking = db.session.get(Proposal, proposal).tracking_code
        contacts = [c for c in db.session.scalars(select(Proposal.contact)) if c]
    watch, axe = Watch(), Axe()
    year = beijing_today().year

    desktop = watch.page(page_factory, "desktop", "public-desktop")
    assert desktop.goto(live_server.url("/")).status == 200
    with desktop.expect_navigation():
        desktop.get_by_role("link", name="征集情况公示").click()
    assert f"{year}年民生实事项目建议征集情况" in desktop.locator("h1").inner_text()
    tables = desktop.locator("main table.summary")
    assert tables.count() == 8  # outcomes and reasons: by channel, station, grid centre, reception days by station
    by_channel = tables.nth(0)
    assert "联络站二维码" in by_channel.inner_text() and "网上征集" in by_channel.inner_text()
    rows = [_numbers(row) for row in by_channel.locator("tbody tr").all()]
    totals = _numbers(by_channel.locator("tfoot tr"))
    assert totals[0] > 50 and all(sum(column) == total for column, total in zip(zip(*rows), totals))
    assert totals[0] == sum(totals[1:6])  # the statuses add up to the received
    assert totals[6] >= 1  # elected in the demo's announced vote
    assert _numbers(tables.nth(2).locator("tfoot tr"))[0] == totals[0]  # by station: the same total
    reasons = tables.nth(1)
    assert "不属于区级事权" in reasons.inner_text() and "未分类" in reasons.inner_text()
    body = desktop.content()
    assert not any(contact in body for contact in contacts)
    screenshot(desktop, "summary-desktop")
    axe.check(desktop, "summary-desktop")

    wide = watch.page(page_factory, "desktop", "public-1920", viewport={"width": 1920, "height": 1080})
    assert wide.goto(live_server.url(f"/proposals/summary?year={year}")).status == 200
    screenshot(wide, "summary-1920x1080")
    axe.check(wide, "summary-1920x1080")

    phone = watch.page(page_factory, "phone", "public-phone")
    assert phone.goto(live_server.url(f"/proposals/summary?year={year}")).status == 200
    screenshot(phone, "summary-phone")
    axe.check(phone, "summary-phone")

    plain = page_factory("phone", java_script_enabled=False)
    assert plain.goto(live_server.url(f"/proposals/summary?year={year}")).status == 200
    assert plain.locator("main table.summary").count() == 8
    plain.select_option("select[name=year]", str(year))
    assert submit(plain, "form.filters button[type=submit]").status == 200

    staff = watch.page(page_factory, "desktop", "staff")
    sign_in(staff, live_server, "staff", passwords["staff"])
    staff.goto(live_server.url(f"/proposals/{proposal}"))
    assert submit(staff, "section[aria-labelledby=decline-heading] button[type=submit]").status == 400
    assert "请从列表中至少选择一项理由" in staff.locator("#decline-reasons").inner_text()
    staff.locator("#decline-reasons").scroll_into_view_if_needed()
    screenshot(staff, "decline-without-a-reason")
    axe.check(staff, "decline-without-a-reason")
    staff.get_by_label("不属于区级事权").check()
    staff.get_by_label("将新增政府债务").check()
    staff.fill("#explanation", "该事项由市级统筹实施。")
    assert submit(staff, "section[aria-labelledby=decline-heading] button[type=submit]").status == 200
    assert flashes(staff, "success")
    assert "不属于区级事权；将新增政府债务" in staff.locator("main dl.details").inner_text()
    screenshot(staff, "declined-with-reasons")
    axe.check(staff, "declined-with-reasons")

    staff.goto(live_server.url("/proposals/reasons"))
    screenshot(staff, "reason-list")
    axe.check(staff, "reason-list")

    staff.goto(live_server.url("/proposals/new"))
    staff.select_option("#channel", "courtyard")
    staff.fill("#title", "院坝会：小区加装健身器材")
    staff.fill("#description", "居民在院坝会上提出，希望在小区空地加装健身器材。")
    staff.select_option("#theme", "culture_sports")
    assert submit(staff, "main form button[type=submit]").status == 200
    assert "小板凳会/院坝会" in staff.locator("main p.meta").inner_text()
    screenshot(staff, "entered-from-a-courtyard-meeting")
    axe.check(staff, "entered-from-a-courtyard-meeting")

    resident = watch.page(page_factory, "phone", "resident")
    assert resident.goto(live_server.url(f"/p/track?code={tracking}")).status == 200
    tracked = resident.locator("main").inner_text()
    assert "不属于区级事权" in tracked and "该事项由市级统筹实施。" in tracked and "征集渠道" in tracked
    screenshot(resident, "phone-tracker-declined-with-reasons")
    axe.check(resident, "phone-tracker-declined-with-reasons")
    assert resident.goto(live_server.url("/p/online")).status == 200
    screenshot(resident, "phone-online-form")
    axe.check(resident, "phone-online-form")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
