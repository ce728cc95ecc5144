"""The deputies' satisfaction assessment (满意度测评): validity, the bar, ranking and properties."""

import dataclasses
import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting_app.ballots.counting import (
    BASE_ROSTER,
    BASE_VOTERS,
    FOR_AGAINST,
    METHODS,
    RATE_DISSATISFIED,
    RATE_MOSTLY,
    RATE_SATISFIED,
    RATINGS,
    SATISFACTION,
    THRESHOLD_BASES,
    CandidateResult,
    CountResult,
    RoundRules,
    ballot_is_valid,
    count,
    meets_bar,
    normalise_choices,
    satisfaction_rate,
    satisfaction_rate_text,
)

S, M, D = RATE_SATISFIED, RATE_MOSTLY, RATE_DISSATISFIED


def make_rules(bar=60, issued=20, ids=(1, 2, 3), method=SATISFACTION, **changes):
    settings_ = {
        "method": method,
        "seats": max(1, len(ids)),
        "threshold_base": BASE_ROSTER,
        "roster": 20,
        "present": 20,
        "issued": issued,
        "candidate_ids": tuple(ids),
        "satisfaction_bar": bar,
    }
    settings_.update(changes)
    return RoundRules(**settings_)


def rated_ballots(**per_candidate):
    """Ballots from columns: rated_ballots(c1="SSMD") gives ballot i rating candidate 1 with
    the i-th letter (S, M, D; "-" leaves the candidate out of that ballot)."""
    letters = {"S": S, "M": M, "D": D}
    length = max(len(column) for column in per_candidate.values())
    ballots = []
    for i in range(length):
        ballot = {}
        for name, column in per_candidate.items():
            if i < len(column) and column[i] != "-":
                ballot[name[1:]] = letters[column[i]]
        ballots.append(ballot)
    return ballots


# --- constants and rules ----------------------------------------------------------------


def test_constants():
    assert SATISFACTION == "satisfaction"
    assert SATISFACTION in METHODS
    assert (RATE_SATISFIED, RATE_MOSTLY, RATE_DISSATISFIED) == (
        "satisfied",
        "mostly_satisfied",
        "dissatisfied",
    )
    assert RATINGS == ("satisfied", "mostly_satisfied", "dissatisfied")


def test_satisfaction_bar_defaults_to_60_for_every_method():
    assert make_rules(bar=60) == RoundRules(SATISFACTION, 3, BASE_ROSTER, 20, 20, 20, (1, 2, 3))
    assert RoundRules(FOR_AGAINST, 1, BASE_ROSTER, 0, 0, 0, ()).satisfaction_bar == 60


@pytest.mark.parametrize("bar", [0, 101, -60, True, 60.0, "60", None])
@pytest.mark.parametrize("method", [SATISFACTION, FOR_AGAINST])
def test_satisfaction_bar_is_always_validated(bar, method):
    with pytest.raises(ValueError, match="satisfaction_bar must be an integer from 1 to 100"):
        make_rules(bar=bar, method=method)


@pytest.mark.parametrize("bar", [1, 100])
def test_satisfaction_bar_limits_are_allowed(bar):
    assert make_rules(bar=bar).satisfaction_bar == bar


def test_seats_still_at_least_one():
    with pytest.raises(ValueError, match="seats"):
        make_rules(seats=0)


# --- one ballot -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "choices, is_valid",
    [
        ({}, True),
        ({"1": S, "2": M, "3": D}, True),
        ({1: S, "2": D}, True),
        ({"3": M}, True),
        ({"9": S}, False),
        ({"0": S}, False),
        ({"-1": S}, False),
        ({"x": S}, False),
        ({"01": S}, False),
        ({" 1": S}, False),
        ({"1 ": S}, False),
        ({"1.0": S}, False),
        ({"١": S}, False),
        ({"+1": S}, False),
        ({True: S}, False),
        ({1.0: S}, False),
        ({None: S}, False),
        ({1: S, "1": S}, False),
        ({"1": "yes"}, False),
        ({"1": "SATISFIED"}, False),
        ({"1": "satisfied "}, False),
        ({"1": "for"}, False),
        ({"1": None}, False),
        ({"1": 1}, False),
        ({"1": [S]}, False),
        ({"1": S, "2": "meh"}, False),
        ([1], False),
        ([], False),
        ("satisfied", False),
        (1, False),
        (None, False),
    ],
)
def test_validity(choices, is_valid):
    assert ballot_is_valid(make_rules(), choices) is is_valid


