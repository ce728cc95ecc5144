"""The voting system fails in the hall: an open electronic round continues on paper.

Ballots cast by phone stay sealed; the deputies present who have not voted get paper ballots,
keyed twice by two scrutineers; the count and the board combine both, and the verifier's
recount equals the app's."""

import json
import re
import secrets
import subprocess
import sys

import pytest
from sqlalchemy import func, select

from tests.ballots.helpers import as_deputy, as_role, cast, ticket_from
from tests.conftest import build_world, post
from voting_app import audit
from voting_app.ballots import service
from voting_app.ballots.models import ELECTRONIC, OPEN, PAPER, Ballot, BallotMarker, PaperEntry, Round, SealedBallot
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.sessions.models import Deputy

REASON = "表决器故障"


def load(app, round_id) -> Round:
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        db.session.expunge(round_)
        return round_


def switch(app, world, reason=REASON):
    return post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/paper-switch", {"reason": reason})


def open_and_cast(app, world, voters: int):
    """Open the round and let the first `voters` deputies vote by phone for the first candidate."""
    assert post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/open").status_code == 302
    for index in range(voters):
        assert cast(as_deputy(app, world, index), world.round_id, choices=world.candidate_ids[:1]).status_code == 302


def paper_actions(app, world):
    with app.app_context():
        return [e.action for e in db.session.scalars(select(audit.AuditEntry).where(audit.AuditEntry.action == "round.paper"))]


def test_switching_stops_the_phones_and_keeps_what_was_cast(app, world):
    open_and_cast(app, world, 2)
    late = as_deputy(app, world, 5)
    stale_ticket = ticket_from(late, world.round_id)  # a ballot page open on a phone when the system fails
    page = as_role(app, world, "presiding").get(f"/ballots/rounds/{world.round_id}/paper-switch").get_data(as_text=True)
    assert "9 deputies present: 2 voted by phone, 7 paper ballots to issue." in page
    assert switch(app, world).status_code == 302
    round_ = load(app, world.round_id)
    assert (round_.state, round_.mode, round_.paper_reason) == (OPEN, PAPER, REASON) and round_.paper_from_at is not None
    assert paper_actions(app, world) == ["round.paper"]

    refused = cast(late, world.round_id, choices=world.candidate_ids[:1], ticket=stale_ticket)
    assert refused.status_code == 409
    assert "This round continues on paper. If you have not voted yet, ask the desk for a paper ballot." in refused.get_data(as_text=True)
    assert late.get(f"/ballots/rounds/{world.round_id}/ballot").status_code == 409
    home = late.get("/ballots/").get_data(as_text=True)
    assert 'data-key="on-paper"' in home and f"/ballots/rounds/{world.round_id}/ballot" not in home
    assert 'data-key="on-paper"' not in as_deputy(app, world, 0).get("/ballots/").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == world.round_id)) == 2
        assert db.session.scalar(select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == world.round_id)) == 2


def test_a_retry_of_a_phone_ballot_cast_before_the_switch_gets_its_receipt(app, world):
    assert post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/open").status_code == 302
    phone = as_deputy(app, world, 0)
    ticket = ticket_from(phone, world.round_id)
    assert cast(phone, world.round_id, choices=world.candidate_ids[:1], ticket=ticket).status_code == 302
    switch(app, world)
    assert cast(phone, world.round_id, choices=world.candidate_ids[:1], ticket=ticket).status_code == 302
    assert post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/close", {"issued": "8"}).status_code == 302
    # The markers are a count now: the retry is neither confirmed nor falsely refused.
    refused = cast(phone, world.round_id, choices=world.candidate_ids[:1], ticket=ticket)
    late = phone.get(refused.location).get_data(as_text=True) if refused.status_code == 302 else refused.get_data(as_text=True)
    assert "A ballot you cast by phone before the switch to paper counts" in late and "was not accepted" not in late


@pytest.mark.parametrize("role", ["staff", "scrutineer"])
def test_only_the_presiding_officer_switches(app, world, role):
    open_and_cast(app, world, 1)
    assert post(as_role(app, world, role), f"/ballots/rounds/{world.round_id}/paper-switch", {"reason": REASON}).status_code == 403
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        with pytest.raises(DomainError):
            service.switch_to_paper(world.user(world.staff_id), round_, REASON)
        db.session.rollback()
    assert load(app, world.round_id).mode == ELECTRONIC and paper_actions(app, world) == []


