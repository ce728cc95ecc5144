"""Taking things back in the hall, in real Chromium with the Chinese UI: staff at the desk
(1366x900) check a deputy in and undo it; reissue a card only after a page that says the old
card stops working (also with JavaScript off); remove a deputy (from the whole term) and
delete a session made by mistake while nobody has checked in and nothing is voted, each after
a confirmation page; and, once a round has been voted, record a deputy's end of term, which
stays on the roster. The projected check-in
screen is a kiosk that fits 1920x1080 without scrolling, and a printed card sheet holds
the 10 cards a page its stylesheet promises (counted in Chromium's own PDF).

Selectors use form actions and hrefs; pages are checked with axe-core.
"""

import io
import re

from sqlalchemy import select

from tests.browser.test_project_lifecycle import STAFF_PASSWORD, Axe, Watch, flashes, sign_in, submit

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def in_app(server, action):
    with server.app.app_context():
        from voting_app.db import db

        outcome = action(db)
        db.session.commit()
        return outcome


def deputy_ids(server) -> dict[str, int]:
    return roster_ids(server, server.world.session_id)


def roster_ids(server, session_id: int) -> dict[str, int]:
    def load(db):
        from voting_app.sessions.models import Deputy

        return {d.name: d.id for d in db.session.scalars(select(Deputy).where(Deputy.session_id == session_id))}

    return in_app(server, load)


def new_session(server, name: str, deputies: int, with_cards: bool = False) -> int:
    def make(db):
        from voting_app.ballots.credentials import issue_missing_cards
        from voting_app.sessions import service
        from voting_app.registry.roster import RosterParse, RosterRow

        from tests.conftest import fresh_term

        # A term of its own: a session of the world's term would draw the world's deputies.
        congress = service.create_session("test", name, "区人大会堂", term=fresh_term())
        rows = tuple(RosterRow(i + 2, f"{i + 1:03d}", f"代表{i + 1}", "城区代表团", "") for i in range(deputies))
        service.import_roster("test", congress, RosterParse(rows, ()))
        db.session.refresh(congress)
        if with_cards:
            issue_missing_cards("test", congress)
        return congress.id

    return in_app(server, make)


def vote_a_round(server) -> None:
    """The world's round opens (with quorum) and closes: from now on the roster is on record."""

    def vote(db):
        from voting_app.auth.models import User
        from voting_app.ballots import service as ballots
        from voting_app.ballots.models import Round
        from voting_app.sessions import service

        round_ = db.session.get(Round, server.world.round_id)
        for deputy in round_.session.deputies:
            service.check_in(deputy, service.DESK)
        ballots.open_round("test", round_)
        ballots.close_round(db.session.get(User, server.world.presiding_id), round_)

    in_app(server, vote)


def staff_page(live_server, watch, page_factory, kind="desktop", name="staff", **options):
    page = watch.page(page_factory, kind, name, **options)
    sign_in(page, live_server, live_server.usernames[live_server.world.staff_id], STAFF_PASSWORD)
    return page


