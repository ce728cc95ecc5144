"""The voting system fails in the hall, rehearsed in the browser: two deputies vote on their
phones, the presiding officer switches the round to paper with a reason, phones say the round
continues on paper, the desk sees how many paper ballots to issue (never who), the round is
closed with the paper ballots issued, two scrutineers key the paper ballots (one on a phone,
one at a desk), the sealed phone ballots are opened with two shares, a scrutineer confirms
and the presiding officer announces a count that combines both. Chinese and English, on a
390x844 phone and a 1920x1080 screen. Selectors avoid UI wording."""

import json
import re

from tests.browser.conftest import record_page_problems
from tests.browser.test_deputy_journey import WAITING_PAGE_AXE, sign_in, submit

WIDE = {"viewport": {"width": 1920, "height": 1080}}
REASON = "表决器主机故障，改用纸质选票"


class Checks:
    """axe and the layout check on every page looked at; English pages are not zh-CN by design."""

    def __init__(self):
        from axe_playwright_python.sync_playwright import Axe

        self.axe, self.problems, self.notes = Axe(), [], []

    def page(self, page, name, waiting_page=False):
        results = self.axe.run(page, options=WAITING_PAGE_AXE) if waiting_page else self.axe.run(page)
        found = []
        record_page_problems(page, name, results, found, self.notes)
        english = page.get_attribute("html", "lang") == "en"
        self.problems.extend(line for line in found if not (english and "<html lang>" in line))


def english(page, server):
    page.context.add_cookies([{"name": "lang", "value": "en", "url": server.url("/")}])


def phone_of(server, page_factory, deputy_id, lang="zh"):
    token, pin = server.world.cards[deputy_id]
    phone = page_factory("phone")
    if lang == "en":
        english(phone, server)
    phone.goto(server.url(f"/c/{token}"))
    phone.fill("#pin", pin)
    submit(phone, "main form button[type=submit]")
    assert phone.url.endswith("/ballots/")
    return phone


def vote(server, phone, round_id, candidate_ids):
    phone.goto(server.url(f"/ballots/rounds/{round_id}/ballot"))
    for candidate_id in candidate_ids:
        phone.check(f"#choice-{candidate_id}")
    assert submit(phone, "main form[action$='/ballot/confirm'] button[type=submit]").status == 200
    assert submit(phone, f"main form[action$='/rounds/{round_id}/ballot/cast'] button[type=submit]").status == 200


def key_paper(server, page, round_id, ballots):
    page.goto(server.url(f"/ballots/rounds/{round_id}/paper"))
    for choices in ballots:
        for candidate_id in choices:
            page.check(f"#choice-{candidate_id}")
        assert submit(page, "main form[action$='/paper/add'] button[type=submit]").status == 200


