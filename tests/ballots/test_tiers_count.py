"""Graded satisfaction (镇海区 tiers) and the overall rate of every satisfaction round."""

import dataclasses
import json
import re
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting_app.ballots.counting import (
    BASE_ROSTER,
    BASE_VOTERS,
    CHOOSE_UP_TO,
    FOR_AGAINST,
    GRADES,
    GRADING_BAR,
    GRADING_TIERS,
    GRADINGS,
    RANK,
    RATE_DISSATISFIED,
    RATE_MOSTLY,
    RATE_SATISFIED,
    RATINGS,
    SATISFACTION,
    THRESHOLD_BASES,
    Overall,
    RoundRules,
    count,
    tier_grade,
)

S, M, D = RATE_SATISFIED, RATE_MOSTLY, RATE_DISSATISFIED


def tiers(roster=10, base=BASE_ROSTER, issued=20, ids=(1, 2, 3), **changes):
    settings_ = {
        "method": SATISFACTION,
        "seats": 1,
        "threshold_base": base,
        "roster": roster,
        "present": roster,
        "issued": issued,
        "candidate_ids": tuple(ids),
        "grading": GRADING_TIERS,
    }
    settings_.update(changes)
    return RoundRules(**settings_)


def column(letters, cid=1):
    """One ballot per letter rating candidate cid (S, M, D; "-" leaves it out)."""
    names = {"S": S, "M": M, "D": D}
    return [{} if letter == "-" else {str(cid): names[letter]} for letter in letters]


# --- rules --------------------------------------------------------------------------------


def test_constants():
    assert GRADINGS == ("bar", "tiers")
    assert (GRADING_BAR, GRADING_TIERS) == ("bar", "tiers")
    assert GRADES == RATINGS == ("satisfied", "mostly_satisfied", "dissatisfied")


def test_grading_defaults_to_the_bar():
    assert RoundRules(SATISFACTION, 1, BASE_ROSTER, 0, 0, 0, ()).grading == GRADING_BAR
    assert RoundRules(CHOOSE_UP_TO, 1, BASE_ROSTER, 0, 0, 0, ()).grading == GRADING_BAR


@pytest.mark.parametrize("grading", ["Tiers", "stars", "", None, 1])
def test_unknown_grading_is_refused(grading):
    with pytest.raises(ValueError, match="unknown grading"):
        tiers(grading=grading)


@pytest.mark.parametrize("method", [CHOOSE_UP_TO, FOR_AGAINST, RANK])
def test_tiers_apply_only_to_a_satisfaction_round(method):
    with pytest.raises(ValueError, match="grading 'tiers' applies only to a satisfaction round"):
        tiers(method=method)


# --- the tiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "satisfied, mostly, base, grade",
    [
        (6, 0, 10, S),  # more than half satisfied
        (5, 5, 10, M),  # exactly half satisfied is not more than half
        (5, 1, 10, M),
        (5, 0, 10, D),  # exactly half satisfied + mostly is half or less
        (0, 6, 10, M),
        (3, 2, 10, D),
        (5, 0, 9, S),  # odd base: 5 of 9 is more than half
        (4, 0, 9, D),
        (4, 1, 9, M),
        (0, 0, 0, D),  # nothing is more than half of nothing
        (1, 0, 0, S),
    ],
)
def test_tier_grade(satisfied, mostly, base, grade):
    assert tier_grade(satisfied, mostly, base) == grade


def test_hand_count_on_the_roster():
    # roster 10: satisfied needs 6 satisfied votes; mostly satisfied needs 6 S + M.
    ballots = [
        {"1": S, "2": S, "3": S},
        {"1": S, "2": S, "3": M},
        {"1": S, "2": M, "3": D},
        {"1": S, "2": M},
        {"1": S, "2": M, "3": D},
        {"1": S, "2": M},
        {"1": D, "2": D},
        {"1": "meh"},
        None,
    ]
    result = count(tiers(roster=10, issued=9), ballots)
    assert (result.returned, result.valid, result.void, result.base) == (9, 7, 2, 10)
    assert dict(result.grades) == {1: S, 2: M, 3: D}
    assert result.passed == (1, 2)
    assert result.below_bar() == (3,)
    assert (result.elected, result.runoff, result.shortfall) == ((), None, 0)
    assert result.grading == GRADING_TIERS
    assert result.overall() == Overall(satisfied_and_mostly=6 + 6 + 2, rated=7 + 7 + 4)


