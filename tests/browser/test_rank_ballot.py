"""A priority ballot on a 390x844 phone: one deputy numbers the candidates with JavaScript
turned off, trips over a repeated number, corrects it, confirms the order and casts; another
deputy's phone, with JavaScript, is checked with axe-core on the same pages; the announced
result shows votes, points and the priority order. Selectors avoid UI wording."""

from sqlalchemy import func, select

from tests.ballots.helpers import as_deputy, ticket_from
from tests.browser.conftest import record_page_problems
from tests.conftest import adopt, post
from tests.browser.test_deputy_journey import submit
from tests.browser.test_project_lifecycle import in_english

CANDIDATES = ("农村公路桥梁新改建", "“一号公路”亮化工程", "市百货站小区文化长廊改造", "社区养老服务中心建设", "老旧小区雨污分流改造")


def prepare_rank_round(server) -> tuple[int, list[int]]:
    """A rank round of 3 places among 5 candidates, open, with 7 of 9 deputies present."""
    from voting_app.ballots import service
    from voting_app.db import db
    from voting_app.sessions import service as sessions
    from voting_app.sessions.models import CongressSession, Deputy

    world = server.world
    with server.app.app_context():
        for deputy_id in world.deputy_ids[3:7]:
            sessions.check_in(db.session.get(Deputy, deputy_id), sessions.DESK)
        congress = db.session.get(CongressSession, world.session_id)
        round_ = service.create_round("test", congress, "2027年镇级民生实事项目排序票决", "rank", 3, "roster", "electronic")
        ids = [service.add_candidate("test", round_, name, department="镇人民政府").id for name in CANDIDATES]
        adopt(round_)
        service.open_round("test", round_)
        db.session.commit()
        return round_.id, ids


def sign_in_card(page, server, deputy_id) -> None:
    token, pin = server.world.cards[deputy_id]
    page.goto(server.url(f"/c/{token}"))
    page.fill("#pin", pin)
    assert submit(page, "main form button[type=submit]").status == 200
    assert page.url.endswith("/ballots/")


def number(page, numbers: dict[int, int | str]) -> None:
    for candidate_id, value in numbers.items():
        page.select_option(f"#rank-{candidate_id}", str(value))


def sealed_count(server, round_id) -> int:
    from voting_app.ballots.models import SealedBallot
    from voting_app.db import db

    with server.app.app_context():
        return db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == round_id))


