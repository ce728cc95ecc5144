"""Casting a ballot: the rules a deputy meets on the phone, enforced by the server."""

import re

import pytest
from sqlalchemy import func, select, update

from tests.ballots.helpers import (
    as_deputy,
    as_role,
    cast,
    close_round,
    open_round,
    sealed_contents,
    unseal_round,
    receipt_of,
    ticket_from,
)
from tests.conftest import build_world, post
from voting_app.ballots import service
from voting_app.ballots.models import Ballot, BallotMarker, Credential, Round
from voting_app.db import db, utcnow
from voting_app.errors import ConflictError


def stored(app, world, round_id=None):
    round_id = round_id or world.round_id
    with app.app_context():
        markers = db.session.scalar(select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == round_id))
        in_clear = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.round_id == round_id))
    assert in_clear == 0, "no ballot is stored in clear while its round is voted"
    return [choices for _receipt, choices in sealed_contents(app, world, round_id)], markers


def test_a_valid_ballot_is_stored_with_a_receipt_and_no_name(app, world):
    open_round(app, world)
    deputy = as_deputy(app, world)
    response = cast(deputy, world.round_id, choices=world.candidate_ids[:2])
    assert response.status_code == 302
    receipt = receipt_of(deputy, world.round_id)
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", receipt)
    ballots, markers = stored(app, world)
    assert ballots == [world.candidate_ids[:2]] and markers == 1


def test_an_over_full_ballot_is_refused_with_a_clear_message_and_nothing_stored(app, world):
    open_round(app, world)
    deputy = as_deputy(app, world)
    ticket = ticket_from(deputy, world.round_id)
    review = post(
        deputy,
        f"/ballots/rounds/{world.round_id}/ballot/confirm",
        {"ticket": ticket, "choice": [str(c) for c in world.candidate_ids[:3]]},
    )
    assert review.status_code == 400
    page = review.get_data(as_text=True)
    assert "You chose 3 projects; choose at most 2." in page
    assert all(f'value="{c}" checked' in page for c in world.candidate_ids[:3]), "the deputy's ticks are kept"
    forced = cast(deputy, world.round_id, choices=world.candidate_ids[:3], ticket=ticket)
    assert forced.status_code == 400
    assert stored(app, world) == ([], 0)


def test_crafted_ballots_are_refused(app, world):
    open_round(app, world)
    deputy = as_deputy(app, world)
    for choices in ([world.candidate_ids[0], world.candidate_ids[0]], [999999], ["x"]):
        assert cast(deputy, world.round_id, choices=choices).status_code == 400
    assert stored(app, world) == ([], 0)


def test_a_blank_ballot_is_valid(app, world):
    open_round(app, world)
    assert cast(as_deputy(app, world), world.round_id, choices=[]).status_code == 302
    assert stored(app, world) == ([[]], 1)


def test_a_retry_of_the_same_submission_gets_the_same_receipt(app, world):
    open_round(app, world)
    deputy = as_deputy(app, world)
    ticket = ticket_from(deputy, world.round_id)
    first = cast(deputy, world.round_id, choices=world.candidate_ids[:1], ticket=ticket)
    receipt = receipt_of(deputy, world.round_id)
    again = cast(deputy, world.round_id, choices=world.candidate_ids[:1], ticket=ticket)
    assert first.status_code == again.status_code == 302
    assert receipt_of(deputy, world.round_id) == receipt
    assert stored(app, world) == ([world.candidate_ids[:1]], 1)


def test_a_second_ballot_from_another_device_is_refused(app, world):
    open_round(app, world)
    phone, tablet = as_deputy(app, world), as_deputy(app, world)
    ticket_phone, ticket_tablet = ticket_from(phone, world.round_id), ticket_from(tablet, world.round_id)
    assert cast(phone, world.round_id, choices=world.candidate_ids[:1], ticket=ticket_phone).status_code == 302
    refused = cast(tablet, world.round_id, choices=world.candidate_ids[1:2], ticket=ticket_tablet)
    assert refused.status_code == 409
    assert "already voted" in refused.get_data(as_text=True)
    assert stored(app, world) == ([world.candidate_ids[:1]], 1)


def test_a_ticket_signed_for_another_deputy_is_refused(app, world):
    open_round(app, world)
    other_ticket = ticket_from(as_deputy(app, world, 1), world.round_id)
    assert cast(as_deputy(app, world, 0), world.round_id, choices=[], ticket=other_ticket).status_code == 400
    assert stored(app, world) == ([], 0)


def test_ballots_after_close_are_refused_with_a_clear_message(app, world):
    open_round(app, world)
    deputy = as_deputy(app, world)
    ticket = ticket_from(deputy, world.round_id)
    close_round(app, world)
    response = cast(deputy, world.round_id, choices=[], ticket=ticket)
    assert response.status_code == 409
    assert "Voting in this round has closed" in response.get_data(as_text=True)
    assert stored(app, world) == ([], 0)


