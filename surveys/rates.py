"""Satisfaction rates and their uncertainty: pure rules, no Flask, no database.

Satisfaction rate = (满意 + 基本满意) / valid answers. It is never shown without its
sample size and its 95% Wilson score interval, which stays honest for small samples and for
rates near 0% or 100%, where the textbook p ± 1.96·√(p(1-p)/n) claims a certainty it does not
have. The interval is not symmetric (1 answer of 1 gives 20.65%–100%), so it is shown as a range, never
as ± a margin, and its ends are rounded outwards so the printed range always holds the exact
one. Under 30 answers the figure is marked as for reference only.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from voting_app.ballots.counting import (
    RATE_DISSATISFIED,
    RATE_MOSTLY,
    RATE_SATISFIED,
    meets_bar,
    satisfaction_rate_tenths,
    satisfaction_rate_text,
    tenths_text,
)
from voting_app.ballots.counting import satisfaction_rate as satisfaction_rate_percent

Z_95 = 1.959963984540054
DEFAULT_BAR = 60
SMALL_SAMPLE = 30  # fewer valid answers than this: the figure is for reference only
_FLOAT_SLACK = 1e-9  # so 60.000000000001 from floating point is not rounded out to 60.1


@dataclass(frozen=True)
class Share:
    key: str
    count: int
    percent: float | None  # of the answers to the question; None when nobody answered


@dataclass(frozen=True)
class SatisfactionRate:
    satisfied: int
    mostly: int
    dissatisfied: int

    @property
    def valid(self) -> int:
        return self.satisfied + self.mostly + self.dissatisfied

    @property
    def rate(self) -> float | None:
        """Percent, or None when there is no valid answer."""
        return satisfaction_rate_percent(self.satisfied + self.mostly, self.valid)

    @property
    def rate_text(self) -> str | None:
        """One decimal, rounded down (the count's rule): a survey under the bar never shows the bar."""
        return satisfaction_rate_text(self.satisfied + self.mostly, self.valid)

    @property
    def rate_tenths(self) -> int | None:
        return satisfaction_rate_tenths(self.satisfied + self.mostly, self.valid)

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95% Wilson score interval, in percent."""
        return wilson_interval(self.satisfied + self.mostly, self.valid)

    @property
    def interval_text(self) -> tuple[str, str] | None:
        """The interval's ends as shown, rounded outwards to one decimal: ("20.6", "100.0")."""
        return interval_text(self.satisfied + self.mostly, self.valid)

    @property
    def is_small_sample(self) -> bool:
        return 0 < self.valid < SMALL_SAMPLE

    def is_below(self, bar_percent: int) -> bool:
        """Below the bar means rectification (整改); no answers is not a verdict. The same
        rule as the deputies' assessment."""
        return self.valid > 0 and not meets_bar(self.satisfied + self.mostly, self.valid, bar_percent)


def satisfaction_rate(counts: Mapping[str, int]) -> SatisfactionRate:
    return SatisfactionRate(
        satisfied=counts.get(RATE_SATISFIED, 0),
        mostly=counts.get(RATE_MOSTLY, 0),
        dissatisfied=counts.get(RATE_DISSATISFIED, 0),
    )


def wilson_interval(successes: int, total: int, z: float = Z_95) -> tuple[float, float] | None:
    if total <= 0:
        return None
    if not 0 <= successes <= total:
        raise ValueError("successes must lie between 0 and total")
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return 100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half)


def interval_tenths(successes: int, total: int) -> tuple[int, int] | None:
    """The Wilson interval in tenths of a percent, the low end rounded down and the high end up."""
    interval = wilson_interval(successes, total)
    if interval is None:
        return None
    low, high = interval
    return max(0, math.floor(low * 10 + _FLOAT_SLACK)), min(1000, math.ceil(high * 10 - _FLOAT_SLACK))


def interval_text(successes: int, total: int) -> tuple[str, str] | None:
    tenths = interval_tenths(successes, total)
    return None if tenths is None else (tenths_text(tenths[0]), tenths_text(tenths[1]))


def shares(counts: Mapping[str, int], keys: list[str], answered: int) -> list[Share]:
    """Counts and percentages in the order of the question's options (zeros included).
    For multiple choice the percentages are of respondents and may add up past 100."""
    return [
        Share(key, counts.get(key, 0), None if answered == 0 else 100.0 * counts.get(key, 0) / answered)
        for key in keys
    ]


def mean_rating(counts: Mapping[str, int]) -> float | None:
    """The mean of a 1-5 rating question."""
    total = sum(counts.values())
    if total == 0:
        return None
    return sum(int(key) * count for key, count in counts.items()) / total
