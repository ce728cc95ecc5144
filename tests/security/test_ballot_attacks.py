"""Attacks on casting a ballot, from a deputy's phone or from someone holding parts of it.

Each test is one attack and the answer it must get: refused with the right status and
message, nothing stored (the round's ballots and its who-has-voted markers are exactly as
before), and, where the round is taken on to confirmation, a published board whose digest
verifies and whose count holds exactly the legitimate ballots.
"""

import base64
import hashlib
import hmac
import json
import secrets
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select, update

from tests.ballots.helpers import (
    announce_round,
    as_deputy,
    as_role,
    cast,
    close_round,
    confirm_round,
    open_round,
    receipt_of,
    sealed_contents,
    ticket_from,
    unseal_round,
)
from tests.conftest import SECRET, build_world, csrf_token, post
from voting_app import verify
from voting_app.ballots import routes as ballot_routes
from voting_app.ballots import service
from voting_app.ballots.board import parse_board
from voting_app.ballots.counting import FOR_AGAINST, SATISFACTION, count
from voting_app.ballots.models import BallotMarker, Credential, Round
from voting_app.db import db, utcnow

NOT_VALID = "This ballot is not valid for this round. Please fill it in again."
ALREADY_VOTED = "You have already voted in this round. A ballot cannot be changed once cast."
CLOSED = "Voting in this round has closed; your ballot was not accepted."
CARD_NEEDED = "Sign in with your voting card first"
CSRF_REFUSED = "The form has expired or was not sent from this site."
NOT_FOUND = "This page does not exist."
BAD_REQUEST = "The request could not be understood."
TOO_LARGE = "This is too much to send at once: a photo may be up to 8 MB, a form far less."


# ---- what the round holds ------------------------------------------------------------


def snapshot(app, round_id: int) -> tuple[list, list]:
    """The round's ballots as (receipt, choices), sealed ones opened in memory with the
    scrutineers' shares, and the deputies marked as having voted."""
    sealed = [(receipt, choices) for receipt, choices in sealed_contents(app, round_id=round_id)]
    with app.app_context():
        ballots = sorted([(receipt, choices) for receipt, choices in service.stored_ballots(round_id)] + sealed)
        markers = sorted(db.session.scalars(select(BallotMarker.deputy_id).where(BallotMarker.round_id == round_id)))
    return ballots, markers


def page(response) -> str:
    return response.get_data(as_text=True)


def assert_refused(response, status: int, message: str) -> None:
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {page(response)[:400]}"
    assert message in page(response), f"{message!r} not on the {status} page"


def cast_url(round_id: int) -> str:
    return f"/ballots/rounds/{round_id}/ballot/cast"


def ticket_payload(ticket: str) -> dict:
    """A ticket's (signed, not secret) content: the round and the receipt drawn for it."""
    body = ticket.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))


def issued_ticket(app, deputy_id: int, round_id: int) -> str:
    """A ticket exactly as the ballot page signs it, for the cases where the page itself
    (rightly) refuses to serve one: the attacker is assumed to hold a genuine ticket anyway."""
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        return ballot_routes._tickets(deputy_id).dumps(
            {"round": round_id, "opened": ballot_routes._opening(round_.opened_at), "receipt": service.new_receipt(), "nonce": secrets.token_hex(16)}
        )


def vote(app, world, deputy_index: int, choices=None, marks=None) -> tuple[str, object]:
    """A legitimate ballot through the real pages; returns its receipt and its stored form."""
    client = as_deputy(app, world, deputy_index)
    response = cast(client, world.round_id, choices=choices, marks=marks)
    assert response.status_code == 302, page(response)
    if marks is not None:
        with app.app_context():
            round_ = db.session.get(Round, world.round_id)
            stored = {str(c.id): marks.get(c.id, "abstain") for c in round_.candidates}
        return receipt_of(client, world.round_id), dict(sorted(stored.items()))
    return receipt_of(client, world.round_id), list(choices)


def count_and_check_board(app, world, legitimate: dict[str, object]) -> None:
    """Close (presiding officer), confirm (a scrutineer: someone other than the closer) and
    announce; the public board must verify against its digest and the confirmed digest, the
    recount tool must accept it, and it must hold exactly the legitimate ballots."""
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    board = app.test_client().get(f"/ballots/rounds/{world.round_id}/board.json").get_json()
    parsed = parse_board(board)  # DigestMismatch if the content does not hash to its digest
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        assert board["digest"] == round_.board_digest, "the board differs from what the scrutineer confirmed"
        method = round_.method
        server_count = service.count_round(round_).to_json()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "board.json"
        path.write_text(json.dumps(board, ensure_ascii=False), encoding="utf-8")
        assert verify.main([str(path), "--json"]) == 0
    assert {b["receipt"]: b["choices"] for b in board["ballots"]} == legitimate
    result = count(parsed.rules, parsed.ballots)
    assert result.to_json() == server_count
    assert (result.returned, result.valid, result.void) == (len(legitimate), len(legitimate), 0)
    if method == FOR_AGAINST:
        expected = Counter(int(cid) for marks in legitimate.values() for cid, mark in marks.items() if mark == "for")
    elif method == SATISFACTION:
        expected = Counter(
            int(cid) for ratings in legitimate.values() for cid, r in ratings.items() if r in ("satisfied", "mostly_satisfied")
        )
    else:
        expected = Counter(cid for choices in legitimate.values() for cid in choices)
    assert dict(result.votes) == {cid: expected.get(cid, 0) for cid in world.candidate_ids}