def test_desk_undo_card_reissue_removal_and_end_of_term(live_server, page_factory, screenshot):
    watch, axe = Watch(), Axe()
    session_id = live_server.world.session_id
    ids = deputy_ids(live_server)
    desk = staff_page(live_server, watch, page_factory)

    # The desk: find 代表5, check them in, and undo it from the recent list.
    desk.goto(live_server.url(f"/sessions/{session_id}/checkin?q=代表5"))
    submit(desk, f"form[action*='/checkin/{ids['代表5']}?'] button")
    assert "代表5" in flashes(desk, "success")[0]
    assert desk.locator("[data-key=present]").first.inner_text() == "4"
    assert desk.locator("#recent-heading").inner_text() == "最近签到"
    screenshot(desk, "desk-checked-in")
    axe.check(desk, "desk after a check-in")
    submit(desk, f"section[aria-labelledby=recent-heading] form[action*='/checkin/{ids['代表5']}/undo'] button")
    assert flashes(desk, "success") == ["已撤销代表5（005）的签到。"]
    assert desk.locator("[data-key=present]").first.inner_text() == "3"
    screenshot(desk, "desk-check-in-undone")

    # Reissue: a link to a page that says what happens; the old card keeps working until the POST.
    desk.goto(live_server.url(f"/sessions/{session_id}/cards"))
    screenshot(desk, "cards")
    axe.check(desk, "voting cards")
    desk.click(f"a[href$='/cards/{ids['代表1']}/reissue']")
    assert desk.locator("h1").inner_text() == "重新发放代表1的投票卡"
    assert "代表现持有的投票卡立即失效" in desk.locator("main").inner_text()
    screenshot(desk, "reissue-confirm")
    axe.check(desk, "reissue confirmation")
    printed = submit(desk, "main form[method=post] button[type=submit]")
    assert printed.status == 200 and desk.locator("article.card").count() == 1

    # Deputies have checked in here, so this roster is part of the record: nobody is removed from it.
    desk.goto(live_server.url(f"/sessions/{session_id}/roster"))
    assert desk.locator("a[href*='/remove']").count() == 0

    # Remove a deputy entered by mistake from a session nobody has checked in to yet: the
    # confirmation says they leave the whole term's registry and names every session.
    fresh = new_session(live_server, "新建的会议", 4)
    desk.goto(live_server.url(f"/sessions/{fresh}/roster"))
    desk.click(f"a[href$='/roster/{roster_ids(live_server, fresh)['代表4']}/remove']")
    assert desk.locator("h1").inner_text() == "从本届代表名册中删除代表4"
    assert "整个代表名册中删除" in desk.locator("main").inner_text()
    assert "新建的会议" in desk.locator("#removal-sessions").inner_text()
    screenshot(desk, "remove-confirm")
    axe.check(desk, "remove confirmation")
    submit(desk, "main form[method=post] button[type=submit]")
    assert flashes(desk, "success") == ["已从本届代表名册及本届每次会议的名册中删除代表4（004）。"]
    assert desk.locator("main table tbody tr").count() == 3
    assert desk.locator("[data-key=roster]").first.inner_text() == "3"

    # Once a round has been voted, nobody is deleted: 代表2's term ends and stays on the roster.
    vote_a_round(live_server)
    desk.goto(live_server.url(f"/sessions/{session_id}/roster"))
    assert desk.locator("a[href*='/remove']").count() == 0
    desk.click(f"a[href$='/roster/{ids['代表2']}/term-end']")
    assert desk.locator("h1").inner_text() == "代表资格终止：代表2"
    desk.fill("#reason", "辞职")
    screenshot(desk, "term-end-form")
    axe.check(desk, "end of term form")
    submit(desk, "main form[method=post] button[type=submit]")
    assert "代表2的代表资格于" in flashes(desk, "success")[0]
    ended = desk.locator("main table tbody tr.ended")
    assert ended.count() == 1 and "代表2" in ended.inner_text() and "辞职" in ended.inner_text()
    assert desk.locator("[data-key=roster]").first.inner_text() == "8"
    screenshot(desk, "roster-with-term-ended")
    axe.check(desk, "roster with an ended term")

    # The same confirmation pages on a phone.
    phone = staff_page(live_server, watch, page_factory, "phone", "staff phone")
    phone.goto(live_server.url(f"/sessions/{session_id}/roster/{ids['代表3']}/term-end"))
    screenshot(phone, "phone-term-end-form")
    axe.check(phone, "end of term form on a phone")
    phone.goto(live_server.url(f"/sessions/{session_id}/checkin"))
    screenshot(phone, "phone-desk")
    axe.check(phone, "desk on a phone")

    assert axe.problems == [], "\n".join(axe.problems)
    assert watch.foreign == [] and watch.script_errors == []


