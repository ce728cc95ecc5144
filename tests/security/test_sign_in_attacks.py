"""The attacker at the sign-in pages: guessing passwords, PINs and app codes, replaying
session cookies, and reading the logs."""

import logging
from datetime import timedelta

import pyotp
import pytest
import requests
from sqlalchemy import select, update

from tests.conftest import AUDIT_KEY, SECRET, csrf_token, make_user, post, sign_in
from tests.helpers import new_client, url
from tests.servers import gunicorn_server
from voting_app import create_app
from voting_app.auth import service
from voting_app.auth.models import SignInThrottle, User
from voting_app.auth.service import LOGIN_MAX_FAILURES
from voting_app.ballots.models import Credential
from voting_app.db import db, utcnow
from voting_app import security
from voting_app.logs import RedactingFilter

PASSWORD = "correct horse battery"
GUESSES = 1000


def account(app, role="staff", username=None):
    with app.app_context():
        user = make_user(role, username)
        db.session.commit()
        return user.id, user.username


def user_row(app, user_id):
    with app.app_context():
        return db.session.get(User, user_id)


def throttles(app, user_id) -> dict[str, tuple[int, object]]:
    """The account's lock rows: client -> (failures, locked until)."""
    with app.app_context():
        rows = db.session.execute(select(SignInThrottle.client, SignInThrottle.failures, SignInThrottle.locked_until)
                                  .where(SignInThrottle.user_id == user_id))
        return {client: (failures, until) for client, failures, until in rows}


def locked_clients(app, user_id) -> set[str]:
    now = utcnow()
    return {client.split(":")[0] for client, (_, until) in throttles(app, user_id).items() if until and until > now}


def sign_in_form(client, username, password, address=None):
    """From `address` whether or not the app sits behind a proxy: the socket's address, and
    the proxy's header for an app configured with PROXY_COUNT."""
    kwargs = {"headers": {"X-Forwarded-For": address}, "environ_base": {"REMOTE_ADDR": address}} if address else {}
    return post(client, "/login", {"username": username, "password": password}, **kwargs)


def refusal(response) -> str:
    """The error message a sign-in page shows."""
    page = response.get_data(as_text=True)
    marker = 'class="flash flash-error"'
    return page.split(marker, 1)[1].split(">", 1)[1].split("<", 1)[0].strip() if marker in page else ""


def is_signed_in(client) -> bool:
    return "Sign out" in client.get("/", follow_redirects=True).get_data(as_text=True)


def past_the_locks(app, user_id):
    """What waiting out the locks looks like: their ends moved into the past."""
    with app.app_context():
        db.session.execute(update(SignInThrottle).where(SignInThrottle.user_id == user_id, SignInThrottle.locked_until.is_not(None))
                           .values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()


@pytest.fixture
def limited_app(db_url):
    """The app as deployed behind one proxy, with its rate limits on."""
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "SQLALCHEMY_DATABASE_URI": db_url,
                      "SERVER_NAME": "localhost", "PROXY_COUNT": 1, "RATELIMIT_ENABLED": True,
                      "RATELIMIT_STORAGE_URI": "memory://"})
    yield app
    with app.app_context():
        db.engine.dispose()


# ---- password guessing ---------------------------------------------------------------------

OUTSIDER, OWNER = "203.0.113.7", "198.51.100.20"


def test_an_outsiders_guesses_from_one_address_do_not_lock_the_owner_out(app):
    """The review's attack: anyone could keep `staff` locked by guessing. Now ten wrong
    passwords hold only the address they came from, even against the right password, and the
    owner signing in from elsewhere, on a browser never used before, gets in."""
    user_id, username = account(app)
    outsider = new_client(app)
    for n in range(LOGIN_MAX_FAILURES):
        sign_in_form(outsider, username, f"guess-{n}", address=OUTSIDER)
    assert locked_clients(app, user_id) == {"address"}
    assert sign_in_form(outsider, username, PASSWORD, address=OUTSIDER).status_code == 200
    assert not is_signed_in(outsider), "the right password got in from the locked address"
    owner = new_client(app)
    assert sign_in_form(owner, username, PASSWORD, address=OWNER).status_code == 302
    assert is_signed_in(owner)
    assert sign_in_form(new_client(app), username, PASSWORD, address=OUTSIDER).status_code == 200, \
        "the owner's sign-in elsewhere must not lift the outsider's lock"