# ---- replays -------------------------------------------------------------------------


def test_a_replayed_cast_gets_the_first_receipt_and_never_a_second_ballot(app, world):
    """The ticket makes casting idempotent; replaying it (even with other choices, even from
    a second device of the same card) must not add or change a ballot."""
    open_round(app, world)
    a, b, c, d = world.candidate_ids
    phone = as_deputy(app, world, 0)
    ticket = ticket_from(phone, world.round_id)
    assert cast(phone, world.round_id, choices=[a], ticket=ticket).status_code == 302
    receipt = receipt_of(phone, world.round_id)
    assert receipt == ticket_payload(ticket)["receipt"]
    before = snapshot(app, world.round_id)
    assert before == ([(receipt, [a])], [world.deputy_ids[0]])

    second_device = as_deputy(app, world, 0)
    for client, choices in ((phone, [a]), (phone, [b, c]), (phone, []), (second_device, [d])):
        replay = cast(client, world.round_id, choices=choices, ticket=ticket)
        assert replay.status_code == 302
        assert receipt_of(client, world.round_id) == receipt
        assert snapshot(app, world.round_id) == before

    count_and_check_board(app, world, {receipt: [a]})


def test_a_second_ticket_of_a_deputy_who_already_voted_is_refused(app, world):
    """Two tabs, two tickets: once one is cast, the other must not bring a second ballot, and
    no page hands out a fresh ticket any more."""
    open_round(app, world)
    a, b = world.candidate_ids[:2]
    phone = as_deputy(app, world, 0)
    first, second = ticket_from(phone, world.round_id), ticket_from(phone, world.round_id)
    assert first != second
    assert cast(phone, world.round_id, choices=[a], ticket=first).status_code == 302
    receipt = receipt_of(phone, world.round_id)
    before = snapshot(app, world.round_id)

    assert_refused(cast(phone, world.round_id, choices=[b], ticket=second), 409, ALREADY_VOTED)
    assert_refused(cast(as_deputy(app, world, 0), world.round_id, choices=[b], ticket=second), 409, ALREADY_VOTED)
    assert_refused(phone.get(f"/ballots/rounds/{world.round_id}/ballot"), 409, "You have already voted in this round.")
    review = post(phone, f"/ballots/rounds/{world.round_id}/ballot/confirm", {"ticket": second, "choice": [str(b)]})
    assert_refused(review, 409, "You have already voted in this round.")
    assert snapshot(app, world.round_id) == before
    assert receipt_of(phone, world.round_id) == receipt

    count_and_check_board(app, world, {receipt: [a]})


def test_a_ticket_of_another_round_is_refused(app, world):
    """A ticket names its round: one drawn for round 1 cannot be spent in round 2 of the same
    session, even though the same deputy may vote in both."""
    with app.app_context():
        congress = db.session.get(Round, world.round_id).session
        second = service.create_round("test", congress, "第二轮", "choose_up_to", 1, "roster", "electronic")
        second_candidates = [service.add_candidate("test", second, f"乙{i}").id for i in range(2)]
        second_id = second.id
        db.session.commit()
    open_round(app, world)
    assert post(as_role(app, world, "presiding"), f"/ballots/rounds/{second_id}/open").status_code == 302
    deputy = as_deputy(app, world, 0)
    ticket_round_one = ticket_from(deputy, world.round_id)

    refused = post(deputy, cast_url(second_id), {"ticket": ticket_round_one, "choice": [str(second_candidates[0])]})
    assert_refused(refused, 400, BAD_REQUEST)
    assert snapshot(app, second_id) == ([], [])
    assert snapshot(app, world.round_id) == ([], [])


def test_a_tampered_ticket_is_refused(app, world):
    """The ticket's content is readable but signed: changing the receipt it carries (say, to
    claim a ballot already on the board) breaks the signature."""
    open_round(app, world)
    a = world.candidate_ids[0]
    victim_receipt, victim_ballot = vote(app, world, 1, choices=[a])
    attacker = as_deputy(app, world, 0)
    body, signature = ticket_from(attacker, world.round_id).split(".")
    for receipt in (victim_receipt, "2222-2222-2222"):
        forged_body = base64.urlsafe_b64encode(json.dumps({"round": world.round_id, "receipt": receipt}).encode()).decode().rstrip("=")
        assert_refused(cast(attacker, world.round_id, choices=[], ticket=f"{forged_body}.{signature}"), 400, BAD_REQUEST)
    for junk in ("", "not-a-ticket", "a.b.c"):
        response = post(attacker, cast_url(world.round_id), {"ticket": junk, "choice": [str(a)]})
        assert_refused(response, 400, BAD_REQUEST)
    assert_refused(post(attacker, cast_url(world.round_id), {"choice": [str(a)]}), 400, BAD_REQUEST)
    assert snapshot(app, world.round_id) == ([(victim_receipt, victim_ballot)], [world.deputy_ids[1]])

    count_and_check_board(app, world, {victim_receipt: victim_ballot})


