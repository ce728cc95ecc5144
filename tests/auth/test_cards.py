"""Deputies' voting cards: sign-in with the card's QR token and a PIN, lockout after wrong
PINs, revoking and reissuing, hashes only in the database, and the printed sheet."""

import html
import json
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from sqlalchemy import MetaData, Table, inspect, select

from tests.conftest import post, sign_in
from tests.helpers import new_client, signed_in, url
from tests.qr_decode import decode_all_svgs


def wrong(pin: str) -> str:
    return "000000" if pin != "000000" else "111111"


def enter_pin(client, token, pin):
    return post(client, f"/c/{token}", {"pin": pin})


def error_of(response) -> str:
    match = re.search(r'<p class="flash flash-error" role="alert">(.*?)</p>', response.get_data(as_text=True), re.DOTALL)
    return html.unescape(match.group(1)) if match else ""


def is_signed_in_as_deputy(client, app) -> bool:
    response = client.get(url(app, "ballots.deputy_home"))
    assert response.status_code in (200, 401)  # 401: the page asking to sign in with the card
    return response.status_code == 200


def credential_row(app, deputy_id):
    """(failed PINs, locked until, revoked at) of the deputy's newest card."""
    from voting_app.ballots.models import Credential
    from voting_app.db import db

    with app.app_context():
        credential = db.session.scalars(
            select(Credential).where(Credential.deputy_id == deputy_id).order_by(Credential.id.desc())
        ).first()
        return credential.failed_pins, credential.locked_until, credential.revoked_at


@pytest.fixture
def card(app, world):
    """The first deputy's card: (deputy id, token, PIN)."""
    deputy_id = world.deputy_ids[0]
    token, pin = world.cards[deputy_id]
    return deputy_id, token, pin


@pytest.fixture
def deputy(app):
    return new_client(app)


# ---- signing in ----------------------------------------------------------------------


def test_the_card_page_asks_for_the_pin(app, deputy, card):
    _, token, _ = card
    page = deputy.get(f"/c/{token}").get_data(as_text=True)
    assert 'type="password"' in page and 'inputmode="numeric"' in page
    assert f'action="/c/{token}"' in page


def test_the_right_pin_signs_in_and_lands_on_the_deputy_home(app, deputy, card, world):
    deputy_id, token, pin = card
    response = enter_pin(deputy, token, pin)
    assert response.status_code == 302
    assert response.headers["Location"] == url(app, "ballots.deputy_home")
    home = deputy.get(response.headers["Location"])
    assert home.status_code == 200
    assert "代表1" in home.get_data(as_text=True)
    with app.app_context():
        expected = world.credential(deputy_id).get_id()
    with deputy.session_transaction() as session:
        assert session["_user_id"] == expected


def test_a_pin_typed_with_spaces_around_it_still_works(app, deputy, card):
    _, token, pin = card
    assert enter_pin(deputy, token, f" {pin} ").status_code == 302


def test_a_wrong_pin_says_how_many_attempts_are_left(app, deputy, card):
    deputy_id, token, pin = card
    limit = app.config["PIN_MAX_FAILURES"]
    first = enter_pin(deputy, token, wrong(pin))
    assert first.status_code == 401
    assert error_of(first) == f"Wrong PIN. {limit - 1} attempts left before the card locks."
    second = enter_pin(deputy, token, wrong(pin))
    assert error_of(second) == f"Wrong PIN. {limit - 2} attempts left before the card locks."
    assert credential_row(app, deputy_id)[0] == 2
    assert not is_signed_in_as_deputy(deputy, app)