def test_normalise_gives_int_keys_and_a_copy():
    given_choices = {"2": S, 3: D, "1": M}
    normal = normalise_choices(make_rules(), given_choices)
    assert normal == {2: S, 3: D, 1: M}
    assert all(type(key) is int for key in normal)
    assert normal is not given_choices
    assert normalise_choices(make_rules(), {}) == {}


@pytest.mark.parametrize(
    "choices, message",
    [
        ({"1": "yes"}, r"rating 'yes' for candidate 1 is not one of \('satisfied', "),
        ({"9": S}, "candidate 9 is not on this ballot"),
        ({"x": S}, "'x' is not a candidate id"),
        ({True: S}, "True is not a candidate id"),
        ({1: S, "1": D}, "candidate 1 is rated more than once"),
        ([1, 2], "a satisfaction ballot must map candidate ids to ratings"),
        (None, "void"),
    ],
)
def test_normalise_says_why(choices, message):
    with pytest.raises(ValueError, match=message):
        normalise_choices(make_rules(), choices)


def test_for_against_messages_are_unchanged():
    with pytest.raises(ValueError, match="a for/against ballot must map candidate ids to marks"):
        normalise_choices(make_rules(method=FOR_AGAINST), [1])
    with pytest.raises(ValueError, match="mark 'satisfied' for candidate 1 is not one of"):
        normalise_choices(make_rules(method=FOR_AGAINST), {"1": S})
    with pytest.raises(ValueError, match="marked more than once"):
        normalise_choices(make_rules(method=FOR_AGAINST), {1: "for", "1": "for"})


def test_a_satisfaction_ballot_is_void_in_a_for_against_round_and_back():
    assert not ballot_is_valid(make_rules(method=FOR_AGAINST), {"1": S})
    assert not ballot_is_valid(make_rules(), {"1": "for"})


# --- hand-worked counts -----------------------------------------------------------------


def test_hand_count():
    # candidate 1: S S M D D  -> 3 of 5 = 60%   passes at 60
    # candidate 2: S D D - M  -> 2 of 4 = 50%   below
    # candidate 3: - - - - -  -> not rated
    ballots = rated_ballots(c1="SSMDD", c2="SDD-M") + [{"1": "meh"}, None]
    result = count(make_rules(bar=60, issued=7), ballots)
    assert (result.returned, result.valid, result.void, result.void_round) == (7, 5, 2, False)
    assert result.base == 5
    assert dict(result.votes) == {1: 3, 2: 2, 3: 0}
    assert {cid: dict(r) for cid, r in result.ratings.items()} == {
        1: {S: 2, M: 1, D: 2},
        2: {S: 1, M: 1, D: 2},
        3: {S: 0, M: 0, D: 0},
    }
    assert result.passed == (1,)
    assert result.below_bar() == (2,)
    assert (result.elected, result.runoff, result.shortfall) == ((), None, 0)
    assert result.method == SATISFACTION


@pytest.mark.parametrize(
    "column, bar, passes",
    [
        ("SSSDD", 60, True),  # 3 of 5 = 60%: the bar exactly met passes
        ("SSDDD", 60, False),  # 2 of 5 = 40%
        ("MMMDD", 60, True),  # mostly satisfied counts like satisfied
        ("SMMDD", 60, True),
        ("SSDD", 60, False),  # 50%
        ("SSSSSDDDD", 56, False),  # 5 of 9 = 55.6%
        ("SSSSSDDDD", 55, True),
        ("SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSD", 100, False),
        ("SMSM", 100, True),
        ("D" * 99 + "S", 1, True),
        ("D", 1, False),
    ],
)
def test_the_bar(column, bar, passes):
    result = count(make_rules(bar=bar, issued=len(column), ids=(1,)), rated_ballots(c1=column))
    assert result.passed == ((1,) if passes else ())
    assert result.below_bar() == (() if passes else (1,))