# ---- the round's state and session ---------------------------------------------------


def test_a_cast_before_the_round_opens_is_refused(app, world):
    """A ticket for a round still in preparation must not let a ballot in early."""
    ticket = issued_ticket(app, world.deputy_ids[0], world.round_id)
    deputy = as_deputy(app, world, 0)
    assert deputy.get(f"/ballots/rounds/{world.round_id}/ballot").status_code == 409
    assert_refused(cast(deputy, world.round_id, choices=world.candidate_ids[:1], ticket=ticket), 409, CLOSED)
    assert snapshot(app, world.round_id) == ([], [])


def test_a_cast_after_the_round_closed_is_refused_at_every_later_stage(app, world):
    """A ticket drawn while the round was open stays useless once it closes, through
    confirmation and announcement; the count then holds only the ballots cast in time."""
    open_round(app, world)
    a, b = world.candidate_ids[:2]
    on_time = vote(app, world, 0, choices=[a, b])
    late = as_deputy(app, world, 1)
    late_ticket = ticket_from(late, world.round_id)
    before = snapshot(app, world.round_id)

    close_round(app, world)
    assert_refused(cast(late, world.round_id, choices=[a], ticket=late_ticket), 409, CLOSED)
    assert_refused(cast(late, world.round_id, choices=[a], ticket=issued_ticket(app, world.deputy_ids[1], world.round_id)), 409, CLOSED)
    confirm_round(app, world)
    assert_refused(cast(late, world.round_id, choices=[a], ticket=late_ticket), 409, CLOSED)
    announce_round(app, world)
    assert_refused(cast(late, world.round_id, choices=[a], ticket=late_ticket), 409, CLOSED)
    assert snapshot(app, world.round_id) == before

    board = app.test_client().get(f"/ballots/rounds/{world.round_id}/board.json").get_json()
    parsed = parse_board(board)
    assert {x["receipt"]: x["choices"] for x in board["ballots"]} == dict([on_time])
    assert count(parsed.rules, parsed.ballots).votes[a] == 1


def test_a_cast_into_a_round_of_another_session_is_refused(app, world):
    """A deputy's card belongs to one session: another session's round is not found for it,
    whatever ticket comes with the post."""
    with app.app_context():
        other = build_world()
    open_round(app, world)
    open_round(app, other)
    deputy = as_deputy(app, world, 0)
    own_ticket = ticket_from(deputy, world.round_id)
    crafted = issued_ticket(app, world.deputy_ids[0], other.round_id)

    assert_refused(deputy.get(f"/ballots/rounds/{other.round_id}/ballot"), 404, NOT_FOUND)
    for ticket in (own_ticket, crafted):
        assert_refused(cast(deputy, other.round_id, choices=other.candidate_ids[:1], ticket=ticket), 404, NOT_FOUND)
        review = post(deputy, f"/ballots/rounds/{other.round_id}/ballot/confirm", {"ticket": ticket})
        assert_refused(review, 404, NOT_FOUND)
    assert snapshot(app, other.round_id) == ([], [])
    assert snapshot(app, world.round_id) == ([], [])

    legitimate = dict([vote(app, other, 0, choices=other.candidate_ids[:2])])
    count_and_check_board(app, other, legitimate)


def test_a_deputy_who_has_not_checked_in_cannot_cast(app):
    """Presence is checked again at the cast itself, not only on the ballot page."""
    with app.app_context():
        world = build_world(deputies=9, present=5)
    open_round(app, world)
    absent = as_deputy(app, world, 8)
    assert_refused(absent.get(f"/ballots/rounds/{world.round_id}/ballot"), 409, "Please check in before voting")
    ticket = issued_ticket(app, world.deputy_ids[8], world.round_id)
    review = post(absent, f"/ballots/rounds/{world.round_id}/ballot/confirm", {"ticket": ticket, "choice": [str(world.candidate_ids[0])]})
    assert_refused(review, 409, "Please check in before voting")
    assert_refused(cast(absent, world.round_id, choices=world.candidate_ids[:1], ticket=ticket), 400, "Please check in before voting.")
    assert snapshot(app, world.round_id) == ([], [])

    count_and_check_board(app, world, dict([vote(app, world, 0, choices=world.candidate_ids[:1])]))


def test_a_paper_round_takes_no_electronic_ballot(app):
    """A round voted on paper is counted from the scrutineers' double entry only: no ballot
    page, no review page and no cast may put a phone ballot into it."""
    with app.app_context():
        world = build_world(mode="paper")
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    assert f"/ballots/rounds/{world.round_id}/ballot" not in page(deputy.get("/ballots/"))
    assert_refused(deputy.get(f"/ballots/rounds/{world.round_id}/ballot"), 409, "This round is voted on paper.")
    ticket = issued_ticket(app, world.deputy_ids[0], world.round_id)
    review = post(deputy, f"/ballots/rounds/{world.round_id}/ballot/confirm", {"ticket": ticket, "choice": [str(world.candidate_ids[0])]})
    assert_refused(review, 409, "This round is voted on paper.")
    assert_refused(cast(deputy, world.round_id, choices=world.candidate_ids[:1], ticket=ticket), 400, "This round is voted on paper.")
    assert snapshot(app, world.round_id) == ([], [])