def test_guesses_from_many_addresses_lock_unknown_clients_but_not_the_owners_device(app, monkeypatch):
    """A botnet spreads its guesses, a few per address. All unknown clients together meet a
    ceiling (100 in production, 12 here to keep the test short) and are then held, the right
    password included; the browser the owner signed in with before carries a device cookie
    and still gets in."""
    monkeypatch.setattr(service, "UNTRUSTED_MAX_FAILURES", 12)
    user_id, username = account(app)
    owner = new_client(app)
    assert sign_in_form(owner, username, PASSWORD, address=OWNER).status_code == 302
    assert owner.get_cookie("device") is not None
    post(owner, "/logout")
    bots = [new_client(app) for _ in range(12)]
    for n, bot in enumerate(bots):
        sign_in_form(bot, username, f"guess-{n}", address=f"10.0.0.{n + 1}")
    assert locked_clients(app, user_id) == {"untrusted"}
    stranger = new_client(app)
    assert sign_in_form(stranger, username, PASSWORD, address="192.0.2.99").status_code == 200
    assert not is_signed_in(stranger), "the right password got in from an unknown client while they are held"
    assert sign_in_form(owner, username, PASSWORD, address="192.0.2.100").status_code == 302, \
        "the owner's own browser must get in, from any address"
    assert is_signed_in(owner)
    assert not [c for c in throttles(app, user_id) if c.startswith("address:")], \
        "the rows of addresses that never reached a lock are dropped at the next sign-in"
    assert locked_clients(app, user_id) == {"untrusted"}, "the owner's sign-in does not lift the unknown clients' lock"
    past_the_locks(app, user_id)
    assert sign_in_form(stranger, username, PASSWORD, address="192.0.2.99").status_code == 302


def test_the_ceiling_for_unknown_clients_is_nists(app):
    """NIST SP 800-63B 5.2.2: no more than 100 consecutive failed attempts on one account; a
    lock of an hour keeps it to 100 an hour (OWASP ASVS 2.2.1)."""
    assert service.UNTRUSTED_MAX_FAILURES <= 100 and service.UNTRUSTED_LOCK_MINUTES >= 60
    assert [service.lock_length_minutes(15, strikes) for strikes in (1, 2, 3, 4)] == [15, 30, 60, 120]
    assert service.lock_length_minutes(15, 500) == 24 * 60


def test_each_new_lock_of_the_same_address_lasts_twice_as_long(app):
    user_id, username = account(app)
    outsider = new_client(app)
    lengths = []
    for _ in range(2):
        for n in range(LOGIN_MAX_FAILURES):
            sign_in_form(outsider, username, f"guess-{n}", address=OUTSIDER)
        until = throttles(app, user_id)[next(c for c in throttles(app, user_id) if c.startswith("address:"))][1]
        lengths.append(round((until - utcnow()).total_seconds() / 60))
        past_the_locks(app, user_id)
    assert lengths == [15, 30]
    assert sign_in_form(outsider, username, PASSWORD, address=OUTSIDER).status_code == 302
    assert throttles(app, user_id)[next(c for c in throttles(app, user_id) if c.startswith("address:"))][:1] == (0,), \
        "a sign-in from the address forgets its wrong guesses"


