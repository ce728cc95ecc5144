"""The 票决办法 as data (profile_rules): its defaults, the quorum and 差额 arithmetic, and the
document, whose every fault is named field by field and never raised."""

import json
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import ROOT
from voting_app.ballots import profile_rules as rules
from voting_app.ballots.profile_rules import DEFAULT_PROFILE, Margin, RuleProfile, Share
from voting_app.sessions.presence import Presence


def document(**changes) -> dict:
    return {**rules.to_document(DEFAULT_PROFILE), **changes}


def problems_of(value) -> list:
    profile, problems = rules.from_json(json.dumps(value) if not isinstance(value, (str, bytes)) else value)
    assert (profile is None) == bool(problems)
    return problems


# ---- defaults and arithmetic -------------------------------------------------------------


def test_the_defaults_are_the_rules_the_product_applied_before():
    assert DEFAULT_PROFILE.quorum == Share("more_than", 1, 2)
    assert DEFAULT_PROFILE.pass_base == "roster" and DEFAULT_PROFILE.pass_rule == Share("more_than", 1, 2)
    assert DEFAULT_PROFILE.margin == Margin(1, 20)
    assert (DEFAULT_PROFILE.tie, DEFAULT_PROFILE.shortfall) == ("runoff", "further_round")
    assert DEFAULT_PROFILE.methods == ("choose_up_to", "for_against", "satisfaction", "rank")
    assert (DEFAULT_PROFILE.grading, DEFAULT_PROFILE.satisfaction_bar) == ("bar", 60)
    assert DEFAULT_PROFILE.requires_adoption is True
    assert rules.validate(DEFAULT_PROFILE) == []


@pytest.mark.parametrize("roster", range(0, 60))
def test_the_default_quorum_is_the_sessions_more_than_half(roster):
    for present in range(roster + 1):
        check = rules.check_quorum(roster, present, DEFAULT_PROFILE)
        presence = Presence(roster, present)
        assert (check.quorum, check.has_quorum) == (presence.quorum, presence.has_quorum)


def test_two_thirds_at_least_and_an_empty_roster():
    two_thirds = RuleProfile(quorum=Share("at_least", 2, 3))
    assert rules.check_quorum(9, 6, two_thirds).has_quorum and rules.check_quorum(9, 6, two_thirds).quorum == 6
    assert not rules.check_quorum(9, 5, two_thirds).has_quorum
    assert rules.check_quorum(10, 7, two_thirds).quorum == 7  # 20/3 rounds up
    assert not rules.check_quorum(0, 0, two_thirds).has_quorum, "nobody on the roster is never a quorum"


@given(st.sampled_from(rules.SHARE_RULES), st.integers(1, 100), st.integers(1, 100), st.integers(0, 5000))
def test_needed_is_the_fewest_that_meet_the_share(rule, numerator, denominator, whole):
    if numerator > denominator or (rule == "more_than" and numerator == denominator):
        return
    share = Share(rule, numerator, denominator)
    needed = share.needed(whole)
    assert share.is_met(needed, whole)
    assert needed == 0 or not share.is_met(needed - 1, whole)


@pytest.mark.parametrize(
    ("places", "candidates", "needed", "met"),
    [(1, 2, 2, True), (2, 2, 3, False), (2, 3, 3, True), (5, 6, 6, True), (7, 8, 9, False), (10, 11, 12, False),
     (10, 12, 12, True), (10, 15, 12, True)],
)
def test_the_default_margin_is_one_more_and_a_fifth_more(places, candidates, needed, met):
    check = rules.check_margin(places, candidates, DEFAULT_PROFILE)
    assert (check.needed, check.is_met) == (needed, met)


def test_a_profile_without_margin_allows_as_many_candidates_as_places():
    equal = RuleProfile(margin=Margin(0, 0))
    assert rules.check_margin(10, 10, equal).is_met and not rules.check_margin(10, 9, equal).is_met
    assert rules.check_margin(10, 15, RuleProfile(margin=Margin(1, 50))).is_met
    assert not rules.check_margin(10, 14, RuleProfile(margin=Margin(1, 50))).is_met


def test_a_rounds_copy_takes_its_own_base_and_bar():
    tiers = RuleProfile(grading="tiers", satisfaction_bar=None)
    assert tiers.for_round("voters", 70) == RuleProfile(pass_base="voters", grading="tiers", satisfaction_bar=None)
    assert DEFAULT_PROFILE.for_round("voters", 75).satisfaction_bar == 75
    assert tiers.grading_for("satisfaction") == "tiers" and tiers.grading_for("choose_up_to") == "bar"


# ---- the document --------------------------------------------------------------------------


@st.composite
def profiles(draw):
    def share():
        denominator = draw(st.integers(1, 100))
        rule = draw(st.sampled_from(rules.SHARE_RULES))
        top = denominator - 1 if rule == "more_than" else denominator
        if top < 1:
            rule, top = "at_least", denominator
        return Share(rule, draw(st.integers(1, top)), denominator)

    grading = draw(st.sampled_from(rules.GRADINGS))
    return RuleProfile(
        quorum=share(),
        pass_base=draw(st.sampled_from(("roster", "voters"))),
        pass_rule=share(),
        margin=Margin(draw(st.integers(0, 100)), draw(st.integers(0, 100))),
        tie=draw(st.sampled_from(rules.TIE_RULES)),
        shortfall=draw(st.sampled_from(rules.SHORTFALL_RULES)),
        methods=rules.canonical_methods(draw(st.sets(st.sampled_from(rules.METHODS), min_size=1))),
        grading=grading,
        satisfaction_bar=draw(st.integers(0, 100)) if grading == "bar" else None,
        requires_adoption=draw(st.booleans()),
    )


