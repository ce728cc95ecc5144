"""A round opened by mistake, in the browser: every irreversible step asks first; the staff
cancel an empty round, then the presiding officer and a scrutineer declare a round with
ballots void; a deputy waiting on a phone in WeChat sees the round open without touching
anything; a for/against ballot preselects nothing. Selectors avoid UI wording."""

from sqlalchemy import select

from tests.ballots.helpers import as_deputy, cast
from tests.browser.conftest import record_page_problems
from tests.browser.test_deputy_journey import WAITING_PAGE_AXE, sign_in, submit
from tests.conftest import adopt

WECHAT = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.40(0x1800282a) NetType/4G Language/zh_CN"
)


class Checks:
    def __init__(self):
        from axe_playwright_python.sync_playwright import Axe

        self.axe, self.problems, self.notes = Axe(), [], []

    def page(self, page, name, waiting_page=False):
        results = self.axe.run(page, options=WAITING_PAGE_AXE) if waiting_page else self.axe.run(page)
        record_page_problems(page, name, results, self.problems, self.notes)


def round_state(server, round_id) -> str:
    from voting_app.ballots.models import Round
    from voting_app.db import db

    with server.app.app_context():
        return db.session.get(Round, round_id).state


def test_staff_confirm_cancel_and_void_while_a_deputy_waits(live_server, page_factory, screenshot):
    server, world = live_server, live_server.world
    round_id = world.round_id
    checks = Checks()
    with server.app.app_context():
        from voting_app.db import db
        from voting_app.sessions import service as sessions
        from voting_app.sessions.models import Deputy

        for deputy_id in world.deputy_ids[3:6]:  # 6 of 9 present: quorum
            sessions.check_in(db.session.get(Deputy, deputy_id), sessions.DESK)
        db.session.commit()

    # A deputy signs in on a phone in WeChat and waits on the home page.
    token, pin = world.cards[world.deputy_ids[0]]
    phone = page_factory("phone", user_agent=WECHAT)
    phone.goto(server.url(f"/c/{token}"))
    phone.fill("#pin", pin)
    submit(phone, "main form button[type=submit]")
    assert phone.url.endswith("/ballots/")
    refresh = phone.locator("head meta[http-equiv=refresh]")
    assert refresh.count() == 1 and 10 <= int(refresh.get_attribute("content")) <= 15
    assert phone.locator("main .round-notice").count() == 0
    screenshot(phone, "deputy-waiting-wechat")
    checks.page(phone, "deputy waiting page", waiting_page=True)
    assert phone.locator("main [data-key=refresh] a[href*='refresh=off']").count() == 1  # it can be turned off

    # The presiding officer opens the round through its confirmation page.
    presiding = page_factory("desktop")
    sign_in(presiding, server, world.presiding_id)
    presiding.goto(server.url(f"/ballots/rounds/{round_id}"))
    assert presiding.locator(f"form[action$='/rounds/{round_id}/open']").count() == 0  # no one-click button
    submit(presiding, f"main a[href$='/rounds/{round_id}/open']")
    assert presiding.locator("main .consequences").count() == 1
    assert round_state(server, round_id) == "draft"
    screenshot(presiding, "open-confirm")
    checks.page(presiding, "open confirmation")
    submit(presiding, f"main form[action$='/rounds/{round_id}/open'] button[type=submit]")
    assert presiding.locator("main .state-open").count() == 1

    # The waiting phone reloads by itself (no reload, no JavaScript call) and announces the round.
    phone.wait_for_selector("main .round-notice", timeout=20_000)
    notice = phone.locator("main .round-notice")
    assert "测试票决" in notice.inner_text()
    assert notice.locator(f"a.big[href$='/rounds/{round_id}/ballot']").count() == 1
    screenshot(phone, "deputy-round-announced")
    checks.page(phone, "deputy page with the new round", waiting_page=True)

    # Opened by mistake, nobody has voted: cancel it back to preparation.
    submit(presiding, f"main a[href$='/rounds/{round_id}/cancel']")
    screenshot(presiding, "cancel-confirm")
    checks.page(presiding, "cancel confirmation")
    submit(presiding, f"main form[action$='/rounds/{round_id}/cancel'] button[type=submit]")
    assert presiding.locator("main .state-draft").count() == 1
    assert round_state(server, round_id) == "draft"
    screenshot(presiding, "cancelled-back-to-draft")

    # Opened again; three deputies vote; closing would show how many present have not voted.
    submit(presiding, f"main a[href$='/rounds/{round_id}/open']")
    submit(presiding, f"main form[action$='/rounds/{round_id}/open'] button[type=submit]")
    for index in (1, 2, 3):
        assert cast(as_deputy(server.app, world, index), round_id, choices=world.candidate_ids[:1]).status_code == 302
    presiding.reload()
    assert presiding.locator(f"main a[href$='/rounds/{round_id}/cancel']").count() == 0  # ballots are in
    submit(presiding, f"main a[href$='/rounds/{round_id}/close']")
    not_voted = presiding.locator("main [data-key=not-voted]")
    assert not_voted.get_attribute("data-count") == "3"
    assert "出席代表6人，尚有3人未投票" in not_voted.inner_text()
    screenshot(presiding, "close-confirm-not-voted")
    checks.page(presiding, "close confirmation")

    # Instead of closing, the presiding officer asks to declare the round void, with a reason.
    presiding.goto(server.url(f"/ballots/rounds/{round_id}"))
    submit(presiding, f"main a[href$='/rounds/{round_id}/void']")
    screenshot(presiding, "void-request")
    checks.page(presiding, "void request")
    presiding.fill("#reason", "候选项目名单录入有误")
    submit(presiding, f"main form[action$='/rounds/{round_id}/void'] button[type=submit]")
    assert presiding.locator("main [data-key=void-requested]").count() == 1
    assert round_state(server, round_id) == "closed"
    screenshot(presiding, "void-requested")

    # A scrutineer, in their own browser, confirms.
    scrutineer = page_factory("desktop")
    sign_in(scrutineer, server, world.scrutineer_ids[0])
    scrutineer.goto(server.url(f"/ballots/rounds/{round_id}"))
    submit(scrutineer, f"main a[href$='/rounds/{round_id}/void/answer']")
    assert scrutineer.locator("main [data-key=void-reason]").inner_text().strip() == "候选项目名单录入有误"
    screenshot(scrutineer, "void-answer")
    checks.page(scrutineer, "void answer")
    submit(scrutineer, "main form button[name=decision][value=confirm]")
    assert scrutineer.locator("main .state-void").count() == 1
    assert round_state(server, round_id) == "void"
    screenshot(scrutineer, "round-void")

    # The board says so, with the reason; a new round with the same candidates can be prepared.
    public = page_factory("phone")
    public.goto(server.url(f"/ballots/rounds/{round_id}/board"))
    assert public.locator("main [data-key=void-reason]").inner_text().strip() == "候选项目名单录入有误"
    screenshot(public, "board-void")
    checks.page(public, "void board")
    staff = page_factory("desktop")
    sign_in(staff, server, world.staff_id)
    staff.goto(server.url(f"/ballots/rounds/{round_id}"))
    submit(staff, f"main form[action$='/rounds/{round_id}/follow-up'] button[type=submit]")
    assert staff.locator("main .state-draft").count() == 1
    assert staff.locator("main table tbody tr").count() == 4
    screenshot(staff, "new-round-from-void")
    staff.goto(server.url(f"/reports/sessions/{world.session_id}"))
    assert "候选项目名单录入有误" in staff.locator("[data-key=void-rounds]").inner_text()
    screenshot(staff, "session-report-void")

    print("\n".join(["Non-blocking axe findings:", *checks.notes] if checks.notes else ["No axe findings."]))
    assert not checks.problems, "\n".join(checks.problems)