def test_unknown_known_and_locked_accounts_get_the_same_answer_for_the_same_work(app, monkeypatch):
    """Nothing on the page tells an outsider whether an account exists or is locked, and each
    case runs one argon2 check, so an unknown name does not answer faster."""
    user_id, username = account(app)
    checks = []
    real = service.secret_matches

    def counted(secret_hash, secret):
        checks.append(secret)
        return real(secret_hash, secret)

    monkeypatch.setattr(service, "secret_matches", counted)
    unknown = sign_in_form(new_client(app), "no-such-account", "a guess", address=OUTSIDER)
    known = sign_in_form(new_client(app), username, "a guess", address=OUTSIDER)
    for n in range(LOGIN_MAX_FAILURES - 1):
        sign_in_form(new_client(app), username, f"guess-{n}", address=OUTSIDER)
    assert locked_clients(app, user_id) == {"address"}
    checks.clear()
    locked = sign_in_form(new_client(app), username, PASSWORD, address=OUTSIDER)
    assert checks == [PASSWORD], "a locked account skipped the password check and answered faster"
    checks.clear()
    sign_in_form(new_client(app), "no-such-account", "a guess", address=OUTSIDER)
    assert checks == ["a guess"]
    answers = {(response.status_code, refusal(response)) for response in (unknown, known, locked)}
    assert len(answers) == 1 and next(iter(answers))[1].startswith("Wrong username or password")
    for response in (unknown, known, locked):
        assert "locked until" not in response.get_data(as_text=True).lower()


def test_guesses_from_one_address_are_slowed_by_the_rate_limit(limited_app):
    user_id, username = account(limited_app)
    client = limited_app.test_client()
    statuses = [sign_in_form(client, username, f"guess-{n}", address=OUTSIDER).status_code for n in range(60)]
    assert statuses.count(429) >= 40, "one address may try at most 20 passwords a minute"
    assert locked_clients(limited_app, user_id) == {"address"}
    # Another address is not slowed by the first one's limit, nor held by its lock.
    assert sign_in_form(client, username, PASSWORD, address=OWNER).status_code == 302


def test_staff_unlock_a_locked_account(app):
    user_id, username = account(app, "scrutineer")
    guesser = new_client(app)
    for n in range(LOGIN_MAX_FAILURES):
        sign_in_form(guesser, username, f"guess-{n}")
    assert locked_clients(app, user_id) == {"address"}
    staff_id, staff_name = account(app)
    staff = new_client(app)
    assert sign_in_form(staff, staff_name, PASSWORD).status_code == 302
    listing = staff.get("/accounts").get_data(as_text=True)
    assert "Some devices locked out until" in listing and "Unlock" in listing
    assert post(staff, url(app, "auth.account_unlock", user_id=user_id)).status_code == 302
    assert throttles(app, user_id) == {}
    assert sign_in_form(new_client(app), username, PASSWORD).status_code == 302
    with app.app_context():
        from voting_app.audit import AuditEntry

        assert db.session.scalar(select(AuditEntry.action).where(AuditEntry.target == f"user:{user_id}")) == "account.unlock"


def test_the_operator_unlocks_an_account_from_the_command_line(app, monkeypatch):
    """When no staff account can sign in (the only one is held), the server's operator can."""
    monkeypatch.setattr(service, "UNTRUSTED_MAX_FAILURES", LOGIN_MAX_FAILURES)
    user_id, username = account(app)
    for n in range(LOGIN_MAX_FAILURES):
        sign_in_form(new_client(app), username, f"guess-{n}", address=OUTSIDER)
    assert locked_clients(app, user_id) == {"address", "untrusted"}
    runner = app.test_cli_runner()
    result = runner.invoke(args=["account-unlock", username])
    assert result.exit_code == 0, result.output
    assert throttles(app, user_id) == {}
    assert sign_in_form(new_client(app), username, PASSWORD, address=OUTSIDER).status_code == 302
    with app.app_context():
        from voting_app.audit import AuditEntry

        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "account.unlock")).one()
        assert (entry.actor, entry.target) == ("cli", f"user:{user_id}")
    unknown = runner.invoke(args=["account-unlock", "no-such-account"])
    assert unknown.exit_code != 0 and "no account named" in unknown.output