# ---- the card and the session --------------------------------------------------------


def test_a_revoked_card_cannot_cast_even_with_a_ticket_in_hand(app, world):
    """Staff revoke a lost card through the real route; the phone that holds it, already
    signed in and holding a ticket, is signed out for every deputy page."""
    open_round(app, world)
    a = world.candidate_ids[0]
    phone = as_deputy(app, world, 0)
    ticket = ticket_from(phone, world.round_id)
    staff = as_role(app, world, "staff")
    revoked = post(staff, f"/sessions/{world.session_id}/cards/{world.deputy_ids[0]}/revoke")
    assert revoked.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Credential).where(Credential.deputy_id == world.deputy_ids[0])).revoked_at is not None

    assert_refused(cast(phone, world.round_id, choices=[a], ticket=ticket), 401, CARD_NEEDED)
    assert_refused(phone.get(f"/ballots/rounds/{world.round_id}/ballot"), 401, CARD_NEEDED)
    assert snapshot(app, world.round_id) == ([], [])

    count_and_check_board(app, world, dict([vote(app, world, 1, choices=[a])]))


def test_a_card_out_of_force_learns_nothing_of_rounds_from_the_cast(app, world):
    """The cast does not load the card before it writes, so a revoked card's phone reaches it
    (the write refuses it). Whatever it posts (a round of another session, a forged ticket, a
    ticket of its own) it gets the answer the guard gives on every other page: sign in with
    a card, and it is signed out; never a page that tells the round apart."""
    open_round(app, world)
    a = world.candidate_ids[0]
    phone = as_deputy(app, world, 0)
    ticket = ticket_from(phone, world.round_id)
    with app.app_context():
        db.session.execute(update(Credential).where(Credential.deputy_id == world.deputy_ids[0]).values(revoked_at=utcnow()))
        db.session.commit()
    signed_in = phone.get_cookie("session").value
    for round_id, posted in ((world.round_id + 999, ticket), (world.round_id, ticket[:-4] + "AAAA"), (world.round_id, ticket)):
        phone.set_cookie("session", signed_in)
        assert_refused(cast(phone, round_id, choices=[a], ticket=posted), 401, CARD_NEEDED)
    with phone.session_transaction() as session:
        assert "_user_id" not in session
    assert snapshot(app, world.round_id) == ([], [])


def test_a_reissued_card_does_not_give_a_deputy_a_second_ballot(app, world):
    """One deputy, one ballot: a new card after voting (lost phone, or a staff accomplice)
    must not vote again, and the old card stops working."""
    open_round(app, world)
    a, b = world.candidate_ids[:2]
    receipt, ballot = vote(app, world, 0, choices=[a])
    old_phone = as_deputy(app, world, 0)
    old_ticket = issued_ticket(app, world.deputy_ids[0], world.round_id)
    reissued = post(as_role(app, world, "staff"), f"/sessions/{world.session_id}/cards/{world.deputy_ids[0]}/reissue")
    assert reissued.status_code == 200
    assert_refused(cast(old_phone, world.round_id, choices=[b], ticket=old_ticket), 401, CARD_NEEDED)

    new_phone = as_deputy(app, world, 0)  # signed in with the new card
    assert_refused(new_phone.get(f"/ballots/rounds/{world.round_id}/ballot"), 409, "You have already voted in this round.")
    new_ticket = issued_ticket(app, world.deputy_ids[0], world.round_id)
    assert_refused(cast(new_phone, world.round_id, choices=[b], ticket=new_ticket), 409, ALREADY_VOTED)
    assert snapshot(app, world.round_id) == ([(receipt, ballot)], [world.deputy_ids[0]])

    count_and_check_board(app, world, {receipt: ballot})


def test_a_ticket_signed_for_another_deputy_is_refused_and_does_not_spend_their_vote(app, world):
    """Deputy A posts the ticket B's phone was given: refused, and B can still vote."""
    open_round(app, world)
    a, b = world.candidate_ids[:2]
    deputy_a, deputy_b = as_deputy(app, world, 0), as_deputy(app, world, 1)
    ticket_b = ticket_from(deputy_b, world.round_id)
    assert_refused(cast(deputy_a, world.round_id, choices=[a, b], ticket=ticket_b), 400, BAD_REQUEST)
    review = post(deputy_a, f"/ballots/rounds/{world.round_id}/ballot/confirm", {"ticket": ticket_b, "choice": [str(a)]})
    assert_refused(review, 400, BAD_REQUEST)
    assert snapshot(app, world.round_id) == ([], [])

    assert cast(deputy_b, world.round_id, choices=[b], ticket=ticket_b).status_code == 302
    receipt_b = receipt_of(deputy_b, world.round_id)
    receipt_a, ballot_a = vote(app, world, 0, choices=[a])
    count_and_check_board(app, world, {receipt_b: [b], receipt_a: ballot_a})


def forged_session_cookie(secret: str, data: dict) -> str:
    """A Flask session cookie as the app would write it, but signed with `secret`."""
    forger = Flask("forger")
    forger.secret_key = secret
    return SecureCookieSessionInterface().get_signing_serializer(forger).dumps(data)


