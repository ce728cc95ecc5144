"""The count rules: validity of each ballot, the pass line, seats, runoffs and shortfalls."""

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting_app.ballots.counting import (
    BASE_ROSTER,
    BASE_VOTERS,
    CHOOSE_UP_TO,
    FOR_AGAINST,
    MARKS,
    METHODS,
    SATISFACTION,
    THRESHOLD_BASES,
    CandidateResult,
    RoundRules,
    Runoff,
    ballot_is_valid,
    count,
    normalise_choices,
)


def make_rules(
    method=CHOOSE_UP_TO,
    seats=2,
    base=BASE_ROSTER,
    roster=10,
    present=10,
    issued=10,
    ids=(1, 2, 3, 4),
):
    return RoundRules(
        method=method,
        seats=seats,
        threshold_base=base,
        roster=roster,
        present=present,
        issued=issued,
        candidate_ids=tuple(ids),
    )


def for_ballots(n, votes):
    """n for/against ballots in which candidate c is marked "for" on exactly votes[c] of them."""
    return [
        {str(cid): "for" if i < v else "against" for cid, v in votes.items()} for i in range(n)
    ]


# --- RoundRules -------------------------------------------------------------------------


def test_constants():
    assert METHODS == ("choose_up_to", "for_against", "satisfaction", "rank")
    assert THRESHOLD_BASES == ("roster", "voters")
    assert MARKS == ("for", "against", "abstain")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"method": "borda"}, "unknown ballot method"),
        ({"base": "present"}, "unknown threshold base"),
        ({"seats": 0}, "seats"),
        ({"seats": True}, "seats"),
        ({"seats": 1.0}, "seats"),
        ({"roster": -1}, "roster"),
        ({"present": -1}, "present"),
        ({"issued": -1}, "issued"),
        ({"issued": "3"}, "issued"),
        ({"ids": (1, 1)}, "unique"),
        ({"ids": (1, True)}, "integers"),
        ({"ids": (1, "2")}, "integers"),
    ],
)
def test_rules_refuse_bad_settings(change, message):
    with pytest.raises(ValueError, match=message):
        make_rules(**change)


def test_rules_keep_candidate_ids_as_a_tuple_and_stay_frozen():
    rules = RoundRules(CHOOSE_UP_TO, 1, BASE_ROSTER, 0, 0, 0, [3, 1])
    assert rules.candidate_ids == (3, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rules.seats = 2


# --- choose up to N ---------------------------------------------------------------------


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
        ({"1": "for"}, False),
        ("1", False),
        (1, False),
        (None, False),
    ],
)
def test_choose_up_to_validity(choices, is_valid):
    assert ballot_is_valid(make_rules(seats=2), choices) is is_valid


@pytest.mark.parametrize(
    "choices, message",
    [
        ([1, 2, 3], "3 choices made but at most 2 allowed"),
        ([1, 1], "more than once"),
        ([9], "candidate 9 is not on this ballot"),
        ([True], "not a candidate id"),
        ("1,2", "must be a list"),
        (None, "void"),
    ],
)
def test_choose_up_to_normalise_says_why(choices, message):
    with pytest.raises(ValueError, match=message):
        normalise_choices(make_rules(seats=2), choices)


def test_choose_up_to_normalise_keeps_order_and_copies():
    given_choices = [4, 1]
    normal = normalise_choices(make_rules(), given_choices)
    assert normal == [4, 1]
    assert normal is not given_choices


def test_choose_up_to_hand_count():
    rules = make_rules(seats=2, roster=10, issued=10)
    ballots = [[1, 2]] * 4 + [[1, 3]] * 2 + [[2], [], [1, 2, 3], None]
    result = count(rules, ballots)
    assert (result.returned, result.valid, result.void, result.base) == (10, 8, 2, 10)
    assert dict(result.votes) == {1: 6, 2: 5, 3: 2, 4: 0}
    assert result.passed == (1,)
    assert result.elected == (1,)
    assert result.runoff is None
    assert result.shortfall == 1
    assert result.void_round is False


