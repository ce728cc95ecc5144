"""Priority ballots (method "rank", 轻重缓急): validity, votes, points and the priority order."""

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting_app.ballots.counting import (
    BASE_ROSTER,
    BASE_VOTERS,
    CHOOSE_UP_TO,
    RANK,
    THRESHOLD_BASES,
    RoundRules,
    Runoff,
    ballot_is_valid,
    count,
    normalise_choices,
)


def ranked(seats=2, base=BASE_ROSTER, roster=10, issued=10, ids=(1, 2, 3, 4)):
    return RoundRules(RANK, seats, base, roster, roster, issued, tuple(ids))


# --- one ballot -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "choices, is_valid",
    [
        ([], True),
        ([3], True),
        ([2, 1], True),
        ([1, 2, 3], False),
        ([1, 1], False),
        ([9], False),
        (["1"], False),
        ([True], False),
        ([1.0], False),
        ([None], False),
        ([[1]], False),
        ((1,), False),
        ({"1": 1}, False),
        ("1", False),
        (1, False),
        (None, False),
    ],
)
def test_validity(choices, is_valid):
    assert ballot_is_valid(ranked(seats=2), choices) is is_valid


@pytest.mark.parametrize(
    "choices, message",
    [
        ([1, 2, 3], "3 choices made but at most 2 allowed"),
        ([1, 1], "a candidate is ranked more than once"),
        ([9], "candidate 9 is not on this ballot"),
        ([True], "not a candidate id"),
        ({"1": 1}, "a ranked ballot must be a list of candidate ids"),
        (None, "void"),
    ],
)
def test_normalise_says_why(choices, message):
    with pytest.raises(ValueError, match=message):
        normalise_choices(ranked(seats=2), choices)


def test_normalise_keeps_the_priority_order_and_copies():
    given_choices = [4, 1]
    normal = normalise_choices(ranked(), given_choices)
    assert normal == [4, 1]
    assert normal is not given_choices


def test_choose_up_to_messages_are_unchanged():
    rules = dataclasses.replace(ranked(), method=CHOOSE_UP_TO)
    with pytest.raises(ValueError, match="a choose-up-to ballot must be a list"):
        normalise_choices(rules, "1")
    with pytest.raises(ValueError, match="a candidate is chosen more than once"):
        normalise_choices(rules, [1, 1])


# --- hand-worked counts ---------------------------------------------------------------------


def test_hand_count_with_points_and_priority():
    # N = 3; position 1 earns 3 points, position 2 earns 2, position 3 earns 1.
    rules = ranked(seats=3, roster=9, issued=8, ids=(1, 2, 3, 4, 5))
    ballots = [
        [2, 1, 3],
        [2, 1, 3],
        [2, 3, 1],
        [1, 3, 2],
        [3, 1, 2],
        [4],
        [1, 1],  # void
        None,  # void
    ]
    result = count(rules, ballots)
    assert (result.returned, result.valid, result.void, result.base) == (8, 6, 2, 9)
    assert dict(result.votes) == {1: 5, 2: 5, 3: 5, 4: 1, 5: 0}
    assert dict(result.points) == {
        1: 2 + 2 + 1 + 3 + 2,
        2: 3 + 3 + 3 + 1 + 1,
        3: 1 + 1 + 2 + 2 + 3,
        4: 3,
        5: 0,
    }
    assert result.passed == (1, 2, 3)
    assert result.elected == (1, 2, 3)
    assert (result.runoff, result.shortfall) == (None, 0)
    assert result.priority == (2, 1, 3)  # equal votes: 11, 10 and 9 points


def test_priority_breaks_equal_votes_and_points_by_id():
    rules = ranked(seats=2, roster=4, issued=4, ids=(7, 3))
    result = count(rules, [[7, 3], [3, 7], [7, 3], [3, 7]])
    assert dict(result.votes) == {3: 4, 7: 4}
    assert dict(result.points) == {3: 6, 7: 6}
    assert result.priority == (3, 7)


def test_votes_come_before_points():
    # Candidate 1 is first on 3 ballots (9 points) but listed on only 3; candidate 2 is
    # near the end of 4 ballots (5 points) and so has more votes.
    rules = ranked(seats=3, roster=5, issued=4, ids=(1, 2, 3))
    result = count(rules, [[1, 3, 2]] * 3 + [[3, 2]])
    assert dict(result.votes) == {1: 3, 2: 4, 3: 4}
    assert dict(result.points) == {1: 9, 2: 3 + 2, 3: 6 + 3}
    assert result.passed == (1, 2, 3)
    assert result.priority == (3, 2, 1)


