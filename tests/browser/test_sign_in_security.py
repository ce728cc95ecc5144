"""A staff member turns on the authenticator-app code on a 1920x1080 screen, then signs in
with it on a phone: the pages pass axe, fit the screen and break no security policy."""

import pyotp

from tests.browser.test_project_lifecycle import Axe, Watch, sign_in, submit

PASSWORD = "correct horse battery"
FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def next_code(live_server) -> str:
    """The code after the last one used (the one that turned the factor on)."""
    with live_server.app.app_context():
        from voting_app.auth.models import User
        from voting_app.db import db

        user = db.session.get(User, live_server.world.staff_id)
        return pyotp.TOTP(user.totp_secret).generate_otp(user.totp_last_step + 1)


def test_turning_on_the_app_code_and_signing_in_with_it(live_server, page_factory, screenshot):
    username = live_server.usernames[live_server.world.staff_id]
    watch, axe = Watch(), Axe()

    desk = watch.page(page_factory, "desktop", "staff desktop", **FULL_HD)
    sign_in(desk, live_server, username, PASSWORD)
    desk.goto(live_server.url("/account/security"))
    assert desk.locator("main svg.qr").count() == 1
    screenshot(desk, "security-enrol-desktop")
    axe.check(desk, "security-enrol-desktop")
    secret = desk.locator("main code.digest").inner_text().strip()
    desk.fill("#password", PASSWORD)
    desk.fill("#code", pyotp.TOTP(secret).now())
    assert submit(desk, "main form button[type=submit]").status == 200
    assert "验证码" in desk.locator("main .flash-success").first.inner_text()
    screenshot(desk, "security-on-desktop")
    axe.check(desk, "security-on-desktop")

    phone = watch.page(page_factory, "phone", "staff phone")
    phone.goto(live_server.url("/login"))
    phone.fill("#username", username)
    phone.fill("#password", PASSWORD)
    assert submit(phone, "main form button[type=submit]").status == 200
    assert "/login/code" in phone.url and phone.locator("header form[action$='/logout']").count() == 0
    screenshot(phone, "login-code-phone")
    axe.check(phone, "login-code-phone")
    phone.fill("#code", next_code(live_server))
    assert submit(phone, "main form button[type=submit]").status == 200
    assert phone.locator("header form[action$='/logout']").count() == 1
    phone.goto(live_server.url("/account/security"))
    screenshot(phone, "security-on-phone")
    axe.check(phone, "security-on-phone")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
