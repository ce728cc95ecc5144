"""Words for the ballot marks and ratings, in the reader's language, in one place."""

from flask_babel import lazy_gettext as _l

from voting_app.ballots.counting import (
    CHOOSE_UP_TO,
    FOR_AGAINST,
    RANK,
    SATISFACTION,
    MARK_ABSTAIN,
    MARK_AGAINST,
    MARK_FOR,
    RATE_DISSATISFIED,
    RATE_MOSTLY,
    RATE_SATISFIED,
)
from surveys.rates import SMALL_SAMPLE
from voting_app.registry.grids import CENTRE, GRID, UNIT


def rating_labels() -> dict:
    return {RATE_SATISFIED: _l("Satisfied"), RATE_MOSTLY: _l("Mostly satisfied"), RATE_DISSATISFIED: _l("Dissatisfied")}


def assessment_verdict(grade: str | None, is_rectification: bool, is_assessed: bool, rated: int | None = None):
    """What the deputies' assessment decided for a project, in words, for the outputs that
    carry it as text (the Excel files): its grade under tiers (saying so when no ballot rated
    the project: `rated` 0), or the bar's verdict, with rectification (整改) named either way."""
    if grade is not None:
        word = rating_labels()[grade]
        if rated == 0:
            word = _l("%(grade)s (no ratings)", grade=word)
        return _l("%(grade)s: rectification (整改)", grade=word) if is_rectification else word
    if is_rectification:
        return _l("rectification (整改)")
    return _l("Meets the bar") if is_assessed else _l("Not rated")


def method_labels() -> dict:
    """The ballot methods, as the round form offers them and the 票决办法 lists them."""
    return {
        CHOOSE_UP_TO: _l("Choose up to N of the candidates"),
        FOR_AGAINST: _l("For / against / abstain on each"),
        SATISFACTION: _l("Satisfaction assessment of delivered projects"),
        RANK: _l("Number up to N candidates by priority (1 most urgent)"),
    }


def mark_labels() -> dict:
    return {MARK_FOR: _l("For"), MARK_AGAINST: _l("Against"), MARK_ABSTAIN: _l("Abstain")}


def small_sample_note():
    """The note beside a residents' rate with too few answers to read much into."""
    return _l("Fewer than %(n)s answers: for reference only", n=SMALL_SAMPLE)


def grid_level_labels() -> dict:
    """The three levels of the district's grids, by their number (voting_app.registry.grids)."""
    return {CENTRE: _l("Grid centre"), UNIT: _l("Unit grid"), GRID: _l("Grid")}


def too_few_note():
    """What a grid's cell shows instead of a rate when it has too few answers (样本不足)."""
    return _l("Too few answers")
