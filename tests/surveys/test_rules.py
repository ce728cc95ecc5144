"""The pure survey rules: which answers are acceptable, when a survey is open, the week an
answer counts in, the rotating de-duplication hash, household code hashes, and the
satisfaction rate with its Wilson interval."""

import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from surveys import rates, rules
from surveys.rules import CleanAnswer, QuestionSpec, check_answers
from tests.conftest import ROOT

SAT = QuestionSpec(1, rules.SATISFACTION, True)
SINGLE = QuestionSpec(2, rules.SINGLE, True, ("aaaa", "bbbb", "cccc"))
MULTI = QuestionSpec(3, rules.MULTIPLE, False, ("aaaa", "bbbb", "cccc"))
RATING = QuestionSpec(4, rules.RATING, False)
TEXT = QuestionSpec(5, rules.TEXT, False, max_length=10)
REQUIRED_TEXT = QuestionSpec(6, rules.TEXT, True, max_length=None)
ALL = (SAT, SINGLE, MULTI, RATING, TEXT)


# ---- check_answers ---------------------------------------------------------------------


def test_a_complete_answer_is_accepted_in_question_order():
    checked = check_answers(
        ALL, {1: ["mostly_satisfied"], 2: ["bbbb"], 3: ["cccc", "aaaa"], 4: ["5"], 5: ["  好  "]}
    )
    assert checked.is_valid and checked.errors == {}
    assert checked.answers == (
        CleanAnswer(1, "mostly_satisfied", None),
        CleanAnswer(2, "bbbb", None),
        CleanAnswer(3, "cccc", None),
        CleanAnswer(3, "aaaa", None),
        CleanAnswer(4, "5", None),
        CleanAnswer(5, None, "好"),
    )


def test_required_questions_left_blank_are_named_and_nothing_is_accepted():
    checked = check_answers(ALL, {1: [], 2: ["  "], 4: ["3"]})
    assert not checked.is_valid
    assert checked.errors == {1: "required", 2: "required"}
    assert checked.answers == (CleanAnswer(4, "3", None),)  # the caller stores nothing when errors exist


def test_a_value_that_is_not_an_option_is_refused():
    assert check_answers([SAT], {1: ["very_satisfied"]}).errors == {1: "unknown_choice"}
    assert check_answers([SINGLE], {2: ["dddd"]}).errors == {2: "unknown_choice"}
    assert check_answers([RATING], {4: ["6"]}).errors == {4: "unknown_choice"}
    assert check_answers([RATING], {4: ["0"]}).errors == {4: "unknown_choice"}
    assert check_answers([MULTI], {3: ["aaaa", "zzzz"]}).errors == {3: "unknown_choice"}


def test_single_choice_questions_take_one_value_only():
    assert check_answers([SINGLE], {2: ["aaaa", "bbbb"]}).errors == {2: "too_many"}
    assert check_answers([SAT], {1: ["satisfied", "dissatisfied"]}).errors == {1: "too_many"}
    assert check_answers([RATING], {4: ["1", "5"]}).errors == {4: "too_many"}


def test_multiple_choice_may_not_repeat_an_option():
    assert check_answers([MULTI], {3: ["aaaa", "aaaa"]}).errors == {3: "unknown_choice"}
    checked = check_answers([MULTI], {3: ["aaaa", "bbbb", "cccc"]})
    assert checked.is_valid and len(checked.answers) == 3


def test_text_longer_than_the_question_allows_is_refused_at_one_past_the_limit():
    assert check_answers([TEXT], {5: ["x" * 10]}).answers == (CleanAnswer(5, None, "x" * 10),)
    assert check_answers([TEXT], {5: ["x" * 11]}).errors == {5: "too_long"}
    # a Windows line break counts as one character, and surrounding space is trimmed
    assert check_answers([TEXT], {5: ["  abcd\r\nefgh  "]}).answers == (CleanAnswer(5, None, "abcd\nefgh"),)
    # no limit set on the question: the default of 500
    assert check_answers([REQUIRED_TEXT], {6: ["y" * 500]}).is_valid
    assert check_answers([REQUIRED_TEXT], {6: ["y" * 501]}).errors == {6: "too_long"}


def test_blank_optional_questions_are_simply_not_answered():
    checked = check_answers([MULTI, RATING, TEXT], {3: [], 4: [""], 5: ["   \n  "]})
    assert checked.is_valid and checked.answers == ()
    assert check_answers([REQUIRED_TEXT], {6: ["   "]}).errors == {6: "required"}
    assert check_answers([TEXT], {}).answers == ()


def test_text_keeps_markup_exactly_as_typed():
    typed = "<script>alert(1)</script>"
    checked = check_answers([QuestionSpec(7, rules.TEXT, True, max_length=100)], {7: [typed]})
    assert checked.answers == (CleanAnswer(7, None, typed),)


# ---- availability ----------------------------------------------------------------------