def test_a_right_pin_resets_the_count_of_wrong_ones(app, deputy, card):
    deputy_id, token, pin = card
    limit = app.config["PIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        enter_pin(deputy, token, wrong(pin))
    assert enter_pin(deputy, token, pin).status_code == 302
    assert credential_row(app, deputy_id)[:2] == (0, None)
    response = enter_pin(new_client(app), token, wrong(pin))
    assert error_of(response) == f"Wrong PIN. {limit - 1} attempts left before the card locks."


def test_a_pin_that_is_not_digits_is_refused_without_counting(app, deputy, card):
    deputy_id, token, _ = card
    response = enter_pin(deputy, token, "abcd")
    assert response.status_code == 400
    assert "The PIN is the digits printed on your PIN slip." in response.get_data(as_text=True)
    assert credential_row(app, deputy_id)[0] == 0


def test_an_unknown_token_is_refused(app, deputy, card):
    _, _, pin = card
    response = enter_pin(deputy, "not-a-real-token", pin)
    assert response.status_code == 401
    assert error_of(response) == "This card is not valid. It may have been replaced; please ask the staff desk."


def lock(app, client, token, pin):
    responses = [enter_pin(client, token, wrong(pin)) for _ in range(app.config["PIN_MAX_FAILURES"])]
    return responses[-1]


def test_too_many_wrong_pins_lock_the_card_even_against_the_right_pin(app, deputy, card):
    deputy_id, token, pin = card
    last = lock(app, deputy, token, pin)
    assert last.status_code == 429
    assert "Too many wrong PINs: this card is locked until" in error_of(last)
    _, locked_until, _ = credential_row(app, deputy_id)
    assert locked_until is not None
    from voting_app.db import utcnow

    minutes = (locked_until - utcnow()).total_seconds() / 60
    assert app.config["PIN_LOCK_MINUTES"] - 1 < minutes <= app.config["PIN_LOCK_MINUTES"]
    # the time is told in Beijing time, not in the UTC the database keeps
    beijing = format_datetime(locked_until.replace(tzinfo=UTC), "short", tzinfo=ZoneInfo("Asia/Shanghai"), locale="en")
    assert f"locked until {beijing}." in error_of(last)

    right = enter_pin(deputy, token, pin)
    assert right.status_code == 429
    assert "this card is locked until" in error_of(right)
    assert "The staff desk can unlock it." in error_of(right)
    assert not is_signed_in_as_deputy(deputy, app)
    # another phone with the same card is locked out too
    assert enter_pin(new_client(app), token, pin).status_code == 429


def test_staff_unlock_a_locked_card(app, deputy, card, world):
    from voting_app.audit import AuditEntry
    from voting_app.db import db

    deputy_id, token, pin = card
    lock(app, deputy, token, pin)
    staff = signed_in(app, "staff")
    cards_page = staff.get(url(app, "sessions.credential_list", session_id=world.session_id)).get_data(as_text=True)
    unlock_url = url(app, "sessions.credential_unlock", session_id=world.session_id, deputy_id=deputy_id)
    assert f'action="{unlock_url}"' in cards_page  # the list offers the button for this card only
    assert cards_page.count("/unlock") == 1

    response = post(staff, unlock_url)
    assert response.status_code == 302
    assert credential_row(app, deputy_id)[:2] == (0, None)
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.target).where(AuditEntry.action == "credential.unlock")) == f"deputy:{deputy_id}"

    assert enter_pin(deputy, token, pin).status_code == 302
    assert is_signed_in_as_deputy(deputy, app)


def test_a_deputy_cannot_unlock_their_own_card(app, deputy, card, world):
    deputy_id, token, pin = card
    other_deputy = new_client(app)
    other_id = world.deputy_ids[1]
    assert enter_pin(other_deputy, world.cards[other_id][0], world.cards[other_id][1]).status_code == 302
    lock(app, deputy, token, pin)
    response = post(other_deputy, url(app, "sessions.credential_unlock", session_id=world.session_id, deputy_id=deputy_id))
    assert response.status_code == 403
    assert credential_row(app, deputy_id)[1] is not None


def test_a_lock_ends_by_itself_when_its_time_has_passed(app, deputy, card):
    from voting_app.ballots.credentials import active_credential
    from voting_app.db import db, utcnow

    deputy_id, token, pin = card
    lock(app, deputy, token, pin)
    with app.app_context():
        active_credential(deputy_id).locked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert enter_pin(deputy, token, pin).status_code == 302
    assert credential_row(app, deputy_id)[:2] == (0, None)