def test_a_deputy_who_has_not_checked_in_cannot_vote(app):
    with app.app_context():
        world = build_world(deputies=9, present=5)
    open_round(app, world)
    absent = as_deputy(app, world, 8)
    page = absent.get(f"/ballots/rounds/{world.round_id}/ballot")
    assert page.status_code == 409 and "check in" in page.get_data(as_text=True)


def test_a_round_of_another_session_is_not_found_for_the_deputy(app, world):
    with app.app_context():
        other = build_world()
    open_round(app, other)
    assert as_deputy(app, world).get(f"/ballots/rounds/{other.round_id}/ballot").status_code == 404


def test_for_against_ballots_count_the_for_marks(app):
    with app.app_context():
        world = build_world(method="for_against", candidates=3, seats=2)
    open_round(app, world)
    a, b, c = world.candidate_ids
    assert cast(as_deputy(app, world), world.round_id, marks={a: "for", b: "against", c: "abstain"}).status_code == 302
    assert cast(as_deputy(app, world, 1), world.round_id, marks={a: "maybe"}).status_code == 400
    ballots, _ = stored(app, world)
    assert ballots == [{str(a): "for", str(b): "against", str(c): "abstain"}]


def test_a_for_against_ballot_preselects_nothing_and_asks_for_every_mark(app):
    """No mark is chosen for the deputy; a ballot with an unmarked project is refused with a
    clear message, the marks made are kept, and nothing is stored."""
    with app.app_context():
        world = build_world(method="for_against", candidates=3, seats=2)
    open_round(app, world)
    a, b, c = world.candidate_ids
    deputy = as_deputy(app, world)
    form = deputy.get(f"/ballots/rounds/{world.round_id}/ballot").get_data(as_text=True)
    assert 'type="radio"' in form and "checked" not in form
    ticket = re.search(r'name="ticket" value="([^"]+)"', form).group(1)
    data = {"ticket": ticket, f"mark-{a}": "for", f"mark-{b}": "against"}
    page = post(deputy, f"/ballots/rounds/{world.round_id}/ballot/confirm", data)
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert "Choose for, against or abstain for every project: 1 not chosen yet." in text
    assert re.search(rf'id="mark-{a}-for"[^>]*checked', text) and re.search(rf'id="mark-{b}-against"[^>]*checked', text)
    assert text.count("Not chosen yet") == 1 and not re.search(rf'id="mark-{c}-[a-z]+"[^>]*checked', text)
    assert cast(deputy, world.round_id, marks={a: "for", b: "against"}, ticket=ticket).status_code == 400
    assert stored(app, world) == ([], 0)
    chinese = as_deputy(app, world, 1)
    chinese.set_cookie("lang", "zh_CN")
    ticket = ticket_from(chinese, world.round_id)
    page = post(chinese, f"/ballots/rounds/{world.round_id}/ballot/confirm", {"ticket": ticket, f"mark-{a}": "for"})
    assert "请对每个项目选择赞成、反对或弃权，尚有2项未选择。" in page.get_data(as_text=True)


def test_no_running_totals_while_open_but_staff_see_who_has_not_voted(app, world):
    open_round(app, world)
    cast(as_deputy(app, world, 0), world.round_id, choices=world.candidate_ids[:2])
    staff = as_role(app, world, "staff")
    page = staff.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert 'class="results"' not in page and "Votes per candidate" not in page
    status = staff.get(f"/ballots/rounds/{world.round_id}/status.json").get_json()
    assert status == {"state": "open", "returned": 1, "roster": 9, "present": 9, "quorum": 5, "has_quorum": True}
    turnout = staff.get(f"/ballots/rounds/{world.round_id}/turnout").get_data(as_text=True)
    assert "代表1<" not in turnout and "代表2<" in turnout
    assert as_role(app, world, "staff").get(f"/ballots/rounds/{world.round_id}/results").status_code == 404


def test_closing_freezes_roster_and_presence_for_the_count(app):
    with app.app_context():
        world = build_world(deputies=9, present=6)
    open_round(app, world)
    close_round(app, world)
    unseal_round(app, world)
    with app.app_context():
        from voting_app.sessions import service as sessions
        from voting_app.sessions.models import Deputy

        sessions.check_in(db.session.get(Deputy, world.deputy_ids[8]), sessions.DESK)
        db.session.commit()
        round_ = db.session.get(Round, world.round_id)
        assert (round_.roster_count, round_.present_count, round_.issued_count) == (9, 6, 6)
        from voting_app.ballots import service

        board = service.round_board(round_)
        assert (board["round"]["roster"], board["round"]["present"], board["round"]["issued"]) == (9, 6, 6)


