"""A round's life: open, close, confirm, announce, the board, runoffs and further rounds."""

import json

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from tests.ballots.helpers import (
    announce_round,
    as_deputy,
    as_role,
    cast,
    close_round,
    confirm_round,
    open_round,
    receipt_of,
    unseal_round,
)
from tests.conftest import build_world, post
from voting_app.ballots import service
from voting_app.ballots.models import Ballot, Round, SealedBallot
from voting_app.db import db
from voting_app.verify import main as verify_main


def round_state(app, round_id):
    with app.app_context():
        return db.session.get(Round, round_id).state


def vote_all(app, world, ballots):
    """Each ballot cast by the next deputy; returns their receipts in order."""
    receipts = []
    for index, choices in enumerate(ballots):
        client = as_deputy(app, world, index)
        assert cast(client, world.round_id, choices=choices).status_code == 302
        receipts.append(receipt_of(client, world.round_id))
    return receipts


def test_open_needs_candidates_and_quorum(app):
    with app.app_context():
        world = build_world(deputies=9, present=4)
    presiding = as_role(app, world, "presiding")
    page = post(presiding, f"/ballots/rounds/{world.round_id}/open", follow_redirects=True).get_data(as_text=True)
    assert "No quorum: 4 of 9 deputies are present; at least 5 are needed." in page
    assert round_state(app, world.round_id) == "draft"
    with app.app_context():
        empty = service.create_round("t", world_session(world), "空", "choose_up_to", 1, "roster", "electronic")
        db.session.commit()
        empty_id = empty.id
    page = post(presiding, f"/ballots/rounds/{empty_id}/open", follow_redirects=True).get_data(as_text=True)
    assert "Add the candidates before opening the round." in page


def world_session(world):
    from voting_app.sessions.models import CongressSession

    return db.session.get(CongressSession, world.session_id)


def test_the_full_life_of_a_round_and_its_public_board(app, world):
    open_round(app, world)
    a, b, c, d = world.candidate_ids
    receipts = vote_all(app, world, [[a, b], [a, b], [a, c], [a], [b, c], [a, b], [], [a, d], [b]])
    assert as_role(app, world, "staff").get(f"/ballots/rounds/{world.round_id}/board.json").status_code == 404
    close_round(app, world)
    confirm_round(app, world)
    assert round_state(app, world.round_id) == "confirmed"
    assert app.test_client().get(f"/ballots/rounds/{world.round_id}/results").status_code == 404
    announce_round(app, world)

    public = app.test_client()
    board = public.get(f"/ballots/rounds/{world.round_id}/board.json").get_json()
    assert board["format"] == "ballot-board/1"
    assert [ballot["receipt"] for ballot in board["ballots"]] == sorted(receipts)
    assert board["round"] | {} == board["round"] and board["round"]["roster"] == 9
    found = public.get(f"/ballots/rounds/{world.round_id}/board?receipt={receipts[4]}").get_data(as_text=True)
    assert "Found" in found and "项目2; 项目3" in found
    results = public.get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True)
    assert "Elected" in results
    with app.app_context():
        result = service.count_round(db.session.get(Round, world.round_id))
    # a: 6 votes, b: 5 votes; base = roster 9, so 5 passes; two seats.
    assert dict(result.votes) == {a: 6, b: 5, c: 2, d: 1}
    assert result.elected == (a, b) and result.shortfall == 0


def test_the_board_recounts_to_the_live_result(app, world, tmp_path, capsys):
    open_round(app, world)
    a, b, c, _ = world.candidate_ids
    vote_all(app, world, [[a, b], [c], [a, c], [a], [b, c], [a, b]])
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    board_file = tmp_path / "board.json"
    board_file.write_bytes(app.test_client().get(f"/ballots/rounds/{world.round_id}/board.json").data)
    assert verify_main([str(board_file), "--json"]) == 0
    recount = json.loads(capsys.readouterr().out)
    with app.app_context():
        live = service.count_round(db.session.get(Round, world.round_id)).to_json()
    assert recount == live
    assert recount["votes"] == {str(a): 4, str(b): 3, str(c): 3, str(world.candidate_ids[3]): 0}


