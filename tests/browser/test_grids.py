"""Staff read the grid hierarchy and the maps: /grids (counts per level, a centre opened to its
unit grids, without JavaScript too), a survey's satisfaction map by grid and by grid centre
(suppressed grids hatched, the legend saying 样本不足), and proposals by unit grid. Phone
(390x844) and 1920x1080, with axe on every page."""

import re

from sqlalchemy import select

from tests.browser.test_project_lifecycle import Axe, Watch, sign_in
from tests.browser.conftest import DESKTOP, SCREENSHOTS

PASSWORD = "correct horse battery"
FULL_HD = {**DESKTOP, "viewport": {"width": 1920, "height": 1080}}


def seeded_grids(server) -> int:
    """The demo's district with its boundaries, its survey by household codes, and the live
    server's proposals placed in grids; returns the survey's id."""
    from surveys.models import Survey
    from voting_app import demo_grids
    from voting_app.db import db

    from voting_app.proposals import service as proposals

    with server.app.app_context():
        station = proposals.add_station("test", "米公街道代表联络站")
        for number in range(300):
            proposals.submit_proposal(station, f"加装路灯{number}号", "晚上路很黑，希望加装路灯", "", "other", "", [])
        grid_ids = demo_grids.seed_grids("test")
        demo_grids.seed_grid_survey("test", None)
        demo_grids.place_proposals(grid_ids)
        db.session.commit()
        return db.session.scalar(select(Survey.id).where(Survey.title == demo_grids.SURVEY_TITLE))


def top_of(page, step):
    """The first screen of a long page (625 rows of table under the map are too tall to shoot whole)."""
    folder = SCREENSHOTS / "test_grids_page_and_maps_on_a_phone_and_full_hd"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"top-{step}.png"), full_page=False)


def test_grids_page_and_maps_on_a_phone_and_full_hd(live_server, page_factory, screenshot):
    survey_id = seeded_grids(live_server)
    watch, axe = Watch(), Axe()
    staff_name = live_server.usernames[live_server.world.staff_id]
    for kind, options in (("phone", {}), ("desktop", FULL_HD)):
        page = watch.page(page_factory, kind, f"staff-{kind}", **options)
        sign_in(page, live_server, staff_name, PASSWORD)

        assert page.goto(live_server.url("/grids")).status == 200
        levels = page.locator("main .grid-levels").inner_text()
        assert all(figure in levels for figure in ("10 网格中心", "128 单元网格", "625 网格", "763 个已有边界")), levels
        assert page.locator("main table tbody tr").count() == 10
        screenshot(page, f"{kind}-grids")
        axe.check(page, f"{kind}-grids")
        page.locator("main table tbody a", has_text="第1网格中心").click()
        page.wait_for_load_state()
        assert "第1网格中心（网格中心）下属网格" in page.locator("main h2").first.inner_text()
        assert page.locator("main table tbody tr").count() in (12, 13)
        axe.check(page, f"{kind}-grids-centre")

        assert page.goto(live_server.url(f"/surveys/{survey_id}/grid-map?level=3")).status == 200
        regions = page.locator("main svg.grid-map path.region")
        assert regions.count() == 625
        titles = page.locator("main svg.grid-map path.region title").all_text_contents()
        assert any(title.endswith("样本不足") for title in titles) and any(re.search(r"\d+\.\d% \(n=\d+\)$", t) for t in titles)
        assert "样本不足" in page.locator("main .map-legend").inner_text()
        assert page.locator("main table.grid-rates tbody tr").count() == 625
        top_of(page, f"{kind}-survey-map-grids")
        axe.check(page, f"{kind}-survey-map-grids")

        page.select_option("#grid-level", "1")
        page.locator("main form.level-form button").click()
        page.wait_for_load_state()
        assert page.locator("main svg.grid-map path.region").count() == 10
        screenshot(page, f"{kind}-survey-map-centres")
        axe.check(page, f"{kind}-survey-map-centres")

        assert page.goto(live_server.url("/proposals/by-grid?level=2")).status == 200
        assert page.locator("main svg.grid-map path.region").count() == 128
        assert page.locator("main table tfoot td.num").last.inner_text() == "300"
        top_of(page, f"{kind}-proposals-map")
        axe.check(page, f"{kind}-proposals-map")

    # Without JavaScript the hierarchy opens and the level is chosen all the same: links and a GET form.
    page = watch.page(page_factory, "desktop", "no-js", java_script_enabled=False)
    sign_in(page, live_server, staff_name, PASSWORD)
    page.goto(live_server.url(f"/surveys/{survey_id}/results"))
    page.select_option("#grid-level", "2")
    page.locator("main form.level-form button").click()
    page.wait_for_load_state()
    assert "level=2" in page.url and page.locator("#by-grid table tbody tr").count() == 128

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
