"""Undoing a desk check-in while that deputy's ballot is being cast: whichever comes first, no
ballot is ever stored for a deputy the desk marked absent (PostgreSQL runs the two at once;
SQLite serialises writers, so there is no race to lose there)."""

import secrets
import threading

import pytest
from sqlalchemy import func, select

from tests.conftest import build_world
from voting_app.ballots import service as ballots
from voting_app.ballots.models import BallotMarker, Round
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.sessions import changes
from voting_app.sessions.models import Deputy

WAIT = 1.5  # long enough to see the second transaction wait on the first's row lock


@pytest.fixture
def open_round(app, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: casting and undoing cannot overlap there")
    with app.app_context():
        world = build_world(deputies=5, candidates=3, seats=1)
        ballots.open_round("test", db.session.get(Round, world.round_id))
        db.session.commit()
    return world


def _in_thread(app, work) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run():
        with app.app_context():
            try:
                work()
                db.session.commit()
                outcome["done"] = True
            except (DomainError, ConflictError) as error:
                db.session.rollback()
                outcome["refused"] = str(error.message)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _markers(app, world) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == world.round_id))


def _cast(world, deputy_id):
    def work():
        deputy, round_ = db.session.get(Deputy, deputy_id), db.session.get(Round, world.round_id)
        ballots.cast_ballot(deputy, round_, world.candidate_ids[:1], ballots.new_receipt(), secrets.token_hex(16))

    return work


def test_a_ballot_cast_while_the_check_in_is_undone_waits_and_is_refused(app, open_round):
    world, deputy_id = open_round, open_round.deputy_ids[0]
    with app.app_context():
        assert changes.undo_check_in("staff", db.session.get(Deputy, deputy_id))  # holds the row until commit
        thread, outcome = _in_thread(app, _cast(world, deputy_id))
        thread.join(WAIT)
        assert thread.is_alive(), "the ballot did not wait for the undo"
        db.session.commit()
    thread.join(30)
    assert outcome == {"refused": "投票前请先签到。"}  # "Please check in before voting."
    assert _markers(app, world) == 0


def test_an_undo_while_the_ballot_is_cast_waits_and_is_refused(app, open_round):
    world, deputy_id = open_round, open_round.deputy_ids[0]
    with app.app_context():
        _cast(world, deputy_id)()  # holds a share lock on the deputy's row until commit
        thread, outcome = _in_thread(app, lambda: changes.undo_check_in("staff", db.session.get(Deputy, deputy_id)))
        thread.join(WAIT)
        assert thread.is_alive(), "the undo did not wait for the ballot"
        db.session.commit()
    thread.join(30)
    assert "签到不能撤销" in outcome["refused"]  # "has already voted in the open round …"
    assert _markers(app, world) == 1
    with app.app_context():
        assert db.session.get(Deputy, deputy_id).checked_in_at is not None