def test_a_for_against_ballot_preselects_nothing(live_server, page_factory, screenshot):
    server, world = live_server, live_server.world
    from voting_app.ballots import service
    from voting_app.ballots.models import Round
    from voting_app.db import db
    from voting_app.sessions.models import CongressSession, Deputy
    from voting_app.sessions import service as sessions

    with server.app.app_context():
        congress = db.session.get(CongressSession, world.session_id)
        for deputy_id in world.deputy_ids[3:6]:
            sessions.check_in(db.session.get(Deputy, deputy_id), sessions.DESK)
        round_ = service.create_round("test", congress, "赞成反对票决", "for_against", 2, "roster", "electronic")
        ids = [service.add_candidate("test", round_, name).id for name in ("桥梁新改建", "路灯亮化", "文化长廊")]
        db.session.flush()
        adopt(round_)
        service.open_round("test", round_)
        db.session.commit()
        round_id = round_.id
    checks = Checks()
    token, pin = world.cards[world.deputy_ids[0]]
    phone = page_factory("phone", user_agent=WECHAT)
    phone.goto(server.url(f"/c/{token}"))
    phone.fill("#pin", pin)
    submit(phone, "main form button[type=submit]")
    phone.goto(server.url(f"/ballots/rounds/{round_id}/ballot"))
    assert phone.locator("input[type=radio]").count() == 9
    assert phone.locator("input[type=radio]:checked").count() == 0
    assert phone.locator("head meta[http-equiv=refresh]").count() == 0  # the ballot never reloads itself
    screenshot(phone, "for-against-nothing-chosen")
    checks.page(phone, "for/against ballot")
    phone.check(f"#mark-{ids[0]}-for")
    phone.check(f"#mark-{ids[1]}-against")
    response = submit(phone, f"main form[action$='/rounds/{round_id}/ballot/confirm'] button[type=submit]")
    assert response.status == 400
    assert "尚有1项未选择" in phone.locator("main .flash-error[role=alert]").inner_text()
    assert phone.is_checked(f"#mark-{ids[0]}-for") and phone.is_checked(f"#mark-{ids[1]}-against")
    assert phone.locator("fieldset.missing").count() == 1
    screenshot(phone, "for-against-one-missing")
    checks.page(phone, "for/against ballot with a missing mark")
    phone.check(f"#mark-{ids[2]}-abstain")
    assert submit(phone, f"main form[action$='/rounds/{round_id}/ballot/confirm'] button[type=submit]").status == 200
    screenshot(phone, "for-against-review")
    with server.app.app_context():
        assert db.session.scalar(select(Round.state).where(Round.id == round_id)) == "open"
    assert not checks.problems, "\n".join(checks.problems)