def test_a_session_cookie_forged_with_a_wrong_key_signs_nobody_in(app, world):
    """An attacker writes the session cookie of another deputy's card by hand. Signed with
    any key but the server's, it is ignored: no deputy page, no ballot. (With the server's
    key the same cookie would work, which is what makes this test mean something.)"""
    open_round(app, world)
    with app.app_context():
        victim = world.credential(world.deputy_ids[1])
        victim_id = f"credential:{victim.id}"
    raw = "f" * 40
    data = {"_user_id": victim_id, "_fresh": True, "csrf_token": raw}

    genuine = app.test_client()
    genuine.set_cookie("session", forged_session_cookie(SECRET, data))
    assert genuine.get("/ballots/").status_code == 200, "control: a cookie signed with the server's key is accepted"

    attacker = app.test_client()
    attacker.set_cookie("session", forged_session_cookie("not-the-server-key", data))
    assert_refused(attacker.get("/ballots/"), 401, CARD_NEEDED)
    ticket = issued_ticket(app, world.deputy_ids[1], world.round_id)
    wrong_token = URLSafeTimedSerializer("not-the-server-key", salt="wtf-csrf-token").dumps(raw)
    response = attacker.post(cast_url(world.round_id), data={"csrf_token": wrong_token, "ticket": ticket, "choice": [str(world.candidate_ids[0])]})
    assert_refused(response, 400, CSRF_REFUSED)
    assert snapshot(app, world.round_id) == ([], [])


def test_a_session_cookie_edited_to_name_another_card_signs_nobody_in(app, world):
    """Deputy A keeps the signature of A's own, genuine session cookie and swaps B's card
    id into its content: the signature no longer matches and A is not even A any more."""
    open_round(app, world)
    deputy_a = as_deputy(app, world, 0)
    deputy_a.get("/ballots/")
    own = deputy_a.get_cookie("session").value
    with app.app_context():
        victim_id = f"credential:{world.credential(world.deputy_ids[1]).id}"
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(own)
    data["_user_id"] = victim_id
    edited_payload = serializer.dumps(data).rsplit(".", 2)[0]
    tampered = ".".join([edited_payload, *own.rsplit(".", 2)[1:]])
    assert tampered != own

    attacker = app.test_client()
    attacker.set_cookie("session", tampered)
    assert_refused(attacker.get("/ballots/"), 401, CARD_NEEDED)
    ticket = issued_ticket(app, world.deputy_ids[1], world.round_id)
    response = attacker.post(cast_url(world.round_id), data={"csrf_token": csrf_token(deputy_a), "ticket": ticket, "choice": []})
    assert_refused(response, 400, CSRF_REFUSED)
    assert snapshot(app, world.round_id) == ([], [])


def test_a_remember_cookie_forged_with_a_wrong_key_signs_nobody_in(app, world):
    """Flask-Login also reads a 'remember me' cookie; one forged for another card with a
    wrong key must be ignored (the app never issues one, so only a forgery could bring it)."""
    with app.app_context():
        victim_id = f"credential:{world.credential(world.deputy_ids[1]).id}"
    digest = hmac.new(b"not-the-server-key", victim_id.encode(), hashlib.sha512).hexdigest()
    attacker = app.test_client()
    attacker.set_cookie("remember_token", f"{victim_id}|{digest}")
    assert_refused(attacker.get("/ballots/"), 401, CARD_NEEDED)
    assert snapshot(app, world.round_id) == ([], [])


def test_a_session_cookie_copied_before_sign_out_cannot_cast(app, world):
    """A shared venue tablet: the deputy signs in with the card, someone copies the session
    cookie, the deputy signs out. The copy (CSRF token included) must no longer vote."""
    open_round(app, world)
    token, pin = world.cards[world.deputy_ids[0]]
    tablet = app.test_client()
    assert tablet.get(f"/c/{token}").status_code == 200
    assert post(tablet, f"/c/{token}", {"pin": pin}).status_code == 302
    ticket = ticket_from(tablet, world.round_id)
    copied = tablet.get_cookie("session").value
    copied_csrf = csrf_token(tablet)
    assert post(tablet, "/logout").status_code == 302

    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert_refused(thief.get("/ballots/"), 401, CARD_NEEDED)
    response = thief.post(cast_url(world.round_id), data={"csrf_token": copied_csrf, "ticket": ticket, "choice": [str(world.candidate_ids[0])]})
    assert_refused(response, 401, CARD_NEEDED)
    assert snapshot(app, world.round_id) == ([], [])


# ---- crafted ballots -----------------------------------------------------------------