def test_the_roster_base_counts_members_who_did_not_vote():
    # 6 of 7 ballots satisfied is a clear majority of the ballots, not of a roster of 12.
    ballots = column("SSSSSSD")
    on_roster = count(tiers(roster=12, ids=(1,)), ballots)
    assert on_roster.grades[1] == D
    on_ballots = count(tiers(roster=12, base=BASE_VOTERS, ids=(1,)), ballots)
    assert on_ballots.base == 7
    assert on_ballots.grades[1] == S


def test_the_ballots_base_counts_void_and_blank_ballots():
    # 3 satisfied of 6 returned (one void, one blank, one leaving the project out) is half.
    ballots = column("SSS-D") + [None]
    result = count(tiers(base=BASE_VOTERS, ids=(1,)), ballots)
    assert (result.base, result.valid) == (6, 5)
    assert result.grades[1] == D
    assert count(tiers(base=BASE_VOTERS, ids=(1,)), ballots[:-1]).grades[1] == S


def test_a_project_nobody_rated_is_dissatisfied_and_sent_to_rectification():
    result = count(tiers(roster=2, ids=(1, 2)), [{"1": S}, {"1": S}])
    assert dict(result.grades) == {1: S, 2: D}
    assert result.passed == (1,)
    assert result.below_bar() == (2,)
    line = next(line for line in result.ranking() if line.candidate_id == 2)
    assert (line.rank, line.rated, line.is_passed) == (None, 0, False)


def test_under_tiers_the_grade_orders_the_projects_before_the_rate():
    # Roster 10. Project 1: 4 raters, all satisfied (100%), graded dissatisfied on the roster.
    # Project 2: 6 satisfied of 10 (60%), satisfied. Project 3: 3 S + 3 M of 8 (75%), mostly.
    # Project 4: 5 S + 5 D (50%), dissatisfied, more satisfied votes than project 1.
    # Project 5: nobody rated it: dissatisfied too, but last and without a rank.
    ballots = [{} for _ in range(10)]
    for index in range(4):
        ballots[index]["1"] = S
    for index, rating in enumerate("SSSSSSDDDD"):
        ballots[index]["2"] = {"S": S, "D": D}[rating]
    for index, rating in enumerate("SSSMMMDD"):
        ballots[index]["3"] = {"S": S, "M": M, "D": D}[rating]
    for index, rating in enumerate("SSSSSDDDDD"):
        ballots[index]["4"] = {"S": S, "D": D}[rating]
    result = count(tiers(roster=10, ids=(1, 2, 3, 4, 5)), ballots)
    assert dict(result.grades) == {1: D, 2: S, 3: M, 4: D, 5: D}
    ranking = result.ranking()
    assert [line.candidate_id for line in ranking] == [2, 3, 4, 1, 5]
    assert [line.rank for line in ranking] == [1, 2, 3, 4, None]
    assert [line.rate_percent for line in ranking] == [60.0, 75.0, 50.0, 100.0, None]


def test_under_tiers_equal_grade_and_votes_share_a_rank_and_satisfied_votes_break_ties():
    # Roster 4: both satisfied (3 S); project 3 has 2 S + 2 M (mostly), project 4 has 1 S + 3 M.
    ballots = [{"1": S, "2": S, "3": S, "4": S}, {"1": S, "2": S, "3": S, "4": M},
               {"1": S, "2": S, "3": M, "4": M}, {"1": D, "2": D, "3": M, "4": M}]
    ranking = count(tiers(roster=4, ids=(1, 2, 3, 4)), ballots).ranking()
    assert [(line.candidate_id, line.rank) for line in ranking] == [(1, 1), (2, 1), (3, 3), (4, 4)]


def test_under_the_bar_the_rate_still_orders_the_projects():
    ballots = [{"1": S, "2": D}, {"1": D, "2": S}, {"2": S}]
    result = count(dataclasses.replace(tiers(roster=10, ids=(1, 2)), grading=GRADING_BAR, satisfaction_bar=60), ballots)
    assert [(line.candidate_id, line.rank) for line in result.ranking()] == [(2, 1), (1, 2)]


def test_the_bar_is_not_used_under_tiers():
    ballots = column("SSSSSSMMMD")
    results = {bar: count(tiers(satisfaction_bar=bar, ids=(1,)), ballots) for bar in (1, 60, 100)}
    assert len(set(results.values())) == 1
    assert results[100].grades[1] == S


