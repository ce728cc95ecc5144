"""The delivery and proposal pages on the demo data, as staff, a department officer and the
public see them: every page passes axe, fits a phone without sideways scrolling, and draws
its timeline from the vendored plotly.js only."""

import re

from sqlalchemy import select

from tests.browser.test_project_lifecycle import Axe, Watch, sign_in

DESKTOP_FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def seeded(server) -> tuple[dict, int, int, int]:
    """Load the demo; return its passwords, an under-way project, a proposal and a station."""
    from voting_app.db import db
    from voting_app.demo import seed
    from voting_app.projects.models import Project
    from voting_app.proposals.models import LiaisonStation, Proposal

    with server.app.app_context():
        sheet = seed()
        db.session.commit()
        under_way = db.session.scalar(select(Project.id).where(Project.stage == "in_progress").order_by(Project.id))
        proposal = db.session.scalar(select(Proposal.id).where(Proposal.status == "received").order_by(Proposal.id))
        station = db.session.scalar(select(LiaisonStation.id).order_by(LiaisonStation.id))
    passwords = dict(re.findall(r"^\s+(\S+)\s+password (\S+)$", sheet, re.M))
    return passwords, under_way, proposal, station


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
        assert public.goto(live_server.url(f"/projects/{under_way}")).status == 200
        public.locator("#chart-timeline .main-svg").first.wait_for(state="attached")
        assert public.locator("#chart-timeline .bars path").count() >= 2  # planned and actual spans drawn
        assert public.locator("main .badge.warn").count() >= 2  # the late stage and the late milestone
        screenshot(public, f"public-under-way-project-{kind}")
        axe.check(public, f"public-under-way-project-{kind}")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