# Choose 2 of 4. Each entry: what is posted as `choice`, and the message the deputy reads.
CRAFTED_CHOICES = {
    "three_of_two": (lambda ids, foreign: [ids[0], ids[1], ids[2]], "You chose 3 projects; choose at most 2."),
    "all_four": (lambda ids, foreign: ids, "You chose 4 projects; choose at most 2."),
    "twenty_thousand": (lambda ids, foreign: [ids[0]] * 20000, "You chose 20000 projects; choose at most 2."),
    "duplicate": (lambda ids, foreign: [ids[0], ids[0]], NOT_VALID),
    "candidate_of_another_round": (lambda ids, foreign: [foreign], NOT_VALID),
    "own_and_foreign": (lambda ids, foreign: [ids[0], foreign], NOT_VALID),
    "not_a_number": (lambda ids, foreign: ["abc"], NOT_VALID),
    "decimal": (lambda ids, foreign: [f"{ids[0]}.0"], NOT_VALID),
    "hexadecimal": (lambda ids, foreign: [hex(ids[0])], NOT_VALID),
    "exponent": (lambda ids, foreign: ["1e3"], NOT_VALID),
    "empty_string": (lambda ids, foreign: [""], NOT_VALID),
    "boolean_word": (lambda ids, foreign: ["True"], NOT_VALID),
    "negative": (lambda ids, foreign: [-ids[0]], NOT_VALID),
    "zero": (lambda ids, foreign: [0], NOT_VALID),
    "beyond_64_bits": (lambda ids, foreign: [2**63], NOT_VALID),
    "huge": (lambda ids, foreign: [10**100], NOT_VALID),
    "five_thousand_digits": (lambda ids, foreign: ["9" * 5000], NOT_VALID),
}


@pytest.mark.parametrize("case", list(CRAFTED_CHOICES))
def test_a_crafted_choose_up_to_ballot_is_refused(app, world, case):
    """Whatever is posted as choices, only a list of at most `seats` distinct candidates of
    this round is stored; a refusal leaves no marker, so the deputy can still vote."""
    with app.app_context():
        foreign = build_world().candidate_ids[0]  # a real candidate, of another session's round
    make, message = CRAFTED_CHOICES[case]
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    assert_refused(cast(deputy, world.round_id, choices=make(world.candidate_ids, foreign), ticket=ticket), 400, message)
    assert snapshot(app, world.round_id) == ([], [])

    assert cast(deputy, world.round_id, choices=world.candidate_ids[:2], ticket=ticket).status_code == 302
    count_and_check_board(app, world, {ticket_payload(ticket)["receipt"]: world.candidate_ids[:2]})


def test_a_candidate_of_another_round_of_the_same_session_is_refused(app, world):
    """The closest foreign candidate: one on a second ballot of the very same session."""
    with app.app_context():
        congress = db.session.get(Round, world.round_id).session
        second = service.create_round("test", congress, "第二轮", "choose_up_to", 2, "roster", "electronic")
        neighbour = service.add_candidate("test", second, "邻轮项目").id
        second_id = second.id
        db.session.commit()
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    assert_refused(cast(deputy, world.round_id, choices=[neighbour]), 400, NOT_VALID)
    assert_refused(cast(deputy, world.round_id, choices=[world.candidate_ids[0], neighbour]), 400, NOT_VALID)
    assert snapshot(app, world.round_id) == ([], [])
    assert snapshot(app, second_id) == ([], [])


def test_extra_form_fields_cannot_redirect_a_ballot(app, world):
    """Fields the page never sends (a deputy id, a round id, a chosen receipt, marks and
    ratings of other methods, a card id) are ignored: the ballot goes to this round under
    the ticket's receipt, and only the sender is marked as having voted."""
    with app.app_context():
        other = build_world()
    open_round(app, world)
    open_round(app, other)
    a = world.candidate_ids[0]
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    crafted = {
        "ticket": ticket,
        "choice": [str(a)],
        "deputy_id": str(world.deputy_ids[1]),
        "deputy": str(world.deputy_ids[1]),
        "round_id": str(other.round_id),
        "round": str(other.round_id),
        "receipt": "2222-3333-4444",
        "card_id": "1",
        "_user_id": f"credential:{world.deputy_ids[1]}",
        "mark-999": "for",
        f"mark-{a}": "against",
        "rate-999": "satisfied",
        "spoiled": "1",
        "copies": "50",
    }
    assert post(deputy, cast_url(world.round_id), crafted).status_code == 302
    receipt = ticket_payload(ticket)["receipt"]
    assert receipt != "2222-3333-4444" and receipt_of(deputy, world.round_id) == receipt
    assert snapshot(app, world.round_id) == ([(receipt, [a])], [world.deputy_ids[0]])
    assert snapshot(app, other.round_id) == ([], [])

    second = vote(app, world, 1, choices=[a])  # deputy_id=... did not spend deputy 2's vote
    count_and_check_board(app, world, {receipt: [a], second[0]: second[1]})


def test_choices_smuggled_in_the_query_string_are_not_counted(app, world):
    """A ballot is read from the posted form only: choices added to the URL (which would
    also land in access logs) must neither add to nor replace what the form carries."""
    open_round(app, world)
    a, b = world.candidate_ids[:2]
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    review = post(deputy, f"/ballots/rounds/{world.round_id}/ballot/confirm?choice={b}", {"ticket": ticket, "choice": [str(a)]})
    assert review.status_code == 200 and f'name="choice" value="{b}"' not in page(review)
    response = post(deputy, f"{cast_url(world.round_id)}?choice={b}", {"ticket": ticket, "choice": [str(a)]})
    assert response.status_code == 302
    receipt = ticket_payload(ticket)["receipt"]
    assert snapshot(app, world.round_id) == ([(receipt, [a])], [world.deputy_ids[0]])

    count_and_check_board(app, world, {receipt: [a]})