def test_a_round_fails_over_to_paper_and_is_counted_with_both(live_server, page_factory, screenshot):
    server, world = live_server, live_server.world
    round_id, ids = world.round_id, world.candidate_ids
    checks = Checks()
    with server.app.app_context():
        from voting_app.ballots import service
        from voting_app.ballots.models import Round
        from voting_app.db import db
        from voting_app.sessions import service as sessions
        from voting_app.sessions.models import Deputy

        for deputy_id in world.deputy_ids[3:6]:  # 6 of 9 present: quorum
            sessions.check_in(db.session.get(Deputy, deputy_id), sessions.DESK)
        service.open_round("test", db.session.get(Round, round_id))
        db.session.commit()

    # Two deputies vote on their phones before the system fails; two more wait.
    vote(server, phone_of(server, page_factory, world.deputy_ids[0]), round_id, ids[:2])
    vote(server, phone_of(server, page_factory, world.deputy_ids[1], "en"), round_id, ids[2:3])
    waiting_zh = phone_of(server, page_factory, world.deputy_ids[2])
    waiting_en = phone_of(server, page_factory, world.deputy_ids[3], "en")

    # The presiding officer switches, through a page that says what will happen and asks why.
    presiding = page_factory("desktop", **WIDE)
    sign_in(presiding, server, world.presiding_id)
    presiding.goto(server.url(f"/ballots/rounds/{round_id}"))
    submit(presiding, f"main a[href$='/rounds/{round_id}/paper-switch']")
    assert presiding.locator("main [data-key=desk]").inner_text().count("2") >= 1
    submit(presiding, f"main form[action$='/rounds/{round_id}/paper-switch'] button[type=submit]")  # no reason: refused
    assert presiding.locator("main .flash-error").count() == 1
    screenshot(presiding, "switch-confirm-refused-without-reason-1920")
    checks.page(presiding, "switch to paper, zh 1920")
    presiding.fill("#reason", REASON)
    submit(presiding, f"main form[action$='/rounds/{round_id}/paper-switch'] button[type=submit]")
    assert REASON in presiding.locator("main [data-key=paper-switch]").inner_text()
    assert presiding.locator(f"main a[href$='/rounds/{round_id}/paper-switch']").count() == 0
    screenshot(presiding, "round-continues-on-paper-1920")
    checks.page(presiding, "round on paper, zh 1920")

    # Phones say so, in Chinese and in English; a deputy who voted still sees the vote.
    for phone, lang in ((waiting_zh, "zh"), (waiting_en, "en")):
        phone.goto(server.url("/ballots/?refresh=off"))
        assert phone.locator("main [data-key=on-paper]").count() == 1
        assert phone.locator(f"main a[href$='/rounds/{round_id}/ballot']").count() == 0
        screenshot(phone, f"deputy-phone-on-paper-{lang}-390")
        checks.page(phone, f"deputy home on paper, {lang} phone")
    refused = waiting_zh.goto(server.url(f"/ballots/rounds/{round_id}/ballot"))
    assert refused.status == 409 and waiting_zh.locator("main form[action$='/ballot/confirm']").count() == 0
    screenshot(waiting_zh, "ballot-page-refused-on-paper-zh-390")

    # The desk: how many paper ballots to hand out, never who.
    desk = page_factory("phone")
    sign_in(desk, server, world.staff_id)
    desk.goto(server.url(f"/ballots/rounds/{round_id}/paper-desk"))
    figures = {key: desk.locator(f"main [data-key={key}]").inner_text() for key in ("present", "phone", "to-issue")}
    assert figures == {"present": "6", "phone": "2", "to-issue": "4"}
    assert not re.search(r"代表\d", desk.locator("main").inner_text()), "a deputy named at the desk"
    screenshot(desk, "desk-paper-ballots-to-issue-zh-390")
    checks.page(desk, "paper desk, zh phone")
    desk_en = page_factory("desktop", **WIDE)
    english(desk_en, server)
    sign_in(desk_en, server, world.staff_id)
    desk_en.goto(server.url(f"/ballots/rounds/{round_id}/paper-desk"))
    screenshot(desk_en, "desk-paper-ballots-to-issue-en-1920")
    checks.page(desk_en, "paper desk, en 1920")

    # Closing asks for the paper ballots issued.
    submit(presiding, f"main a[href$='/rounds/{round_id}/close']")
    assert presiding.locator("main #issued[required]").count() == 1
    screenshot(presiding, "close-asks-paper-issued-1920")
    checks.page(presiding, "close on paper, zh 1920")
    presiding.fill("#issued", "4")
    submit(presiding, f"main form[action$='/rounds/{round_id}/close'] button[type=submit]")
    assert presiding.locator("main .state-closed").count() == 1

    # Two scrutineers key the four paper ballots: one on a phone in Chinese, one at a desk in English.
    paper = [[ids[0]], [ids[0], ids[1]], [ids[3]], []]
    first = page_factory("phone")
    sign_in(first, server, world.scrutineer_ids[0])
    key_paper(server, first, round_id, paper)
    screenshot(first, "scrutineer-keyed-zh-390")
    checks.page(first, "paper entry, zh phone")
    submit(first, "main form[action$='/paper/submit'] button[type=submit]")
    second = page_factory("desktop", **WIDE)
    english(second, server)
    sign_in(second, server, world.scrutineer_ids[1])
    key_paper(server, second, round_id, paper)
    submit(second, "main form[action$='/paper/submit'] button[type=submit]")
    assert second.locator("main .flash-success").count() >= 1
    screenshot(second, "scrutineers-agree-en-1920")
    checks.page(second, "paper entries agree, en 1920")

    # The sealed phone ballots are opened with two shares; the other scrutineer confirms.
    second.goto(server.url(f"/ballots/rounds/{round_id}"))
    submit(second, f"main a[href$='/rounds/{round_id}/unseal']")
    second.fill("#share-1", world.shares[0])
    second.fill("#share-2", world.shares[1])
    submit(second, "main form button[type=submit]")
    screenshot(second, "opened-count-awaiting-confirmation-en-1920")
    submit(second, f"main form[action$='/rounds/{round_id}/confirm'] button")
    assert second.locator("main .state-confirmed").count() == 1

    # The presiding officer announces a count of the phone and the paper ballots together.
    presiding.goto(server.url(f"/ballots/rounds/{round_id}"))
    submit(presiding, f"main a[href$='/rounds/{round_id}/announce']")
    submit(presiding, f"main form[action$='/rounds/{round_id}/announce'] button")
    assert presiding.locator("main .state-announced").count() == 1
    screenshot(presiding, "announced-zh-1920")
    checks.page(presiding, "announced round, zh 1920")
    with server.app.app_context():
        round_ = db.session.get(Round, round_id)
        result = service.count_round(round_)
        board = service.round_board(round_)
    assert (result.returned, round_.issued_count, round_.phone_voters, round_.paper_issued) == (6, 6, 2, 4)
    assert {cid: result.votes[cid] for cid in ids} == {ids[0]: 3, ids[1]: 2, ids[2]: 1, ids[3]: 1}
    public = page_factory("phone")
    english(public, server)
    public.goto(server.url(f"/ballots/rounds/{round_id}/board.json"))
    assert json.loads(public.locator("body").inner_text())["digest"] == board["digest"]
    public.goto(server.url(f"/ballots/rounds/{round_id}/results"))
    screenshot(public, "public-result-en-390")
    checks.page(public, "public result, en phone")

    assert checks.problems == [], "\n".join(checks.problems)