def test_each_void_reason_is_void_and_rates_nothing():
    void = [
        {"9": S},
        {"x": S},
        {"01": S},
        {True: S},
        {1.0: S},
        {1: S, "1": S},
        {"1": "yes"},
        {"1": S, "2": None},
        [1],
        "satisfied",
        7,
        None,
    ]
    result = count(make_rules(issued=20), void + [{"1": D}])
    assert (result.returned, result.valid, result.void) == (13, 1, 12)
    assert {cid: dict(r) for cid, r in result.ratings.items()} == {
        1: {S: 0, M: 0, D: 1},
        2: {S: 0, M: 0, D: 0},
        3: {S: 0, M: 0, D: 0},
    }
    assert result.passed == ()
    assert result.below_bar() == (1,)


def test_a_left_out_candidate_is_not_rated_on_that_ballot():
    # Candidate 2 is left out of two ballots: those are not counted as any rating, so its
    # rate is over the 2 ballots that rated it (2 of 2), not over all 4 valid ballots.
    ballots = [{"1": S, "2": S}, {"1": D, "2": M}, {"1": D}, {"1": D}]
    result = count(make_rules(ids=(1, 2)), ballots)
    assert result.valid == 4
    assert dict(result.ratings[2]) == {S: 1, M: 1, D: 0}
    assert result.rated(2) == 2
    assert result.rated(1) == 4
    assert result.passed == (2,)
    assert result.below_bar() == (1,)


def test_blank_ballots_are_valid_and_rate_nothing():
    result = count(make_rules(), [{}, {}, {"1": S}])
    assert (result.valid, result.void, result.base) == (3, 0, 3)
    assert result.rated(1) == 1
    assert result.passed == (1,)
    assert result.below_bar() == ()


def test_a_candidate_nobody_rated_is_neither_passed_nor_below_the_bar():
    result = count(make_rules(ids=(1, 2)), [{}, {"1": D}])
    assert result.rated(2) == 0
    assert 2 not in result.passed
    assert 2 not in result.below_bar()
    assert result.below_bar() == (1,)
    line = next(line for line in result.ranking() if line.candidate_id == 2)
    assert (line.rank, line.rated, line.rate_percent, line.is_passed) == (None, 0, None, False)


def test_all_blank_round():
    result = count(make_rules(), [{}, {}])
    assert result.passed == ()
    assert result.below_bar() == ()
    assert [line.rank for line in result.ranking()] == [None, None, None]


def test_empty_round_and_no_candidates():
    result = count(make_rules(ids=(), issued=0), [])
    assert (result.returned, result.valid, result.void, result.base) == (0, 0, 0, 0)
    assert dict(result.ratings) == {}
    assert result.to_json()["ratings"] == {}
    assert result.ranking() == []


def test_seats_and_threshold_base_do_not_change_the_count():
    ballots = rated_ballots(c1="SSMDD", c2="SDD-M")
    reference = count(make_rules(), ballots)
    for changes in ({"seats": 1}, {"seats": 9}, {"threshold_base": BASE_VOTERS}, {"roster": 0}):
        assert count(make_rules(**changes), ballots) == reference


def test_more_returned_than_issued_voids_the_whole_round():
    result = count(make_rules(issued=2), [{"1": S}, {"1": S}, {"1": S}])
    assert result.void_round is True
    assert result.returned == 3
    assert (result.valid, result.void, result.base, result.shortfall) == (None,) * 4
    assert dict(result.votes) == {}
    assert dict(result.ratings) == {}
    assert (result.passed, result.elected, result.runoff) == ((), (), None)
    assert result.below_bar() == ()
    assert result.ranking() == []
    assert result.to_json() == {
        "returned": 3,
        "valid": None,
        "void": None,
        "void_round": True,
        "votes": {},
        "passed": [],
        "elected": [],
        "runoff": None,
        "shortfall": None,
        "ratings": None,
        "overall": None,
    }


def test_returned_equal_to_issued_is_not_void():
    result = count(make_rules(issued=2), [{"1": S}, {"1": S}])
    assert result.void_round is False
    assert result.passed == (1,)


# --- ranking and JSON -------------------------------------------------------------------


