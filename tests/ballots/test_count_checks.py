"""The 计票报告单's arithmetic checks, on figures given by hand and on real counts."""

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ballots.test_counting import make_rules
from voting_app.ballots import count_checks as cc
from voting_app.ballots.counting import CHOOSE_UP_TO, FOR_AGAINST, RANK, SATISFACTION, count


def by_code(found):
    return {check.code: check for check in found}


def test_a_sound_count_meets_every_check():
    found = cc.checks(10, 9, 8, 1, {1: 6, 2: 5, 3: 4}, 2, CHOOSE_UP_TO)
    assert [c.code for c in found] == [
        cc.RETURNED_WITHIN_ISSUED, cc.VALID_AND_VOID_MAKE_RETURNED, cc.EACH_COUNT_WITHIN_VALID, cc.MARKS_WITHIN_PLACES
    ]
    assert all(c.holds for c in found) and cc.all_hold(found)
    marks = by_code(found)[cc.MARKS_WITHIN_PLACES]
    assert (marks.left, marks.right) == (15, 16)


def test_each_check_fails_on_its_own_figure():
    checks = by_code(cc.checks(10, 11, 8, 2, {1: 9, 2: 8, 3: 1}, 2, RANK))
    assert checks[cc.RETURNED_WITHIN_ISSUED].holds is False
    assert checks[cc.VALID_AND_VOID_MAKE_RETURNED].holds is False  # 8 + 2 ≠ 11
    assert checks[cc.EACH_COUNT_WITHIN_VALID].holds is False and checks[cc.EACH_COUNT_WITHIN_VALID].failing == (1,)
    assert checks[cc.MARKS_WITHIN_PLACES].holds is False  # 18 > 8 × 2


def test_the_marks_ceiling_is_only_for_methods_that_cap_the_marks():
    for method in (FOR_AGAINST, SATISFACTION):
        assert cc.MARKS_WITHIN_PLACES not in by_code(cc.checks(5, 5, 5, 0, {1: 5, 2: 5}, 2, method))


def test_a_voided_round_has_nothing_but_the_first_check():
    found = cc.checks(5, 6, None, None, {}, 2, CHOOSE_UP_TO)
    assert found[0].holds is False
    assert [c.holds for c in found[1:]] == [None, None, None]
    assert not cc.all_hold(found)


def test_an_assessment_counts_every_rating_a_project_got():
    rules = make_rules(method=SATISFACTION, seats=2, ids=(1, 2))
    result = count(rules, [{"1": "satisfied", "2": "dissatisfied"}, {"1": "mostly_satisfied"}])
    assert cc.report_counts(result) == {1: 2, 2: 1}
    assert cc.all_hold(cc.checks_of(result, 10, 2))


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from([CHOOSE_UP_TO, RANK]),
    st.lists(st.one_of(st.none(), st.lists(st.integers(1, 5), max_size=4)), max_size=12),
)
def test_a_real_count_always_meets_the_checks(method, ballots):
    """Whatever the ballots (void ones included), the count's own figures hold together."""
    rules = make_rules(method=method, seats=2, ids=(1, 2, 3, 4), issued=12, present=12, roster=12)
    result = count(rules, ballots)
    assert cc.all_hold(cc.checks_of(result, 12, 2))