def test_priority_lists_only_the_passed():
    rules = ranked(seats=2, roster=5, issued=5, ids=(1, 2, 3))
    result = count(rules, [[1, 2]] * 3 + [[2], [3]])
    assert result.passed == (1, 2)
    assert result.priority == (2, 1)
    assert 3 not in result.priority


def test_a_tie_at_the_cut_goes_to_a_runoff_among_exactly_the_tied():
    # Points do not settle a tie for a seat: 2 and 3 have 3 votes each for the last seat.
    rules = ranked(seats=2, roster=5, issued=5, ids=(1, 2, 3, 4))
    ballots = [[1, 2], [1, 2], [3, 1], [2, 3], [3, 1]]
    result = count(rules, ballots)
    assert dict(result.votes) == {1: 4, 2: 3, 3: 3, 4: 0}
    assert (result.points[2], result.points[3]) == (1 + 1 + 2, 2 + 1 + 2)
    assert result.passed == (1, 2, 3)
    assert result.elected == (1,)
    assert result.runoff == Runoff(candidates=(2, 3), seats=1)
    assert result.priority == (1, 3, 2)


def test_shortfall_and_blank_ballots():
    rules = ranked(seats=3, base=BASE_VOTERS, roster=20, issued=6, ids=(1, 2, 3))
    result = count(rules, [[1], [1, 2], [1], [], [], [3]])
    assert (result.valid, result.base) == (6, 6)
    assert result.passed == ()
    assert result.shortfall == 3
    assert result.priority == ()
    full = count(ranked(seats=3, base=BASE_VOTERS, issued=4, ids=(1, 2, 3)), [[1], [1, 2], [1], []])
    assert (full.passed, full.elected, full.shortfall, full.priority) == ((1,), (1,), 2, (1,))


def test_more_returned_than_issued_voids_the_whole_round():
    result = count(ranked(issued=1), [[1], [2]])
    assert result.void_round is True
    assert (dict(result.points), result.priority) == ({}, ())
    data = result.to_json()
    assert (data["points"], data["priority"]) == ({}, [])
    assert data["valid"] is None


def test_ranking_lists_equal_votes_by_points():
    rules = ranked(seats=2, roster=4, issued=4, ids=(1, 2, 3))
    result = count(rules, [[1, 2], [2, 1], [2, 1], [3]])
    lines = [(line.candidate_id, line.votes, line.rank) for line in result.ranking()]
    assert lines == [(2, 3, 1), (1, 3, 1), (3, 1, 3)]


def test_to_json_shape():
    rules = ranked(seats=2, roster=3, issued=3, ids=(10, 2, 3))
    result = count(rules, [[10, 2], [2, 10], [10]])
    data = result.to_json()
    assert data == {
        "returned": 3,
        "valid": 3,
        "void": 0,
        "void_round": False,
        "votes": {"2": 2, "3": 0, "10": 3},
        "passed": [2, 10],
        "elected": [2, 10],
        "runoff": None,
        "shortfall": 0,
        "points": {"2": 1 + 2, "3": 0, "10": 2 + 1 + 2},
        "priority": [10, 2],
    }
    assert json.loads(json.dumps(data)) == data


def test_the_points_are_frozen():
    result = count(ranked(ids=(1,)), [[1]])
    with pytest.raises(TypeError):
        result.points[1] = 9
    assert hash(result) == hash(count(ranked(ids=(1,)), [[1]]))


# --- properties against a naive second count -------------------------------------------------


def naive_list(rules, ballot):
    """An independent reading of one ranked ballot: the list, or None when void."""
    if type(ballot) is not list or len(ballot) > rules.seats:
        return None
    if any(type(cid) is not int or cid not in rules.candidate_ids for cid in ballot):
        return None
    return ballot if len(set(ballot)) == len(ballot) else None


