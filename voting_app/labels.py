"""Words for the ballot marks and ratings, in the reader's language, in one place."""

from flask_babel import lazy_gettext as _l

from voting_app.ballots.counting import (
    MARK_ABSTAIN,
    MARK_AGAINST,
    MARK_FOR,
    RATE_DISSATISFIED,
    RATE_MOSTLY,
    RATE_SATISFIED,
)
from surveys.rates import SMALL_SAMPLE


def rating_labels() -> dict:
    return {RATE_SATISFIED: _l("Satisfied"), RATE_MOSTLY: _l("Mostly satisfied"), RATE_DISSATISFIED: _l("Dissatisfied")}


def mark_labels() -> dict:
    return {MARK_FOR: _l("For"), MARK_AGAINST: _l("Against"), MARK_ABSTAIN: _l("Abstain")}


def small_sample_note():
    """The note beside a residents' rate with too few answers to read much into."""
    return _l("Fewer than %(n)s answers: for reference only", n=SMALL_SAMPLE)