def test_a_forged_device_cookie_counts_as_an_unknown_client(app, monkeypatch):
    """The cookie is signed with the secret key: one made elsewhere buys no way past the lock."""
    from itsdangerous import URLSafeTimedSerializer

    monkeypatch.setattr(service, "UNTRUSTED_MAX_FAILURES", 3)
    user_id, username = account(app)
    for n in range(3):
        sign_in_form(new_client(app), username, f"guess-{n}", address=f"10.0.0.{n + 1}")
    forger = new_client(app)
    forger.set_cookie("device", URLSafeTimedSerializer("not-the-key", salt="device-cookie").dumps([[user_id, "made-up"]]))
    assert sign_in_form(forger, username, PASSWORD, address="192.0.2.5").status_code == 200
    assert not is_signed_in(forger)


def test_only_staff_may_unlock_accounts(app):
    user_id, _ = account(app, "scrutineer")
    presiding_id, presiding_name = account(app, "presiding")
    presiding = new_client(app)
    sign_in_form(presiding, presiding_name, PASSWORD)
    assert post(presiding, url(app, "auth.account_unlock", user_id=user_id)).status_code == 403


# ---- PIN guessing ------------------------------------------------------------------------------


def test_a_thousand_pin_guesses_lock_the_card_after_five(app, world):
    deputy_id = world.deputy_ids[0]
    token, pin = world.cards[deputy_id]
    client = new_client(app)
    wrong = [p for p in (f"{n:06d}" for n in range(GUESSES + 1)) if p != pin][:GUESSES]
    statuses = [post(client, f"/c/{token}", {"pin": guess}).status_code for guess in wrong]
    assert statuses[:app.config["PIN_MAX_FAILURES"] - 1] == [401] * (app.config["PIN_MAX_FAILURES"] - 1)
    assert set(statuses[app.config["PIN_MAX_FAILURES"]:]) == {429}
    assert post(client, f"/c/{token}", {"pin": pin}).status_code == 429, "the right PIN got in while the card was locked"
    with app.app_context():
        locked = db.session.scalar(select(Credential.locked_until).where(Credential.deputy_id == deputy_id,
                                                                          Credential.revoked_at.is_(None)))
    assert locked > utcnow()
    staff_id, staff_name = account(app)
    staff = new_client(app)
    sign_in_form(staff, staff_name, PASSWORD)
    post(staff, url(app, "sessions.credential_unlock", session_id=world.session_id, deputy_id=deputy_id))
    assert post(client, f"/c/{token}", {"pin": pin}).status_code == 302


# ---- sessions ----------------------------------------------------------------------------------


def test_signing_in_gives_a_new_session_and_kills_the_old_forms(app):
    """A token handed out before sign-in (a planted session) is worthless afterwards."""
    user_id, username = account(app)
    client = new_client(app)
    client.get("/login")
    before_token = csrf_token(client)
    with client.session_transaction() as session:
        before = dict(session)
    assert sign_in_form(client, username, PASSWORD).status_code == 302
    with client.session_transaction() as session:
        after = dict(session)
    assert after.get("csrf_token") != before.get("csrf_token")
    refused = client.post("/accounts/new", data={"csrf_token": before_token, "username": "x", "display_name": "x",
                                                 "role": "staff", "password": "long enough password"})
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(User.id).where(User.username == "x")) is None