def test_the_switch_is_refused_in_the_wrong_states(app):
    with app.app_context():
        draft = build_world()
        paper = build_world(mode="paper")
        service.open_round("test", db.session.get(Round, paper.round_id))
        db.session.commit()
        with pytest.raises(ConflictError):
            service.switch_to_paper(draft.user(draft.presiding_id), db.session.get(Round, draft.round_id), REASON)
        with pytest.raises(ConflictError):
            service.switch_to_paper(paper.user(paper.presiding_id), db.session.get(Round, paper.round_id), REASON)
        db.session.rollback()
    assert switch(app, draft).status_code == 302  # the page sends a round in preparation back to itself
    assert load(app, draft.round_id).mode == ELECTRONIC
    open_and_cast(app, draft, 1)
    assert switch(app, draft).status_code == 302
    with app.app_context():
        with pytest.raises(ConflictError):
            service.switch_to_paper(draft.user(draft.presiding_id), db.session.get(Round, draft.round_id), REASON)
        db.session.rollback()
    assert post(as_role(app, draft, "presiding"), f"/ballots/rounds/{draft.round_id}/close", {"issued": "8"}).status_code == 302
    with app.app_context():
        with pytest.raises(ConflictError):
            service.switch_to_paper(draft.user(draft.presiding_id), db.session.get(Round, draft.round_id), REASON)


def test_a_switch_without_a_reason_is_refused_and_changes_nothing(app, world):
    open_and_cast(app, world, 1)
    response = switch(app, world, reason="   ")
    assert response.status_code == 400
    assert "Give the reason the round continues on paper." in response.get_data(as_text=True)
    round_ = load(app, world.round_id)
    assert round_.mode == ELECTRONIC and round_.paper_from_at is None and paper_actions(app, world) == []
    assert cast(as_deputy(app, world, 1), world.round_id, choices=world.candidate_ids[:1]).status_code == 302


def test_nothing_is_half_stored_when_the_switch_fails_midway(app, world, monkeypatch):
    """The round's mode changes before the audit entry is written: a failure there leaves the
    round electronic, phones still voting, and no entry."""
    open_and_cast(app, world, 1)
    record = audit.record

    def failing(actor, action, *args, **kwargs):
        if action == "round.paper":
            raise RuntimeError("the audit log's disk is full")
        return record(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        switch(app, world)
    monkeypatch.setattr(audit, "record", record)
    round_ = load(app, world.round_id)
    assert (round_.mode, round_.paper_from_at, round_.paper_reason, round_.paper_from_by_id) == (ELECTRONIC, None, None, None)
    assert paper_actions(app, world) == []
    assert cast(as_deputy(app, world, 1), world.round_id, choices=world.candidate_ids[:1]).status_code == 302


def test_the_desk_sees_how_many_paper_ballots_to_issue_and_to_whom(app, world):
    open_and_cast(app, world, 3)
    staff = as_role(app, world, "staff")
    assert staff.get(f"/ballots/rounds/{world.round_id}/paper-desk").status_code == 404  # not switched yet
    switch(app, world)
    assert not re.search(r"代表\d", staff.get(f"/ballots/rounds/{world.round_id}/paper-desk").get_data(as_text=True))
    # The list of those still to vote names whom to give a paper ballot: never a phone voter.
    waiting = set(re.findall(r"代表\d+", staff.get(f"/ballots/rounds/{world.round_id}/turnout").get_data(as_text=True)))
    with app.app_context():
        phone = {db.session.get(Deputy, deputy_id).name for deputy_id in world.deputy_ids[:3]}
    assert len(waiting) == 6 and not waiting & phone
    desk = staff.get(f"/ballots/rounds/{world.round_id}/paper-desk").get_data(as_text=True)
    assert 'data-key="present">9<' in desk and 'data-key="phone">3<' in desk and 'data-key="to-issue">6<' in desk
    assert as_role(app, world, "scrutineer").get(f"/ballots/rounds/{world.round_id}/paper-desk").status_code == 403


def test_closing_needs_the_paper_ballots_issued(app, world):
    open_and_cast(app, world, 3)
    switch(app, world)
    presiding = as_role(app, world, "presiding")
    refused = post(presiding, f"/ballots/rounds/{world.round_id}/close", {}, follow_redirects=True).get_data(as_text=True)
    assert "Record how many paper ballots the desk issued before closing the round." in refused
    assert load(app, world.round_id).state == OPEN
    too_many = post(presiding, f"/ballots/rounds/{world.round_id}/close", {"issued": "7"}, follow_redirects=True).get_data(as_text=True)
    assert "At most 6 paper ballots can have been issued: 9 deputies are present and 3 voted by phone." in too_many
    assert load(app, world.round_id).state == OPEN
    assert post(presiding, f"/ballots/rounds/{world.round_id}/close", {"issued": "6"}).status_code == 302
    round_ = load(app, world.round_id)
    assert (round_.state, round_.phone_voters, round_.paper_issued, round_.issued_count) == ("closed", 3, 6, 9)
    with app.app_context():
        # Who voted by phone is reduced to how many: nothing links the pool to the phone voters.
        assert db.session.scalar(select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == world.round_id)) == 0
        assert db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == world.round_id)) == 3


