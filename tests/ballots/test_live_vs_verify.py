"""Property: on random rounds of every method, the independent verifier recounts the public
board to exactly the result the server counted from its database."""

import io
import json
from contextlib import redirect_stdout

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import build_world
from voting_app.ballots import service
from voting_app.ballots.models import CLOSED, Ballot
from voting_app.db import db
from voting_app.sessions.models import CongressSession
from voting_app.verify import main as verify_main


@st.composite
def rounds(draw):
    method = draw(st.sampled_from(["choose_up_to", "for_against", "satisfaction", "rank"]))
    candidates = draw(st.integers(1, 6))
    seats = draw(st.integers(1, candidates))
    base = draw(st.sampled_from(["roster", "voters"]))
    roster = draw(st.integers(1, 30))
    present = draw(st.integers(0, roster))
    issued = draw(st.integers(0, present + 2))
    slot = st.integers(0, candidates)  # index == candidates means an id that is not on the ballot
    if method in ("choose_up_to", "rank"):
        ballot = st.one_of(st.lists(slot, max_size=candidates + 1), st.none())
    else:
        marks = ["satisfied", "mostly_satisfied", "dissatisfied"] if method == "satisfaction" else ["for", "against", "abstain"]
        ballot = st.one_of(
            st.dictionaries(slot, st.sampled_from(marks + ["yes"]), max_size=candidates),
            st.none(),
        )
    ballots = draw(st.lists(ballot, max_size=issued + 2))
    bar = draw(st.integers(1, 100))
    return method, candidates, seats, base, (roster, present, issued), ballots, bar


def test_live_count_and_verifier_agree(app):
    with app.app_context():
        world = build_world(deputies=3, candidates=1, seats=1)
        congress = db.session.get(CongressSession, world.session_id)

        @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(rounds())
        def check(spec):
            method, candidates, seats, base, (roster, present, issued), ballots, bar = spec
            round_ = service.create_round("test", congress, "随机", method, seats, base, "paper", bar)
            ids = [service.add_candidate("test", round_, f"候选{i}").id for i in range(candidates)]
            unknown = max(ids) + 1000

            def to_id(index):
                return ids[index] if index < candidates else unknown

            for choices in ballots:
                if isinstance(choices, list):
                    choices = [to_id(i) for i in choices]
                elif isinstance(choices, dict):
                    choices = {str(to_id(i)): mark for i, mark in choices.items()}
                db.session.add(Ballot(receipt=service.new_receipt(), round_id=round_.id, choices=choices))
            round_.state = CLOSED
            round_.roster_count, round_.present_count, round_.issued_count = roster, present, issued
            db.session.flush()

            live = service.count_round(round_).to_json()
            board = json.dumps(service.round_board(round_))
            out = io.StringIO()
            import sys

            stdin, sys.stdin = sys.stdin, io.StringIO(board)
            try:
                with redirect_stdout(out):
                    assert verify_main(["-", "--json"]) == 0
            finally:
                sys.stdin = stdin
            assert json.loads(out.getvalue()) == live
            assert live["returned"] == len(ballots)
            db.session.rollback()

        check()