def test_a_session_cookie_copied_before_sign_out_is_dead_after_it(app):
    user_id, username = account(app)
    client = new_client(app)
    sign_in_form(client, username, PASSWORD)
    stolen = client.get_cookie("session").value
    assert post(client, "/logout").status_code == 302
    thief = new_client(app)
    thief.set_cookie("session", stolen)
    response = thief.get("/accounts")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_deputys_session_cookie_copied_before_sign_out_cannot_vote(app, world):
    """The shared venue tablet: the next person must not be able to replay the deputy's cookie."""
    deputy_id = world.deputy_ids[1]
    token, pin = world.cards[deputy_id]
    tablet = new_client(app)
    assert post(tablet, f"/c/{token}", {"pin": pin}).status_code == 302
    stolen = tablet.get_cookie("session").value
    post(tablet, "/logout")
    thief = new_client(app)
    thief.set_cookie("session", stolen)
    assert thief.get("/ballots/").status_code == 401
    # The deputy signs in again with the card and is let in as before.
    assert post(new_client(app), f"/c/{token}", {"pin": pin}).status_code == 302


def test_a_session_forged_with_another_key_is_nobody(app, world):
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    other = Flask("forger")
    other.secret_key = "not-the-real-key"
    forged = SecureCookieSessionInterface().get_signing_serializer(other).dumps({"_user_id": f"user:{world.staff_id}"})
    client = new_client(app)
    client.set_cookie("session", forged)
    assert client.get("/accounts").status_code == 302


# ---- the second factor ------------------------------------------------------------------------


def next_code(app, user_id, secret) -> str:
    """The code of the time step after the last one used: still accepted (phones run a little
    fast or slow), and not yet spent."""
    return pyotp.TOTP(secret).generate_otp(user_row(app, user_id).totp_last_step + 1)