def test_removing_a_candidate_asks_first_and_works_without_javascript(live_server, page_factory, screenshot):
    server, world = live_server, live_server.world
    round_id, removed = world.round_id, world.candidate_ids[1]
    checks = Checks()
    staff = page_factory("desktop")
    sign_in(staff, server, world.staff_id)
    staff.goto(server.url(f"/ballots/rounds/{round_id}"))
    assert staff.locator(f"form[action$='/candidates/{removed}/delete']").count() == 0  # no one-click removal
    submit(staff, f"main a[href$='/candidates/{removed}/delete']")
    assert staff.locator("main .consequences").count() == 1 and "项目2" in staff.locator("main").inner_text()
    screenshot(staff, "candidate-remove-confirm")
    checks.page(staff, "candidate removal confirmation")
    with server.app.app_context():
        from voting_app.ballots.models import Candidate
        from voting_app.db import db

        assert db.session.get(Candidate, removed) is not None  # asking changed nothing

    # The same step with JavaScript off: the page is a plain GET, the removal a plain POST.
    plain = page_factory("desktop", java_script_enabled=False)
    sign_in(plain, server, world.staff_id)
    plain.goto(server.url(f"/ballots/rounds/{round_id}/candidates/{removed}/delete"))
    submit(plain, f"main form[action$='/candidates/{removed}/delete'] button[type=submit]")
    assert f"/ballots/rounds/{round_id}" in plain.url
    names = plain.locator("main table tbody tr td strong").all_inner_texts()
    assert "项目2" not in names and {"项目1", "项目3", "项目4"} <= set(names)
    screenshot(plain, "candidate-removed")
    assert checks.problems == [], "\n".join(checks.problems)
