"""Staff draw a sample frame of 300 households on a phone and at 1920x1080: the household lists
page, the frames page, the drawn frame, the confirmation without JavaScript, the printed sheet
of exactly 300 slips with addresses, and the response rate on the results page; axe on each."""

from sqlalchemy import select

from tests.browser.test_grids import FULL_HD, PASSWORD
from tests.browser.test_project_lifecycle import Axe, Watch, sign_in


def seeded(server) -> int:
    from surveys import service as surveys
    from surveys.models import TOKENED
    from voting_app import demo_frames, demo_grids
    from voting_app.db import db

    with server.app.app_context():
        demo_grids.seed_grids("test")
        demo_frames.seed_households()
        survey = surveys.create_from_template("test", "一号公路亮化入户满意度调查", None, None, mode=TOKENED)
        db.session.commit()
        return survey.id


def test_a_frame_is_drawn_and_printed_on_a_phone_and_full_hd(live_server, page_factory, screenshot):
    survey_id = seeded(live_server)
    watch, axe = Watch(), Axe()
    staff_name = live_server.usernames[live_server.world.staff_id]
    for kind, options in (("phone", {}), ("desktop", FULL_HD)):
        page = watch.page(page_factory, kind, f"staff-{kind}", **options)
        sign_in(page, live_server, staff_name, PASSWORD)

        assert page.goto(live_server.url("/households")).status == 200
        assert "清单住户：5000户" in page.locator("main").inner_text()
        screenshot(page, f"{kind}-households")
        axe.check(page, f"{kind}-households")

        assert page.goto(live_server.url(f"/surveys/{survey_id}/frames")).status == 200
        assert page.locator("#size").input_value() == "300"
        screenshot(page, f"{kind}-frames")
        axe.check(page, f"{kind}-frames")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert "已抽取300户的样本框" in page.locator("main").inner_text()
        screenshot(page, f"{kind}-frame")
        axe.check(page, f"{kind}-frame")

        page.locator("main a", has_text="核验抽样").click()
        page.wait_for_load_state()
        assert "核验通过" in page.locator("main").inner_text()

        page.locator("main a", has_text="打印入户码").click()
        page.wait_for_load_state()
        screenshot(page, f"{kind}-print-confirm")
        axe.check(page, f"{kind}-print-confirm")
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
        assert page.locator("article.card").count() == 300
        assert page.locator("article.card p.card-address").count() == 300
        screenshot(page, f"{kind}-sheet")
        if kind == "desktop":  # an A4 sheet for the printer, laid out in mm with no phone viewport (as the household codes' sheet)
            axe.check(page, f"{kind}-sheet")

    assert page.goto(live_server.url(f"/surveys/{survey_id}/results?level=1")).status == 200
    assert "300个入户码中已使用0个" in page.locator("main").inner_text()
    screenshot(page, "desktop-results")
    axe.check(page, "desktop-results")

    # Without JavaScript: the redraw's confirmation page works with a plain form.
    page = watch.page(page_factory, "desktop", "no-js", java_script_enabled=False)
    sign_in(page, live_server, staff_name, PASSWORD)
    page.goto(live_server.url(f"/surveys/{survey_id}/frames"))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("main a", has_text="重新抽取").click()
    page.wait_for_load_state()
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "已用新的随机种子重新抽取样本框" in page.locator("main").inner_text()

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
