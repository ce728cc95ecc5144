"""The bar chart of a counted round in the printed session report: one horizontal bar per
candidate and a line where passing starts.

Geometry only, in the units of the SVG's viewBox (about 0.25 mm each across the printed A4
column): no Flask, no markup. The template draws it as static SVG, so the print needs no
JavaScript, and the tests check the numbers. The line sits at the votes needed to pass
under the round's pass rule (`CountResult.needed`; more than half of the base, usually:
``base // 2 + 1``), or at the satisfaction bar in percent for a satisfaction assessment, so
a bar that reaches the line has passed. An assessment graded in tiers draws each project's
satisfied votes with its mostly satisfied votes after them on an axis of the grading base,
and the line at more than half of it: a project whose satisfied votes reach the line is
graded satisfied, one that reaches it only with the mostly satisfied is mostly satisfied,
and any other is dissatisfied.
"""

from __future__ import annotations

from dataclasses import dataclass

from voting_app.ballots.counting import (
    DEFAULT_SATISFACTION_BAR,
    GRADING_TIERS,
    RATE_MOSTLY,
    RATE_SATISFIED,
    SATISFACTION,
    CountResult,
    satisfaction_rate_text,
    votes_needed,
)

WIDTH = 720
LABEL_WIDTH = 236  # candidate names, right-aligned against the axis
VALUE_ROOM = 64  # the figure written after the longest bar
TIERS_VALUE_ROOM = 150  # under tiers: the votes and the grade ("12 + 3 · 基本满意")
TOP = 34  # room above the bars for the line's label
BOTTOM = 26  # the axis and its ticks
ROW = 24
BAR = 15
FONT = 12.5
MAX_TICKS = 6

ELECTED = "elected"
RUNOFF = "runoff"
TIED = "tied"  # tied for the last seats, which the rules leave unfilled
PASSED = "passed"  # passed, but the seats went to others
NOT_PASSED = "not_passed"
MEETS_BAR = "meets_bar"
BELOW_BAR = "below_bar"
NOT_RATED = "not_rated"
# Under tiers a bar's outcome is its grade (counting.GRADES): "satisfied", "mostly_satisfied"
# or "dissatisfied".


@dataclass(frozen=True)
class Bar:
    name: str  # the candidate's full name
    label: str  # the name shortened with "…" to fit the label column
    value: int  # votes; in a satisfaction round, satisfied + mostly satisfied
    value_text: str  # written after the bar: the votes, the rate in percent ("" when not rated), or under tiers "satisfied + mostly"
    outcome: str
    y: float  # top of the bar
    length: float
    first_length: float | None = None  # under tiers: the satisfied votes, drawn first within the bar
    is_unrated: bool = False  # under tiers: graded although no ballot rated it (the label says so)


@dataclass(frozen=True)
class Tick:
    x: float
    value: int


@dataclass(frozen=True)
class RoundChart:
    is_satisfaction: bool
    width: int
    height: int
    plot_left: float
    plot_width: float
    top: float  # where the first bar's row starts
    axis_y: float
    bar_height: float
    font_size: float
    line_x: float
    line_value: int  # votes needed to pass, or the satisfaction bar (percent)
    axis_max: int  # the base (votes) or 100 (percent)
    reaching: int  # how many bars reach the line
    is_more_than_half: bool  # the usual pass rule, which the description names
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    is_tiers: bool = False  # the line is the votes for more than half of the grading base

    @property
    def line_label_anchor(self) -> str:
        """Which side of the line its label runs to, so it stays inside the chart."""
        return "end" if self.line_x > self.plot_left + self.plot_width * 0.6 else "start"


def text_width(text: str, font_size: float = FONT) -> float:
    """Estimated width: a CJK or full-width character is one em, anything else about half."""
    return sum(font_size if ord(ch) > 0x2E7F else font_size * 0.56 for ch in text)


def shorten(text: str, room: float, font_size: float = FONT) -> str:
    """The text, cut with "…" so that it fits `room` units."""
    if text_width(text, font_size) <= room:
        return text
    kept = ""
    for ch in text:
        if text_width(kept + ch + "…", font_size) > room:
            break
        kept += ch
    return kept + "…"