OPENS = datetime(2026, 5, 1, 0, 0)
CLOSES = datetime(2026, 5, 31, 16, 0)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (OPENS - TICK, rules.NOT_YET_OPEN),
        (OPENS, rules.OPEN),
        (CLOSES - TICK, rules.OPEN),
        (CLOSES, rules.CLOSED),
        (CLOSES + timedelta(days=300), rules.CLOSED),
    ],
)
def test_a_survey_opens_at_its_opening_time_and_closes_at_its_closing_time(now, state):
    assert rules.availability(OPENS, CLOSES, now) == state


def test_a_survey_without_times_is_open_and_one_sided_windows_work():
    now = datetime(2026, 6, 1, 12, 0)
    assert rules.availability(None, None, now) == rules.OPEN
    assert rules.availability(now, None, now) == rules.OPEN
    assert rules.availability(now + TICK, None, now) == rules.NOT_YET_OPEN
    assert rules.availability(None, now, now) == rules.CLOSED
    assert rules.availability(None, now + TICK, now) == rules.OPEN


# ---- week_start --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        (datetime(2024, 1, 1, 0, 0), date(2024, 1, 1)),  # a Monday at midnight
        (datetime(2024, 1, 3, 12, 30), date(2024, 1, 1)),
        (datetime(2024, 1, 7, 23, 59, 59), date(2024, 1, 1)),  # Sunday night
        (datetime(2024, 1, 8, 0, 0), date(2024, 1, 8)),
        (datetime(2025, 1, 1, 9, 0), date(2024, 12, 30)),  # across a year end
    ],
)
def test_answers_count_in_the_week_starting_on_monday(moment, monday):
    assert rules.week_start(moment) == monday
    assert rules.week_start(moment).weekday() == 0


# ---- the de-duplication hash ---------------------------------------------------------------

ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 MicroMessenger/8.0.47"


def test_the_address_hash_is_stable_under_one_key_and_survey_whatever_the_browser():
    key = bytes(range(32))
    first = rules.address_hash(key, 7, ADDRESS)
    assert first == rules.address_hash(key, 7, ADDRESS) and len(first) == 64
    assert AGENT not in first and ADDRESS not in first


def test_the_address_hash_changes_with_the_daily_key_survey_and_address():
    key = bytes(range(32))
    base = rules.address_hash(key, 7, ADDRESS)
    variants = {
        rules.address_hash(bytes(reversed(range(32))), 7, ADDRESS),
        rules.address_hash(key, 8, ADDRESS),
        rules.address_hash(key, 7, "203.0.113.78"),
    }
    assert base not in variants and len(variants) == 3


def test_one_ipv6_slash_64_is_one_address_and_a_mapped_ipv4_is_the_ipv4():
    """A phone picks new IPv6 addresses inside its /64 at will (RFC 8981): they count as one."""
    key = bytes(range(32))
    one = rules.address_hash(key, 7, "2001:db8:1:2::a")
    assert rules.address_hash(key, 7, "2001:db8:1:2:ffff:1:2:3") == one
    assert rules.address_hash(key, 7, "2001:db8:1:3::a") != one
    assert rules.network_of("::ffff:203.0.113.77") == ADDRESS == rules.network_of(" 203.0.113.77 ")
    assert rules.network_of("not an address") == "not an address"


@pytest.mark.parametrize("seen, hold_after, flagged, held", [
    (1, 5, False, False), (2, 5, True, False), (5, 5, True, False), (6, 5, True, True), (500, 5, True, True),
    (1, 1, False, False), (2, 1, True, True),
])
def test_an_addresss_first_answer_counts_the_next_are_flagged_and_past_the_allowance_held(seen, hold_after, flagged, held):
    assert rules.arrival(seen, hold_after) == rules.Arrival(is_flagged=flagged, is_held=held)


# ---- household code hashes ------------------------------------------------------------------


def test_household_codes_hash_the_same_whatever_dashes_spaces_and_case():
    expected = rules.code_hash("secret", "ABCD-EF23")
    for typed in ("ABCDEF23", "abcd-ef23", " abcd ef23 ", "AbCd-Ef-23", "abcdef23\n"):
        assert rules.code_hash("secret", typed) == expected, typed
    assert rules.code_hash("secret", "ABCD-EF24") != expected
    assert rules.code_hash("other", "ABCD-EF23") != expected
    assert len(expected) == 64


# ---- rates ------------------------------------------------------------------------------------


def test_the_satisfaction_rate_counts_satisfied_and_mostly_satisfied_over_valid_answers():
    rate = rates.satisfaction_rate({"satisfied": 12, "mostly_satisfied": 6, "dissatisfied": 6})
    assert (rate.satisfied, rate.mostly, rate.dissatisfied, rate.valid) == (12, 6, 6, 24)
    assert rate.rate == pytest.approx(75.0)
    rate = rates.satisfaction_rate({"satisfied": 30, "mostly_satisfied": 25, "dissatisfied": 45})
    assert rate.rate == pytest.approx(55.0) and rate.valid == 100