FOR_AGAINST_CRAFTED = {
    "mark_for_a_candidate_not_on_the_ballot": lambda ids: {"mark-999": "for"},
    "mark_with_a_non_numeric_id": lambda ids: {"mark-abc": "for"},
    "mark_with_a_negative_id": lambda ids: {f"mark--{ids[0]}": "for"},
    "unknown_mark": lambda ids: {f"mark-{ids[0]}": "yes"},
    "mark_in_capitals": lambda ids: {f"mark-{ids[0]}": "FOR"},
    "empty_mark": lambda ids: {f"mark-{ids[0]}": ""},
}


@pytest.mark.parametrize("case", list(FOR_AGAINST_CRAFTED))
def test_a_crafted_for_against_ballot_is_refused(app, case):
    """For / against / abstain on each candidate of this round, nothing else."""
    with app.app_context():
        world = build_world(method="for_against", candidates=3, seats=2)
    open_round(app, world)
    a, b, c = world.candidate_ids
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    crafted = {"ticket": ticket, f"mark-{a}": "for", f"mark-{b}": "against", **FOR_AGAINST_CRAFTED[case](world.candidate_ids)}
    assert_refused(post(deputy, cast_url(world.round_id), crafted), 400, NOT_VALID)
    assert snapshot(app, world.round_id) == ([], [])

    assert cast(deputy, world.round_id, marks={a: "for", b: "against", c: "abstain"}, ticket=ticket).status_code == 302
    receipt = ticket_payload(ticket)["receipt"]
    count_and_check_board(app, world, {receipt: {str(a): "for", str(b): "against", str(c): "abstain"}})


SATISFACTION_CRAFTED = {
    "rating_for_a_project_not_on_the_ballot": lambda ids: {"rate-999": "satisfied"},
    "rating_with_a_non_numeric_id": lambda ids: {"rate-x": "satisfied"},
    "unknown_rating": lambda ids: {f"rate-{ids[0]}": "delighted"},
    "a_mark_instead_of_a_rating": lambda ids: {f"rate-{ids[0]}": "for"},
}


@pytest.mark.parametrize("case", list(SATISFACTION_CRAFTED))
def test_a_crafted_satisfaction_ballot_is_refused(app, case):
    """A deputies' satisfaction assessment takes one of three ratings per project of the round."""
    with app.app_context():
        world = build_world(method="satisfaction", candidates=3, seats=3)
    open_round(app, world)
    a, b, _ = world.candidate_ids
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    crafted = {"ticket": ticket, f"rate-{a}": "satisfied", **SATISFACTION_CRAFTED[case](world.candidate_ids)}
    assert_refused(post(deputy, cast_url(world.round_id), crafted), 400, NOT_VALID)
    assert snapshot(app, world.round_id) == ([], [])

    fair = {"ticket": ticket, f"rate-{a}": "satisfied", f"rate-{b}": "dissatisfied"}
    assert post(deputy, cast_url(world.round_id), fair).status_code == 302
    receipt = ticket_payload(ticket)["receipt"]
    count_and_check_board(app, world, {receipt: {str(a): "satisfied", str(b): "dissatisfied"}})


# ---- the request itself --------------------------------------------------------------


def test_a_get_to_the_cast_url_stores_nothing(app, world):
    """Casting is a POST only; a link (or a prefetching browser) cannot cast a ballot."""
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    query = {"ticket": ticket, "choice": [str(c) for c in world.candidate_ids[:2]], "csrf_token": csrf_token(deputy)}
    assert deputy.get(cast_url(world.round_id), query_string=query).status_code == 405
    assert deputy.head(cast_url(world.round_id), query_string=query).status_code == 405
    assert snapshot(app, world.round_id) == ([], [])
    assert cast(deputy, world.round_id, choices=[], ticket=ticket).status_code == 302


def test_a_cast_over_the_content_limit_is_refused_and_stores_nothing(app, world):
    """A post over MAX_CONTENT_LENGTH (34 MB) is turned away (413) before it is read."""
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    data = {"ticket": ticket, "choice": [str(world.candidate_ids[0])], "csrf_token": csrf_token(deputy)}
    response = deputy.post(cast_url(world.round_id), data={**data, "padding": "x" * (35 * 1024 * 1024)})
    assert_refused(response, 413, TOO_LARGE)
    assert snapshot(app, world.round_id) == ([], [])
    assert cast(deputy, world.round_id, choices=world.candidate_ids[:1], ticket=ticket).status_code == 302


def test_a_url_encoded_cast_of_a_quarter_million_fields_is_refused_before_parsing(app, world):
    """Any visitor could post a form of millions of tiny fields to any POST route (the CSRF
    check parses it before anything else): about 3 s of CPU and 800 MB of memory for 31 MB.
    A ballot is a few hundred bytes; 2 MB of fields is refused (413) unparsed."""
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    data = {"ticket": ticket, "choice": [str(world.candidate_ids[0])] * 250_000, "csrf_token": csrf_token(deputy)}
    assert_refused(deputy.post(cast_url(world.round_id), data=data), 413, TOO_LARGE)
    assert snapshot(app, world.round_id) == ([], [])