def enrol(app, client) -> str:
    """Turn the app code on through the page, as the account holder would; returns the key."""
    page = client.get("/account/security").get_data(as_text=True)
    secret = page.split('<code class="digest">', 1)[1].split("<", 1)[0]
    response = post(client, "/account/security", {"password": PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302, response.get_data(as_text=True)
    return secret


def test_with_the_app_code_on_a_password_alone_does_not_sign_in(app):
    user_id, username = account(app)
    owner = new_client(app)
    sign_in_form(owner, username, PASSWORD)
    secret = enrol(app, owner)
    assert is_signed_in(owner), "turning the code on keeps the device that did it signed in"
    assert "Password and app code" in owner.get("/accounts").get_data(as_text=True)
    client = new_client(app)
    first = sign_in_form(client, username, PASSWORD)
    assert first.status_code == 302 and "/login/code" in first.headers["Location"]
    assert not is_signed_in(client)
    assert client.get("/accounts").status_code == 302
    done = post(client, "/login/code", {"code": next_code(app, user_id, secret)})
    assert done.status_code == 302 and is_signed_in(client)


def test_an_app_code_cannot_be_used_twice(app):
    user_id, username = account(app)
    owner = new_client(app)
    sign_in_form(owner, username, PASSWORD)
    secret = enrol(app, owner)
    code = next_code(app, user_id, secret)
    first, second = new_client(app), new_client(app)
    sign_in_form(first, username, PASSWORD)
    sign_in_form(second, username, PASSWORD)
    assert post(first, "/login/code", {"code": code}).status_code == 302
    replay = post(second, "/login/code", {"code": code})
    assert replay.status_code == 200 and "does not match" in replay.get_data(as_text=True)
    assert not is_signed_in(second)


def test_guessing_the_app_code_locks_the_account_and_a_right_password_does_not_reset_the_count(app):
    """Knowing the password must not buy unlimited guesses at the six digits."""
    user_id, username = account(app)
    owner = new_client(app)
    sign_in_form(owner, username, PASSWORD)
    enrol(app, owner)
    attacker = new_client(app)
    for n in range(LOGIN_MAX_FAILURES):
        sign_in_form(attacker, username, PASSWORD)  # the password is known: it keeps passing step one
        answer = post(attacker, "/login/code", {"code": f"{n:06d}"})
        assert not is_signed_in(attacker)
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    assert locked_clients(app, user_id) == {"address"}
    assert sign_in_form(attacker, username, PASSWORD).status_code == 200, "the held client may not try again"


def test_the_code_step_needs_the_password_step_first(app):
    client = new_client(app)
    response = post(client, "/login/code", {"code": "123456"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")


def test_turning_the_code_on_signs_out_other_devices_and_off_needs_a_code(app):
    user_id, username = account(app)
    laptop, phone = new_client(app), new_client(app)
    sign_in_form(laptop, username, PASSWORD)
    sign_in_form(phone, username, PASSWORD)
    secret = enrol(app, laptop)
    assert not is_signed_in(phone)
    refused = post(laptop, "/account/security", {"password": PASSWORD, "code": "000000"})
    assert refused.status_code == 400 and user_row(app, user_id).totp_secret == secret
    code = next_code(app, user_id, secret)
    no_password = post(laptop, "/account/security", {"password": "a guess", "code": code})
    assert no_password.status_code == 400 and "This is not the account" in no_password.get_data(as_text=True)
    assert user_row(app, user_id).totp_secret == secret
    assert post(laptop, "/account/security", {"password": PASSWORD, "code": code}).status_code == 302
    assert user_row(app, user_id).totp_secret is None


def test_the_operator_resets_a_lost_phone_from_the_command_line(app):
    user_id, username = account(app)
    owner = new_client(app)
    sign_in_form(owner, username, PASSWORD)
    enrol(app, owner)
    result = app.test_cli_runner().invoke(args=["account-reset-2fa", username])
    assert result.exit_code == 0, result.output
    assert user_row(app, user_id).totp_secret is None
    assert not is_signed_in(owner)
    assert sign_in_form(new_client(app), username, PASSWORD).status_code == 302


# ---- headers and cookies ---------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/login", "/projects/", "/does-not-exist", "/static/css/app.css", "/c/some-card"])
def test_every_response_carries_the_security_headers(app, path):
    response = new_client(app).get(path)
    policy = response.headers["Content-Security-Policy"]
    script_src = next(part for part in policy.split("; ") if part.startswith("script-src"))
    assert script_src == "script-src 'self'"
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers, "HSTS over plain HTTP would be ignored at best"
    assert all(len(response.headers.getlist(name)) == 1 for name in security.HEADERS)


def test_a_security_header_a_view_sets_itself_is_kept_and_not_doubled(app):
    from flask import Response

    with app.test_request_context("/"):
        response = security.add_security_headers(Response("x", headers={"x-frame-options": "SAMEORIGIN"}))
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["Content-Security-Policy"] == security.CONTENT_SECURITY_POLICY


def test_over_https_cookies_are_secure_and_hsts_is_sent(app):
    client = new_client(app)
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookies = response.headers.getlist("Set-Cookie")
    assert cookies and all("Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie for cookie in cookies)
    language = client.get("/language/en?next=/", base_url="https://localhost").headers.getlist("Set-Cookie")
    assert language and all("Secure" in cookie for cookie in language)


def test_over_plain_http_the_session_cookie_is_httponly_and_lax(app):
    cookies = new_client(app).get("/login").headers.getlist("Set-Cookie")
    assert cookies and all("HttpOnly" in c and "SameSite=Lax" in c and "Secure" not in c for c in cookies)


# ---- logs ----------------------------------------------------------------------------------------


def test_the_server_logs_no_card_token_pin_password_or_address(db_url, tmp_path):
    """The production server's access log, after a deputy, an account and a resident used it."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "SERVER_NAME": "localhost"})
    with app.app_context():
        from tests.conftest import build_world

        world = build_world()
        user = make_user("staff")
        db.session.commit()
        username = user.username
    deputy_id = world.deputy_ids[0]
    token, pin = world.cards[deputy_id]
    log = tmp_path / "access.log"
    with gunicorn_server(db_url, SECRET, workers=1, extra_env={"ACCESS_LOG": str(log)}) as base:
        http = requests.Session()
        http.headers["X-Forwarded-For"] = "203.0.113.77"
        page = http.get(f"{base}/c/{token}").text
        form_token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        assert http.post(f"{base}/c/{token}", data={"csrf_token": form_token, "pin": pin}, allow_redirects=False).status_code == 302
        staff = requests.Session()
        page = staff.get(f"{base}/login").text
        form_token = page.split('name="csrf_token" type="hidden" value="', 1)[1].split('"', 1)[0]
        staff.post(f"{base}/login?next=/accounts", data={"csrf_token": form_token, "username": username, "password": PASSWORD})
        staff.get(f"{base}/p/track?code=SECRET-TRACKING-CODE")
    written = log.read_text()
    assert "/c/[card]" in written and "/login" in written
    for secret in (token, pin, PASSWORD, "SECRET-TRACKING-CODE", "203.0.113.77", "127.0.0.1"):
        assert secret not in written, f"{secret!r} in the access log"


def test_an_error_on_a_card_page_is_logged_without_the_token():
    record = logging.LogRecord("voting_app", logging.ERROR, __file__, 1, "Exception on %s [%s]",
                               ("/c/Zx81-secret-token", "POST"), None)
    RedactingFilter().filter(record)
    assert record.getMessage() == "Exception on /c/[card] [POST]"


@pytest.mark.parametrize("kind", ["password", "pin", "security page"])
def test_a_guess_is_checked_without_holding_the_write_lock(app, world, db_url, monkeypatch, kind):
    """Each argon2 check takes about 0.1 s. Held under the write lock, a flood of wrong guesses
    from many addresses would queue every ballot behind hashing; instead another writer gets
    through while the check runs."""
    from sqlalchemy import create_engine, text

    from voting_app.auth import service
    from voting_app.ballots import credentials

    user_id, username = account(app)
    engine = create_engine(db_url, connect_args={"timeout": 0.2} if db_url.startswith("sqlite") else {})
    real = service.secret_matches
    wrote = []

    def meanwhile_someone_writes(secret_hash, secret):
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL lock_timeout = '200ms'"))
            connection.execute(text("UPDATE users SET display_name = display_name WHERE id = :id"), {"id": user_id})
            connection.execute(text("UPDATE credentials SET failed_pins = failed_pins"))
        wrote.append(True)
        return real(secret_hash, secret)

    monkeypatch.setattr(service, "secret_matches", meanwhile_someone_writes)
    monkeypatch.setattr(credentials, "secret_matches", meanwhile_someone_writes)
    client = new_client(app)
    if kind == "password":
        assert sign_in_form(client, username, PASSWORD).status_code == 302
    elif kind == "security page":
        with app.app_context():
            sign_in(client, db.session.get(User, user_id))
        assert post(client, "/account/security", {"password": "a guess", "code": "123456"}).status_code == 400
        assert [failures for failures, _ in throttles(app, user_id).values()] == [1, 1]
    else:
        token, pin = world.cards[world.deputy_ids[0]]
        assert post(client, f"/c/{token}", {"pin": pin}).status_code == 302
    engine.dispose()
    assert wrote == [True]


def test_a_stolen_session_cannot_turn_the_code_on_and_lock_the_owner_out(app):
    """The thief holds the cookie but not the password: with their own phone's code alone,
    the owner's account stays as it was and the owner stays signed in."""
    user_id, username = account(app)
    owner = new_client(app)
    sign_in_form(owner, username, PASSWORD)
    thief = new_client(app)
    thief.set_cookie("session", owner.get_cookie("session").value)
    page = thief.get("/account/security")
    assert page.headers["Cache-Control"] == "no-store"
    secret = page.get_data(as_text=True).split('<code class="digest">', 1)[1].split("<", 1)[0]
    refused = post(thief, "/account/security", {"password": "a guess", "code": pyotp.TOTP(secret).now()})
    assert refused.status_code == 400
    assert user_row(app, user_id).totp_secret is None
    assert is_signed_in(owner)


def test_wrong_passwords_on_the_security_page_count_towards_the_sign_in_lock(app):
    """A thief with a stolen session cookie but not the password must not get unlimited
    guesses at it on the security page: they count as at sign-in, and hold the thief's
    address at the sign-in page too, while the owner's device carries on."""
    user_id, username = account(app)
    owner = new_client(app)
    sign_in_form(owner, username, PASSWORD, address=OWNER)
    thief = new_client(app)
    thief.set_cookie("session", owner.get_cookie("session").value)
    page = thief.get("/account/security").get_data(as_text=True)
    secret = page.split('<code class="digest">', 1)[1].split("<", 1)[0]
    for n in range(LOGIN_MAX_FAILURES):
        answer = post(thief, "/account/security", {"password": f"guess-{n}", "code": pyotp.TOTP(secret).now()},
                      environ_base={"REMOTE_ADDR": OUTSIDER})
        assert answer.status_code == 400
    assert locked_clients(app, user_id) == {"address"}
    held = post(thief, "/account/security", {"password": PASSWORD, "code": pyotp.TOTP(secret).now()},
                environ_base={"REMOTE_ADDR": OUTSIDER})
    assert held.status_code == 400 and "Too many wrong attempts from this device" in held.get_data(as_text=True)
    assert user_row(app, user_id).totp_secret is None, "the right password got through on the page while held"
    assert sign_in_form(new_client(app), username, PASSWORD, address=OUTSIDER).status_code == 200
    assert is_signed_in(owner)
    assert sign_in_form(new_client(app), username, PASSWORD, address=OWNER).status_code == 302


def test_a_wrong_code_when_turning_the_code_off_counts_too(app):
    """Turning the code off with a guessed code is guessing the factor."""
    user_id, username = account(app)
    owner = new_client(app)
    sign_in_form(owner, username, PASSWORD)
    enrol(app, owner)
    assert post(owner, "/account/security", {"password": PASSWORD, "code": "000000"}).status_code == 400
    assert [failures for failures, _ in throttles(app, user_id).values()] == [1], "one row: the owner's own device"


@pytest.mark.parametrize("code", ["١٢٣٤٥٦", "１２３４５６", "12345a", "1234567"])
def test_a_code_in_other_digits_is_refused_plainly_and_counted(app, code):
    user_id, username = account(app)
    owner = new_client(app)
    sign_in_form(owner, username, PASSWORD)
    enrol(app, owner)
    client = new_client(app)
    sign_in_form(client, username, PASSWORD)
    before = sum(failures for failures, _ in throttles(app, user_id).values())
    answer = post(client, "/login/code", {"code": code})
    assert answer.status_code == 200 and not is_signed_in(client)
    assert sum(failures for failures, _ in throttles(app, user_id).values()) - before in (0, 2)


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "/accounts\r\nSet-Cookie:x=1"])
def test_the_code_step_never_sends_anyone_off_the_site(app, target):
    user_id, username = account(app)
    owner = new_client(app)
    sign_in_form(owner, username, PASSWORD)
    secret = enrol(app, owner)
    client = new_client(app)
    first = post(client, "/login?next=" + target, {"username": username, "password": PASSWORD})
    assert first.status_code == 302
    done = post(client, first.headers["Location"], {"code": next_code(app, user_id, secret)})
    assert done.status_code == 302
    location = done.headers["Location"]
    assert location.startswith("/") and not location.startswith("//") and "evil" not in location and "\r" not in location


def test_a_sign_in_lasts_at_most_the_configured_hours(app):
    """A cookie nobody signed out of still dies by itself."""
    user_id, username = account(app)
    client = new_client(app)
    sign_in_form(client, username, PASSWORD)
    assert client.get("/accounts").status_code == 200
    with client.session_transaction() as session:
        session["_signed_in_at"] -= app.config["SESSION_MAX_HOURS"] * 3600 + 60
    response = client.get("/accounts")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
