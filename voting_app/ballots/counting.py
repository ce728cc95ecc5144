"""Count rules for a deputy vote: which ballots are valid, who passes, who takes the seats.

Pure functions over plain data (no Flask, no database, no I/O) so that the server, the
scrutineers' paper count and `python -m voting_app.verify` all count with the same code.
Integers only: a candidate passes when its votes reach the round's pass rule (a `Share` of the
base: more than 1/2 by default, ``votes * 2 > base``; or e.g. at least 2/3,
``votes * 3 >= base * 2``), with at least one vote.

In the methods that fill seats, the round's tie rule says what a tie for the last seats leads
to: a new round among exactly the tied (``"runoff"``, the default) or nothing, the tied seats
staying unfilled (``"none"``); its shortfall rule says whether seats nobody passed for may be
filled by a further round from the remaining candidates (``"further_round"``, the default) or
stay unfilled (``"none"``).

Four ballot methods:

* ``choose_up_to``: a list of at most ``seats`` candidate ids.
* ``for_against``: ``{candidate id: "for" | "against" | "abstain"}``.
* ``rank`` (priority ballot, 轻重缓急): a list of at most ``seats`` (N) candidate ids in order
  of priority, first highest. It is valid and void exactly as ``choose_up_to`` (more than N,
  a repeated or unknown id void it; a blank list is valid), each listed candidate gets one
  vote, and passing, seats, ties at the cut and shortfall are those of ``choose_up_to``. A
  candidate listed in position p (from 1) also earns ``N + 1 - p`` points, and the passed
  candidates are published in priority order: by votes, then points, then id.
* ``satisfaction`` (满意度测评): deputies rate each delivered project
  ``{candidate id: "satisfied" | "mostly_satisfied" | "dissatisfied"}``. A project left out of
  a ballot is not rated on it. The round's ``grading`` decides who goes to rectification (整改):

  - ``"bar"``: a project passes when it was rated and
    ``(satisfied + mostly_satisfied) * 100 >= satisfaction_bar * rated`` (integers only); a
    rated project under the bar goes to rectification.
  - ``"tiers"`` (the rule of 镇海区): each project is graded on the round's pass base (the
    roster, or the ballots returned): satisfied votes more than half of the base
    -> "satisfied"; otherwise satisfied + mostly satisfied more than half -> "mostly_satisfied";
    otherwise -> "dissatisfied", which goes to rectification exactly as failing the bar.

  Every satisfaction round also has an overall figure: satisfied + mostly satisfied over all
  the ratings of all projects. This module is the one place the satisfaction rate of
  deputies' ballots is computed (`satisfaction_rate`) and rounded (`satisfaction_rate_tenths`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from types import MappingProxyType

CHOOSE_UP_TO = "choose_up_to"
FOR_AGAINST = "for_against"
SATISFACTION = "satisfaction"
RANK = "rank"
METHODS = (CHOOSE_UP_TO, FOR_AGAINST, SATISFACTION, RANK)

BASE_ROSTER = "roster"
BASE_VOTERS = "voters"
THRESHOLD_BASES = (BASE_ROSTER, BASE_VOTERS)

MARK_FOR = "for"
MARK_AGAINST = "against"
MARK_ABSTAIN = "abstain"
MARKS = (MARK_FOR, MARK_AGAINST, MARK_ABSTAIN)

RATE_SATISFIED = "satisfied"
RATE_MOSTLY = "mostly_satisfied"
RATE_DISSATISFIED = "dissatisfied"
RATINGS = (RATE_SATISFIED, RATE_MOSTLY, RATE_DISSATISFIED)

GRADING_BAR = "bar"
GRADING_TIERS = "tiers"
GRADINGS = (GRADING_BAR, GRADING_TIERS)
GRADES = RATINGS  # a tiers grade is named by the rating word it stands for

DEFAULT_SATISFACTION_BAR = 60

MORE_THAN, AT_LEAST = "more_than", "at_least"
SHARE_RULES = (MORE_THAN, AT_LEAST)
MAX_DENOMINATOR = 100
FRACTION_PATTERN = re.compile(r"([1-9][0-9]{0,2})/([1-9][0-9]{0,2})")
# Why a share cannot be used: its fraction is not n/d with 1 <= n <= d <= 100, or it asks for
# more than the whole.
BAD_FRACTION, IMPOSSIBLE_SHARE = "fraction", "impossible"

TIE_RUNOFF, TIE_NONE = "runoff", "none"
TIE_RULES = (TIE_RUNOFF, TIE_NONE)
SHORTFALL_FURTHER, SHORTFALL_NONE = "further_round", "none"
SHORTFALL_RULES = (SHORTFALL_FURTHER, SHORTFALL_NONE)

_DECIMAL_ID = re.compile(r"0|-?[1-9][0-9]*")


def is_int(value: object) -> bool:
    """True for real integers; bool is excluded because True must never count as id 1."""
    return isinstance(value, int) and not isinstance(value, bool)


def _check_rate_inputs(satisfied_and_mostly: int, answered: int) -> None:
    if not is_int(satisfied_and_mostly) or not is_int(answered):
        raise ValueError(
            f"rate inputs must be integers, got {satisfied_and_mostly!r} and {answered!r}"
        )
    if not 0 <= satisfied_and_mostly <= answered:
        raise ValueError(
            f"need 0 <= satisfied and mostly ({satisfied_and_mostly}) <= answered ({answered})"
        )


def satisfaction_rate(satisfied_and_mostly: int, answered: int) -> float | None:
    """(满意 + 基本满意) / answered, in percent; None when nobody answered.

    For display only: whether a project meets the bar is decided on integers in `count`.
    """
    _check_rate_inputs(satisfied_and_mostly, answered)
    if answered == 0:
        return None
    return satisfied_and_mostly * 100 / answered


def satisfaction_rate_tenths(satisfied_and_mostly: int, answered: int) -> int | None:
    """The rate in tenths of a percent, rounded DOWN; None when nobody answered.

    The one rounding rule for every figure shown anywhere (pages, reports, charts, Excel, the
    screen and the verifier): a project under the bar never shows the bar, so ``59.96%`` is
    599 tenths, and ``2/3`` is 666, never 667. Integer arithmetic only.
    """
    _check_rate_inputs(satisfied_and_mostly, answered)
    if answered == 0:
        return None
    return satisfied_and_mostly * 1000 // answered


def tenths_text(tenths: int) -> str:
    """Tenths of a percent as the digits shown before the % sign: 599 -> "59.9"."""
    return f"{tenths // 10}.{tenths % 10}"


def satisfaction_rate_text(satisfied_and_mostly: int, answered: int) -> str | None:
    """The rate with one decimal, rounded DOWN so a project under the bar never shows the bar.

    ``59.96%`` is shown as ``"59.9"``, not ``"60.0"``, beside a "below bar" marker. None when
    nobody answered. Integer arithmetic only.
    """
    tenths = satisfaction_rate_tenths(satisfied_and_mostly, answered)
    return None if tenths is None else tenths_text(tenths)


def meets_bar(satisfied_and_mostly: int, answered: int, bar: int) -> bool:
    """Whether a rated project reaches the bar (percent); never true when nobody answered."""
    _check_rate_inputs(satisfied_and_mostly, answered)
    return answered > 0 and satisfied_and_mostly * 100 >= bar * answered


@dataclass(frozen=True)
class Share:
    """A share of a whole: "more than 1/2", "at least 2/3". Integers only, like the count."""

    rule: str = MORE_THAN
    numerator: int = 1
    denominator: int = 2

    def is_met(self, count: int, whole: int) -> bool:
        """Whether `count` of `whole` reaches the share (count * d > whole * n, or >=)."""
        if self.rule == MORE_THAN:
            return count * self.denominator > whole * self.numerator
        return count * self.denominator >= whole * self.numerator

    def needed(self, whole: int) -> int:
        """The fewest of `whole` that reach the share."""
        if self.rule == MORE_THAN:
            return whole * self.numerator // self.denominator + 1
        return -(-whole * self.numerator // self.denominator)

    @property
    def fraction(self) -> str:
        return f"{self.numerator}/{self.denominator}"

    def fault(self) -> str | None:
        """Why the fraction cannot be used (`BAD_FRACTION`, `IMPOSSIBLE_SHARE`), or None."""
        if not (
            is_int(self.numerator) and is_int(self.denominator)
            and 1 <= self.numerator <= self.denominator <= MAX_DENOMINATOR
        ):
            return BAD_FRACTION
        if self.rule == MORE_THAN and self.numerator == self.denominator:
            return IMPOSSIBLE_SHARE  # more than the whole: nobody ever reaches it
        return None

    @classmethod
    def from_text(cls, rule: str, fraction: str) -> Share | None:
        """The share "2/3" names, or None when the text is not a fraction as files write it."""
        match = FRACTION_PATTERN.fullmatch(fraction) if isinstance(fraction, str) else None
        return None if match is None else cls(rule, int(match[1]), int(match[2]))


MORE_THAN_HALF = Share(MORE_THAN, 1, 2)


def passes(votes: int, base: int, rule: Share = MORE_THAN_HALF) -> bool:
    """Whether `votes` of `base` pass under `rule`; never without a vote (at least 2/3 of no
    ballots at all would otherwise pass everyone)."""
    return votes > 0 and rule.is_met(votes, base)


def votes_needed(base: int, rule: Share = MORE_THAN_HALF) -> int:
    """The fewest votes that pass on `base` under `rule` (`passes`)."""
    return max(1, rule.needed(base))


@dataclass(frozen=True)
class RoundRules:
    """The frozen figures and settings a round is counted under.

    ``satisfaction_bar`` is used only by a satisfaction round graded against the bar;
    ``grading`` is "tiers" only for a satisfaction round. ``pass_rule``, ``tie`` and
    ``shortfall`` apply to the methods that fill seats; a satisfaction round keeps the defaults.
    """

    method: str
    seats: int
    threshold_base: str
    roster: int
    present: int
    issued: int
    candidate_ids: tuple[int, ...]
    satisfaction_bar: int = DEFAULT_SATISFACTION_BAR
    grading: str = GRADING_BAR
    pass_rule: Share = MORE_THAN_HALF
    tie: str = TIE_RUNOFF
    shortfall: str = SHORTFALL_FURTHER

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown ballot method {self.method!r}; expected one of {METHODS}")
        if self.threshold_base not in THRESHOLD_BASES:
            raise ValueError(
                f"unknown threshold base {self.threshold_base!r}; expected one of {THRESHOLD_BASES}"
            )
        if not is_int(self.seats) or self.seats < 1:
            raise ValueError(f"seats must be an integer of at least 1, got {self.seats!r}")
        for name in ("roster", "present", "issued"):
            value = getattr(self, name)
            if not is_int(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        ids = tuple(self.candidate_ids)
        if not all(is_int(cid) for cid in ids):
            raise ValueError(f"candidate ids must be integers, got {ids!r}")
        if len(set(ids)) != len(ids):
            raise ValueError(f"candidate ids must be unique, got {ids!r}")
        bar = self.satisfaction_bar
        if not is_int(bar) or not 1 <= bar <= 100:
            raise ValueError(f"satisfaction_bar must be an integer from 1 to 100, got {bar!r}")
        if self.grading not in GRADINGS:
            raise ValueError(f"unknown grading {self.grading!r}; expected one of {GRADINGS}")
        if self.grading != GRADING_BAR and self.method != SATISFACTION:
            raise ValueError(f"grading {self.grading!r} applies only to a satisfaction round")
        rule = self.pass_rule
        if not isinstance(rule, Share) or rule.rule not in SHARE_RULES:
            raise ValueError(f"pass_rule must be a share, more_than or at_least, got {rule!r}")
        if rule.fault() is not None:
            raise ValueError(
                f"pass_rule fraction {rule.fraction!r} must be n/d with 1 <= n <= d <= {MAX_DENOMINATOR}"
                ", and not more than the whole"
            )
        if self.tie not in TIE_RULES:
            raise ValueError(f"unknown tie rule {self.tie!r}; expected one of {TIE_RULES}")
        if self.shortfall not in SHORTFALL_RULES:
            raise ValueError(f"unknown shortfall rule {self.shortfall!r}; expected one of {SHORTFALL_RULES}")
        if self.method == SATISFACTION and (rule, self.tie, self.shortfall) != (
            MORE_THAN_HALF, TIE_RUNOFF, SHORTFALL_FURTHER
        ):
            raise ValueError("pass_rule, tie and shortfall apply only to a round that fills seats")
        object.__setattr__(self, "candidate_ids", ids)


@dataclass(frozen=True)
class Runoff:
    """A tie for the last seats, settled by a new round among the tied candidates only."""

    candidates: tuple[int, ...]
    seats: int


@dataclass(frozen=True)
class Tie:
    """A tie for the last seats under the tie rule "none": no new vote, the seats stay unfilled."""

    candidates: tuple[int, ...]
    seats: int


@dataclass(frozen=True)
class CandidateResult:
    """One line of the announced result, as shown on the big screen.

    ``rated`` and ``rate_percent`` are for satisfaction rounds only (0 and None otherwise).
    In a satisfaction round ``votes`` is satisfied + mostly satisfied, and a project that no
    valid ballot rated has ``rank`` None (under tiers too, where it is still graded): no
    deputy judged it, so it stands below every project that was rated.
    """

    candidate_id: int
    votes: int
    rank: int | None
    is_passed: bool
    is_elected: bool
    is_in_runoff: bool
    rated: int = 0
    rate_percent: float | None = None
    is_tied_unfilled: bool = False

    @property
    def rate_text(self) -> str | None:
        """The rate as every output shows it (`satisfaction_rate_text`); None when not rated."""
        return satisfaction_rate_text(self.votes, self.rated) if self.rated else None


@dataclass(frozen=True)
class Overall:
    """A satisfaction round's overall figure (总体满意率): satisfied + mostly satisfied over
    every rating of every project, so a project rated by few weighs little."""

    satisfied_and_mostly: int
    rated: int

    def __post_init__(self) -> None:
        _check_rate_inputs(self.satisfied_and_mostly, self.rated)

    @property
    def rate_tenths(self) -> int | None:
        """The overall rate under the one rounding rule (`satisfaction_rate_tenths`)."""
        return satisfaction_rate_tenths(self.satisfied_and_mostly, self.rated)

    @property
    def rate_text(self) -> str | None:
        """The overall rate as every output shows it; None when nothing was rated."""
        return satisfaction_rate_text(self.satisfied_and_mostly, self.rated)


@dataclass(frozen=True)
class CountResult:
    """The outcome of counting one round; immutable so an announced result cannot drift.

    For a satisfaction round: ``votes`` is satisfied + mostly satisfied per project, ``ratings``
    holds every project's count of each rating (zeros included), ``elected`` is empty,
    ``runoff`` None and ``shortfall`` 0, and ``grading`` is the round's grading. Under the bar
    ``base`` is the number of valid ballots and ``passed`` the rated projects that meet the
    bar; under tiers ``base`` is the grading base (roster or ballots returned), ``grades``
    holds every project's grade and ``passed`` the projects not graded dissatisfied.
    ``ratings`` is empty for the other methods and for a void round, ``grades`` is empty but
    for tiers. For a rank round ``points`` holds every candidate's points and ``priority``
    the passed candidates in priority order. ``method`` is the ballot method counted (None
    only on a hand-built result).

    ``pass_rule``, ``tie_rule`` and ``shortfall_rule`` are the round's, kept so the result says
    what follows from it: under the tie rule "none" a tie for the last seats is
    ``unfilled_tie`` (and ``runoff`` is None); under the shortfall rule "none" no further
    round is offered for the ``shortfall``.
    """

    returned: int
    valid: int | None
    void: int | None
    void_round: bool
    base: int | None
    votes: Mapping[int, int] = field(hash=False)
    passed: tuple[int, ...]
    elected: tuple[int, ...]
    runoff: Runoff | None
    shortfall: int | None
    ratings: Mapping[int, Mapping[str, int]] = field(default_factory=dict, hash=False)
    method: str | None = None
    grading: str | None = None
    grades: Mapping[int, str] = field(default_factory=dict, hash=False)
    points: Mapping[int, int] = field(default_factory=dict, hash=False)
    priority: tuple[int, ...] = ()
    pass_rule: Share = MORE_THAN_HALF
    tie_rule: str = TIE_RUNOFF
    shortfall_rule: str = SHORTFALL_FURTHER
    unfilled_tie: Tie | None = None

    def __post_init__(self) -> None:
        for name in ("votes", "points"):
            given = getattr(self, name)
            object.__setattr__(self, name, MappingProxyType({cid: given[cid] for cid in sorted(given)}))
        unknown_grades = sorted({grade for grade in self.grades.values() if grade not in GRADES})
        if unknown_grades:
            raise ValueError(f"unknown grade(s) {unknown_grades!r}")
        grades = {cid: self.grades[cid] for cid in sorted(self.grades)}
        object.__setattr__(self, "grades", MappingProxyType(grades))
        ratings = {}
        for cid in sorted(self.ratings):
            given = self.ratings[cid]
            unknown = [rating for rating in given if rating not in RATINGS]
            if unknown:
                raise ValueError(f"unknown rating(s) {unknown!r} for candidate {cid}")
            ratings[cid] = MappingProxyType({rating: given.get(rating, 0) for rating in RATINGS})
        object.__setattr__(self, "ratings", MappingProxyType(ratings))

    @property
    def needed(self) -> int | None:
        """The fewest votes that pass (`votes_needed`); None for a void round or an assessment."""
        if self.void_round or self.base is None or self.method == SATISFACTION:
            return None
        return votes_needed(self.base, self.pass_rule)

    @property
    def tier_votes_needed(self) -> int | None:
        """Under tiers, the fewest votes that are more than half of the base (`tier_grade`);
        None otherwise or for a void round."""
        if self.void_round or self.base is None or self.grading != GRADING_TIERS:
            return None
        return votes_needed(self.base, MORE_THAN_HALF)

    @property
    def is_more_than_half(self) -> bool:
        """Whether the round passes on the usual rule, more than half of the base."""
        return self.pass_rule == MORE_THAN_HALF

    @property
    def offers_further_round(self) -> bool:
        """Seats nobody passed for, which the rules let a further round fill."""
        return bool(self.shortfall) and self.shortfall_rule == SHORTFALL_FURTHER

    def rated(self, candidate_id: int) -> int:
        """How many valid ballots rated this project (0 when not a satisfaction round)."""
        given = self.ratings.get(candidate_id)
        return sum(given.values()) if given else 0

    def overall(self) -> Overall | None:
        """The overall figure of a counted satisfaction round; None for any other result."""
        if self.method != SATISFACTION or self.void_round:
            return None
        return Overall(
            satisfied_and_mostly=sum(self.votes.values()),
            rated=sum(self.rated(cid) for cid in self.ratings),
        )

    def below_bar(self) -> tuple[int, ...]:
        """The projects sent to rectification (整改), sorted.

        Under the bar: the rated projects under it; a project that no valid ballot rated is
        neither passed nor below the bar. Under tiers: every project graded dissatisfied.
        """
        if self.grading == GRADING_TIERS:
            return tuple(cid for cid, grade in self.grades.items() if grade == RATE_DISSATISFIED)
        passed = set(self.passed)
        return tuple(
            cid for cid in self.ratings if self.rated(cid) > 0 and cid not in passed
        )

    def ranking(self) -> list[CandidateResult]:
        """Candidates by votes (then id), with competition ranks so equal votes share a rank.

        A rank round lists equal votes by points before id; the rank still follows votes.
        A satisfaction round ranks by `standing` instead (under the bar the rate, under tiers
        the grade first), then by id; projects nobody rated come last with rank None.
        """
        if self.method == SATISFACTION:
            return self._satisfaction_ranking()
        runoff = set(self.runoff.candidates) if self.runoff else set()
        unfilled = set(self.unfilled_tie.candidates) if self.unfilled_tie else set()
        ordered = sorted(
            self.votes.items(), key=lambda item: (-item[1], -self.points.get(item[0], 0), item[0])
        )
        results = []
        for position, (cid, votes) in enumerate(ordered):
            rank = results[-1].rank if results and results[-1].votes == votes else position + 1
            results.append(
                CandidateResult(
                    candidate_id=cid,
                    votes=votes,
                    rank=rank,
                    is_passed=cid in self.passed,
                    is_elected=cid in self.elected,
                    is_in_runoff=cid in runoff,
                    is_tied_unfilled=cid in unfilled,
                )
            )
        return results

    def standing(self, candidate_id: int) -> tuple | None:
        """What a satisfaction round orders a project by, best first as the tuple sorts; None
        for a project no valid ballot rated, which comes last and has no rank.

        Under the bar: the rate, exactly (as a fraction). Under tiers: the grade first
        (satisfied, mostly satisfied, dissatisfied), then the satisfied votes, then satisfied
        + mostly satisfied: the grade is what the round decides, so a project rated highly by
        a few deputies but graded dissatisfied on the base never stands above a graded one.
        Equal standings share a rank."""
        rated = self.rated(candidate_id)
        if not rated:
            return None
        if self.grading == GRADING_TIERS:
            grade = GRADES.index(self.grades[candidate_id])
            return (grade, -self.ratings[candidate_id][RATE_SATISFIED], -self.votes[candidate_id])
        return (-Fraction(self.votes[candidate_id], rated),)

    def _satisfaction_ranking(self) -> list[CandidateResult]:
        standings = {cid: self.standing(cid) for cid in self.votes}
        ordered = sorted(self.votes, key=lambda cid: (standings[cid] is None, standings[cid] or (), cid))
        results: list[CandidateResult] = []
        for position, cid in enumerate(ordered):
            standing = standings[cid]
            if standing is None:
                rank = None
            elif results and standings[results[-1].candidate_id] == standing:
                rank = results[-1].rank
            else:
                rank = position + 1
            results.append(
                CandidateResult(
                    candidate_id=cid,
                    votes=self.votes[cid],
                    rank=rank,
                    is_passed=cid in self.passed,
                    is_elected=False,
                    is_in_runoff=False,
                    rated=self.rated(cid),
                    rate_percent=satisfaction_rate(self.votes[cid], self.rated(cid)),
                )
            )
        return results

    def to_json(self) -> dict:
        """The result as plain JSON data, the shape `verify --json` prints.

        A satisfaction round adds "ratings", under tiers "grades", and "overall"; a rank
        round adds "points" and "priority"; a round under the tie rule "none" adds "tied",
        the tie that leaves seats unfilled (null when there is none). Each per-round addition
        is null on a void round (points and priority are then empty, as the votes are). The
        shape for choose_up_to and for_against under the default rules is exactly that of
        ballot-board/1 before the other methods.
        """
        data = {
            "returned": self.returned,
            "valid": self.valid,
            "void": self.void,
            "void_round": self.void_round,
            "votes": {str(cid): votes for cid, votes in self.votes.items()},
            "passed": list(self.passed),
            "elected": list(self.elected),
            "runoff": (
                {"candidates": list(self.runoff.candidates), "seats": self.runoff.seats}
                if self.runoff
                else None
            ),
            "shortfall": self.shortfall,
        }
        if self.method == SATISFACTION:
            data["ratings"] = (
                None
                if self.void_round
                else {str(cid): dict(given) for cid, given in self.ratings.items()}
            )
            if self.grading == GRADING_TIERS:
                data["grades"] = (
                    None
                    if self.void_round
                    else {str(cid): grade for cid, grade in self.grades.items()}
                )
            overall = self.overall()
            data["overall"] = (
                None
                if overall is None
                else {"satisfied_and_mostly": overall.satisfied_and_mostly, "rated": overall.rated}
            )
        if self.tie_rule == TIE_NONE:
            tie = self.unfilled_tie
            data["tied"] = None if tie is None else {"candidates": list(tie.candidates), "seats": tie.seats}
        if self.method == RANK:
            data["points"] = {str(cid): points for cid, points in self.points.items()}
            data["priority"] = list(self.priority)
        return data


def _candidate_list(rules: RoundRules, choices: object, kind: str, verb: str) -> list[int]:
    """Canonical list ballot (choose up to N, rank), or ValueError naming why it is void.

    The order is kept: it is the priority order of a ranked ballot.
    """
    if not isinstance(choices, list):
        raise ValueError(f"a {kind} ballot must be a list of candidate ids, got {choices!r}")
    known = set(rules.candidate_ids)
    for choice in choices:
        if not is_int(choice):
            raise ValueError(f"choice {choice!r} is not a candidate id")
        if choice not in known:
            raise ValueError(f"candidate {choice} is not on this ballot")
    if len(set(choices)) != len(choices):
        raise ValueError(f"a candidate is {verb} more than once")
    if len(choices) > rules.seats:
        raise ValueError(f"{len(choices)} choices made but at most {rules.seats} allowed")
    return list(choices)


def _choose_up_to(rules: RoundRules, choices: object) -> list[int]:
    """Canonical choose-up-to ballot, or ValueError naming the first reason it is void."""
    return _candidate_list(rules, choices, "choose-up-to", "chosen")


def _rank(rules: RoundRules, choices: object) -> list[int]:
    """Canonical ranked ballot, highest priority first, or ValueError naming why it is void."""
    return _candidate_list(rules, choices, "ranked", "ranked")


def _marks_by_id(
    rules: RoundRules, choices: object, allowed: tuple[str, ...], kind: str, noun: str, verb: str
) -> dict[int, str]:
    """Canonical {int id: mark} ballot, or ValueError naming why it is void.

    Keys are integers or plain ASCII decimal strings ("7", not "07", " 7" or "7.0").
    """
    if not isinstance(choices, dict):
        raise ValueError(f"a {kind} ballot must map candidate ids to {noun}s, got {choices!r}")
    known = set(rules.candidate_ids)
    marks: dict[int, str] = {}
    for key, mark in choices.items():
        if isinstance(key, str) and _DECIMAL_ID.fullmatch(key):
            cid = int(key)
        elif is_int(key):
            cid = key
        else:
            raise ValueError(f"{key!r} is not a candidate id")
        if cid not in known:
            raise ValueError(f"candidate {cid} is not on this ballot")
        if cid in marks:
            raise ValueError(f"candidate {cid} is {verb} more than once")
        if not isinstance(mark, str) or mark not in allowed:
            raise ValueError(f"{noun} {mark!r} for candidate {cid} is not one of {allowed}")
        marks[cid] = mark
    return marks


def _for_against(rules: RoundRules, choices: object) -> dict[int, str]:
    """Canonical for/against ballot with int keys, or ValueError naming why it is void."""
    return _marks_by_id(rules, choices, MARKS, "for/against", "mark", "marked")


def _satisfaction(rules: RoundRules, choices: object) -> dict[int, str]:
    """Canonical satisfaction ballot with int keys; a project left out is simply not rated."""
    return _marks_by_id(rules, choices, RATINGS, "satisfaction", "rating", "rated")


def normalise_choices(rules: RoundRules, choices: object) -> list[int] | dict[int, str]:
    """The canonical form of a valid ballot, for storage; ValueError says why it is void."""
    if choices is None:
        raise ValueError("the ballot is void (no choices)")
    if rules.method == CHOOSE_UP_TO:
        return _choose_up_to(rules, choices)
    if rules.method == RANK:
        return _rank(rules, choices)
    if rules.method == SATISFACTION:
        return _satisfaction(rules, choices)
    return _for_against(rules, choices)


def ballot_is_valid(rules: RoundRules, choices: object) -> bool:
    """Whether a ballot counts; a void ballot is still returned and still in a voters base."""
    try:
        normalise_choices(rules, choices)
    except ValueError:
        return False
    return True


def _supported(canonical: list[int] | dict[int, str]) -> list[int]:
    """The candidates a valid ballot gives a vote to."""
    if isinstance(canonical, list):
        return canonical
    return [cid for cid, mark in canonical.items() if mark == MARK_FOR]


def _void_round(returned: int, rules: RoundRules) -> CountResult:
    """More ballots came back than were issued: nothing in the round can be trusted."""
    return CountResult(
        returned=returned,
        valid=None,
        void=None,
        void_round=True,
        base=None,
        votes={},
        passed=(),
        elected=(),
        runoff=None,
        shortfall=None,
        method=rules.method,
        grading=rules.grading if rules.method == SATISFACTION else None,
        pass_rule=rules.pass_rule,
        tie_rule=rules.tie,
        shortfall_rule=rules.shortfall,
    )


def _pass_base(rules: RoundRules, returned: int) -> int:
    """What the pass rule (and the tiers) are taken of: the whole roster, or every ballot
    returned (void and blank ones included)."""
    return rules.roster if rules.threshold_base == BASE_ROSTER else returned


def tier_grade(satisfied: int, mostly: int, base: int) -> str:
    """The tiers grade of one project (镇海区 rule): satisfied votes more than half of the
    base -> satisfied; otherwise satisfied + mostly satisfied more than half -> mostly
    satisfied; otherwise (half or less) -> dissatisfied."""
    if satisfied * 2 > base:
        return RATE_SATISFIED
    if (satisfied + mostly) * 2 > base:
        return RATE_MOSTLY
    return RATE_DISSATISFIED


def count(rules: RoundRules, ballots: Iterable[object]) -> CountResult:
    """Count a round's returned ballots under its rules."""
    ballots = list(ballots)
    returned = len(ballots)
    if returned > rules.issued:
        return _void_round(returned, rules)
    if rules.method == SATISFACTION:
        return _count_satisfaction(rules, ballots)

    votes = dict.fromkeys(rules.candidate_ids, 0)
    points = dict.fromkeys(rules.candidate_ids, 0)
    valid = 0
    for choices in ballots:
        try:
            canonical = normalise_choices(rules, choices)
        except ValueError:
            continue
        valid += 1
        for position, cid in enumerate(_supported(canonical)):
            votes[cid] += 1
            points[cid] += rules.seats - position

    base = _pass_base(rules, returned)
    passed = sorted((cid for cid in votes if passes(votes[cid], base, rules.pass_rule)), key=lambda c: (-votes[c], c))
    runoff = unfilled_tie = None
    if len(passed) <= rules.seats:
        elected = passed
        shortfall = rules.seats - len(passed)
    else:
        last = votes[passed[rules.seats - 1]]
        elected = [cid for cid in passed if votes[cid] > last]
        tied = [cid for cid in passed if votes[cid] == last]
        seats_left = rules.seats - len(elected)
        if len(tied) > seats_left and rules.tie == TIE_RUNOFF:
            runoff = Runoff(candidates=tuple(sorted(tied)), seats=seats_left)
        elif len(tied) > seats_left:
            unfilled_tie = Tie(candidates=tuple(sorted(tied)), seats=seats_left)
        else:
            elected += tied
        shortfall = 0

    ranked = rules.method == RANK
    return CountResult(
        returned=returned,
        valid=valid,
        void=returned - valid,
        void_round=False,
        base=base,
        votes=votes,
        passed=tuple(sorted(passed)),
        elected=tuple(sorted(elected)),
        runoff=runoff,
        shortfall=shortfall,
        method=rules.method,
        points=points if ranked else {},
        priority=tuple(sorted(passed, key=lambda c: (-votes[c], -points[c], c))) if ranked else (),
        pass_rule=rules.pass_rule,
        tie_rule=rules.tie,
        shortfall_rule=rules.shortfall,
        unfilled_tie=unfilled_tie,
    )


