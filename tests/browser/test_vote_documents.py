"""The documents of a vote, walked in the browser: the staff print the draft 票决办法 and record
its adoption; the presiding officer opens and closes the round; the scrutineers read the
计票报告单 with its checks and keep a photo of the signed paper; the result is announced and
anyone reads the presidium's 公告. Phone (390x844) and 1920x1080, in Chinese, and the 公告 in
English. Selectors avoid UI wording."""

from tests.ballots.helpers import as_deputy, cast, confirm_round
from tests.browser.conftest import record_page_problems
from tests.browser.test_deputy_journey import sign_in, submit
from tests.images import jpeg_bytes

WIDE = {"viewport": {"width": 1920, "height": 1080}}
CANDIDATES = ("农村公路桥梁新改建", "“一号公路”亮化工程", "市百货站小区文化长廊改造", "社区养老服务中心建设")


def prepare_round(server) -> tuple[int, list[int]]:
    """A draft round of 2 places among 4 candidates, not yet adopted, with all 9 deputies present."""
    from voting_app.ballots import service
    from voting_app.db import db
    from voting_app.sessions import service as sessions
    from voting_app.sessions.models import CongressSession, Deputy

    world = server.world
    with server.app.app_context():
        for deputy_id in world.deputy_ids[3:]:
            sessions.check_in(db.session.get(Deputy, deputy_id), sessions.DESK)
        congress = db.session.get(CongressSession, world.session_id)
        round_ = service.create_round("test", congress, "2027年度民生实事项目票决", "choose_up_to", 2, "roster", "electronic")
        ids = [service.add_candidate("test", round_, name, department="区交通运输局").id for name in CANDIDATES]
        db.session.commit()
        return round_.id, ids


def state_of(server, round_id) -> str:
    from voting_app.ballots.models import Round
    from voting_app.db import db

    with server.app.app_context():
        return db.session.get(Round, round_id).state


def test_the_documents_of_a_vote_from_draft_to_public_notice(live_server, page_factory, screenshot, tmp_path):
    from axe_playwright_python.sync_playwright import Axe

    server, world = live_server, live_server.world
    axe, problems, notes = Axe(), [], []

    def check(page, name):
        record_page_problems(page, name, axe.run(page), problems, notes)

    round_id, ids = prepare_round(server)

    # The staff print the draft and record its adoption (phone, then the wide screen).
    staff = page_factory("phone")
    sign_in(staff, server, world.staff_id)
    staff.goto(server.url(f"/ballots/rounds/{round_id}"))
    assert staff.locator('[data-key="adoption-needed"]').count() == 1
    staff.click(f'a[href="/documents/rounds/{round_id}/measures"]')
    assert staff.locator("[data-article]").count() == 12
    assert "第一条" in staff.inner_text('[data-article="1"]') and "第十二条" in staff.inner_text('[data-article="12"]')
    check(staff, "draft-phone")
    screenshot(staff, "draft-measures-phone-zh")
    wide_staff = page_factory("desktop", **WIDE)
    sign_in(wide_staff, server, world.staff_id)
    wide_staff.goto(server.url(f"/documents/rounds/{round_id}/measures"))
    screenshot(wide_staff, "draft-measures-1920-zh")

    # Opening before the adoption is refused with the reason.
    presiding = page_factory("phone")
    sign_in(presiding, server, world.presiding_id)
    presiding.goto(server.url(f"/ballots/rounds/{round_id}/open"))
    assert presiding.locator('[data-key="adoption-needed"]').count() == 1
    submit(presiding, "main form button[type=submit]")
    assert state_of(server, round_id) == "draft"
    assert presiding.locator(".flash-error").count() >= 1
    screenshot(presiding, "open-refused-phone-zh")

    staff.fill("#adopted_by", "樊城区第十九届人民代表大会第六次会议主席团")
    assert submit(staff, "#adoption button[type=submit]").status == 200
    assert staff.locator('[data-key="adoption-status"]').inner_text().count("主席团") == 1
    screenshot(staff, "adoption-recorded-phone-zh")

    presiding.goto(server.url(f"/ballots/rounds/{round_id}/open"))
    submit(presiding, "main form button[type=submit]")
    assert state_of(server, round_id) == "open"
    votes = [[0, 1], [0, 2], [0, 1], [1, 3], [0, 1], [], [0, 2], [1, 2]]
    for index, choices in enumerate(votes):
        cast(as_deputy(server.app, world, index), round_id, [ids[i] for i in choices])
    presiding.goto(server.url(f"/ballots/rounds/{round_id}/close"))
    submit(presiding, "main form button[type=submit]")
    assert state_of(server, round_id) == "closed"

    # The scrutineers' count report, with its checks, and the photo of the signed paper.
    world.round_id = round_id
    confirm_round(server.app, world)
    scrutineer = page_factory("phone")
    sign_in(scrutineer, server, world.scrutineer_ids[0])
    scrutineer.goto(server.url(f"/ballots/rounds/{round_id}"))
    scrutineer.click(f'a[href="/documents/rounds/{round_id}/count-report"]')
    assert scrutineer.inner_text('[data-key="returned"]') == "8"
    assert scrutineer.locator('[data-holds="true"]').count() == 4
    check(scrutineer, "count-report-phone")
    screenshot(scrutineer, "count-report-phone-zh")
    bad = tmp_path / "report.jpg"
    bad.write_bytes(b"not a photo at all")
    scrutineer.set_input_files("#photos-input", str(bad))
    submit(scrutineer, "#photos button[type=submit]")
    assert scrutineer.locator(".flash-error").count() == 1 and scrutineer.locator(".photos img").count() == 0
    signed = tmp_path / "signed.jpg"
    signed.write_bytes(jpeg_bytes(size=(1200, 900), colour=(235, 235, 225)))
    scrutineer.set_input_files("#photos-input", str(signed))
    submit(scrutineer, "#photos button[type=submit]")
    assert scrutineer.locator(".photos img").count() == 1
    assert scrutineer.evaluate("document.querySelector('.photos img').naturalWidth") > 0
    screenshot(scrutineer, "count-report-photo-phone-zh")
    wide_scrutineer = page_factory("desktop", **WIDE)
    sign_in(wide_scrutineer, server, world.scrutineer_ids[0])
    wide_scrutineer.goto(server.url(f"/documents/rounds/{round_id}/count-report"))
    screenshot(wide_scrutineer, "count-report-1920-zh")

    # Announced: the presidium's 公告, public, on a phone and the wide screen, and in English.
    presiding.goto(server.url(f"/ballots/rounds/{round_id}/announce"))
    submit(presiding, "main form button[type=submit]")
    assert state_of(server, round_id) == "announced"
    public = page_factory("phone")
    public.goto(server.url(f"/documents/rounds/{round_id}/notice"))
    assert "第1号" in public.inner_text('[data-key="notice-number"]')
    assert CANDIDATES[0] in public.inner_text('[data-key="elected"]')
    check(public, "notice-phone")
    screenshot(public, "notice-phone-zh")
    wide_public = page_factory("desktop", **WIDE)
    wide_public.goto(server.url(f"/documents/rounds/{round_id}/notice"))
    screenshot(wide_public, "notice-1920-zh")
    english = page_factory("desktop", **WIDE)
    english.context.add_cookies([{"name": "lang", "value": "en", "url": server.base_url}])
    english.goto(server.url(f"/documents/rounds/{round_id}/notice"))
    assert "(No. 1)" in english.inner_text('[data-key="notice-number"]')
    screenshot(english, "notice-1920-en")

    assert problems == [], "\n".join(problems)