def test_nothing_a_deputy_carries_links_them_to_their_receipt(app, world):
    """The ticket names no deputy; no URL carries it; pages are not cached; sign-out and
    the next card's sign-in leave nothing of the last deputy's receipt on a shared tablet."""
    import base64
    import json

    open_round(app, world)
    tablet = as_deputy(app, world, 0)
    ticket = ticket_from(tablet, world.round_id)
    payload = json.loads(base64.urlsafe_b64decode(ticket.split(".")[0] + "=="))
    assert set(payload) == {"round", "opened", "receipt", "nonce"}  # "opened": the same for every deputy
    form_page = tablet.get(f"/ballots/rounds/{world.round_id}/ballot")
    assert form_page.headers["Cache-Control"] == "no-store"
    review = post(tablet, f"/ballots/rounds/{world.round_id}/ballot/confirm", {"ticket": ticket, "choice": [str(world.candidate_ids[0])]})
    assert 'method="get"' not in review.get_data(as_text=True).lower()
    assert cast(tablet, world.round_id, choices=world.candidate_ids[:1], ticket=ticket).status_code == 302
    receipt = receipt_of(tablet, world.round_id)
    assert receipt == payload["receipt"]

    token, pin = world.cards[world.deputy_ids[1]]
    next_card = post(tablet, f"/c/{token}", {"pin": pin})
    assert next_card.status_code == 302
    assert tablet.get(f"/ballots/rounds/{world.round_id}/receipt").status_code == 404
    assert receipt not in tablet.get("/ballots/").get_data(as_text=True)
    with tablet.session_transaction() as session:
        assert not any(receipt in str(value) for value in session.values())


def test_a_card_revoked_while_its_ballot_waits_for_the_write_turn_is_refused(app, world):
    """The cast does not load the card: a ballot whose card staff revoke before it reaches
    the write must be refused by the write itself."""
    open_round(app, world)
    with app.app_context():
        card = world.credential(world.deputy_ids[0])
        deputy, round_ = card.deputy, db.session.get(Round, world.round_id)
        db.session.execute(update(Credential).where(Credential.id == card.id).values(revoked_at=utcnow()))
        with pytest.raises(ConflictError, match="注销"):
            service.cast_ballot(deputy, round_, world.candidate_ids[:1], service.new_receipt(), "n", card=(card.id, card.session_epoch))
        db.session.rollback()
    assert stored(app, world) == ([], 0)


def test_a_sign_out_elsewhere_before_the_write_stops_the_ballot(app, world):
    """The deputy signs out on another phone (every cookie of the card ends) while a ballot
    from the old cookie is on its way: the write sees the card's epoch has moved on."""
    open_round(app, world)
    with app.app_context():
        card = world.credential(world.deputy_ids[0])
        deputy, round_, epoch = card.deputy, db.session.get(Round, world.round_id), card.session_epoch
        db.session.execute(update(Credential).where(Credential.id == card.id).values(session_epoch=epoch + 1))
        db.session.commit()
        with pytest.raises(service.CardOutOfForce):
            service.cast_ballot(deputy, round_, world.candidate_ids[:1], service.new_receipt(), "n", card=(card.id, epoch))
        db.session.rollback()
        service.cast_ballot(deputy, round_, world.candidate_ids[:1], service.new_receipt(), "n", card=(card.id, epoch + 1))
        db.session.commit()
    assert stored(app, world)[1] == 1


def test_a_workers_copy_of_a_card_that_is_not_the_databases_casts_nothing_and_is_put_right(app, world):
    """The cast takes the card's deputy from the worker's copy, not the database. A copy that
    no longer matches (a database restored under a running worker, where card numbers were
    issued again: here card 0 is taken for deputy 1's, with a ticket signed for deputy 1)
    stores nothing, and the refusal puts the copy right, so the deputy's next try votes."""
    from voting_app.auth import service as auth_service

    open_round(app, world)
    phone = as_deputy(app, world, 0)
    ticket = ticket_from(phone, world.round_id)
    others_ticket = ticket_from(as_deputy(app, world, 1), world.round_id)
    with app.app_context():
        card_id = world.credential(world.deputy_ids[0]).id
    assert auth_service._card_facts[card_id] == (world.deputy_ids[0], world.session_id)
    auth_service._card_facts[card_id] = (world.deputy_ids[1], world.session_id)
    stale = cast(phone, world.round_id, [world.candidate_ids[0]], ticket=others_ticket)
    assert stale.status_code == 409 and "Your ballot was not stored. Please open the ballot again." in stale.get_data(as_text=True)
    assert stored(app, world) == ([], 0)
    assert auth_service._card_facts[card_id] == (world.deputy_ids[0], world.session_id)
    assert cast(phone, world.round_id, [world.candidate_ids[0]], ticket=ticket).status_code == 302
    assert stored(app, world)[1] == 1


def test_a_worker_that_never_saw_a_card_learns_its_whole_session_in_one_read(app, world):
    """A hall's deputies each cast once, mostly on a worker that has not served them before."""
    from voting_app.auth import service as auth_service

    from sqlalchemy import event

    open_round(app, world)
    phone = as_deputy(app, world, 0)
    ticket = ticket_from(phone, world.round_id)
    auth_service._card_facts.clear()
    reads = []

    def note(connection, cursor, statement, parameters, context, executemany):
        if statement.lstrip().startswith("SELECT") and "credentials" in statement:
            reads.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", note)
    assert cast(phone, world.round_id, [world.candidate_ids[0]], ticket=ticket).status_code == 302
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", note)
        cards = {world.credential(deputy_id).id: (deputy_id, world.session_id) for deputy_id in world.deputy_ids}
    assert auth_service._card_facts == cards and len(reads) == 1, reads
