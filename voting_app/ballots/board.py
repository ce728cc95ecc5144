"""The public ballot board, format ``ballot-board/1``: every ballot of a round under its receipt.

Anyone can recount a published board with ``python -m voting_app.verify BOARD.json``, and a
deputy can find their own ballot by its receipt. The board is one JSON object::

    {"format": "ballot-board/1",
     "round": {"id": int, "title": str,
               "method": "choose_up_to" | "for_against" | "satisfaction" | "rank",
               "seats": int, "threshold_base": "roster" | "voters",
               "roster": int, "present": int, "issued": int,
               "grading": "bar" | "tiers", "satisfaction_bar": int,
               "pass_rule": {"rule": "more_than" | "at_least", "fraction": "<n>/<d>"},
               "tie": "runoff" | "none", "shortfall": "further_round" | "none"},
     "candidates": [{"id": int, "name": str}, ...],
     "ballots": [{"receipt": str,
                  "choices": [ids]
                           | [ids in priority order, first highest]
                           | {"<id>": "for" | "against" | "abstain"}
                           | {"<id>": "satisfied" | "mostly_satisfied" | "dissatisfied"}
                           | null}, ...],
     "digest": "sha256:<64 lowercase hex digits>"}

Ballots are sorted by receipt (code-point order); ``null`` choices are void ballots.
Object choices are written with their keys sorted by id.

The rules a board carries, so that anyone can count it by hand:

* Every method: a ballot returned beyond the number issued voids the whole round.
* Passing ("choose_up_to", "for_against", "rank"): a candidate passes when its votes reach
  ``pass_rule`` of ``threshold_base`` (the roster, or the ballots returned, void and blank
  ones included), with at least one vote. ``pass_rule`` is absent for the usual rule, more
  than half; otherwise "more_than" n/d means votes * d > base * n and "at_least" n/d means
  votes * d >= base * n, with 1 <= n <= d <= 100 (and n < d for "more_than"), in integers.
* "choose_up_to": a ballot lists at most ``seats`` candidates, none twice, none unknown, or
  it is void; a blank list is valid. Each listed candidate gets a vote. The passed
  candidates with the most votes take the seats. A tie for the last seats goes to a new
  round among exactly the tied; under ``"tie": "none"`` there is no new vote and those
  seats stay unfilled. Seats nobody passed for are a shortfall, which a further round from
  the remaining candidates may fill; under ``"shortfall": "none"`` they stay unfilled.
* "for_against": each candidate marked "for" gets a vote; otherwise as "choose_up_to".
* "rank" (priority ballot): valid, void, votes, seats, ties and shortfall exactly as
  "choose_up_to", with ``seats`` as N. A candidate in position p (from 1) of a valid ballot
  also earns N + 1 - p points. The passed candidates are listed in priority order: most
  votes first, then most points, then lowest id.
* "satisfaction" (满意度测评): a project left out of a ballot is not rated on it. The
  round's ``grading`` decides which projects go to rectification (整改):

  - "bar" (the default when ``grading`` is absent; ``satisfaction_bar`` is then required,
    percent from 1 to 100): a project rated on at least one valid ballot passes when
    satisfied + mostly satisfied make at least ``satisfaction_bar``% of its ratings;
    otherwise it goes to rectification. ``seats`` and ``threshold_base`` are not used.
  - "tiers" (``satisfaction_bar`` is then absent): every project is graded on
    ``threshold_base``: satisfied votes more than half -> "satisfied"; otherwise satisfied +
    mostly satisfied more than half -> "mostly_satisfied"; otherwise "dissatisfied", which
    goes to rectification. ``seats`` is not used.

  Either way the round's overall figure is satisfied + mostly satisfied over every rating
  of every project.

``round.grading`` and ``round.satisfaction_bar`` are forbidden for the other methods, so
their boards are exactly as they were. `build_board` writes ``grading`` only for "tiers":
a board graded against the bar is byte for byte what it was before tiers existed, so every
digest confirmed earlier still matches. Likewise ``pass_rule``, ``tie`` and ``shortfall``
are forbidden for "satisfaction", and `build_board` writes each only when it differs from
the usual rule (more than half, "runoff", "further_round"): a board under the usual rules is
what it was before they could differ.

The digest, recomputable in any language: drop the "digest" key, serialise the rest as JSON
with object keys sorted, no whitespace (separators "," and ":"), non-ASCII characters
written as themselves (not \\u escapes), encode as UTF-8, and take SHA-256. NaN and
Infinity are refused (they are not JSON). In Python::

    body = {k: v for k, v in board.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()

A board that is well-formed JSON but breaks the counting rules in a ballot (too many choices,
an unknown candidate) is not malformed: that ballot is void, exactly as on paper.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from voting_app.ballots.counting import (
    GRADING_BAR,
    GRADING_TIERS,
    GRADINGS,
    MORE_THAN_HALF,
    SATISFACTION,
    SHORTFALL_FURTHER,
    TIE_RUNOFF,
    RoundRules,
    Share,
    is_int,
)

FORMAT = "ballot-board/1"
DIGEST_PREFIX = "sha256:"
BOARD_KEYS = ("format", "round", "candidates", "ballots")
ROUND_KEYS = ("id", "title", "method", "seats", "threshold_base", "roster", "present", "issued")
GRADING = "grading"
SATISFACTION_BAR = "satisfaction_bar"
PASS_RULE, TIE, SHORTFALL = "pass_rule", "tie", "shortfall"
ROUND_TEXT_KEYS = ("title", "method", "threshold_base", GRADING, TIE, SHORTFALL)
GRADING_KEYS = (GRADING, SATISFACTION_BAR)  # satisfaction rounds only
SEAT_RULE_KEYS = (PASS_RULE, TIE, SHORTFALL)  # the other methods only
ROUND_OPTIONAL_KEYS = GRADING_KEYS + SEAT_RULE_KEYS
SHARE_KEYS = ("rule", "fraction")
CANDIDATE_KEYS = ("id", "name")
BALLOT_KEYS = ("receipt", "choices")


class BoardError(ValueError):
    """A board that cannot be counted as given: malformed, or not a board at all."""


class DigestMismatch(BoardError):
    """The board's content no longer matches its published digest."""


