"""The scrutineers' key in the real UI: staff hold the key ceremony at 1920x1080 and print three
shares (the sheets checked in print, their QR codes decoded), a scrutineer checks one share
alone and rehearses with two, a deputy votes on a phone with JavaScript off exactly as before,
and at the count one share is refused while two (one scanned, one typed as four-letter word
starts) open the ballots. Every page is checked with axe; screenshots in test-output/."""

import re

from sqlalchemy import func, select

from tests.browser.test_project_lifecycle import Axe, Watch, sign_in, submit
from tests.conftest import build_world
from tests.qr_decode import decode_svg

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}
PASSWORD = "correct horse battery"


def sealed_and_clear(server, round_id: int) -> tuple[int, int]:
    from voting_app.ballots.models import Ballot, SealedBallot
    from voting_app.db import db

    with server.app.app_context():
        sealed = db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == round_id))
        clear = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.round_id == round_id))
    return sealed, clear


def test_key_ceremony_rehearsal_and_a_count_opened_with_two_of_three_shares(live_server, page_factory, screenshot):
    server = live_server
    with server.app.app_context():
        world = build_world(deputies=9, candidates=4, seats=2, with_key=False)
        names = {role: world.user(uid).username for role, uid in (
            ("staff", world.staff_id), ("presiding", world.presiding_id),
            ("scrutineer", world.scrutineer_ids[0]), ("scrutineer2", world.scrutineer_ids[1]))}
    watch, axe = Watch(), Axe()

    # Staff: the session page leads to the key page; with no key, the round cannot open.
    staff = watch.page(page_factory, "desktop", "staff", **FULL_HD)
    sign_in(staff, server, names["staff"], PASSWORD)
    staff.goto(server.url(f"/sessions/{world.session_id}"))
    submit(staff, f"main a[href$='/ballots/sessions/{world.session_id}/key']")
    assert staff.locator("main .flash-info").count() == 1
    screenshot(staff, "key-page-before-the-ceremony")
    axe.check(staff, "key page, no key")

    presiding = watch.page(page_factory, "desktop", "presiding", **FULL_HD)
    sign_in(presiding, server, names["presiding"], PASSWORD)
    presiding.goto(server.url(f"/ballots/rounds/{world.round_id}"))
    submit(presiding, f"main a[href$='/rounds/{world.round_id}/open']")  # the confirmation step
    submit(presiding, f"form[action$='/rounds/{world.round_id}/open'] button")
    assert "密钥生成仪式" in presiding.locator("main .flash-error").inner_text()

    # The ceremony: 2 of 3, with the holders' names; the shares exist only on this one page.
    staff.fill("#threshold", "2")
    staff.fill("#share_count", "3")
    staff.fill("#holders", "总监票人 陈静\n监票人 刘洋\n监票人 赵磊")
    response = submit(staff, "main form[action$='/key'] button[type=submit]")
    assert response.headers["cache-control"] == "no-store"
    html = staff.content()
    sheets = staff.locator("article.share-sheet")
    assert sheets.count() == 3 and not sheets.first.is_visible(), "shares are shown on paper only, never on screen"
    screenshot(staff, "ceremony-screen")
    axe.check(staff, "ceremony screen")
    shares = [" ".join(sheet.locator(".share-words li").all_inner_texts()) for sheet in sheets.all()]
    assert all(len(share.split()) == 20 for share in shares)
    qr_texts = [decode_svg(svg) for svg in re.findall(r"<svg\b.*?</svg>", html, re.S)]
    assert qr_texts == shares, "each sheet's QR code carries its words"
    test_phrase = re.search(r"<code>([0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4})</code>", html).group(1)
    staff.emulate_media(media="print")
    assert sheets.first.is_visible()
    screenshot(staff, "share-sheets-as-printed")
    pdf = staff.pdf(format="A4", print_background=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") >= 3, "one A4 sheet per share"
    staff.emulate_media(media="screen")
    with server.app.app_context():
        from voting_app.ballots.keys import active_key

        key = active_key(world.session_id)
        assert (key.threshold, key.share_count, key.holders[0]) == (2, 3, "总监票人 陈静")
        key_id = key.id

    # A scrutineer checks share 1 alone, then rehearses with shares 2 and 3.
    scrutineer = watch.page(page_factory, "desktop", "scrutineer", **FULL_HD)
    sign_in(scrutineer, server, names["scrutineer"], PASSWORD)
    scrutineer.goto(server.url(f"/ballots/sessions/{world.session_id}/key/check"))
    scrutineer.fill("#share-1", shares[0])
    submit(scrutineer, "main form button[type=submit]")
    assert "1" in scrutineer.locator("main .flash-success").inner_text()
    assert scrutineer.locator("[data-test-phrase]").count() == 0
    screenshot(scrutineer, "one-share-checked")
    axe.check(scrutineer, "share check")
    scrutineer.fill("#share-1", shares[1])
    scrutineer.fill("#share-2", shares[2])
    submit(scrutineer, "main form button[type=submit]")
    assert scrutineer.locator("[data-test-phrase]").get_attribute("data-test-phrase") == test_phrase
    screenshot(scrutineer, "rehearsal-opened-the-test-ballot")
    scrutineer.goto(server.url(f"/ballots/sessions/{world.session_id}/key"))
    assert "从未核验" not in scrutineer.locator("main table").inner_text(), "every share is now shown good"
    screenshot(scrutineer, "key-page-after-the-rehearsal")
    axe.check(scrutineer, "key page")

    # The round opens; a deputy votes on a phone with JavaScript off, as before the key existed.
    presiding.goto(server.url(f"/ballots/rounds/{world.round_id}"))
    submit(presiding, f"main a[href$='/rounds/{world.round_id}/open']")  # the confirmation step
    submit(presiding, f"form[action$='/rounds/{world.round_id}/open'] button")
    with server.app.app_context():
        from voting_app.ballots.models import Round
        from voting_app.db import db

        assert db.session.get(Round, world.round_id).key_id == key_id
    token, pin = world.cards[world.deputy_ids[0]]
    deputy = watch.page(page_factory, "phone", "deputy", java_script_enabled=False)
    deputy.goto(server.url(f"/c/{token}"))
    deputy.fill("#pin", pin)
    submit(deputy, "main form button[type=submit]")
    deputy.goto(server.url(f"/ballots/rounds/{world.round_id}/ballot"))
    deputy.check(f"#choice-{world.candidate_ids[1]}")
    submit(deputy, "main form button[type=submit]")
    screenshot(deputy, "deputy-confirm")  # axe needs JavaScript: test_deputy_journey checks these pages with it
    submit(deputy, "main form[action$='/ballot/cast'] button")
    receipt = deputy.locator("[data-receipt]").get_attribute("data-receipt")
    assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", receipt)
    screenshot(deputy, "deputy-receipt")
    assert sealed_and_clear(server, world.round_id) == (1, 0), "the ballot is stored sealed, nothing in clear"
    submit(presiding, f"main a[href$='/rounds/{world.round_id}/close']")  # the confirmation step
    submit(presiding, f"form[action$='/rounds/{world.round_id}/close'] button")

    # The count: one share is refused and says how many are needed; two open the ballots.
    scrutineer.goto(server.url(f"/ballots/rounds/{world.round_id}"))
    submit(scrutineer, f"main a[href$='/rounds/{world.round_id}/unseal']")
    scrutineer.fill("#share-1", shares[0])
    assert submit(scrutineer, "main form button[type=submit]").status == 400
    assert "需要 2 份" in scrutineer.locator("main .flash-error").inner_text()
    assert sealed_and_clear(server, world.round_id) == (1, 0)
    screenshot(scrutineer, "count-refused-with-one-share")
    axe.check(scrutineer, "count refused")
    typed = " ".join(f"{n}. {word[:4]}" for n, word in enumerate(shares[2].split(), start=1))
    assert scrutineer.locator("#share-1").input_value() == "", "a share is never sent back to the screen"
    scrutineer.fill("#share-1", shares[0])
    scrutineer.fill("#share-2", typed)  # share 3 typed as four-letter starts
    submit(scrutineer, "main form button[type=submit]")
    assert "已开启 1 张选票" in scrutineer.locator("main .flash-success").inner_text()
    assert sealed_and_clear(server, world.round_id) == (0, 1)
    screenshot(scrutineer, "count-opened-with-two-shares")
    axe.check(scrutineer, "round after the count")

    second = watch.page(page_factory, "desktop", "scrutineer2", **FULL_HD)
    sign_in(second, server, names["scrutineer2"], PASSWORD)
    second.goto(server.url(f"/ballots/rounds/{world.round_id}"))
    submit(second, f"form[action$='/rounds/{world.round_id}/confirm'] button")
    assert second.locator(".state-confirmed").count() == 1

    assert not watch.foreign and not watch.script_errors, watch.foreign + watch.script_errors
    assert not axe.problems, "\n".join(axe.problems)