def test_ranking_by_rate_with_shared_ranks_and_unrated_last():
    ballots = rated_ballots(
        c1="SSD---",  # 2/3 = 66.7%
        c2="SDDDDD",  # 1/6 = 16.7%
        c3="SMSMSD",  # 5/6 = 83.3%
        c4="------",  # not rated
        c5="SSSSDD",  # 4/6 = 66.7%, ties with 1 exactly
        c6="DDD---",  # 0/3
        c7="------",  # not rated
    )
    result = count(make_rules(ids=(7, 6, 5, 4, 3, 2, 1), issued=6), ballots)
    assert result.ranking() == [
        CandidateResult(3, 5, 1, True, False, False, 6, 5 * 100 / 6),
        CandidateResult(1, 2, 2, True, False, False, 3, 2 * 100 / 3),
        CandidateResult(5, 4, 2, True, False, False, 6, 4 * 100 / 6),
        CandidateResult(2, 1, 4, False, False, False, 6, 1 * 100 / 6),
        CandidateResult(6, 0, 5, False, False, False, 3, 0.0),
        CandidateResult(4, 0, None, False, False, False, 0, None),
        CandidateResult(7, 0, None, False, False, False, 0, None),
    ]
    assert result.passed == (1, 3, 5)
    assert result.below_bar() == (2, 6)


def test_ranking_compares_rates_exactly():
    # 1 of 3 and 2 of 6 are the same rate; 333 of 1000 is a little lower.
    ballots = rated_ballots(c1="SDD", c2="SSDDDD") + [{"3": S}] * 333 + [{"3": D}] * 667
    rules = make_rules(ids=(1, 2, 3), issued=len(ballots))
    ranks = {line.candidate_id: line.rank for line in count(rules, ballots).ranking()}
    assert ranks == {1: 1, 2: 1, 3: 3}


def test_other_methods_keep_rated_zero_and_no_rate():
    result = count(make_rules(method=FOR_AGAINST), [{"1": "for"}])
    assert dict(result.ratings) == {}
    assert result.below_bar() == ()
    assert all(line.rated == 0 and line.rate_percent is None for line in result.ranking())
    assert "ratings" not in result.to_json()
    assert list(result.to_json()) == [
        "returned",
        "valid",
        "void",
        "void_round",
        "votes",
        "passed",
        "elected",
        "runoff",
        "shortfall",
    ]


def test_to_json_shape():
    ballots = rated_ballots(c1="SSMDD", c10="SDD-M")
    result = count(make_rules(ids=(10, 1, 2), issued=5), ballots)
    data = result.to_json()
    assert data == {
        "returned": 5,
        "valid": 5,
        "void": 0,
        "void_round": False,
        "votes": {"1": 3, "2": 0, "10": 2},
        "passed": [1],
        "elected": [],
        "runoff": None,
        "shortfall": 0,
        "ratings": {
            "1": {"satisfied": 2, "mostly_satisfied": 1, "dissatisfied": 2},
            "2": {"satisfied": 0, "mostly_satisfied": 0, "dissatisfied": 0},
            "10": {"satisfied": 1, "mostly_satisfied": 1, "dissatisfied": 2},
        },
        "overall": {"satisfied_and_mostly": 5, "rated": 9},
    }
    assert "grades" not in data
    assert list(data["ratings"]["1"]) == list(RATINGS)
    assert json.loads(json.dumps(data)) == data


def test_result_is_immutable_and_hashable():
    result = count(make_rules(ids=(1,)), [{"1": S}])
    with pytest.raises(TypeError):
        result.ratings[1] = {}
    with pytest.raises(TypeError):
        result.ratings[1][S] = 5
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.passed = ()
    assert hash(result) == hash(count(make_rules(ids=(1,)), [{"1": S}]))
    source = {1: {S: 1}}
    copied = dataclasses.replace(result, ratings=source)
    source[1][S] = 9
    assert dict(copied.ratings[1]) == {S: 1, M: 0, D: 0}
    assert copied == result


def test_a_result_refuses_unknown_ratings():
    with pytest.raises(ValueError, match="unknown rating"):
        dataclasses.replace(count(make_rules(ids=(1,)), []), ratings={1: {"happy": 1}})


# --- the rate -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "good, answered, rate, text",
    [
        (3, 5, 60.0, "60.0"),
        (2, 5, 40.0, "40.0"),
        (0, 4, 0.0, "0.0"),
        (7, 7, 100.0, "100.0"),
        (1, 3, 100 / 3, "33.3"),
        (2, 3, 200 / 3, "66.6"),  # rounded down, so it never shows more than it is
        (5999, 10000, 59.99, "59.9"),  # under a 60% bar: must not read "60.0"
        (0, 0, None, None),
    ],
)
def test_satisfaction_rate(good, answered, rate, text):
    assert satisfaction_rate(good, answered) == rate
    assert satisfaction_rate_text(good, answered) == text