def test_choose_up_to_each_void_reason_is_void_and_counts_nothing():
    rules = make_rules(seats=2, issued=20)
    void = [[1, 2, 3], [1, 1], [9], ["1"], [True], {"1": "for"}, "1", None, [1, None]]
    result = count(rules, void + [[1]])
    assert (result.returned, result.valid, result.void) == (10, 1, 9)
    assert dict(result.votes) == {1: 1, 2: 0, 3: 0, 4: 0}


def test_blank_ballot_is_valid_and_selects_nothing():
    result = count(make_rules(), [[], []])
    assert (result.valid, result.void) == (2, 0)
    assert set(result.votes.values()) == {0}


# --- for / against / abstain ------------------------------------------------------------


@pytest.mark.parametrize(
    "choices, is_valid",
    [
        ({}, True),
        ({"1": "for", "2": "for", "3": "for", "4": "for"}, True),
        ({1: "against", "2": "abstain"}, True),
        ({"9": "for"}, False),
        ({"1": "yes"}, False),
        ({"1": "FOR"}, False),
        ({"1": None}, False),
        ({"x": "for"}, False),
        ({"01": "for"}, False),
        ({" 1": "for"}, False),
        ({"1.0": "for"}, False),
        ({"١": "for"}, False),
        ({True: "for"}, False),
        ({1.0: "for"}, False),
        ({1: "for", "1": "for"}, False),
        ([1], False),
        (None, False),
    ],
)
def test_for_against_validity(choices, is_valid):
    assert ballot_is_valid(make_rules(method=FOR_AGAINST), choices) is is_valid


def test_for_against_normalise_gives_int_keys():
    rules = make_rules(method=FOR_AGAINST)
    normal = normalise_choices(rules, {"2": "for", 3: "against", "4": "abstain"})
    assert normal == {2: "for", 3: "against", 4: "abstain"}
    assert all(type(key) is int for key in normal)


@pytest.mark.parametrize(
    "choices, message",
    [
        ({"1": "yes"}, "mark 'yes' for candidate 1"),
        ({"9": "for"}, "candidate 9 is not on this ballot"),
        ({"x": "for"}, "'x' is not a candidate id"),
        ({1: "for", "1": "against"}, "marked more than once"),
        ([1, 2], "must map candidate ids to marks"),
    ],
)
def test_for_against_normalise_says_why(choices, message):
    with pytest.raises(ValueError, match=message):
        normalise_choices(make_rules(method=FOR_AGAINST), choices)


def test_for_against_hand_count():
    rules = make_rules(method=FOR_AGAINST, seats=2, roster=5, issued=5, ids=(1, 2, 3))
    ballots = [
        {"1": "for", "2": "for", "3": "for"},
        {"1": "for", "2": "against"},
        {1: "for", 3: "for"},
        {"1": "for", "2": "yes"},
        {},
    ]
    result = count(rules, ballots)
    assert (result.returned, result.valid, result.void) == (5, 4, 1)
    assert dict(result.votes) == {1: 3, 2: 1, 3: 2}
    assert result.passed == (1,)
    assert result.elected == (1,)
    assert result.shortfall == 1


def test_for_against_against_and_abstain_are_not_votes():
    rules = make_rules(method=FOR_AGAINST, seats=1, roster=3, issued=3, ids=(1,))
    result = count(rules, [{"1": "against"}, {"1": "abstain"}, {}])
    assert result.votes[1] == 0
    assert result.valid == 3


# --- the round as a whole ---------------------------------------------------------------


def test_more_returned_than_issued_voids_the_whole_round():
    rules = make_rules(issued=3)
    result = count(rules, [[1], [1], [1], [1]])
    assert result.void_round is True
    assert result.returned == 4
    assert (result.valid, result.void, result.base, result.shortfall) == (None,) * 4
    assert dict(result.votes) == {}
    assert (result.passed, result.elected, result.runoff) == ((), (), None)
    assert result.ranking() == []
    assert result.to_json() == {
        "returned": 4,
        "valid": None,
        "void": None,
        "void_round": True,
        "votes": {},
        "passed": [],
        "elected": [],
        "runoff": None,
        "shortfall": None,
    }