def test_the_same_ballots_under_the_bar_and_in_tiers():
    # 6 of 10 satisfied or mostly: meets a 60% bar, but only 2 satisfied and 6 S+M of a
    # roster of 13 is half or less, so tiers send it to rectification.
    ballots = column("SSMMMMDDDD")
    bar = count(dataclasses.replace(tiers(roster=13, ids=(1,)), grading=GRADING_BAR), ballots)
    graded = count(tiers(roster=13, ids=(1,)), ballots)
    assert (bar.passed, bar.below_bar(), dict(bar.grades), bar.base) == ((1,), (), {}, 10)
    assert (graded.passed, graded.below_bar(), graded.base) == ((), (1,), 13)
    assert bar.ratings == graded.ratings
    assert bar.overall() == graded.overall() == Overall(6, 10)


def test_more_returned_than_issued_voids_the_whole_round():
    result = count(tiers(issued=1), [{"1": S}, {"1": S}])
    assert result.void_round is True
    assert (dict(result.grades), result.passed, result.below_bar()) == ({}, (), ())
    assert result.overall() is None
    data = result.to_json()
    assert (data["ratings"], data["grades"], data["overall"]) == (None, None, None)
    assert list(data)[-3:] == ["ratings", "grades", "overall"]


def test_to_json_shape():
    ballots = [{"1": S, "10": M}, {"1": S, "10": M}, {"1": M}, {"10": D}]
    result = count(tiers(roster=5, ids=(10, 1, 2), issued=4), ballots)
    data = result.to_json()
    assert data == {
        "returned": 4,
        "valid": 4,
        "void": 0,
        "void_round": False,
        "votes": {"1": 3, "2": 0, "10": 2},
        "passed": [1],
        "elected": [],
        "runoff": None,
        "shortfall": 0,
        "ratings": {
            "1": {"satisfied": 2, "mostly_satisfied": 1, "dissatisfied": 0},
            "2": {"satisfied": 0, "mostly_satisfied": 0, "dissatisfied": 0},
            "10": {"satisfied": 0, "mostly_satisfied": 2, "dissatisfied": 1},
        },
        "grades": {"1": "mostly_satisfied", "2": "dissatisfied", "10": "dissatisfied"},
        "overall": {"satisfied_and_mostly": 5, "rated": 6},
    }
    assert json.loads(json.dumps(data)) == data


def test_a_result_refuses_unknown_grades_and_keeps_its_grades_frozen():
    result = count(tiers(ids=(1,)), [{"1": S}])
    with pytest.raises(ValueError, match="unknown grade"):
        dataclasses.replace(result, grades={1: "great"})
    with pytest.raises(TypeError):
        result.grades[1] = S
    assert hash(result) == hash(count(tiers(ids=(1,)), [{"1": S}]))


# --- the overall rate -----------------------------------------------------------------------


def test_overall_counts_every_rating_and_skips_projects_left_out():
    # Project 1 rated 4 times (3 good), project 2 twice (0 good), project 3 never.
    ballots = [{"1": S, "2": D}, {"1": M, "2": D}, {"1": S}, {"1": D}, {}]
    rules = dataclasses.replace(tiers(ids=(1, 2, 3)), grading=GRADING_BAR)
    overall = count(rules, ballots).overall()
    assert overall == Overall(satisfied_and_mostly=3, rated=6)
    assert (overall.rate_tenths, overall.rate_text) == (500, "50.0")


def test_overall_uses_the_one_rounding_rule():
    # 1199 of 2000 is 59.95%: shown 59.9, never 60.0.
    assert Overall(1199, 2000).rate_text == "59.9"
    assert Overall(2, 3).rate_tenths == 666
    assert (Overall(0, 0).rate_tenths, Overall(0, 0).rate_text) == (None, None)
    with pytest.raises(ValueError, match="need 0 <= satisfied"):
        Overall(3, 2)


def test_only_a_counted_satisfaction_round_has_an_overall_figure():
    choose = RoundRules(CHOOSE_UP_TO, 1, BASE_ROSTER, 3, 3, 3, (1,))
    assert count(choose, [[1]]).overall() is None
    assert "overall" not in count(choose, [[1]]).to_json()
    empty = count(tiers(ids=(), issued=0), [])
    assert empty.overall() == Overall(0, 0)
    assert empty.to_json()["overall"] == {"satisfied_and_mostly": 0, "rated": 0}