@pytest.mark.parametrize("good, answered", [(6, 5), (-1, 5), (1, -1), (True, 5), (1.0, 2), (1, "2")])
def test_satisfaction_rate_refuses_nonsense(good, answered):
    with pytest.raises(ValueError):
        satisfaction_rate(good, answered)
    with pytest.raises(ValueError):
        satisfaction_rate_text(good, answered)
    with pytest.raises(ValueError):
        meets_bar(good, answered, 60)


@pytest.mark.parametrize(
    "good, answered, bar, passes",
    [(3, 5, 60, True), (2, 5, 60, False), (0, 0, 1, False), (0, 0, 100, False), (1, 1, 100, True)],
)
def test_meets_bar(good, answered, bar, passes):
    assert meets_bar(good, answered, bar) is passes


# --- properties -------------------------------------------------------------------------


@st.composite
def satisfaction_rounds(draw):
    """Satisfaction rules and a mix of valid, void and junk ballots for them."""
    ids = draw(st.lists(st.integers(1, 40), unique=True, max_size=6))
    id_or_stranger = st.sampled_from(ids + [99]) if ids else st.just(99)
    junk = st.one_of(st.none(), st.booleans(), st.text(max_size=2), st.floats(allow_nan=False))
    key = st.one_of(
        id_or_stranger, id_or_stranger, id_or_stranger.map(str), st.text(max_size=2), st.booleans()
    )
    rating = st.one_of(
        st.sampled_from(RATINGS), st.sampled_from(RATINGS), st.sampled_from(("for", "yes")), junk
    )
    ratings = st.dictionaries(key, rating, max_size=6)
    clean = st.dictionaries(id_or_stranger, st.sampled_from(RATINGS), max_size=6)
    ballot = st.one_of(st.none(), ratings, clean, clean, st.lists(id_or_stranger, max_size=3), junk)
    ballots = draw(st.lists(ballot, max_size=30))
    rules = RoundRules(
        method=SATISFACTION,
        seats=draw(st.integers(1, 6)),
        threshold_base=draw(st.sampled_from(THRESHOLD_BASES)),
        roster=draw(st.integers(0, 40)),
        present=draw(st.integers(0, 40)),
        issued=draw(st.one_of(st.integers(0, 40), st.just(len(ballots)))),
        candidate_ids=tuple(ids),
        satisfaction_bar=draw(st.one_of(st.integers(1, 100), st.sampled_from((50, 60, 100)))),
    )
    return rules, ballots


@settings(max_examples=400)
@given(satisfaction_rounds())
def test_count_invariants(case):
    rules, ballots = case
    result = count(rules, ballots)
    assert result.returned == len(ballots)
    assert result.void_round is (len(ballots) > rules.issued)
    if result.void_round:
        assert dict(result.ratings) == {} and result.to_json()["ratings"] is None
        assert (result.passed, result.below_bar(), result.ranking()) == ((), (), [])
        return
    assert result.valid + result.void == result.returned
    assert result.valid == sum(ballot_is_valid(rules, b) for b in ballots)
    assert result.base == result.valid
    assert set(result.votes) == set(result.ratings) == set(rules.candidate_ids)
    for cid, given_ratings in result.ratings.items():
        assert tuple(given_ratings) == RATINGS
        assert all(n >= 0 for n in given_ratings.values())
        assert sum(given_ratings.values()) == result.rated(cid) <= result.valid
        assert result.votes[cid] == given_ratings[S] + given_ratings[M]
    rated = {cid for cid in result.ratings if result.rated(cid) > 0}
    assert not set(result.passed) & set(result.below_bar())
    assert set(result.passed) | set(result.below_bar()) == rated
    assert list(result.passed) == sorted(result.passed)
    assert list(result.below_bar()) == sorted(result.below_bar())
    bar = rules.satisfaction_bar
    assert result.passed == tuple(
        sorted(
            c
            for c in rated
            if Fraction(result.votes[c], result.rated(c)) >= Fraction(bar, 100)
        )
    )
    assert (result.elected, result.runoff, result.shortfall) == ((), None, 0)