@given(profiles())
def test_a_profile_survives_the_file_and_back(profile):
    assert rules.validate(profile) == []
    text = rules.to_json(profile)
    assert rules.from_json(text) == (profile, [])
    assert rules.from_json(text.encode("utf-8")) == (profile, [])
    assert rules.from_json("\ufeff" + text) == (profile, []), "a byte-order mark from Notepad is no fault"
    assert rules.from_document(json.loads(text)) == (profile, [])


@given(profiles(), profiles())
def test_differences_name_exactly_the_settings_that_differ(one, other):
    changed = rules.differences(one, other)
    assert (changed == []) == (one == other)
    for name in changed:
        assert rules.settings(one)[name] != rules.settings(other)[name]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@given(JSON)
def test_any_json_gives_a_profile_or_problems_never_an_exception(value):
    profile, problems = rules.from_json(json.dumps(value))
    assert (profile is None) == bool(problems)


@given(st.sampled_from(sorted(rules.to_document(DEFAULT_PROFILE))), JSON)
def test_any_value_in_any_setting_is_read_or_named(key, value):
    profile, problems = rules.from_document(document(**{key: value}))
    assert profile is not None or problems
    assert all(isinstance(field, str) and isinstance(code, str) for field, code in problems)


@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused(data):
    profile, problems = rules.from_json(data)
    assert (profile is None) == bool(problems)


def test_each_fault_is_named_by_its_setting():
    assert problems_of(document(extra=1)) == [("extra", "unknown")]
    without = document()
    del without["tie"]
    assert problems_of(without) == [("tie", "missing")]
    assert problems_of(document(quorum={"rule": "more_than", "fraction": "1/2", "of": "roster"})) == [("quorum.of", "unknown")]
    assert problems_of(document(quorum="1/2")) == [("quorum", "not_object")]
    assert problems_of(document(quorum={"rule": "most", "fraction": "3/2"})) == [("quorum.rule", "choice"), ("quorum.fraction", "fraction")]
    assert problems_of(document(pass_rule={"rule": "more_than", "fraction": "1/1"})) == [("pass_rule.fraction", "impossible")]
    assert problems_of(document(pass_rule={"rule": "at_least", "fraction": "1/1"})) == []
    assert problems_of(document(pass_rule={"rule": "at_least", "fraction": "0/2"})) == [("pass_rule.fraction", "fraction")]
    assert problems_of(document(pass_rule={"rule": "at_least", "fraction": "1/101"})) == [("pass_rule.fraction", "fraction")]
    assert problems_of(document(pass_rule={"rule": "at_least", "fraction": 0.5})) == [("pass_rule.fraction", "not_text")]
    assert problems_of(document(pass_base="present")) == [("pass_base", "choice")]
    assert problems_of(document(margin={"extra_candidates": True, "extra_percent": 20.0})) == [
        ("margin.extra_candidates", "not_integer"), ("margin.extra_percent", "not_integer")]
    assert problems_of(document(margin={"extra_candidates": -1, "extra_percent": 101})) == [
        ("margin.extra_candidates", "range"), ("margin.extra_percent", "range")]
    assert problems_of(document(tie="lot", shortfall=None)) == [("tie", "choice"), ("shortfall", "not_text")]
    assert problems_of(document(methods=[])) == [("methods", "empty")]
    assert problems_of(document(methods=["rank", "rank"])) == [("methods", "duplicate")]
    assert problems_of(document(methods=["approval"])) == [("methods", "choice")]
    assert problems_of(document(methods="rank")) == [("methods", "not_list")]
    assert problems_of(document(methods=[1])) == [("methods", "not_text")]
    assert problems_of(document(assessment={"grading": "tiers", "satisfaction_bar": 60})) == [
        ("assessment.satisfaction_bar", "unknown")]
    assert problems_of(document(assessment={"grading": "bar"})) == [("assessment.satisfaction_bar", "missing")]
    assert problems_of(document(assessment={"grading": "bar", "satisfaction_bar": 101})) == [
        ("assessment.satisfaction_bar", "range")]
    assert problems_of(document(requires_adoption=1)) == [("requires_adoption", "not_boolean")]


def test_the_file_itself_is_checked_before_its_settings():
    assert problems_of(document(format="rule-profile/2", tie="lot")) == [("format", "wrong_format")]
    assert problems_of({"tie": "runoff"}) == [("format", "missing")]
    assert problems_of([document()]) == [("", "not_object")]
    assert problems_of("{not json") == [("", "not_json")]
    assert problems_of(b"\xff\xfe{}") == [("", "not_json")]
    assert problems_of(json.dumps(document()).replace('"requires_adoption": true', '"requires_adoption": NaN')) == [("", "not_json")]
    assert problems_of('{"format": "rule-profile/1", "format": "rule-profile/1"}') == [("format", "duplicate")]
    assert problems_of(" " * (rules.MAX_DOCUMENT_BYTES + 1)) == [("", "too_large")]


def test_a_stored_copy_that_does_not_read_is_a_fault_not_input():
    with pytest.raises(ValueError):
        rules.loads('{"format": "rule-profile/1"}')


def test_the_rule_module_imports_neither_flask_nor_sqlalchemy():
    script = (
        "import sys\n"
        "import voting_app.ballots.profile_rules\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_babel', 'sqlalchemy', 'flask_sqlalchemy'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