def test_confirmation_is_a_scrutineers_and_not_the_closers(app, world):
    open_round(app, world)
    close_round(app, world)
    unseal_round(app, world)
    assert post(as_role(app, world, "staff"), f"/ballots/rounds/{world.round_id}/confirm").status_code == 403
    assert post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/confirm").status_code == 403
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        round_.closed_by_id = world.scrutineer_ids[0]
        db.session.commit()
    page = post(as_role(app, world, "scrutineer"), f"/ballots/rounds/{world.round_id}/confirm", follow_redirects=True)
    assert "someone other than the person who closed" in page.get_data(as_text=True)
    assert round_state(app, world.round_id) == "closed"
    assert post(as_role(app, world, "scrutineer", 1), f"/ballots/rounds/{world.round_id}/confirm").status_code == 302
    assert round_state(app, world.round_id) == "confirmed"


def test_state_moves_only_forward(app, world):
    presiding = as_role(app, world, "presiding")
    page = post(presiding, f"/ballots/rounds/{world.round_id}/close", follow_redirects=True).get_data(as_text=True)
    assert "not possible now" in page and round_state(app, world.round_id) == "draft"
    open_round(app, world)
    page = post(presiding, f"/ballots/rounds/{world.round_id}/announce", follow_redirects=True).get_data(as_text=True)
    assert "not possible now" in page and round_state(app, world.round_id) == "open"
    page = post(as_role(app, world, "staff"), f"/ballots/rounds/{world.round_id}/candidates", {"name": "迟到的项目"}, follow_redirects=True)
    assert "not possible now" in page.get_data(as_text=True)


def test_a_tie_for_the_last_seat_prepares_a_runoff_among_exactly_the_tied(app, world):
    open_round(app, world)
    a, b, c, d = world.candidate_ids
    # Roster base 9, so 5 votes pass: a has 3; b, c and d have 5 each, three tied for two seats.
    vote_all(app, world, [[a, b], [a, c], [a, d], [b, c], [b, c], [b, d], [b, d], [c, d], [c, d]])
    close_round(app, world)
    unseal_round(app, world)
    with app.app_context():
        result = service.count_round(db.session.get(Round, world.round_id))
    assert result.elected == () and result.runoff.candidates == (b, c, d) and result.runoff.seats == 2
    confirm_round(app, world)
    staff = as_role(app, world, "staff")
    with app.app_context():
        runoff = db.session.scalar(select(Round).where(Round.parent_id == world.round_id))
        assert (runoff.kind, runoff.seats, runoff.state) == ("runoff", 2, "draft"), "confirming prepares the runoff"
        assert [c.source_id for c in runoff.candidates] == [b, c, d]
    again = post(staff, f"/ballots/rounds/{world.round_id}/follow-up", follow_redirects=True)
    assert "already exists" in again.get_data(as_text=True)


def test_a_shortfall_prepares_a_further_round_from_the_remaining_candidates(app, world):
    open_round(app, world)
    a, b, c, d = world.candidate_ids
    vote_all(app, world, [[a, b], [a, c], [a, d], [a], [a], [b], [c], [], []])
    close_round(app, world)
    confirm_round(app, world)
    post(as_role(app, world, "staff"), f"/ballots/rounds/{world.round_id}/follow-up")
    with app.app_context():
        further = db.session.scalar(select(Round).where(Round.parent_id == world.round_id))
        assert (further.kind, further.seats) == ("further", 1)
        assert [c.source_id for c in further.candidates] == [b, c, d]


def test_a_full_result_needs_no_follow_up(app, world):
    open_round(app, world)
    a, b, _, _ = world.candidate_ids
    vote_all(app, world, [[a, b]] * 6)
    close_round(app, world)
    confirm_round(app, world)
    page = post(as_role(app, world, "staff"), f"/ballots/rounds/{world.round_id}/follow-up", follow_redirects=True)
    assert "no further round is needed" in page.get_data(as_text=True)


