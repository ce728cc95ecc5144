"""One deputy's journey through the real UI, from check-in to finding their ballot on
the public board, with the staff, presiding officer and scrutineer doing their part in
their own browsers. Selectors avoid UI wording (it is translated); they use ids, form
actions and data attributes. Every deputy page is checked with axe-core at a phone size.
"""

import re

from sqlalchemy import func, select

from tests.browser.conftest import record_page_problems

ROUND_TITLE = "测试票决"
# The deputy's waiting page reloads itself on purpose (the WeChat browser hides reload, and it
# must work without JavaScript); it offers a link that turns the reloading off (WCAG 2.2.1),
# which axe's meta-refresh rule cannot see. Every other rule still runs on that page.
WAITING_PAGE_AXE = {"resultTypes": ["violations"], "rules": {"meta-refresh": {"enabled": False}}}


class Findings:
    """Accessibility and layout problems, gathered over the journey and reported together."""

    def __init__(self):
        # Imported here: the browser fixture skips (or fails in CI) when it is missing.
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.problems: list[str] = []
        self.notes: list[str] = []  # minor and moderate findings: printed, not failed
        self.checked: list[str] = []

    def check_phone_page(self, page, name: str, waiting_page: bool = False) -> None:
        self.checked.append(name)
        results = self.axe.run(page, options=WAITING_PAGE_AXE) if waiting_page else self.axe.run(page)
        record_page_problems(page, name, results, self.problems, self.notes)


def submit(page, selector: str):
    """Click a submit button and return the response the browser ends up on."""
    with page.expect_navigation() as navigation:
        page.locator(selector).click()
    return navigation.value


def sign_in(page, server, user_id: int) -> None:
    page.goto(server.url("/login"))
    page.fill("#username", server.usernames[user_id])
    page.fill("#password", "correct horse battery")
    response = submit(page, "main form button[type=submit]")
    assert response.status == 200
    assert page.locator("header form[action$='/logout']").count() == 1, "sign-in failed"


def ballots_stored(server) -> int:
    """Ballots in the box: sealed while the round is voted."""
    from voting_app.ballots.models import SealedBallot
    from voting_app.db import db

    with server.app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == server.world.round_id)
        )


