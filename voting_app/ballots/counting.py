"""Count rules for a deputy vote: which ballots are valid, who passes, who takes the seats.

Pure functions over plain data (no Flask, no database, no I/O) so that the server, the
scrutineers' paper count and `python -m voting_app.verify` all count with the same code.
Integers only: a candidate passes when ``votes * 2 > base``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

CHOOSE_UP_TO = "choose_up_to"
FOR_AGAINST = "for_against"
METHODS = (CHOOSE_UP_TO, FOR_AGAINST)

BASE_ROSTER = "roster"
BASE_VOTERS = "voters"
THRESHOLD_BASES = (BASE_ROSTER, BASE_VOTERS)

MARK_FOR = "for"
MARK_AGAINST = "against"
MARK_ABSTAIN = "abstain"
MARKS = (MARK_FOR, MARK_AGAINST, MARK_ABSTAIN)

_DECIMAL_ID = re.compile(r"0|-?[1-9][0-9]*")


def _is_int(value: object) -> bool:
    """True for real integers; bool is excluded because True must never count as id 1."""
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class RoundRules:
    """The frozen figures and settings a round is counted under."""

    method: str
    seats: int
    threshold_base: str
    roster: int
    present: int
    issued: int
    candidate_ids: tuple[int, ...]

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown ballot method {self.method!r}; expected one of {METHODS}")
        if self.threshold_base not in THRESHOLD_BASES:
            raise ValueError(
                f"unknown threshold base {self.threshold_base!r}; expected one of {THRESHOLD_BASES}"
            )
        if not _is_int(self.seats) or self.seats < 1:
            raise ValueError(f"seats must be an integer of at least 1, got {self.seats!r}")
        for name in ("roster", "present", "issued"):
            value = getattr(self, name)
            if not _is_int(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
        ids = tuple(self.candidate_ids)
        if not all(_is_int(cid) for cid in ids):
            raise ValueError(f"candidate ids must be integers, got {ids!r}")
        if len(set(ids)) != len(ids):
            raise ValueError(f"candidate ids must be unique, got {ids!r}")
        object.__setattr__(self, "candidate_ids", ids)


@dataclass(frozen=True)
class Runoff:
    """A tie for the last seats, settled by a new round among the tied candidates only."""

    candidates: tuple[int, ...]
    seats: int


@dataclass(frozen=True)
class CandidateResult:
    """One line of the announced result, as shown on the big screen."""

    candidate_id: int
    votes: int
    rank: int | None
    is_passed: bool
    is_elected: bool
    is_in_runoff: bool


@dataclass(frozen=True)
class CountResult:
    """The outcome of counting one round; immutable so an announced result cannot drift."""

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

    def __post_init__(self) -> None:
        ordered = {cid: self.votes[cid] for cid in sorted(self.votes)}
        object.__setattr__(self, "votes", MappingProxyType(ordered))

    def ranking(self) -> list[CandidateResult]:
        """Candidates by votes (then id), with competition ranks so equal votes share a rank."""
        runoff = set(self.runoff.candidates) if self.runoff else set()
        ordered = sorted(self.votes.items(), key=lambda item: (-item[1], item[0]))
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
                )
            )
        return results

    def to_json(self) -> dict:
        """The result as plain JSON data, the shape `verify --json` prints."""
        return {
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


def _choose_up_to(rules: RoundRules, choices: object) -> list[int]:
    """Canonical choose-up-to ballot, or ValueError naming the first reason it is void."""
    if not isinstance(choices, list):
        raise ValueError(f"a choose-up-to ballot must be a list of candidate ids, got {choices!r}")
    known = set(rules.candidate_ids)
    for choice in choices:
        if not _is_int(choice):
            raise ValueError(f"choice {choice!r} is not a candidate id")
        if choice not in known:
            raise ValueError(f"candidate {choice} is not on this ballot")
    if len(set(choices)) != len(choices):
        raise ValueError("a candidate is chosen more than once")
    if len(choices) > rules.seats:
        raise ValueError(f"{len(choices)} choices made but at most {rules.seats} allowed")
    return list(choices)


def _for_against(rules: RoundRules, choices: object) -> dict[int, str]:
    """Canonical for/against ballot with int keys, or ValueError naming why it is void."""
    if not isinstance(choices, dict):
        raise ValueError(f"a for/against ballot must map candidate ids to marks, got {choices!r}")
    known = set(rules.candidate_ids)
    marks: dict[int, str] = {}
    for key, mark in choices.items():
        if isinstance(key, str) and _DECIMAL_ID.fullmatch(key):
            cid = int(key)
        elif _is_int(key):
            cid = key
        else:
            raise ValueError(f"{key!r} is not a candidate id")
        if cid not in known:
            raise ValueError(f"candidate {cid} is not on this ballot")
        if cid in marks:
            raise ValueError(f"candidate {cid} is marked more than once")
        if not isinstance(mark, str) or mark not in MARKS:
            raise ValueError(f"mark {mark!r} for candidate {cid} is not one of {MARKS}")
        marks[cid] = mark
    return marks


def normalise_choices(rules: RoundRules, choices: object) -> list[int] | dict[int, str]:
    """The canonical form of a valid ballot, for storage; ValueError says why it is void."""
    if choices is None:
        raise ValueError("the ballot is void (no choices)")
    if rules.method == CHOOSE_UP_TO:
        return _choose_up_to(rules, choices)
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


def _void_round(returned: int) -> CountResult:
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
    )


def count(rules: RoundRules, ballots: Iterable[object]) -> CountResult:
    """Count a round's returned ballots under its rules."""
    ballots = list(ballots)
    returned = len(ballots)
    if returned > rules.issued:
        return _void_round(returned)

    votes = dict.fromkeys(rules.candidate_ids, 0)
    valid = 0
    for choices in ballots:
        try:
            canonical = normalise_choices(rules, choices)
        except ValueError:
            continue
        valid += 1
        for cid in _supported(canonical):
            votes[cid] += 1

    base = rules.roster if rules.threshold_base == BASE_ROSTER else returned
    passed = sorted((cid for cid in votes if votes[cid] * 2 > base), key=lambda c: (-votes[c], c))
    runoff = None
    if len(passed) <= rules.seats:
        elected = passed
        shortfall = rules.seats - len(passed)
    else:
        last = votes[passed[rules.seats - 1]]
        elected = [cid for cid in passed if votes[cid] > last]
        tied = [cid for cid in passed if votes[cid] == last]
        seats_left = rules.seats - len(elected)
        if len(tied) > seats_left:
            runoff = Runoff(candidates=tuple(sorted(tied)), seats=seats_left)
        else:
            elected += tied
        shortfall = 0

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
    )