def test_returned_equal_to_issued_is_not_void():
    result = count(make_rules(issued=3, roster=4), [[1], [1], [1]])
    assert result.void_round is False
    assert result.elected == (1,)


def test_base_roster_against_base_voters():
    ballots = [[1, 2]] * 4 + [[1, 3]] * 2 + [[2], [], [1, 2, 3], None]
    by_roster = count(make_rules(roster=12, issued=10), ballots)
    assert by_roster.base == 12
    assert by_roster.passed == ()
    assert by_roster.shortfall == 2
    by_voters = count(make_rules(roster=12, issued=10, base=BASE_VOTERS), ballots)
    assert by_voters.base == 10
    assert by_voters.passed == (1,)


def test_voters_base_includes_void_and_blank_ballots():
    ballots = [[2]] * 4 + [[]] * 2 + [None] * 2
    result = count(make_rules(base=BASE_VOTERS, issued=8), ballots)
    assert result.base == 8
    assert result.votes[2] == 4
    assert result.passed == ()


@pytest.mark.parametrize("votes, passes", [(5, False), (6, True)])
def test_exactly_half_does_not_pass(votes, passes):
    rules = make_rules(method=FOR_AGAINST, seats=1, roster=10, issued=10, ids=(1,))
    result = count(rules, for_ballots(10, {1: votes}))
    assert (result.passed == (1,)) is passes


def test_odd_base_needs_more_than_half():
    rules = make_rules(method=FOR_AGAINST, seats=1, roster=9, issued=9, ids=(1, 2))
    result = count(rules, for_ballots(9, {1: 5, 2: 4}))
    assert result.passed == (1,)


def test_top_n_take_the_seats_when_more_pass():
    rules = make_rules(method=FOR_AGAINST, seats=2, roster=10, ids=(1, 2, 3, 4))
    result = count(rules, for_ballots(10, {1: 7, 2: 9, 3: 6, 4: 8}))
    assert result.passed == (1, 2, 3, 4)
    assert result.elected == (2, 4)
    assert result.runoff is None
    assert result.shortfall == 0


def test_tie_for_the_last_seat_goes_to_a_runoff_among_the_tied_only():
    rules = make_rules(method=FOR_AGAINST, seats=2, roster=10, ids=(1, 2, 3, 4, 5))
    result = count(rules, for_ballots(10, {1: 9, 2: 7, 3: 7, 4: 7, 5: 2}))
    assert result.passed == (1, 2, 3, 4)
    assert result.elected == (1,)
    assert result.runoff == Runoff(candidates=(2, 3, 4), seats=1)
    assert result.shortfall == 0


def test_runoff_for_two_seats():
    rules = make_rules(method=FOR_AGAINST, seats=3, roster=10, ids=(1, 2, 3, 4, 5, 6))
    result = count(rules, for_ballots(10, {1: 8, 2: 8, 3: 8, 4: 8, 5: 9, 6: 6}))
    assert result.elected == (5,)
    assert result.runoff == Runoff(candidates=(1, 2, 3, 4), seats=2)
    assert 6 in result.passed
    assert result.shortfall == 0


def test_all_passed_tied_for_every_seat():
    rules = make_rules(method=FOR_AGAINST, seats=2, roster=10, ids=(3, 1, 2))
    result = count(rules, for_ballots(10, {3: 7, 1: 7, 2: 7}))
    assert result.elected == ()
    assert result.runoff == Runoff(candidates=(1, 2, 3), seats=2)


def test_tie_that_fits_the_remaining_seats_elects_all_tied():
    rules = make_rules(method=FOR_AGAINST, seats=3, roster=10, ids=(1, 2, 3, 4))
    result = count(rules, for_ballots(10, {1: 9, 2: 7, 3: 7, 4: 6}))
    assert result.passed == (1, 2, 3, 4)
    assert result.elected == (1, 2, 3)
    assert result.runoff is None
    assert result.shortfall == 0