def test_deputy_journey(live_server, page_factory, screenshot):
    server, world = live_server, live_server.world
    session_id, round_id = world.session_id, world.round_id
    findings = Findings()
    script_errors: list[str] = []

    def new_page(kind):
        page = page_factory(kind)
        page.on("pageerror", lambda error: script_errors.append(f"{kind}: {error}"))
        return page

    desk_deputy = world.deputy_ids[3]  # 代表4, not present
    voter = world.deputy_ids[4]  # 代表5, not present: votes on the phone
    chosen, others = [world.candidate_ids[0], world.candidate_ids[2]], [world.candidate_ids[1], world.candidate_ids[3]]

    # a. Staff checks a deputy in at the desk.
    staff = new_page("desktop")
    sign_in(staff, server, world.staff_id)
    staff.goto(server.url(f"/sessions/{session_id}/checkin"))
    present = staff.locator("main dl.figures dd[data-key=present]")
    assert present.inner_text().strip() == "3"
    staff.fill("#q", "代表4")
    with staff.expect_navigation():
        staff.press("#q", "Enter")
    screenshot(staff, "staff-desk-search")
    check_in_button = staff.locator(f"form[action*='/checkin/{desk_deputy}'] button[type=submit]")
    assert check_in_button.count() == 1
    assert "代表4" in check_in_button.inner_text()
    assert submit(staff, f"form[action*='/checkin/{desk_deputy}'] button[type=submit]").status == 200
    assert present.inner_text().strip() == "4"
    assert staff.locator("main .flash-success").count() == 1
    assert staff.locator(f"form[action*='/checkin/{desk_deputy}?']").count() == 0
    screenshot(staff, "staff-desk-checked-in")

    # b. The deputy signs in with the card on a phone, then checks in with the venue code.
    token, pin = world.cards[voter]
    phone = new_page("phone")
    phone.goto(server.url(f"/c/{token}"))
    screenshot(phone, "deputy-card-pin")
    findings.check_phone_page(phone, "card PIN page")
    phone.fill("#pin", pin)
    assert submit(phone, "main form button[type=submit]").status == 200
    assert phone.url.endswith("/ballots/")
    assert "代表5" in phone.locator("main h1").inner_text()
    assert phone.locator("main .flash-info").count() == 1  # not checked in yet
    screenshot(phone, "deputy-home-not-checked-in")
    findings.check_phone_page(phone, "deputy home (not checked in)", waiting_page=True)

    staff.goto(server.url(f"/sessions/{session_id}/checkin/screen"))
    assert staff.locator(".venue-qr svg").count() == 1
    code = staff.locator("[data-key=code]").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]{8}", code), code
    screenshot(staff, "venue-checkin-screen")

    phone.goto(server.url(f"/sessions/{session_id}/checkin/venue?code={code}"))
    assert phone.input_value("#code") == code
    screenshot(phone, "deputy-venue-checkin")
    findings.check_phone_page(phone, "check-in page")
    assert submit(phone, "main form button[type=submit]").status == 200
    assert phone.url.endswith("/ballots/")
    assert phone.locator("main .badge.ok").count() == 1  # checked in
    screenshot(phone, "deputy-home-checked-in")
    findings.check_phone_page(phone, "deputy home (checked in)", waiting_page=True)

    # c. The presiding officer opens the round: the two check-ins made quorum (5 of 9).
    presiding = new_page("desktop")
    sign_in(presiding, server, world.presiding_id)
    presiding.goto(server.url(f"/ballots/rounds/{round_id}"))
    assert presiding.locator("main dd[data-key=present]").inner_text().strip() == "5"
    assert submit(presiding, f"main a[href$='/rounds/{round_id}/open']").status == 200  # the confirmation step
    assert presiding.locator("main .state-draft").count() == 1
    assert submit(presiding, f"form[action$='/rounds/{round_id}/open'] button").status == 200
    assert presiding.locator("main .flash-error").count() == 0, presiding.locator("main .flash-error").all_inner_texts()
    assert presiding.locator("main .state-open").count() == 1
    screenshot(presiding, "presiding-round-open")

    # d. The deputy votes: an over-full ballot first, then two projects, with one "go back".
    phone.reload()
    vote_link = phone.locator(f"main .round-notice a[href$='/rounds/{round_id}/ballot']")  # the new round, announced
    assert vote_link.count() == 1
    with phone.expect_navigation():
        vote_link.click()
    assert ROUND_TITLE in phone.locator("main h1").inner_text()
    assert phone.get_attribute("html", "lang") == "zh-CN"
    assert phone.locator("input[name=choice]").count() == 4
    screenshot(phone, "ballot-form")
    findings.check_phone_page(phone, "ballot form")

    for candidate_id in world.candidate_ids[:3]:
        phone.check(f"#choice-{candidate_id}")
    response = submit(phone, f"main form[action$='/rounds/{round_id}/ballot/confirm'] button[type=submit]")
    assert response.status == 400
    error = phone.locator("main .flash-error[role=alert]")
    assert error.count() == 1
    assert "3" in error.inner_text() and "2" in error.inner_text(), error.inner_text()
    assert ballots_stored(server) == 0
    assert phone.locator("input[name=choice]").count() == 4  # the ballot is offered again
    screenshot(phone, "ballot-form-overfull-error")
    findings.check_phone_page(phone, "ballot form with the over-full error")

    for candidate_id in world.candidate_ids:
        phone.set_checked(f"#choice-{candidate_id}", candidate_id in chosen)
    assert submit(phone, "main form[action$='/ballot/confirm'] button[type=submit]").status == 200
    assert phone.locator("main ol.chosen li").all_inner_texts() == ["项目1", "项目3"]
    screenshot(phone, "ballot-confirm")
    findings.check_phone_page(phone, "confirm page")

    assert submit(phone, "main form[action$='/ballot'] button[type=submit]").status == 200  # go back and change
    for candidate_id in chosen:
        assert phone.is_checked(f"#choice-{candidate_id}")
    for candidate_id in others:
        assert not phone.is_checked(f"#choice-{candidate_id}")
    screenshot(phone, "ballot-form-back")
    assert submit(phone, "main form[action$='/ballot/confirm'] button[type=submit]").status == 200
    assert phone.locator("main ol.chosen li").all_inner_texts() == ["项目1", "项目3"]
    assert ballots_stored(server) == 0

    assert submit(phone, f"main form[action$='/rounds/{round_id}/ballot/cast'] button[type=submit]").status == 200
    assert phone.url.endswith(f"/rounds/{round_id}/receipt")
    receipt = phone.get_attribute("[data-receipt]", "data-receipt")
    assert receipt and phone.locator("[data-receipt]").inner_text().strip() == receipt
    assert ballots_stored(server) == 1
    screenshot(phone, "ballot-receipt")
    findings.check_phone_page(phone, "receipt page")

    response = phone.goto(server.url(f"/ballots/rounds/{round_id}/ballot"))
    assert response.status == 409
    assert phone.locator("main .flash-error[role=alert]").count() == 1
    assert phone.locator("input[name=choice]").count() == 0
    screenshot(phone, "ballot-already-voted")
    findings.check_phone_page(phone, "ballot page after voting")

    phone.goto(server.url("/ballots/"))
    assert phone.locator("main .receipt-inline").inner_text().strip() == receipt
    assert phone.locator(f"main a[href$='/rounds/{round_id}/ballot']").count() == 0

    # e. While the round is open, staff see how many ballots came back, never totals.
    staff.goto(server.url(f"/ballots/rounds/{round_id}"))
    assert staff.locator("main [data-key=returned]").inner_text().strip() == "1"
    assert staff.locator(".results").count() == 0
    assert staff.locator("table.results").count() == 0
    for row in staff.locator("main table tbody tr").all():
        if re.search(r"项目\d", row.inner_text()):
            numbers = [cell.strip() for cell in row.locator("td.num").all_inner_texts()]
            assert all(not value for value in numbers), f"a candidate row shows a number while open: {numbers}"
    screenshot(staff, "staff-round-open-returned")

    # f. Close, confirm by a scrutineer, announce.
    presiding.reload()
    assert submit(presiding, f"main a[href$='/rounds/{round_id}/close']").status == 200  # the confirmation step
    assert presiding.locator("main [data-key=not-voted]").get_attribute("data-count") == "4"  # 5 present, 1 voted
    assert submit(presiding, f"form[action$='/rounds/{round_id}/close'] button[type=submit]").status == 200
    assert presiding.locator("main .state-closed").count() == 1
    screenshot(presiding, "presiding-round-closed")

    scrutineer = new_page("desktop")
    sign_in(scrutineer, server, world.scrutineer_ids[0])
    scrutineer.goto(server.url(f"/ballots/rounds/{round_id}"))
    submit(scrutineer, f"main a[href$='/rounds/{round_id}/unseal']")
    scrutineer.fill("#share-1", world.shares[0])
    scrutineer.fill("#share-2", world.shares[1])
    assert submit(scrutineer, "main form button[type=submit]").status == 200
    assert scrutineer.locator("main .flash-success").count() == 1
    assert submit(scrutineer, f"form[action$='/rounds/{round_id}/confirm'] button").status == 200
    assert scrutineer.locator("main .flash-error").count() == 0, scrutineer.locator("main .flash-error").all_inner_texts()
    assert scrutineer.locator("main .state-confirmed").count() == 1
    screenshot(scrutineer, "scrutineer-confirmed")

    presiding.reload()
    assert submit(presiding, f"main a[href$='/rounds/{round_id}/announce']").status == 200  # the confirmation step
    assert submit(presiding, f"form[action$='/rounds/{round_id}/announce'] button").status == 200
    assert presiding.locator("main .state-announced").count() == 1
    screenshot(presiding, "presiding-announced")

    # g. The deputy finds the ballot on the public board by receipt; the results add up.
    phone.goto(server.url("/ballots/"))
    board_link = phone.locator(f"main a[href*='/rounds/{round_id}/board']")
    assert board_link.count() == 1
    with phone.expect_navigation():
        board_link.click()
    phone.fill("#receipt", "")
    messy = " ".join(receipt.lower().replace("-", "")[i : i + 4] for i in range(0, 16, 4))  # "abcd efgh jkmn pqrs"
    phone.fill("#receipt", messy)  # typed as it comes: lower case, spaces, no dashes
    screenshot(phone, "board-receipt-typed-messy")
    assert submit(phone, "main form[role=search] button[type=submit]").status == 200
    found = phone.locator("main section.flash-success[role=status]")
    assert found.count() == 1
    assert receipt in found.inner_text()
    assert found.locator("p").inner_text().strip() == "项目1; 项目3"
    found_row = phone.locator("main table.board tr.found")
    assert found_row.count() == 1 and "项目1; 项目3" in found_row.inner_text()
    screenshot(phone, "board-found")
    findings.check_phone_page(phone, "board page")

    phone.goto(server.url(f"/ballots/rounds/{round_id}/results"))
    votes = {}
    for row in phone.locator("main table.results tbody tr").all():
        cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
        votes[cells[1]] = int(cells[2])
    assert votes == {"项目1": 1, "项目3": 1, "项目2": 0, "项目4": 0}, votes
    screenshot(phone, "results")
    findings.check_phone_page(phone, "results page")

    anonymous = new_page("phone")
    anonymous.goto(server.url(f"/ballots/rounds/{round_id}/board?receipt={receipt}"))
    assert anonymous.locator("main section.flash-success[role=status] p").inner_text().strip() == "项目1; 项目3"

    # h. and i. Accessibility, layout and language of every deputy page, reported together.
    print("\n".join(["Non-blocking axe findings:", *findings.notes] if findings.notes else ["No axe findings."]))
    assert not findings.problems, "\n".join(["Deputy pages at 390x844:", *findings.problems])
    assert len(findings.checked) == 11
    assert not script_errors, script_errors