@settings(max_examples=300)
@given(satisfaction_rounds())
def test_ratings_follow_the_independent_definition(case):
    """ratings[c][r] is the number of valid ballots that give candidate c the rating r."""
    rules, ballots = case
    result = count(rules, ballots)
    if result.void_round:
        return
    valid = []
    for ballot in ballots:
        try:
            valid.append(normalise_choices(rules, ballot))
        except ValueError:
            pass
    for cid in rules.candidate_ids:
        for rating in RATINGS:
            assert result.ratings[cid][rating] == sum(b.get(cid) == rating for b in valid)


@settings(max_examples=200)
@given(satisfaction_rounds(), st.randoms())
def test_count_ignores_ballot_order(case, rnd):
    rules, ballots = case
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert count(rules, shuffled) == count(rules, ballots)


@settings(max_examples=200)
@given(satisfaction_rounds())
def test_stored_form_counts_the_same(case):
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
            assert {str(k): v for k, v in ballot.items()} == json.loads(json.dumps(ballot))


@settings(max_examples=300)
@given(satisfaction_rounds())
def test_ranking_properties(case):
    rules, ballots = case
    result = count(rules, ballots)
    ranking = result.ranking()
    if result.void_round:
        assert ranking == []
        return

    def rate(c):
        return Fraction(result.votes[c], result.rated(c)) if result.rated(c) else None

    rated = [c for c in result.votes if rate(c) is not None]
    unrated = [c for c in result.votes if rate(c) is None]
    expected_order = sorted(rated, key=lambda c: (-rate(c), c)) + sorted(unrated)
    assert [line.candidate_id for line in ranking] == expected_order
    for line in ranking:
        cid = line.candidate_id
        assert line.votes == result.votes[cid]
        assert line.rated == result.rated(cid)
        assert line.is_passed == (cid in result.passed)
        assert not line.is_elected and not line.is_in_runoff
        if rate(cid) is None:
            assert (line.rank, line.rate_percent) == (None, None)
        else:
            assert line.rank == 1 + sum(rate(c) > rate(cid) for c in rated)
            assert line.rate_percent == pytest.approx(float(rate(cid) * 100))


@settings(max_examples=200)
@given(satisfaction_rounds())
def test_to_json_is_plain_json_and_matches_the_result(case):
    rules, ballots = case
    result = count(rules, ballots)
    data = result.to_json()
    assert json.loads(json.dumps(data)) == data
    if result.void_round:
        assert data["ratings"] is None
        return
    assert data["ratings"] == {
        str(cid): dict(given_ratings) for cid, given_ratings in result.ratings.items()
    }
    assert data["votes"] == {str(cid): n for cid, n in result.votes.items()}


@settings(max_examples=100)
@given(satisfaction_rounds())
def test_the_same_ballots_count_the_same_under_every_threshold_base(case):
    rules, ballots = case
    for base in THRESHOLD_BASES:
        assert count(dataclasses.replace(rules, threshold_base=base), ballots) == count(
            rules, ballots
        )


def test_count_result_fields():
    assert [f.name for f in dataclasses.fields(CountResult)] == [
        "returned",
        "valid",
        "void",
        "void_round",
        "base",
        "votes",
        "passed",
        "elected",
        "runoff",
        "shortfall",
        "ratings",
        "method",
        "grading",
        "grades",
        "points",
        "priority",
        "pass_rule",
        "tie_rule",
        "shortfall_rule",
        "unfilled_tie",
    ]
    assert [f.name for f in dataclasses.fields(CandidateResult)][-3:] == ["rated", "rate_percent", "is_tied_unfilled"]


def test_one_rounding_rule_for_every_rate_shown_down_to_a_tenth():
    """59.95% shows 59.9 (under the bar never shows the bar), 99.05% shows 99.0, 2/3 shows 66.6."""
    from voting_app.ballots.counting import satisfaction_rate_tenths, satisfaction_rate_text

    assert [satisfaction_rate_text(s, n) for s, n in ((1199, 2000), (1981, 2000), (2, 3), (109, 110), (3, 5), (0, 7))] == [
        "59.9", "99.0", "66.6", "99.0", "60.0", "0.0"]
    assert satisfaction_rate_tenths(1, 1) == 1000 and satisfaction_rate_tenths(0, 0) is None
    line = CandidateResult(candidate_id=1, votes=2, rank=1, is_passed=True, is_elected=False, is_in_runoff=False, rated=3,
                           rate_percent=200 / 3)
    assert line.rate_text == "66.6"
    assert CandidateResult(1, 0, None, False, False, False).rate_text is None