def test_exactly_as_many_pass_as_seats():
    rules = make_rules(method=FOR_AGAINST, seats=2, roster=10, ids=(1, 2, 3))
    result = count(rules, for_ballots(10, {1: 6, 2: 6, 3: 5}))
    assert result.elected == (1, 2)
    assert (result.runoff, result.shortfall) == (None, 0)


def test_shortfall_when_fewer_pass_than_seats_even_if_tied():
    rules = make_rules(method=FOR_AGAINST, seats=3, roster=10, ids=(1, 2, 3))
    result = count(rules, for_ballots(10, {1: 6, 2: 6, 3: 1}))
    assert result.elected == (1, 2)
    assert result.runoff is None
    assert result.shortfall == 1


def test_empty_round():
    result = count(make_rules(ids=(), issued=0), [])
    assert (result.returned, result.valid, result.void, result.base) == (0, 0, 0, 10)
    assert dict(result.votes) == {}
    assert (result.passed, result.elected, result.runoff, result.shortfall) == ((), (), None, 2)
    assert result.ranking() == []
    by_voters = count(make_rules(base=BASE_VOTERS, issued=0), [])
    assert by_voters.base == 0
    assert dict(by_voters.votes) == {1: 0, 2: 0, 3: 0, 4: 0}
    assert by_voters.passed == ()


def test_count_accepts_any_iterable():
    result = count(make_rules(), (ballot for ballot in [[1], [2]]))
    assert result.returned == 2


def test_ranking_order_and_shared_ranks():
    rules = make_rules(method=FOR_AGAINST, seats=1, roster=10, ids=(1, 2, 3, 4, 5))
    result = count(rules, for_ballots(10, {1: 5, 2: 7, 3: 5, 4: 0, 5: 7}))
    assert result.ranking() == [
        CandidateResult(2, 7, 1, True, False, True),
        CandidateResult(5, 7, 1, True, False, True),
        CandidateResult(1, 5, 3, False, False, False),
        CandidateResult(3, 5, 3, False, False, False),
        CandidateResult(4, 0, 5, False, False, False),
    ]


def test_to_json_shape():
    rules = make_rules(method=FOR_AGAINST, seats=2, roster=10, ids=(10, 2, 3, 4, 5))
    result = count(rules, for_ballots(10, {10: 9, 2: 7, 3: 7, 4: 7, 5: 2}))
    assert result.to_json() == {
        "returned": 10,
        "valid": 10,
        "void": 0,
        "void_round": False,
        "votes": {"2": 7, "3": 7, "4": 7, "5": 2, "10": 9},
        "passed": [2, 3, 4, 10],
        "elected": [10],
        "runoff": {"candidates": [2, 3, 4], "seats": 1},
        "shortfall": 0,
    }


def test_result_is_immutable_and_hashable():
    result = count(make_rules(ids=(1,)), [[1]])
    with pytest.raises(TypeError):
        result.votes[1] = 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.elected = (2,)
    source = {1: 1}
    copied = dataclasses.replace(result, votes=source)
    source[1] = 9
    assert copied.votes[1] == 1
    assert copied == result
    assert hash(result) == hash(count(make_rules(ids=(1,)), [[1]]))


# --- properties -------------------------------------------------------------------------


@st.composite
def rounds(draw):
    """Rules and a mix of valid, void and junk ballots for them (satisfaction: its own file)."""
    method = draw(st.sampled_from([m for m in METHODS if m != SATISFACTION]))
    ids = draw(st.lists(st.integers(1, 40), unique=True, max_size=6))
    id_or_stranger = st.sampled_from(ids + [99]) if ids else st.just(99)
    junk = st.one_of(st.none(), st.booleans(), st.text(max_size=2), st.floats(allow_nan=False))
    choose = st.lists(st.one_of(id_or_stranger, id_or_stranger, junk), max_size=5)
    marks = st.dictionaries(
        st.one_of(id_or_stranger, id_or_stranger.map(str), st.text(max_size=2)),
        st.sampled_from(MARKS + ("yes",)),
        max_size=6,
    )
    ballot = st.one_of(st.none(), choose, marks, junk)
    ballots = draw(st.lists(ballot, max_size=30))
    rules = RoundRules(
        method=method,
        seats=draw(st.integers(1, 4)),
        threshold_base=draw(st.sampled_from(THRESHOLD_BASES)),
        roster=draw(st.integers(0, 40)),
        present=draw(st.integers(0, 40)),
        issued=draw(st.one_of(st.integers(0, 40), st.just(len(ballots)))),
        candidate_ids=tuple(ids),
    )
    return rules, ballots