def phone_ballots(method: str, ids: list[int]) -> list:
    return {
        "choose_up_to": [[ids[0], ids[1]], [ids[2]], []],
        "rank": [[ids[1], ids[0]], [ids[0]], [ids[2], ids[3]]],
        "for_against": [{i: "for" for i in ids}, {i: "against" for i in ids}, {ids[0]: "for", ids[1]: "abstain", ids[2]: "for", ids[3]: "for"}],
        "satisfaction": [{ids[0]: "satisfied"}, {ids[0]: "mostly_satisfied", ids[1]: "dissatisfied"}, {}],
    }[method]


def paper_ballots(method: str, ids: list[int]) -> list:
    """As keyed from the paper (void ones included): ranked ones as the numbers written."""
    return {
        "choose_up_to": [[ids[0]], [ids[0], ids[1]], [ids[0], ids[1], ids[2]], None],
        "rank": [{ids[0]: 1, ids[1]: 2}, {ids[0]: 1}, {ids[0]: 1, ids[1]: 1}, None],
        "for_against": [{ids[0]: "for"}, {ids[0]: "for", ids[1]: "for"}, {ids[2]: "against"}, None],
        "satisfaction": [{ids[0]: "satisfied"}, {ids[1]: "satisfied"}, {}, None],
    }[method]


def verify(tmp_path, board: dict) -> dict:
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board, ensure_ascii=False))
    done = subprocess.run([sys.executable, "-m", "voting_app.verify", str(path), "--json"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("unseal_first", [False, True], ids=["keyed-then-unsealed", "unseal-tried-before-keying"])
@pytest.mark.parametrize("method", ["choose_up_to", "rank", "for_against", "satisfaction"])
def test_the_count_and_the_board_combine_phone_and_paper(app, tmp_path, method, unseal_first):
    with app.app_context():
        world = build_world(deputies=9, candidates=4, seats=2, method=method)
        round_ = db.session.get(Round, world.round_id)
        service.open_round("test", round_)
        db.session.commit()
        ids = world.candidate_ids
        deputies = [db.session.get(Deputy, d) for d in world.deputy_ids]
        phone = phone_ballots(method, ids)
        for deputy, choices in zip(deputies, phone):
            service.cast_ballot(deputy, round_, choices, service.new_receipt(), secrets.token_hex(8))
        db.session.commit()
        service.switch_to_paper(world.user(world.presiding_id), round_, REASON)
        db.session.commit()
        with pytest.raises(DomainError):
            service.cast_ballot(deputies[5], round_, phone[0], service.new_receipt(), secrets.token_hex(8))
        db.session.rollback()
        paper = paper_ballots(method, ids)
        service.close_round(world.user(world.presiding_id), round_, issued=len(paper) + 1)  # one paper ballot not returned
        db.session.commit()
        first, second = (world.user(s) for s in world.scrutineer_ids)

        def unseal():
            service.unseal_round(first, round_, list(world.shares[:2]))
            db.session.commit()

        if unseal_first:
            # The phone ballots are never opened alone, so never lie in the clear as one group.
            with pytest.raises(ConflictError, match="请先录入纸质选票"):
                unseal()
            db.session.rollback()
            assert round_.is_sealed and stored_ballots(round_) == 0

        def key_twice():
            for scrutineer in (first, second):
                for choices in paper:
                    service.add_paper_ballot(round_, scrutineer, choices)
                db.session.commit()
            assert service.submit_paper_entry(round_, first).entries == 1
            db.session.commit()
            assert service.submit_paper_entry(round_, second).agree
            db.session.commit()

        key_twice()
        unseal()
        result = service.confirm_round(second, round_)
        db.session.commit()
        assert (result.returned, round_.issued_count) == (len(phone) + len(paper), len(phone) + len(paper) + 1)
        assert not result.void_round and result.void >= 1
        expected = service.count(service.rules_for(round_), [*phone_stored(round_, phone), *stored_paper(round_, paper)])
        assert result.to_json() == expected.to_json()
        # The keyed copies are cleared once stored: the physical paper ballots are the record.
        assert all(entry.ballots == [] for entry in db.session.scalars(select(PaperEntry).where(PaperEntry.round_id == round_.id)))
        board = service.round_board(round_)
        assert len(board["ballots"]) == len(phone) + len(paper)
        assert not any(set(ballot) - {"receipt", "choices"} for ballot in board["ballots"]), "a ballot marked by its source"
        assert board["digest"] == round_.board_digest
        assert verify(tmp_path, board) == result.to_json()
        service.announce_round(world.user(world.presiding_id), round_)
        db.session.commit()


def stored_ballots(round_: Round) -> int:
    return db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.round_id == round_.id))