# --- properties against a naive second count -------------------------------------------------


def naive_rating_ballot(ids, ballot):
    """An independent reading of one satisfaction ballot: {id: rating}, or None when void."""
    if not isinstance(ballot, dict):
        return None
    read = {}
    for key, rating in ballot.items():
        if isinstance(key, bool):
            return None
        if isinstance(key, int):
            cid = key
        elif isinstance(key, str) and key.isascii() and re.fullmatch(r"-?\d+", key):
            cid = int(key)
            if str(cid) != key:
                return None
        else:
            return None
        if cid not in ids or cid in read or rating not in (S, M, D):
            return None
        read[cid] = rating
    return read


def naive_tiers(rules, ballots):
    """Grades, rectification list and overall figure by the words of the 镇海区 rule."""
    ids = set(rules.candidate_ids)
    valid = [read for read in (naive_rating_ballot(ids, b) for b in ballots) if read is not None]
    base = rules.roster if rules.threshold_base == BASE_ROSTER else len(ballots)
    half = Fraction(base, 2)
    grades = {}
    for cid in rules.candidate_ids:
        satisfied = sum(1 for read in valid if read.get(cid) == S)
        mostly = sum(1 for read in valid if read.get(cid) == M)
        if satisfied > half:
            grades[cid] = S
        elif satisfied + mostly > half:
            grades[cid] = M
        else:
            grades[cid] = D
    good = sum(1 for read in valid for rating in read.values() if rating != D)
    rated = sum(len(read) for read in valid)
    return len(valid), grades, good, rated


@st.composite
def tiers_rounds(draw):
    """Tiers rules and a mix of valid, void and junk ballots for them."""
    ids = draw(st.lists(st.integers(1, 40), unique=True, max_size=6))
    some_id = st.sampled_from(ids + [99]) if ids else st.just(99)
    junk = st.one_of(st.none(), st.booleans(), st.text(max_size=2), st.floats(allow_nan=False))
    key = st.one_of(some_id, some_id, some_id.map(str), st.sampled_from(["01", " 1", "-0", "+1", "x"]))
    rating = st.one_of(st.sampled_from(RATINGS), st.sampled_from(RATINGS), st.just("for"), junk)
    clean = st.dictionaries(some_id, st.sampled_from(RATINGS), max_size=6)
    ballot = st.one_of(st.none(), st.dictionaries(key, rating, max_size=6), clean, clean, clean, junk)
    ballots = draw(st.lists(ballot, max_size=40))
    rules = tiers(
        roster=draw(st.integers(0, 40)),
        base=draw(st.sampled_from(THRESHOLD_BASES)),
        issued=draw(st.one_of(st.integers(0, 40), st.just(len(ballots)))),
        ids=tuple(ids),
        satisfaction_bar=draw(st.integers(1, 100)),
    )
    return rules, ballots


@settings(max_examples=500)
@given(tiers_rounds())
def test_tiers_follow_the_naive_count(case):
    rules, ballots = case
    result = count(rules, ballots)
    if len(ballots) > rules.issued:
        assert result.void_round and result.overall() is None and dict(result.grades) == {}
        return
    valid, grades, good, rated = naive_tiers(rules, ballots)
    assert result.valid == valid
    assert dict(result.grades) == grades
    assert result.passed == tuple(sorted(c for c, g in grades.items() if g != D))
    assert result.below_bar() == tuple(sorted(c for c, g in grades.items() if g == D))
    assert result.overall() == Overall(good, rated)
    data = result.to_json()
    assert data["grades"] == {str(c): g for c, g in grades.items()}
    assert data["overall"] == {"satisfied_and_mostly": good, "rated": rated}
    assert data["passed"] == list(result.passed)
    order = [GRADES.index(grades[line.candidate_id]) for line in result.ranking() if line.rated]
    assert order == sorted(order), "under tiers no project stands above one with a better grade"
    assert all(line.rank is None for line in result.ranking() if not line.rated)


@settings(max_examples=200)
@given(tiers_rounds())
def test_ratings_and_overall_do_not_depend_on_the_grading(case):
    rules, ballots = case
    graded = count(rules, ballots)
    barred = count(dataclasses.replace(rules, grading=GRADING_BAR), ballots)
    assert (graded.valid, graded.ratings, graded.votes) == (barred.valid, barred.ratings, barred.votes)
    assert graded.overall() == barred.overall()