def test_the_wilson_interval_matches_published_values():
    low, high = rates.wilson_interval(50, 100)
    assert low == pytest.approx(40.383, abs=0.01) and high == pytest.approx(59.617, abs=0.01)
    rate = rates.satisfaction_rate({"satisfied": 30, "mostly_satisfied": 20, "dissatisfied": 50})
    assert rate.interval_text == ("40.3", "59.7")  # narrower than the textbook 40.2..59.8, rounded outwards
    # 9 of 10: 59.6%..98.2% (Newcombe 1998, table I)
    low, high = rates.wilson_interval(9, 10)
    assert (round(low, 1), round(high, 1)) == (59.6, 98.2)
    nine = rates.SatisfactionRate(9, 0, 1)
    assert nine.interval_text == ("59.5", "98.3")  # not symmetric about 90.0
    # nobody or everybody satisfied: the interval stays inside 0..100 and is not zero-width
    assert rates.wilson_interval(0, 10) == (0.0, pytest.approx(27.753, abs=0.01))
    assert rates.wilson_interval(10, 10) == (pytest.approx(72.247, abs=0.01), pytest.approx(100.0))
    assert rates.SatisfactionRate(10, 0, 0).interval_text == ("72.2", "100.0")


def test_the_wilson_interval_refuses_impossible_counts():
    with pytest.raises(ValueError):
        rates.wilson_interval(11, 10)
    with pytest.raises(ValueError):
        rates.wilson_interval(-1, 10)


def test_below_the_bar_is_strictly_below():
    assert rates.SatisfactionRate(59, 0, 41).is_below(60) is True
    assert rates.SatisfactionRate(30, 30, 40).is_below(60) is False
    assert rates.SatisfactionRate(3, 0, 2).is_below(60) is False  # 60% exactly
    assert rates.SatisfactionRate(2, 0, 3).is_below(60) is True
    assert rates.SatisfactionRate(1, 1, 1).is_below(67) is True  # 66.67% < 67
    assert rates.SatisfactionRate(1, 1, 1).is_below(66) is False


def test_no_answers_gives_no_rate_no_interval_and_no_verdict():
    empty = rates.satisfaction_rate({})
    assert (empty.valid, empty.rate, empty.interval, empty.interval_text, empty.is_small_sample) == (0, None, None, None, False)
    assert empty.is_below(60) is False
    assert rates.wilson_interval(0, 0) is None


def test_shares_follow_the_option_order_with_zeros_and_percent_of_answered():
    shares = rates.shares({"b": 1, "a": 3}, ["a", "b", "c"], 4)
    assert [(s.key, s.count, s.percent) for s in shares] == [("a", 3, 75.0), ("b", 1, 25.0), ("c", 0, 0.0)]
    # multiple choice: percentages of respondents may add up past 100
    multi = rates.shares({"a": 2, "b": 2}, ["a", "b"], 2)
    assert [s.percent for s in multi] == [100.0, 100.0]
    assert [(s.count, s.percent) for s in rates.shares({}, ["a", "b"], 0)] == [(0, None), (0, None)]


def test_mean_rating():
    assert rates.mean_rating({"5": 2, "3": 1, "1": 1}) == pytest.approx(3.5)
    assert rates.mean_rating({"4": 3}) == pytest.approx(4.0)
    assert rates.mean_rating({}) is None


def test_the_pure_rules_import_no_flask_and_no_sqlalchemy():
    code = (
        "import sys; import surveys.rules, surveys.rates; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_babel', 'flask_sqlalchemy', 'flask_wtf', 'sqlalchemy', 'werkzeug', 'jinja2')); "
        "print(','.join(bad) or 'clean')"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"


def test_one_answer_is_a_wide_range_not_plus_or_minus_and_a_small_sample():
    one = rates.SatisfactionRate(1, 0, 0)
    assert (one.rate_text, one.interval_text, one.is_small_sample) == ("100.0", ("20.6", "100.0"), True)
    assert rates.SatisfactionRate(20, 9, 0).is_small_sample is True
    assert rates.SatisfactionRate(20, 10, 0).is_small_sample is False  # 30 answers


@given(st.integers(min_value=1, max_value=3000).flatmap(lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))))
def test_the_shown_rate_is_rounded_down_and_the_shown_interval_holds_the_exact_one(counts):
    from fractions import Fraction

    successes, total = counts
    rate = rates.SatisfactionRate(successes, 0, total - successes)
    exact = Fraction(successes * 100, total)
    shown = Fraction(rate.rate_text)
    assert shown <= exact < shown + Fraction(1, 10)  # down, never up to the bar
    low, high = rates.wilson_interval(successes, total)
    shown_low, shown_high = (float(text) for text in rate.interval_text)
    assert shown_low <= low + 1e-9 and high - 1e-9 <= shown_high
    assert high - low <= shown_high - shown_low < high - low + 0.2 + 1e-9