def test_a_multipart_cast_with_too_many_parts_is_refused(app, world):
    """Over Flask's MAX_FORM_PARTS (1000) in a multipart body: refused as too large."""
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    data = {"ticket": ticket, "choice": [str(world.candidate_ids[0])] * 1500, "csrf_token": csrf_token(deputy)}
    response = deputy.post(cast_url(world.round_id), data=data, content_type="multipart/form-data")
    assert_refused(response, 413, TOO_LARGE)
    assert snapshot(app, world.round_id) == ([], [])


# ---- all of it at once, then the count -----------------------------------------------


def test_after_a_barrage_of_attacks_the_board_counts_exactly_the_legitimate_ballots(app, world):
    """Legitimate ballots interleaved with every attack above; the confirmed and announced
    board holds those ballots and nothing else, and its digest verifies."""
    with app.app_context():
        other = build_world()
    open_round(app, world)
    a, b, c, d = world.candidate_ids
    legitimate = {}

    def legit(index, choices):
        receipt, stored = vote(app, world, index, choices=choices)
        legitimate[receipt] = stored
        return receipt

    legit(0, [a, b])
    attacker = as_deputy(app, world, 1)
    attacker_ticket = ticket_from(attacker, world.round_id)
    assert cast(attacker, world.round_id, choices=[c, d, a], ticket=attacker_ticket).status_code == 400
    assert cast(attacker, world.round_id, choices=[c, c], ticket=attacker_ticket).status_code == 400
    assert cast(attacker, world.round_id, choices=[other.candidate_ids[0]], ticket=attacker_ticket).status_code == 400
    assert cast(attacker, world.round_id, choices=["-1"], ticket=attacker_ticket).status_code == 400
    assert cast(attacker, other.round_id, choices=[], ticket=attacker_ticket).status_code == 404
    victim_ticket = ticket_from(as_deputy(app, world, 2), world.round_id)
    assert cast(attacker, world.round_id, choices=[c], ticket=victim_ticket).status_code == 400
    assert cast(attacker, world.round_id, choices=[c], ticket=attacker_ticket).status_code == 302  # the attacker's one fair vote
    legitimate[ticket_payload(attacker_ticket)["receipt"]] = [c]
    assert cast(attacker, world.round_id, choices=[c, d], ticket=attacker_ticket).status_code == 302  # replay: same ballot
    late_ticket = issued_ticket(app, world.deputy_ids[1], world.round_id)
    assert cast(attacker, world.round_id, choices=[d], ticket=late_ticket).status_code == 409

    revoked_phone = as_deputy(app, world, 3)
    revoked_ticket = ticket_from(revoked_phone, world.round_id)
    assert post(as_role(app, world, "staff"), f"/sessions/{world.session_id}/cards/{world.deputy_ids[3]}/revoke").status_code == 302
    assert cast(revoked_phone, world.round_id, choices=[d], ticket=revoked_ticket).status_code == 401

    legit(2, [b])
    legit(4, [])
    legit(5, [a, d])

    presiding, scrutineer = as_role(app, world, "presiding"), as_role(app, world, "scrutineer")
    assert post(presiding, f"/ballots/rounds/{world.round_id}/confirm").status_code == 403
    close_round(app, world)
    straggler = as_deputy(app, world, 6)
    assert cast(straggler, world.round_id, choices=[d], ticket=issued_ticket(app, world.deputy_ids[6], world.round_id)).status_code == 409
    assert post(presiding, f"/ballots/rounds/{world.round_id}/confirm").status_code == 403
    sealed = post(scrutineer, f"/ballots/rounds/{world.round_id}/confirm", follow_redirects=True)
    assert "still sealed" in page(sealed)
    one_share = post(scrutineer, f"/ballots/rounds/{world.round_id}/unseal", {"share": [world.shares[2]]})
    assert_refused(one_share, 400, "2 shares are needed to open the ballots; 1 valid share(s) were given.")
    foreign = post(scrutineer, f"/ballots/rounds/{world.round_id}/unseal", {"share": [world.shares[0], other.shares[1]]})
    assert_refused(foreign, 400, "This share belongs to another key")
    assert post(presiding, f"/ballots/rounds/{world.round_id}/unseal").status_code == 403
    unseal_round(app, world, shares=(2, 0))
    assert post(scrutineer, f"/ballots/rounds/{world.round_id}/confirm").status_code == 302
    announce_round(app, world)

    board = app.test_client().get(f"/ballots/rounds/{world.round_id}/board.json").get_json()
    parsed = parse_board(board)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        assert board["digest"] == round_.board_digest
        assert (round_.roster_count, round_.present_count, round_.issued_count) == (9, 9, 9)
    assert {x["receipt"]: x["choices"] for x in board["ballots"]} == legitimate
    result = count(parsed.rules, parsed.ballots)
    assert (result.returned, result.valid, result.void) == (5, 5, 0)
    assert dict(result.votes) == {a: 2, b: 2, c: 1, d: 1}
    _, markers = snapshot(app, world.round_id)
    assert markers == sorted(world.deputy_ids[i] for i in (0, 1, 2, 4, 5))
    results_page = app.test_client().get(f"/ballots/rounds/{world.round_id}/results")
    assert results_page.status_code == 200