def naive_rank(rules, ballots):
    """Votes, points, seats and priority by the words of the rule, one candidate at a time."""
    valid = [read for read in (naive_list(rules, b) for b in ballots) if read is not None]
    n = rules.seats
    votes = {c: sum(c in read for read in valid) for c in rules.candidate_ids}
    points = {c: sum(n + 1 - (read.index(c) + 1) for read in valid if c in read) for c in rules.candidate_ids}
    base = rules.roster if rules.threshold_base == BASE_ROSTER else len(ballots)
    passed = [c for c in rules.candidate_ids if votes[c] > base / 2]
    at_least = {c: sum(votes[p] >= votes[c] for p in passed) for c in passed}
    above = {c: sum(votes[p] > votes[c] for p in passed) for c in passed}
    elected = sorted(c for c in passed if at_least[c] <= n)
    tied = sorted(c for c in passed if above[c] < n < at_least[c])
    runoff = Runoff(tuple(tied), n - above[tied[0]]) if tied else None
    priority = tuple(sorted(passed, key=lambda c: (-votes[c], -points[c], c)))
    return {
        "valid": len(valid),
        "votes": votes,
        "points": points,
        "passed": tuple(sorted(passed)),
        "elected": tuple(elected),
        "runoff": runoff,
        "shortfall": max(0, n - len(passed)),
        "priority": priority,
    }


@st.composite
def rank_rounds(draw):
    """Rank rules and a mix of valid, void and junk ballots for them."""
    ids = draw(st.lists(st.integers(1, 40), unique=True, max_size=7))
    some_id = st.sampled_from(ids + [99]) if ids else st.just(99)
    junk = st.one_of(st.none(), st.booleans(), st.text(max_size=2), st.floats(allow_nan=False))
    pick = st.lists(some_id, max_size=5)
    unique_pick = st.lists(st.sampled_from(ids), unique=True, max_size=5) if ids else st.just([])
    ballot = st.one_of(
        st.none(), pick, unique_pick, unique_pick, unique_pick, st.lists(st.one_of(some_id, junk), max_size=4), junk
    )
    ballots = draw(st.lists(ballot, max_size=40))
    rules = RoundRules(
        method=RANK,
        seats=draw(st.integers(1, 5)),
        threshold_base=draw(st.sampled_from(THRESHOLD_BASES)),
        roster=draw(st.integers(0, 40)),
        present=draw(st.integers(0, 40)),
        issued=draw(st.one_of(st.integers(0, 40), st.just(len(ballots)))),
        candidate_ids=tuple(ids),
    )
    return rules, ballots


@settings(max_examples=500)
@given(rank_rounds())
def test_rank_follows_the_naive_count(case):
    rules, ballots = case
    result = count(rules, ballots)
    if len(ballots) > rules.issued:
        assert result.void_round and result.priority == () and dict(result.points) == {}
        return
    expected = naive_rank(rules, ballots)
    assert result.valid == expected["valid"]
    assert dict(result.votes) == expected["votes"]
    assert dict(result.points) == expected["points"]
    assert result.passed == expected["passed"]
    assert result.elected == expected["elected"]
    assert result.runoff == expected["runoff"]
    assert result.shortfall == expected["shortfall"]
    assert result.priority == expected["priority"]
    data = result.to_json()
    assert data["points"] == {str(c): p for c, p in expected["points"].items()}
    assert data["priority"] == list(expected["priority"])


@settings(max_examples=300)
@given(rank_rounds())
def test_rank_seats_exactly_as_choose_up_to(case):
    """Validity, votes, passing, seats, ties and shortfall are those of choose_up_to."""
    rules, ballots = case
    ranked_result = count(rules, ballots)
    chosen = count(dataclasses.replace(rules, method=CHOOSE_UP_TO), ballots)
    fields = ("returned", "valid", "void", "void_round", "base", "votes", "passed", "elected", "runoff", "shortfall")
    assert [getattr(ranked_result, f) for f in fields] == [getattr(chosen, f) for f in fields]
    assert [ballot_is_valid(rules, b) for b in ballots] == [
        ballot_is_valid(dataclasses.replace(rules, method=CHOOSE_UP_TO), b) for b in ballots
    ]


@settings(max_examples=200)
@given(rank_rounds(), st.randoms())
def test_rank_ignores_ballot_order_but_not_the_order_within_a_ballot(case, rnd):
    rules, ballots = case
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert count(rules, shuffled) == count(rules, ballots)
    result = count(rules, ballots)
    if not result.void_round:
        assert sum(result.points.values()) == sum(
            sum(range(rules.seats, rules.seats - len(b), -1)) for b in ballots if ballot_is_valid(rules, b)
        )