@dataclass(frozen=True)
class BoardCandidate:
    """A candidate as the board names it."""

    id: int
    name: str


@dataclass(frozen=True)
class ParsedBoard:
    """A validated board, split into what `counting.count` needs and what a reader sees."""

    rules: RoundRules
    round: dict
    candidates: tuple[BoardCandidate, ...]
    ballots: tuple[object, ...]
    receipts: tuple[str, ...]


def _canonical_bytes(body: dict) -> bytes:
    """The exact bytes the digest is taken over (see the module docstring)."""
    try:
        text = json.dumps(
            body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
        return text.encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise BoardError(f"board is not plain JSON data: {exc}") from None


def board_digest(board: dict) -> str:
    """SHA-256 over the canonical JSON of the board without its "digest" key."""
    body = {key: value for key, value in board.items() if key != "digest"}
    return DIGEST_PREFIX + hashlib.sha256(_canonical_bytes(body)).hexdigest()


def _board_choices(choices: object) -> object:
    """Choices as the board writes them: object keys (for/against, satisfaction) as strings,
    sorted by id."""
    if not isinstance(choices, dict):
        return list(choices) if isinstance(choices, list) else choices
    written = {str(key): mark for key, mark in choices.items()}
    if len(written) != len(choices):
        raise BoardError(f"ballot choices name a candidate twice: {choices!r}")
    return dict(sorted(written.items(), key=lambda item: _id_order(item[0])))


def _id_order(key: str) -> tuple:
    """Numeric order for decimal ids, with any other key after them."""
    try:
        return (0, int(key), key)
    except ValueError:
        return (1, 0, key)


def build_board(
    round_info: dict, candidates: list[dict], ballots: Iterable[tuple[str, object]]
) -> dict:
    """The board to publish for a counted round; checked by `parse_board` before it leaves.

    For a satisfaction round ``round_info["grading"]`` (default "bar") says which of
    ``"grading": "tiers"`` or ``satisfaction_bar`` is written; like any other field the
    board does not publish, both are left out for the other methods. For the other methods
    ``round_info`` may give ``pass_rule`` (a `Share`), ``tie`` and ``shortfall``, each
    written only when it is not the usual rule.
    """
    try:
        round_keys = ROUND_KEYS
        if round_info["method"] == SATISFACTION:
            if round_info.get(GRADING, GRADING_BAR) == GRADING_BAR:
                round_keys += (SATISFACTION_BAR,)
            else:
                round_keys += (GRADING,)
        written = {key: round_info[key] for key in round_keys}
        if round_info["method"] != SATISFACTION:
            written.update(_seat_rules(round_info))
        board = {
            "format": FORMAT,
            "round": written,
            "candidates": [{key: c[key] for key in CANDIDATE_KEYS} for c in candidates],
            "ballots": [
                {"receipt": receipt, "choices": _board_choices(choices)}
                for receipt, choices in sorted(ballots, key=lambda ballot: ballot[0])
            ],
        }
    except KeyError as exc:
        raise BoardError(f"cannot build a board without {exc.args[0]!r}") from None
    except TypeError as exc:
        raise BoardError(f"cannot build a board: {exc}") from None
    board["digest"] = board_digest(board)
    parse_board(board)
    return board


def _seat_rules(round_info: dict) -> dict:
    """The pass, tie and shortfall rules as the board writes them: only those not usual."""
    written = {}
    rule = round_info.get(PASS_RULE, MORE_THAN_HALF)
    if rule != MORE_THAN_HALF:
        written[PASS_RULE] = {"rule": rule.rule, "fraction": rule.fraction}
    for key, usual in ((TIE, TIE_RUNOFF), (SHORTFALL, SHORTFALL_FURTHER)):
        if round_info.get(key, usual) != usual:
            written[key] = round_info[key]
    return written


def _check_keys(
    obj: object, required: tuple[str, ...], where: str, optional: tuple[str, ...] = ()
) -> dict:
    """An object with exactly the expected keys, so nothing unsigned-for can ride along."""
    if not isinstance(obj, dict):
        raise BoardError(f"{where} must be a JSON object, got {type(obj).__name__}")
    missing = [key for key in required if key not in obj]
    if missing:
        raise BoardError(f"{where} is missing {', '.join(map(repr, missing))}")
    extra = sorted(str(key) for key in obj if key not in required and key not in optional)
    if extra:
        raise BoardError(f"{where} has unknown key(s) {', '.join(map(repr, extra))}")
    return obj


def _parse_round(data: object) -> dict:
    """The round's settings and frozen figures, with their JSON types checked."""
    round_info = _check_keys(data, ROUND_KEYS, "round", optional=ROUND_OPTIONAL_KEYS)
    for key in ROUND_KEYS + tuple(key for key in ROUND_OPTIONAL_KEYS if key in round_info):
        value = round_info[key]
        if key == PASS_RULE:
            _parse_share(value, f"round.{PASS_RULE}")
        elif key in ROUND_TEXT_KEYS:
            if not isinstance(value, str):
                raise BoardError(f"round.{key} must be a string, got {value!r}")
        elif not is_int(value):
            raise BoardError(f"round.{key} must be an integer, got {value!r}")
    if round_info["method"] != SATISFACTION:
        for key in GRADING_KEYS:
            if key in round_info:
                raise BoardError(f"round.{key} is allowed only when round.method is {SATISFACTION!r}")
        return dict(round_info)
    for key in SEAT_RULE_KEYS:
        if key in round_info:
            raise BoardError(f"round.{key} is not allowed when round.method is {SATISFACTION!r}")
    grading = round_info.get(GRADING, GRADING_BAR)
    if grading not in GRADINGS:
        raise BoardError(f"round.{GRADING} must be one of {GRADINGS}, got {grading!r}")
    if grading == GRADING_BAR and SATISFACTION_BAR not in round_info:
        raise BoardError(f"round is missing {SATISFACTION_BAR!r}, required for a satisfaction round")
    if grading == GRADING_TIERS and SATISFACTION_BAR in round_info:
        raise BoardError(
            f"round.{SATISFACTION_BAR} is not allowed when round.{GRADING} is {GRADING_TIERS!r}"
        )
    return dict(round_info)


def _parse_share(data: object, where: str) -> Share:
    """A share as the board writes it: {"rule": text, "fraction": "n/d"}. Whether the rule
    and the fraction are ones a round may have is `RoundRules`' to say."""
    value = _check_keys(data, SHARE_KEYS, where)
    for key in SHARE_KEYS:
        if not isinstance(value[key], str):
            raise BoardError(f"{where}.{key} must be a string, got {value[key]!r}")
    share = Share.from_text(value["rule"], value["fraction"])
    if share is None:
        raise BoardError(f"{where}.fraction must be a fraction such as \"2/3\", got {value['fraction']!r}")
    return share


def _parse_candidates(data: object) -> tuple[BoardCandidate, ...]:
    """The candidate list, each with an integer id, a name and no id twice."""
    if not isinstance(data, list):
        raise BoardError("candidates must be a JSON array")
    seen: set[int] = set()
    parsed = []
    for index, item in enumerate(data):
        where = f"candidates[{index}]"
        candidate = _check_keys(item, CANDIDATE_KEYS, where)
        cid, name = candidate["id"], candidate["name"]
        if not is_int(cid):
            raise BoardError(f"{where}.id must be an integer, got {cid!r}")
        if not isinstance(name, str):
            raise BoardError(f"{where}.name must be a string, got {name!r}")
        if cid in seen:
            raise BoardError(f"candidate id {cid} appears twice")
        seen.add(cid)
        parsed.append(BoardCandidate(id=cid, name=name))
    return tuple(parsed)


def _parse_ballots(data: object) -> tuple[tuple[str, ...], tuple[object, ...]]:
    """Receipts and choices; choices must be an array, an object or null (void)."""
    if not isinstance(data, list):
        raise BoardError("ballots must be a JSON array")
    receipts: dict[str, object] = {}
    for index, item in enumerate(data):
        where = f"ballots[{index}]"
        ballot = _check_keys(item, BALLOT_KEYS, where)
        receipt, chosen = ballot["receipt"], ballot["choices"]
        if not isinstance(receipt, str):
            raise BoardError(f"{where}.receipt must be a string, got {receipt!r}")
        if receipt in receipts:
            raise BoardError(f"{where}: receipt {receipt!r} appears more than once")
        if chosen is not None and not isinstance(chosen, (list, dict)):
            raise BoardError(f"{where}.choices must be an array, an object or null, got {chosen!r}")
        receipts[receipt] = chosen
    return tuple(receipts), tuple(receipts.values())


def parse_board(data: object) -> ParsedBoard:
    """Validate a board and turn it into counting inputs; BoardError says what is wrong."""
    board = _check_keys(data, BOARD_KEYS, "board", optional=("digest",))
    if board["format"] != FORMAT:
        raise BoardError(f"format must be {FORMAT!r}, got {board['format']!r}")
    if "digest" in board:
        given = board["digest"]
        if not isinstance(given, str):
            raise BoardError(f"digest must be a string, got {given!r}")
        expected = board_digest(board)
        if given != expected:
            raise DigestMismatch(
                f"digest mismatch: board says {given}, content hashes to {expected}"
            )
    round_info = _parse_round(board["round"])
    candidates = _parse_candidates(board["candidates"])
    receipts, ballots = _parse_ballots(board["ballots"])
    optional = {key: round_info[key] for key in GRADING_KEYS + (TIE, SHORTFALL) if key in round_info}
    if PASS_RULE in round_info:
        optional[PASS_RULE] = _parse_share(round_info[PASS_RULE], f"round.{PASS_RULE}")
    try:
        rules = RoundRules(
            method=round_info["method"],
            seats=round_info["seats"],
            threshold_base=round_info["threshold_base"],
            roster=round_info["roster"],
            present=round_info["present"],
            issued=round_info["issued"],
            candidate_ids=tuple(c.id for c in candidates),
            **optional,
        )
    except ValueError as exc:
        raise BoardError(f"round: {exc}") from None
    return ParsedBoard(
        rules=rules, round=round_info, candidates=candidates, ballots=ballots, receipts=receipts
    )


def loads_board(text: str | bytes) -> object:
    """JSON text to data, refusing what JSON parsers disagree on: repeated keys and NaN."""

    def unique_keys(pairs: list[tuple[str, object]]) -> dict:
        keys = [key for key, _ in pairs]
        if len(set(keys)) != len(keys):
            raise BoardError(f"invalid JSON: an object repeats a key among {sorted(set(keys))}")
        return dict(pairs)

    def no_constant(name: str) -> object:
        raise BoardError(f"invalid JSON: {name} is not a JSON number")

    try:
        return json.loads(text, object_pairs_hook=unique_keys, parse_constant=no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoardError(f"invalid JSON: {exc}") from None