def phone_stored(round_: Round, phone: list) -> list:
    return [service._stored_form(service.check_choices(round_, choices)) for choices in phone]


def stored_paper(round_: Round, paper: list) -> list:
    """The paper ballots as the paper entry keeps them (unmarked items abstain, numbers give an order)."""
    from voting_app.ballots import numbering

    kept = []
    for choices in paper:
        if round_.method == "for_against" and isinstance(choices, dict):
            choices = {c.id: "abstain" for c in round_.candidates} | choices
        if round_.method == "rank" and isinstance(choices, dict):
            choices = numbering.paper_order(choices, round_.seats)
        kept.append(service._stored_form(choices))
    return kept


def test_a_switched_round_cannot_be_cancelled_but_can_be_declared_void(app, world):
    assert post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/open").status_code == 302
    switch(app, world)  # nobody had voted by phone: every ballot is on paper, none keyed yet
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        with pytest.raises(ConflictError):
            service.cancel_round("test", round_)
        db.session.rollback()
        with pytest.raises(ConflictError):  # open: the close must record the paper ballots issued first
            service.request_void(world.user(world.presiding_id), round_, "纸质选票印错")
        db.session.rollback()
        service.close_round(world.user(world.presiding_id), round_, issued=9)
        db.session.commit()
        with pytest.raises(ConflictError):
            service.cancel_round("test", round_)
        db.session.rollback()
        service.request_void(world.user(world.presiding_id), round_, "纸质选票印错")
        db.session.commit()
        service.confirm_void(world.user(world.scrutineer_ids[0]), round_)
        db.session.commit()
        assert (round_.state, round_.phone_voters, round_.paper_issued, round_.issued_count) == ("void", 0, 9, 9)
        # The vote held again is set up as the first was: electronic, with paper as its fallback.
        again = service.follow_up_round("test", round_)
        assert (again.mode, again.is_switched_to_paper) == (ELECTRONIC, False)


def test_the_round_page_tells_the_story_of_the_switch(app, world):
    open_and_cast(app, world, 2)
    presiding = as_role(app, world, "presiding")
    assert "Voting system failed: continue on paper" in presiding.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    switch(app, world)
    page = presiding.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert 'data-key="paper-switch"' in page and REASON in page and "/paper-switch" not in page
    close_page = presiding.get(f"/ballots/rounds/{world.round_id}/close").get_data(as_text=True)
    assert "9 deputies present: 2 voted by phone, 7 paper ballots to issue." in close_page and "required" in close_page
    presiding.set_cookie("lang", "zh_CN")
    assert presiding.get(f"/ballots/rounds/{world.round_id}").status_code == 200