def _count_satisfaction(rules: RoundRules, ballots: list[object]) -> CountResult:
    """Tally each project's ratings, then hold the rated ones against the bar or grade every
    project in tiers."""
    ratings = {cid: dict.fromkeys(RATINGS, 0) for cid in rules.candidate_ids}
    valid = 0
    for choices in ballots:
        try:
            canonical = normalise_choices(rules, choices)
        except ValueError:
            continue
        valid += 1
        for cid, rating in canonical.items():
            ratings[cid][rating] += 1
    votes = {cid: given[RATE_SATISFIED] + given[RATE_MOSTLY] for cid, given in ratings.items()}
    grades: dict[int, str] = {}
    if rules.grading == GRADING_TIERS:
        base = _pass_base(rules, len(ballots))
        grades = {
            cid: tier_grade(given[RATE_SATISFIED], given[RATE_MOSTLY], base)
            for cid, given in ratings.items()
        }
        passed = tuple(sorted(cid for cid, grade in grades.items() if grade != RATE_DISSATISFIED))
    else:
        base = valid
        passed = tuple(
            sorted(
                cid
                for cid, given in ratings.items()
                if meets_bar(votes[cid], sum(given.values()), rules.satisfaction_bar)
            )
        )
    return CountResult(
        returned=len(ballots),
        valid=valid,
        void=len(ballots) - valid,
        void_round=False,
        base=base,
        votes=votes,
        passed=passed,
        elected=(),
        runoff=None,
        shortfall=0,
        ratings=ratings,
        method=SATISFACTION,
        grading=rules.grading,
        grades=grades,
    )