def _step(axis_max: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that needs at most MAX_TICKS ticks after 0."""
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if axis_max // step <= MAX_TICKS:
                return step
        magnitude *= 10


def _outcome(result: CountResult, cid: int, satisfaction: bool) -> str:
    if result.grading == GRADING_TIERS:
        return result.grades[cid]
    if satisfaction:
        if result.rated(cid) == 0:
            return NOT_RATED
        return MEETS_BAR if cid in result.passed else BELOW_BAR
    if cid in result.elected:
        return ELECTED
    if result.runoff and cid in result.runoff.candidates:
        return RUNOFF
    if result.unfilled_tie and cid in result.unfilled_tie.candidates:
        return TIED
    return PASSED if cid in result.passed else NOT_PASSED


def round_chart(result: CountResult, names: dict[int, str], satisfaction_bar: int = DEFAULT_SATISFACTION_BAR) -> RoundChart | None:
    """The chart of a counted round in rank order; None for a void round or one with no candidate."""
    if result.void_round or not result.votes:
        return None
    satisfaction = result.method == SATISFACTION
    tiers = result.grading == GRADING_TIERS
    if tiers:
        line_value = votes_needed(result.base)
        axis_max = max(result.base, line_value, *result.votes.values())
    elif satisfaction:
        axis_max, line_value = 100, satisfaction_bar
    else:
        base = result.base or 0
        line_value = result.needed
        axis_max = max(base, line_value, *result.votes.values())
    plot_left = float(LABEL_WIDTH + 8)
    plot_width = WIDTH - plot_left - (TIERS_VALUE_ROOM if tiers else VALUE_ROOM)

    def x_of(numerator: int, denominator: int) -> float:
        return round(plot_left + plot_width * numerator / denominator, 1) if denominator else plot_left

    bars = []
    for row, line in enumerate(result.ranking()):
        cid = line.candidate_id
        first_length = None
        if tiers:
            satisfied, mostly = result.ratings[cid][RATE_SATISFIED], result.ratings[cid][RATE_MOSTLY]
            value_text, length = f"{satisfied} + {mostly}", plot_width * line.votes / axis_max
            first_length = round(plot_width * satisfied / axis_max, 1)
        elif satisfaction:
            rated = result.rated(cid)
            text = satisfaction_rate_text(line.votes, rated)
            value_text, length = (f"{text}%" if text is not None else ""), (plot_width * line.votes / rated if rated else 0.0)
        else:
            value_text, length = str(line.votes), plot_width * line.votes / axis_max
        name = names.get(cid, f"#{cid}")
        bars.append(Bar(name, shorten(name, LABEL_WIDTH), line.votes, value_text, _outcome(result, cid, satisfaction),
                        TOP + row * ROW + (ROW - BAR) / 2, round(length, 1), first_length, tiers and not line.rated))
    axis_y = TOP + len(bars) * ROW
    step = _step(axis_max)
    values = list(range(0, axis_max + 1, step))
    if axis_max - values[-1] >= step / 2:
        values.append(axis_max)  # the end of the axis: the base, so its half is easy to see
    ticks = tuple(Tick(x_of(value, axis_max), value) for value in values)
    reaching = sum(1 for bar in bars if bar.outcome in (ELECTED, RUNOFF, TIED, PASSED, MEETS_BAR, RATE_SATISFIED, RATE_MOSTLY))
    return RoundChart(
        is_satisfaction=satisfaction,
        width=WIDTH,
        height=int(axis_y + BOTTOM),
        plot_left=plot_left,
        plot_width=plot_width,
        top=float(TOP),
        axis_y=axis_y,
        bar_height=BAR,
        font_size=FONT,
        line_x=x_of(line_value, axis_max),
        line_value=line_value,
        axis_max=axis_max,
        reaching=reaching,
        is_more_than_half=result.is_more_than_half,
        bars=tuple(bars),
        ticks=ticks,
        is_tiers=tiers,
    )