def test_reissue_and_delete_a_session_work_without_javascript(live_server, page_factory, screenshot):
    watch = Watch()
    session_id = live_server.world.session_id
    ids = deputy_ids(live_server)
    mistaken = new_session(live_server, "误建的会议", 3, with_cards=True)
    page = staff_page(live_server, watch, page_factory, name="staff without JavaScript", java_script_enabled=False)

    page.goto(live_server.url(f"/sessions/{session_id}/cards"))
    page.click(f"a[href$='/cards/{ids['代表3']}/reissue']")
    assert "代表现持有的投票卡立即失效" in page.locator("main").inner_text()
    printed = submit(page, "main form[method=post] button[type=submit]")
    assert printed.status == 200 and page.locator("article.card").count() == 1

    page.goto(live_server.url(f"/sessions/{mistaken}"))
    page.click(f"a[href$='/sessions/{mistaken}/delete']")
    assert "名册中的3名代表及其投票卡" in page.locator("main").inner_text()
    screenshot(page, "delete-session-confirm")
    submit(page, "main form[method=post] button[type=submit]")
    assert flashes(page, "success") == ["会议“误建的会议”已删除。"]
    assert "误建的会议" not in page.locator("main table").inner_text()
    screenshot(page, "session-list-after-delete")
    assert watch.foreign == []


def test_the_check_in_screen_is_a_kiosk_that_fits_full_hd(live_server, page_factory, screenshot):
    watch, axe = Watch(), Axe()
    screen = watch.page(page_factory, "desktop", "venue screen", **FULL_HD)
    sign_in(screen, live_server, live_server.usernames[live_server.world.presiding_id], STAFF_PASSWORD)
    screen.goto(live_server.url(f"/sessions/{live_server.world.session_id}/checkin/screen"))
    screenshot(screen, "kiosk")
    axe.check(screen, "check-in screen")
    body = screen.locator("body").inner_text()
    assert screen.locator("nav, header.top, form[action$='/logout']").count() == 0
    assert live_server.usernames[live_server.world.presiding_id] not in body and "退出" not in body
    size = screen.evaluate(
        "({w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight})"
    )
    assert size["w"] <= 1920 and size["h"] <= 1080, size
    # read from the back of a hall: the code and the figures in large type, the QR code large
    code_px = float(screen.eval_on_selector("[data-key=code]", "el => parseFloat(getComputedStyle(el).fontSize)"))
    figure_px = float(screen.eval_on_selector("[data-key=present]", "el => parseFloat(getComputedStyle(el).fontSize)"))
    qr = screen.locator(".venue-qr svg").bounding_box()
    assert code_px >= 60 and figure_px >= 60 and qr["height"] >= 500, (code_px, figure_px, qr)
    assert screen.eval_on_selector(".figures dt", "el => parseFloat(getComputedStyle(el).fontSize)") >= 24
    # the figures follow check-ins without a reload
    in_app(live_server, lambda db: _check_in_one(db, live_server.world.session_id))
    screen.wait_for_function("() => document.querySelector('[data-key=present]').textContent.trim() === '4'", timeout=5000)
    assert axe.problems == [], "\n".join(axe.problems)
    assert watch.foreign == [] and watch.script_errors == []


def _check_in_one(db, session_id):
    from voting_app.sessions import service
    from voting_app.sessions.models import Deputy

    deputy = db.session.scalars(
        select(Deputy).where(Deputy.session_id == session_id, Deputy.checked_in_at.is_(None)).order_by(Deputy.id)
    ).first()
    service.check_in(deputy, service.DESK)


def pdf_pages(pdf: bytes) -> int:
    try:
        from pypdf import PdfReader
    except ImportError:  # count the page objects instead
        return len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    return len(PdfReader(io.BytesIO(pdf)).pages)


def test_a_printed_card_sheet_holds_ten_cards_a_page(live_server, page_factory, screenshot):
    """Cards 10 to a page, then the PIN slips (30 to a page) on sheets of their own."""
    watch = Watch()
    page = staff_page(live_server, watch, page_factory)
    expected = {10: 1 + 1, 11: 2 + 1, 20: 2 + 1, 21: 3 + 1}
    counted = {}
    for cards in expected:
        congress = new_session(live_server, f"打印测试{cards}", cards)
        page.goto(live_server.url(f"/sessions/{congress}/cards"))
        submit(page, "form[action$='/cards/issue'] button")
        assert page.locator("article.card").count() == cards
        pdf = page.pdf(prefer_css_page_size=True, print_background=True)
        if cards == 21:  # kept beside the screenshots, to look at
            screenshot(page, "card-sheet-on-screen").with_name("cards-21.pdf").write_bytes(pdf)
        counted[cards] = pdf_pages(pdf)
    assert counted == expected
    assert watch.foreign == []