def test_a_deputy_numbers_candidates_on_a_phone_without_javascript(live_server, page_factory, screenshot):
    from axe_playwright_python.sync_playwright import Axe

    server, world = live_server, live_server.world
    round_id, ids = prepare_rank_round(server)
    a, b, c, d, e = ids
    confirm_button = f"main form[action$='/rounds/{round_id}/ballot/confirm'] button[type=submit]"

    # Without JavaScript: the selects, a repeated number, the correction, the order, the cast.
    plain = page_factory("phone", java_script_enabled=False)
    sign_in_card(plain, server, world.deputy_ids[0])
    plain.goto(server.url(f"/ballots/rounds/{round_id}/ballot"))
    assert plain.locator("main select[name^=rank-]").count() == 5
    assert plain.locator(f"#rank-{a} option").count() == 4  # empty, 1, 2, 3
    screenshot(plain, "no-js-ballot")

    number(plain, {c: 1, a: 1, e: 2})
    assert submit(plain, confirm_button).status == 400
    alert = plain.locator("main .flash-error[role=alert]")
    assert alert.count() == 1 and "1" in alert.inner_text()
    assert [plain.input_value(f"#rank-{cid}") for cid in ids] == ["1", "", "1", "", "2"], "the deputy's numbers are kept"
    assert plain.locator("main .rank-row.missing").count() == 2  # both projects numbered 1 are flagged
    assert sealed_count(server, round_id) == 0
    screenshot(plain, "no-js-repeated-number")

    number(plain, {a: 2, e: 3})
    assert submit(plain, confirm_button).status == 200
    assert plain.locator("main ol.chosen li").all_inner_texts() == [CANDIDATES[2], CANDIDATES[0], CANDIDATES[4]]
    screenshot(plain, "no-js-confirm-order")
    assert submit(plain, f"main form[action$='/rounds/{round_id}/ballot/cast'] button[type=submit]").status == 200
    assert plain.url.endswith(f"/rounds/{round_id}/receipt")
    assert sealed_count(server, round_id) == 1
    screenshot(plain, "no-js-receipt")

    # In English, without JavaScript: the ballot, a repeated number refused, the order to confirm
    # (this deputy does not cast, so the count below stays as it is).
    english = in_english(page_factory("phone", java_script_enabled=False), server)
    sign_in_card(english, server, world.deputy_ids[6])
    english.goto(server.url(f"/ballots/rounds/{round_id}/ballot"))
    assert english.get_attribute("html", "lang") == "en"
    assert "Number at most 3 of 5 projects by priority" in english.locator("main fieldset.rank legend").inner_text()
    screenshot(english, "en-no-js-ballot")
    number(english, {b: 1, d: 1})
    assert submit(english, confirm_button).status == 400
    assert "You gave the number 1 to more than one project" in english.locator("main .flash-error[role=alert]").inner_text()
    screenshot(english, "en-no-js-repeated-number")
    number(english, {d: 2, a: 3})
    assert submit(english, confirm_button).status == 200
    assert english.locator("main ol.chosen li").all_inner_texts() == [CANDIDATES[1], CANDIDATES[3], CANDIDATES[0]]
    screenshot(english, "en-no-js-confirm-order")

    # With JavaScript, the same pages through axe-core and the layout checks.
    axe, problems, notes = Axe(), [], []
    phone = page_factory("phone")
    sign_in_card(phone, server, world.deputy_ids[1])
    phone.goto(server.url(f"/ballots/rounds/{round_id}/ballot"))
    record_page_problems(phone, "rank ballot", axe.run(phone), problems, notes)
    number(phone, {a: 1, b: 3})
    assert submit(phone, confirm_button).status == 400
    record_page_problems(phone, "rank ballot with a skipped number", axe.run(phone), problems, notes)
    screenshot(phone, "js-skipped-number")
    number(phone, {b: 2})
    assert submit(phone, confirm_button).status == 200
    record_page_problems(phone, "rank confirm page", axe.run(phone), problems, notes)
    assert submit(phone, f"main form[action$='/rounds/{round_id}/ballot/cast'] button[type=submit]").status == 200

    # Four more deputies vote; then the count, announced: votes, points and the priority order.
    for index, numbers in enumerate(({a: 1, c: 2, b: 3}, {c: 1, a: 2}, {a: 1, e: 2, c: 3}, {b: 1, a: 2, c: 3}), start=2):
        client = as_deputy(server.app, world, index)
        data = {"ticket": ticket_from(client, round_id), **{f"rank-{cid}": str(n) for cid, n in numbers.items()}}
        assert post(client, f"/ballots/rounds/{round_id}/ballot/cast", data).status_code == 302
    from voting_app.ballots import service
    from voting_app.ballots.models import Round
    from voting_app.db import db

    with server.app.app_context():
        round_ = db.session.get(Round, round_id)
        service.close_round(world.user(world.presiding_id), round_)
        service.unseal_round(world.user(world.scrutineer_ids[0]), round_, list(world.shares[:2]))
        service.confirm_round(world.user(world.scrutineer_ids[1]), round_)
        service.announce_round(world.user(world.presiding_id), round_)
        db.session.commit()
    phone.goto(server.url(f"/ballots/rounds/{round_id}/results"))
    rows = phone.locator("main table.results tbody tr")
    assert rows.count() == 5
    # a: 6 votes, 2+3+3+2+3+2 = 15 points; c: 5 votes, 3+2+3+1+1 = 10 points; both pass the roster
    # of 9, in that priority; b (3 votes) and e (2) do not.
    assert rows.nth(0).locator("td").all_inner_texts()[:5] == ["1", CANDIDATES[0], "6", "15", "1"]
    assert rows.nth(1).locator("td").all_inner_texts()[:5] == ["2", CANDIDATES[2], "5", "10", "2"]
    assert rows.nth(2).locator("td").all_inner_texts()[:5] == ["3", CANDIDATES[1], "3", "6", ""]
    record_page_problems(phone, "rank results", axe.run(phone), problems, notes)
    screenshot(phone, "js-results")
    phone_en = in_english(page_factory("phone"), server)
    phone_en.goto(server.url(f"/ballots/rounds/{round_id}/results"))
    assert phone_en.locator("main table.results tbody tr").nth(0).locator("td").all_inner_texts()[:5] == ["1", CANDIDATES[0], "6", "15", "1"]
    assert "Votes and points per candidate" in phone_en.locator("main table.results caption").inner_text()
    found: list[str] = []
    record_page_problems(phone_en, "rank results in English", axe.run(phone_en), found, notes)
    problems += [line for line in found if "<html lang>" not in line]
    screenshot(phone_en, "en-js-results")
    print("\n".join(notes))
    assert problems == [], "\n".join(problems)