def test_the_stored_ballot_cannot_be_linked_to_the_voter(app, world):
    """No deputy, no time, no sequential key; sealed until the count, then stored in receipt order."""
    open_round(app, world)
    a, b, c, d = world.candidate_ids
    vote_all(app, world, [[a], [b], [c], [d], [a, b], [c, d], [a, c], [b, d], []])
    close_round(app, world)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0, "nothing in clear before the count"
        assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 9
    unseal_round(app, world)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 0, "the sealed copies are gone"
        assert set(Ballot.__table__.columns.keys()) == {"round_id", "receipt", "choices"}
        assert set(SealedBallot.__table__.columns.keys()) == {"round_id", "id", "sealed"}
        from voting_app.ballots.models import BallotMarker

        assert set(BallotMarker.__table__.columns.keys()) == {"round_id", "deputy_id", "ticket_check"}
        connection = db.session.connection()
        if connection.dialect.name == "sqlite":
            natural = connection.execute(text("SELECT receipt FROM ballots WHERE round_id = :r"), {"r": world.round_id}).scalars().all()
            with pytest.raises(OperationalError):
                connection.execute(text("SELECT rowid FROM ballots")).all()
        else:
            natural = connection.execute(
                text("SELECT receipt FROM ballots WHERE round_id = :r ORDER BY ctid"), {"r": world.round_id}
            ).scalars().all()
            transactions = connection.execute(
                text("SELECT count(DISTINCT xmin::text) FROM ballots WHERE round_id = :r"), {"r": world.round_id}
            ).scalar()
            assert transactions == 1
        assert natural == sorted(natural) and len(natural) == 9


def test_the_board_digest_is_kept_at_confirmation_and_a_changed_ballot_shows(app, world):
    open_round(app, world)
    a, b, _, _ = world.candidate_ids
    vote_all(app, world, [[a, b]] * 5)
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    public = app.test_client()
    assert "no longer match" not in public.get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True)
    with app.app_context():
        ballot = db.session.scalars(select(Ballot).where(Ballot.round_id == world.round_id)).first()
        ballot.choices = [b]
        db.session.commit()
    assert "no longer match" in public.get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True)


def test_a_tie_confirmed_outside_a_request_prepares_the_runoff_in_chinese(app):
    """The CLI, the demo seed and the benchmark confirm counts without a web request."""
    from voting_app.ballots import service as ballots
    from voting_app.ballots.models import Round
    from voting_app.db import db
    from tests.conftest import build_world

    with app.app_context():
        world = build_world(deputies=9, candidates=4, seats=2)
        round_ = db.session.get(Round, world.round_id)
        ballots.open_round("test", round_)
        a, b, c, _ = world.candidate_ids
        for index, deputy_id in enumerate(world.deputy_ids):
            deputy = world.credential(deputy_id).deputy
            ballots.cast_ballot(deputy, round_, [[a, b], [b, c], [a, c]][index % 3], ballots.new_receipt(), f"nonce-{index}")
        ballots.close_round(world.user(world.presiding_id), round_)
        ballots.unseal_round(world.user(world.scrutineer_ids[1]), round_, list(world.shares[1:]))
        result = ballots.confirm_round(world.user(world.scrutineer_ids[0]), round_)
        db.session.commit()
        assert result.runoff is not None and set(result.runoff.candidates) == {a, b, c}
        runoff = db.session.scalars(db.select(Round).where(Round.parent_id == round_.id)).one()
        assert "再次" in runoff.title or "测试票决" in runoff.title


def test_a_candidate_takes_its_department_from_the_managed_list(app, world):
    from voting_app.ballots.models import Candidate
    from voting_app.projects.models import Department

    staff = as_role(app, world, "staff")
    page = staff.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert 'name="department_id"' in page and 'name="new_department"' in page
    added = post(staff, f"/ballots/rounds/{world.round_id}/candidates", {"name": "背街小巷改造", "new_department": "区城市管理执法局"})
    assert added.status_code == 302
    with app.app_context():
        department_id = db.session.scalars(select(Department.id).where(Department.name == "区城市管理执法局")).one()
    chosen = post(staff, f"/ballots/rounds/{world.round_id}/candidates", {"name": "路灯补装", "department_id": str(department_id)})
    assert chosen.status_code == 302
    unknown = post(staff, f"/ballots/rounds/{world.round_id}/candidates", {"name": "不存在的单位", "department_id": "99999"},
                   follow_redirects=True)
    assert "Choose from the list: Not a valid choice" in unknown.get_data(as_text=True)
    with app.app_context():
        departments = dict(db.session.execute(select(Candidate.name, Candidate.department).where(Candidate.round_id == world.round_id)).all())
        assert departments["背街小巷改造"] == departments["路灯补装"] == "区城市管理执法局" and "不存在的单位" not in departments
        assert db.session.scalar(select(func.count(Department.id)).where(Department.name == "区城市管理执法局")) == 1