def test_after_a_lock_ends_the_wrong_pins_count_from_zero(app, deputy, card):
    from voting_app.ballots.credentials import active_credential
    from voting_app.db import db, utcnow

    deputy_id, token, pin = card
    lock(app, deputy, token, pin)
    with app.app_context():
        active_credential(deputy_id).locked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    response = enter_pin(deputy, token, wrong(pin))
    assert error_of(response) == f"Wrong PIN. {app.config['PIN_MAX_FAILURES'] - 1} attempts left before the card locks."


# ---- revoking and reissuing ------------------------------------------------------------


def test_a_revoked_card_cannot_sign_in(app, deputy, card, world):
    deputy_id, token, pin = card
    staff = signed_in(app, "staff")
    response = post(staff, url(app, "sessions.credential_revoke", session_id=world.session_id, deputy_id=deputy_id))
    assert response.status_code == 302
    assert credential_row(app, deputy_id)[2] is not None
    refused = enter_pin(deputy, token, pin)
    assert refused.status_code == 401
    assert error_of(refused) == "This card is not valid. It may have been replaced; please ask the staff desk."
    assert not is_signed_in_as_deputy(deputy, app)


def test_a_signed_in_deputy_whose_card_is_revoked_is_signed_out_on_the_next_request(app, deputy, card, world):
    deputy_id, token, pin = card
    assert enter_pin(deputy, token, pin).status_code == 302
    assert is_signed_in_as_deputy(deputy, app)
    post(signed_in(app, "staff"), url(app, "sessions.credential_revoke", session_id=world.session_id, deputy_id=deputy_id))
    response = deputy.get(url(app, "ballots.deputy_home"))
    assert response.status_code == 401
    assert "Sign in with your voting card first" in response.get_data(as_text=True)


def test_a_deputy_signed_in_by_session_is_signed_out_when_the_card_is_revoked(app, deputy, world):
    from voting_app.ballots.credentials import revoke_card
    from voting_app.db import db

    deputy_id = world.deputy_ids[2]
    with app.app_context():
        sign_in(deputy, world.credential(deputy_id))
    assert is_signed_in_as_deputy(deputy, app)
    with app.app_context():
        revoke_card("test", world.credential(deputy_id))
        db.session.commit()
    assert not is_signed_in_as_deputy(deputy, app)


def printed_pins(page: str) -> dict[str, str]:
    """deputy number -> PIN, from the PIN slips of a printed sheet."""
    return dict(re.findall(r"<p>(\S+) \S+</p>\s*<p>PIN <strong>(\d+)</strong></p>", page))


def test_reissuing_gives_a_new_token_and_pin_and_the_old_token_stops_working(app, deputy, card, world):
    from voting_app.ballots.models import Credential
    from voting_app.db import db

    deputy_id, old_token, old_pin = card
    staff = signed_in(app, "staff")
    response = post(staff, url(app, "sessions.credential_reissue", session_id=world.session_id, deputy_id=deputy_id))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    pins = printed_pins(page)
    assert list(pins) == ["001"]
    new_pin = pins["001"]
    [(label, new_url)] = decode_all_svgs(page)
    assert label == "代表1"
    new_token = new_url.rsplit("/", 1)[-1]
    assert new_token != old_token

    refused = enter_pin(deputy, old_token, old_pin)
    assert refused.status_code == 401
    assert error_of(refused) == "This card is not valid. It may have been replaced; please ask the staff desk."
    if new_pin != old_pin:
        assert enter_pin(new_client(app), new_token, old_pin).status_code == 401
    assert enter_pin(deputy, new_token, new_pin).status_code == 302
    assert is_signed_in_as_deputy(deputy, app)
    with app.app_context():
        cards = db.session.scalars(select(Credential).where(Credential.deputy_id == deputy_id).order_by(Credential.id)).all()
        assert [c.revoked_at is None for c in cards] == [False, True]  # one active card per deputy


