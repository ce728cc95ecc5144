"""The delivery and proposal pages on the demo data, as staff, a department officer and the
public see them: every page passes axe, fits a phone without sideways scrolling, and draws
its timeline from the vendored plotly.js only."""

import re

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, sign_in

DESKTOP_FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def test_delivery_and_proposal_pages_on_the_demo(live_server, page_factory, screenshot):
    passwords, under_way, proposal, station = seeded(live_server)
    watch, axe = Watch(), Axe()

    staff = watch.page(page_factory, "desktop", "staff", **DESKTOP_FULL_HD)
    sign_in(staff, live_server, "staff", passwords["staff"])
    for path, name in (
        ("/projects/dashboard", "staff-dashboard"),
        ("/proposals/", "staff-proposals"),
        (f"/proposals/{proposal}", "staff-proposal-screening"),
        ("/proposals/counts", "staff-proposal-counts"),
        ("/proposals/stations", "staff-stations"),
        (f"/projects/{under_way}/schedule", "staff-schedule"),
    ):
        assert staff.goto(live_server.url(path)).status == 200, path
        screenshot(staff, name)
        axe.check(staff, name)
    staff.goto(live_server.url("/projects/dashboard"))
    figures = staff.locator("main dl.figures").inner_text()
    assert re.search(r"逾期未整改\s*\n?\s*[1-9]", figures) and re.search(r"逾期节点\s*\n?\s*[1-9]", figures), figures
    poster = staff.goto(live_server.url(f"/proposals/stations/{station}/poster"))
    assert poster.status == 200 and staff.locator("svg.qr").count() == 1
    screenshot(staff, "staff-station-poster")

    officer = watch.page(page_factory, "desktop", "officer")
    sign_in(officer, live_server, "dept-housing", passwords["dept-housing"])
    assert officer.goto(live_server.url("/projects/mine")).status == 200
    assert "城区易涝点整治（一期）" in officer.locator("main").inner_text()
    screenshot(officer, "officer-our-projects")
    axe.check(officer, "officer-our-projects")

    for kind, options in (("phone", {}), ("desktop", DESKTOP_FULL_HD)):
        public = watch.page(page_factory, kind, f"public {kind}", **options)
        assert public.goto(live_server.url("/projects/?year=all&stage=in_progress")).status == 200
        assert public.locator("main tbody tr").count() == 2
        screenshot(public, f"public-list-{kind}")
        axe.check(public, f"public-list-{kind}")
        assert public.goto(live_server.url(f"/projects/{under_way}?chart=timeline")).status == 200
        public.locator("#chart-timeline .main-svg").first.wait_for(state="attached")
        assert public.locator("#chart-timeline .bars path").count() >= 2  # planned and actual spans drawn
        assert public.locator("main .badge.warn").count() >= 2  # the late stage and the late milestone
        screenshot(public, f"public-under-way-project-{kind}")
        axe.check(public, f"public-under-way-project-{kind}")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