@settings(max_examples=400)
@given(rounds())
def test_count_invariants(case):
    rules, ballots = case
    result = count(rules, ballots)
    assert result.returned == len(ballots)
    assert result.void_round is (len(ballots) > rules.issued)
    if result.void_round:
        return
    assert result.valid + result.void == result.returned
    assert result.valid == sum(ballot_is_valid(rules, b) for b in ballots)
    assert result.base == (rules.roster if rules.threshold_base == BASE_ROSTER else len(ballots))
    assert set(result.votes) == set(rules.candidate_ids)
    assert all(0 <= v <= result.valid for v in result.votes.values())
    if rules.method == CHOOSE_UP_TO:
        assert sum(result.votes.values()) <= result.valid * rules.seats
    assert result.passed == tuple(sorted(c for c, v in result.votes.items() if v * 2 > result.base))
    assert set(result.elected) <= set(result.passed)
    assert len(result.elected) <= rules.seats
    runoff_seats = result.runoff.seats if result.runoff else 0
    assert len(result.elected) + runoff_seats + result.shortfall == rules.seats
    assert result.shortfall == max(0, rules.seats - len(result.passed))
    assert list(result.passed) == sorted(result.passed)
    assert list(result.elected) == sorted(result.elected)


@settings(max_examples=400)
@given(rounds())
def test_seats_follow_the_independent_definition(case):
    """A passed candidate is elected iff at most `seats` passed candidates have as many votes."""
    rules, ballots = case
    result = count(rules, ballots)
    if result.void_round:
        return
    votes, passed = result.votes, result.passed

    def at_least(c):
        return sum(votes[p] >= votes[c] for p in passed)

    def above(c):
        return sum(votes[p] > votes[c] for p in passed)

    assert result.elected == tuple(c for c in passed if at_least(c) <= rules.seats)
    split = [c for c in passed if above(c) < rules.seats < at_least(c)]
    if split:
        assert result.runoff == Runoff(tuple(split), rules.seats - above(split[0]))
        assert len(split) > result.runoff.seats >= 1
        assert not set(split) & set(result.elected)
    else:
        assert result.runoff is None


@settings(max_examples=200)
@given(rounds(), st.randoms())
def test_count_ignores_ballot_order(case, rnd):
    rules, ballots = case
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert count(rules, shuffled) == count(rules, ballots)


@settings(max_examples=200)
@given(rounds())
def test_stored_form_counts_the_same(case):
    """What `normalise_choices` stores must count exactly like what the deputy sent."""
    rules, ballots = case
    stored = []
    for ballot in ballots:
        try:
            stored.append(normalise_choices(rules, ballot))
        except ValueError:
            stored.append(None)
    assert count(rules, stored) == count(rules, ballots)
    for ballot in stored:
        if ballot is not None:
            assert normalise_choices(rules, ballot) == ballot


@settings(max_examples=200)
@given(rounds())
def test_ranking_properties(case):
    rules, ballots = case
    result = count(rules, ballots)
    ranking = result.ranking()
    assert [line.candidate_id for line in ranking] == sorted(
        result.votes, key=lambda c: (-result.votes[c], c)
    )
    for line in ranking:
        assert line.rank == 1 + sum(v > line.votes for v in result.votes.values())
        assert line.is_passed == (line.candidate_id in result.passed)
        assert line.is_elected == (line.candidate_id in result.elected)