def test_issuing_when_everyone_has_a_card_prints_nothing(app, world):
    staff = signed_in(app, "staff")
    response = post(staff, url(app, "sessions.credential_issue_all", session_id=world.session_id))
    assert response.status_code == 302
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Every deputy already holds a card. Reissue a single card if one is lost." in page


# ---- nothing in clear in the database ------------------------------------------------------


def clear_secret_hits(app, secrets: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, secret) wherever a token or PIN appears in clear in any table."""
    from voting_app.db import db

    hits = []
    with app.app_context():
        connection = db.session.connection()  # one connection: SQLite writes lock even for reads here
        for name in inspect(connection).get_table_names():
            table = Table(name, MetaData(), autoload_with=connection)
            for row in db.session.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None or isinstance(value, (datetime, date)):
                        continue
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                    for secret in secrets:
                        # a PIN must stand alone (not inside a longer run of digits, as in a hex hash)
                        if re.search(rf"(?<![0-9]){re.escape(secret)}(?![0-9])", text):
                            hits.append((name, column, secret))
        db.session.rollback()
    return hits


def test_the_database_holds_no_token_or_pin_in_clear(app, world):
    from voting_app.auth.service import token_digest
    from voting_app.ballots.models import Credential
    from voting_app.db import db

    # a reissued card and a sign-in, so every path that stores something has run
    staff = signed_in(app, "staff")
    page = post(staff, url(app, "sessions.credential_reissue", session_id=world.session_id, deputy_id=world.deputy_ids[0])).get_data(as_text=True)
    reissued_token = decode_all_svgs(page)[0][1].rsplit("/", 1)[-1]
    reissued_pin = printed_pins(page)["001"]
    deputy_id = world.deputy_ids[1]
    assert enter_pin(new_client(app), *world.cards[deputy_id]).status_code == 302
    enter_pin(new_client(app), world.cards[world.deputy_ids[2]][0], wrong(world.cards[world.deputy_ids[2]][1]))

    secrets = [reissued_token, reissued_pin]
    for token, pin in world.cards.values():
        secrets += [token, pin]
    assert clear_secret_hits(app, secrets) == []

    with app.app_context():
        credentials = db.session.scalars(select(Credential).where(Credential.revoked_at.is_(None))).all()
        assert len(credentials) == 9
        stored = {c.token_hash for c in credentials}
        assert token_digest(reissued_token) in stored
        assert token_digest(world.cards[deputy_id][0]) in stored
        assert all(c.pin_hash.startswith("$argon2") for c in credentials)


def test_the_clear_secret_scan_would_find_a_pin_stored_in_clear(app, world):
    """The scan above must be able to fail: store a PIN in clear and see it found."""
    from voting_app.ballots.credentials import active_credential
    from voting_app.db import db

    deputy_id = world.deputy_ids[0]
    token, pin = world.cards[deputy_id]
    with app.app_context():
        active_credential(deputy_id).pin_hash = pin
        db.session.commit()
    assert clear_secret_hits(app, [token, pin]) == [("credentials", "pin_hash", pin)]


# ---- the printed sheet -----------------------------------------------------------------------


@pytest.fixture
def fresh_session(app):
    """A session of three deputies without cards yet."""
    from voting_app.db import db
    from voting_app.sessions import service
    from voting_app.registry.roster import RosterParse, RosterRow

    with app.app_context():
        congress = service.create_session("test", "樊城区人代会", "会堂")
        rows = (
            RosterRow(2, "001", "张三", "城区代表团", ""),
            RosterRow(3, "002", "李四", "城区代表团", ""),
            RosterRow(4, "003", "欧阳修", "农村代表团", ""),
        )
        service.import_roster("test", congress, RosterParse(rows, ()))
        db.session.commit()
        return congress.id


def test_the_printed_sheet_carries_each_pin_and_a_qr_code_of_the_card_url_that_signs_in(app, fresh_session):
    from voting_app.auth.service import token_digest
    from voting_app.ballots.models import Credential
    from voting_app.db import db
    from voting_app.sessions.models import Deputy

    staff = signed_in(app, "staff")
    response = post(staff, url(app, "sessions.credential_issue_all", session_id=fresh_session))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Voting cards: 3" in page

    pins = printed_pins(page)
    assert sorted(pins) == ["001", "002", "003"]
    assert all(re.fullmatch(r"\d{6}", pin) for pin in pins.values())
    decoded = dict(decode_all_svgs(page))
    assert sorted(decoded) == ["张三", "李四", "欧阳修"]
    for text in decoded.values():
        assert re.fullmatch(r"http://localhost/c/[A-Za-z0-9_-]{32}", text), text
    assert len(set(decoded.values())) == 3

    with app.app_context():
        numbers = {d.name: (d.number, d.id) for d in db.session.scalars(select(Deputy).where(Deputy.session_id == fresh_session))}
        for name, card_url in decoded.items():
            token = card_url.rsplit("/", 1)[-1]
            credential = db.session.scalar(select(Credential).where(Credential.token_hash == token_digest(token)))
            assert credential is not None and credential.deputy_id == numbers[name][1]

    for name, card_url in decoded.items():
        phone = new_client(app)
        path = card_url.removeprefix("http://localhost")
        assert phone.get(path).status_code == 200  # the QR code opens the PIN page
        response = enter_pin(phone, path.rsplit("/", 1)[-1], pins[numbers[name][0]])
        assert response.status_code == 302, name
        home = phone.get(response.headers["Location"]).get_data(as_text=True)
        assert name in home


def test_the_rasteriser_reads_what_qr_svg_makes(app):
    """Guard for the helper: a QR code of a known text decodes to that text."""
    from voting_app.qr import qr_svg

    text = "http://localhost/c/known-token_0123456789abcdefABCDEF"
    assert decode_all_svgs(str(qr_svg(text, "测试"))) == [("测试", text)]


def test_only_staff_may_print_cards(app, world):
    presiding = new_client(app)
    with app.app_context():
        sign_in(presiding, world.user(world.presiding_id))
    response = post(presiding, url(app, "sessions.credential_reissue", session_id=world.session_id, deputy_id=world.deputy_ids[0]))
    assert response.status_code == 403
    assert credential_row(app, world.deputy_ids[0])[2] is None


def test_wrong_pins_sent_at_once_are_all_counted(app, card):
    """A burst of guesses in parallel must not slip past the lock by racing the counter."""
    from concurrent.futures import ThreadPoolExecutor

    deputy_id, token, pin = card
    limit = app.config["PIN_MAX_FAILURES"]
    guesses = limit - 1
    clients = [new_client(app) for _ in range(guesses)]
    for client in clients:
        client.get(f"/c/{token}")
    with ThreadPoolExecutor(max_workers=guesses) as pool:
        statuses = list(pool.map(lambda client: enter_pin(client, token, wrong(pin)).status_code, clients))
    assert statuses == [401] * guesses
    assert credential_row(app, deputy_id)[:2] == (guesses, None)


def test_reloading_a_printed_sheet_does_not_replace_the_cards_just_printed(app, card, world):
    from voting_app.ballots.models import Credential
    from voting_app.db import db

    deputy_id, _, _ = card
    staff = signed_in(app, "staff")
    target = url(app, "sessions.credential_reissue", session_id=world.session_id, deputy_id=deputy_id)
    printed = post(staff, target, {"sheet": "sheet-1"})
    assert printed.status_code == 200 and printed.headers["Cache-Control"] == "no-store"
    reloaded = post(staff, target, {"sheet": "sheet-1"}, follow_redirects=True)
    assert "was issued already" in reloaded.get_data(as_text=True)
    with app.app_context():
        cards = db.session.scalars(select(Credential).where(Credential.deputy_id == deputy_id)).all()
    assert len(cards) == 2 and sum(c.revoked_at is None for c in cards) == 1
    assert post(staff, target, {"sheet": "sheet-2"}).status_code == 200
