"""Implementation plans in figures: how far a project is from its targets and milestones, and
how its money reads. Pure rules, no Flask and no database, so they are tested on their own.

Money of a sub-item is kept in whole yuan: budgets and payments are booked in yuan, sums of
sub-items stay exact (no rounding drift on SQLite or PostgreSQL), and an integer needs no
decimal type. People read it in 万元, the unit of candidates' investment and of published
plans, so every page shows and every form takes 万元 (up to four decimals, i.e. exact yuan).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction

YUAN_PER_WAN = 10_000
# The largest figure a form takes, far above any livelihood project, well inside Numeric(14, 2).
MAX_QUANTITY = Decimal("999999999999")
MAX_WAN = Decimal("99999999")


@dataclass(frozen=True)
class Measure:
    """One thing the plan promises: a target (planned and actual quantity) or a milestone
    (planned 1, actual 1 once reached)."""

    planned: Decimal
    actual: Decimal | None

    @property
    def share(self) -> Fraction:
        """How much of it is done, from 0 to 1: more than planned counts as done, not more."""
        if self.actual is None or self.actual <= 0:
            return Fraction(0)
        if self.planned <= 0:
            return Fraction(1)
        return min(Fraction(self.actual) / Fraction(self.planned), Fraction(1))


def target_measure(planned: Decimal, actual: Decimal | None) -> Measure:
    return Measure(Decimal(planned), None if actual is None else Decimal(actual))


def milestone_measure(done_on: date | None) -> Measure:
    return Measure(Decimal(1), Decimal(1) if done_on else None)


def progress_percent(measures: list[Measure]) -> int:
    """The project's progress: the mean share done over every target and every milestone,
    each weighted equally, in whole percent rounded down.

    Equal weights, not weights by budget: funds are planned per sub-item, not per target,
    many sub-items have no separate budget, and a cheap sub-item (a survey, a training) is
    still a promise to the public. Rounding down keeps 100% for a plan that is wholly done.
    A plan with nothing to measure yet is at 0%."""
    if not measures:
        return 0
    mean = sum((measure.share for measure in measures), Fraction(0)) / len(measures)
    return int(mean * 100)


def share_percent(planned: Decimal, actual: Decimal | None) -> int:
    """One target's share done, in whole percent rounded down (the bar on public pages)."""
    return int(target_measure(planned, actual).share * 100)


def yuan_from_wan(value: Decimal | None) -> int | None:
    """An amount typed in 万元 as whole yuan; more than four decimals is refused (ValueError)."""
    if value is None:
        return None
    yuan = Decimal(value) * YUAN_PER_WAN
    if yuan != yuan.to_integral_value():
        raise ValueError("more precise than one yuan")
    return int(yuan)


def wan(yuan: int | None) -> Decimal | None:
    """Whole yuan as 万元, exactly (up to four decimals)."""
    if yuan is None:
        return None
    return Decimal(yuan) / YUAN_PER_WAN


def wan_text(yuan: int | None) -> str:
    """Whole yuan shown in 万元 with thousands separators, no trailing zeros: 860, 35.5, 1,200.0125."""
    if yuan is None:
        return ""
    return number_text(wan(yuan))


def number_text(value: Decimal | None) -> str:
    """A quantity as people write it: thousands separators, no trailing zeros (7,000; 3.2)."""
    if value is None:
        return ""
    text = f"{Decimal(value):,.4f}".rstrip("0").rstrip(".")
    return text


def parse_quantity(text: str | None) -> Decimal | None:
    """A typed figure (commas and spaces allowed) as a Decimal; None when blank. Raises
    ValueError for anything that is not a non-negative number with at most two decimals."""
    text = (text or "").replace(",", "").replace("，", "").replace(" ", "").strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ValueError("not a number") from error
    if not value.is_finite() or value < 0 or value > MAX_QUANTITY or value != value.quantize(Decimal("0.01")):
        raise ValueError("not a quantity")
    return value
