"""Recount a published ballot board: ``python -m voting_app.verify BOARD.json [--json]``.

Counts every method of ballot-board/1 under the rules the board carries (the pass rule, and
what a tie for the last seats or a shortfall leads to): choose up to N, for / against /
abstain, the priority ballot (rank, with each candidate's points and the priority order of
those who passed), and
the deputies' satisfaction assessment (满意度测评), whose table shows each project's ratings,
its rate, its grade or whether it is below the bar, which projects go to rectification (整改),
and the round's overall rate.

Anyone holding the board can check the announced result without the server, Flask or a
database: this module uses only the standard library and the pure counting rules. Exit status
is 0 when the board was counted, 2 when it could not be read, is malformed or fails its digest.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata

from voting_app.ballots.board import (
    BoardError,
    DigestMismatch,
    ParsedBoard,
    loads_board,
    parse_board,
)
from voting_app.ballots.counting import (
    BASE_ROSTER,
    CHOOSE_UP_TO,
    GRADING_TIERS,
    MORE_THAN,
    RANK,
    RATE_DISSATISFIED,
    RATE_MOSTLY,
    RATE_SATISFIED,
    SATISFACTION,
    CandidateResult,
    CountResult,
    count,
)


def _plural(n: int, word: str) -> str:
    """'1 seat', '2 seats': the table is read aloud at announcements."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _safe(text: str) -> str:
    """Board text with control and line-breaking characters escaped, so it cannot fake lines."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")
        else ch
        for ch in text
    )


def _ids(ids: tuple[int, ...]) -> str:
    """Candidate ids as '#4, #5'."""
    return ", ".join(f"#{cid}" for cid in ids)


def _outcome(line: CandidateResult) -> str:
    """The result column: elected, runoff, passed without a seat, or nothing."""
    if line.is_elected:
        return "elected"
    if line.is_in_runoff:
        return "runoff"
    if line.is_tied_unfilled:
        return "tied"
    return "no seat" if line.is_passed else ""


BELOW_BAR = "below bar — rectification"
NOT_RATED = "not rated"
GRADE_WORDS = {
    RATE_SATISFIED: "satisfied",
    RATE_MOSTLY: "mostly satisfied",
    RATE_DISSATISFIED: "dissatisfied — rectification",
}


def _whom(parsed: ParsedBoard) -> str:
    """The pass base in words."""
    return "the roster" if parsed.rules.threshold_base == BASE_ROSTER else "the ballots returned"


def _pass_line(parsed: ParsedBoard, result: CountResult) -> str:
    """The round's pass rule on its base, and the votes it takes."""
    share = parsed.rules.pass_rule
    if result.is_more_than_half:
        rule = "more than half"
    else:
        rule = f"{'more than' if share.rule == MORE_THAN else 'at least'} {share.fraction}"
    return (
        f"Pass line: {rule} of {_whom(parsed)} ({result.base}), "
        f"at least {_plural(result.needed, 'vote')}"
    )


def _overall_line(result: CountResult) -> str:
    """The round's overall rate (总体满意率), under the one rounding rule."""
    overall = result.overall()
    if not overall.rated:
        return "Overall: no project was rated on any valid ballot"
    return (
        f"Overall: {overall.satisfied_and_mostly} of {_plural(overall.rated, 'rating')} "
        f"satisfied or mostly satisfied, {overall.rate_text}%"
    )


def _satisfaction_table(parsed: ParsedBoard, result: CountResult) -> list[str]:
    """Per project: rank, ratings, rate, and its grade or whether it is below the bar."""
    names = {c.id: _safe(c.name) for c in parsed.candidates}
    tiers = result.grading == GRADING_TIERS
    if tiers:
        half = result.base // 2 + 1
        rule = (
            f"Grades on {_whom(parsed)} ({result.base}): satisfied with at least {half} "
            f"satisfied votes; otherwise mostly satisfied with at least {half} satisfied + "
            "mostly satisfied; otherwise dissatisfied, to rectification"
        )
        width = len(GRADE_WORDS[RATE_DISSATISFIED])
    else:
        bar = parsed.rules.satisfaction_bar
        rule = (
            f"Bar: {bar}% - a project passes when satisfied + mostly satisfied make at least "
            f"{bar}% of the valid ballots that rated it; a project under the bar goes to "
            "rectification"
        )
        width = len(BELOW_BAR)
    lines = [
        f"Valid {result.valid}   Void {result.void}",
        rule,
        "",
        (
            f"{'Rank':>4}  {'Satisfied':>9}  {'Mostly':>6}  {'Dissatisfied':>12}  "
            f"{'Rated':>5}  {'Rate %':>6}  {'Result':<{width}}  Project"
        ),
    ]
    for line in result.ranking():
        given = result.ratings[line.candidate_id]
        if tiers:
            outcome = GRADE_WORDS[result.grades[line.candidate_id]]
        elif not line.rated:
            outcome = NOT_RATED
        else:
            outcome = "passed" if line.is_passed else BELOW_BAR
        rank = "-" if line.rank is None else str(line.rank)
        rate = line.rate_text or "-"
        lines.append(
            f"{rank:>4}  {given[RATE_SATISFIED]:>9}  {given[RATE_MOSTLY]:>6}  "
            f"{given[RATE_DISSATISFIED]:>12}  {line.rated:>5}  {rate:>6}  "
            f"{outcome:<{width}}  #{line.candidate_id} {names[line.candidate_id]}"
        )
    below = result.below_bar()
    not_rated = [line.candidate_id for line in result.ranking() if not line.rated]
    lines.append("")
    if tiers:
        for grade in (RATE_SATISFIED, RATE_MOSTLY):
            graded = tuple(cid for cid, given in result.grades.items() if given == grade)
            lines.append(
                f"Graded {GRADE_WORDS[grade]}: {_plural(len(graded), 'project')}"
                + (f" ({_ids(graded)})" if graded else "")
            )
        lines.append(
            f"Graded dissatisfied, to rectification: {_plural(len(below), 'project')}"
            + (f" ({_ids(below)})" if below else "")
        )
    else:
        lines.append(f"Passed the bar: {_plural(len(result.passed), 'project')}")
        lines.append(
            f"Below the bar, to rectification: {_plural(len(below), 'project')}"
            + (f" ({_ids(below)})" if below else "")
        )
    if not_rated:
        lines.append(
            f"Not rated on any valid ballot: {_plural(len(not_rated), 'project')} "
            f"({_ids(tuple(not_rated))})"
        )
    lines.append(_overall_line(result))
    return lines


def render(parsed: ParsedBoard, result: CountResult, digest: str | None) -> str:
    """The result as a plain-text table, in the order the big screen announces it."""
    rules, info = parsed.rules, parsed.round
    names = {c.id: _safe(c.name) for c in parsed.candidates}
    if rules.method == CHOOSE_UP_TO:
        method = f"choose up to {rules.seats} of {len(names)} candidates"
    elif rules.method == RANK:
        method = (
            f"rank up to {rules.seats} of {len(names)} candidates by priority; "
            f"position p earns {rules.seats} + 1 - p points"
        )
    elif rules.method == SATISFACTION:
        method = (
            f"satisfaction assessment of {_plural(len(names), 'project')} "
            "(satisfied / mostly satisfied / dissatisfied); "
            + (
                f"graded in tiers on {_whom(parsed)}"
                if rules.grading == GRADING_TIERS
                else f"bar {rules.satisfaction_bar}%"
            )
        )
    else:
        method = f"for / against / abstain on each of {len(names)} candidates"
    if rules.method != SATISFACTION:
        method += f"; {_plural(rules.seats, 'seat')}"
    lines = [
        f"Round {info['id']}: {_safe(info['title'])}",
        f"Method: {method}",
        f"Roster {rules.roster}   Present {rules.present}   Issued {rules.issued}   "
        f"Returned {result.returned}",
    ]
    if result.void_round:
        lines += [
            "",
            f"VOID ROUND: {result.returned} ballots returned but only {rules.issued} issued. "
            "The whole round is void and must be repeated.",
        ]
    elif rules.method == SATISFACTION:
        lines += _satisfaction_table(parsed, result)
    else:
        ranked = rules.method == RANK
        points = f"{'Points':>6}  " if ranked else ""
        lines += [
            f"Valid {result.valid}   Void {result.void}",
            _pass_line(parsed, result),
            "",
            f"{'Rank':>4}  {'Votes':>5}  {points}{'Passed':<6}  {'Result':<7}  Candidate",
        ]
        for line in result.ranking():
            passed = "yes" if line.is_passed else "no"
            points = f"{result.points[line.candidate_id]:>6}  " if ranked else ""
            lines.append(
                f"{line.rank:>4}  {line.votes:>5}  {points}{passed:<6}  {_outcome(line):<7}  "
                f"#{line.candidate_id} {names[line.candidate_id]}"
            )
        elected = _plural(len(result.elected), "candidate")
        lines += ["", f"Elected: {elected} for {_plural(rules.seats, 'seat')}"]
        if ranked:
            lines.append(
                "Priority order (votes, then points, then id): "
                + (_ids(result.priority) if result.priority else "nobody passed")
            )
        if result.runoff:
            lines.append(
                f"Runoff: {_ids(result.runoff.candidates)} are tied for the last "
                f"{_plural(result.runoff.seats, 'seat')}; a new round among them alone decides."
            )
        if result.unfilled_tie:
            lines.append(
                f"Tie: {_ids(result.unfilled_tie.candidates)} are tied for the last "
                f"{_plural(result.unfilled_tie.seats, 'seat')}; under the round's rules no new "
                "round is held and the seats stay unfilled."
            )
        if result.offers_further_round:
            lines.append(
                f"Shortfall: {_plural(result.shortfall, 'seat')} not filled; a further round "
                "may fill the rest from the remaining candidates."
            )
        elif result.shortfall:
            lines.append(
                f"Shortfall: {_plural(result.shortfall, 'seat')} not filled; under the round's "
                "rules no further round is held."
            )
    lines.append(
        f"Digest: {digest} matches the content"
        if digest
        else "Digest: none on this board, so its content was not checked against one"
    )
    return "\n".join(lines)


def _read(path: str) -> bytes:
    """The board's bytes from a file, or from standard input for '-'."""
    if path == "-":
        return getattr(sys.stdin, "buffer", sys.stdin).read()
    with open(path, "rb") as handle:
        return handle.read()


def _fail(message: str) -> int:
    """One line on standard error and the failure status, so scripts can rely on both."""
    print(f"verify: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Recount a board and print the result; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m voting_app.verify",
        description="Recount a ballot board (format ballot-board/1) and check its digest.",
    )
    parser.add_argument("board", help="the board JSON file, or - for standard input")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    try:
        raw = _read(args.board)
    except OSError as exc:
        return _fail(f"cannot read {args.board}: {exc.strerror or exc}")
    try:
        data = loads_board(raw)
    except BoardError as exc:
        return _fail(str(exc))
    try:
        parsed = parse_board(data)
    except DigestMismatch as exc:
        return _fail(str(exc))
    except BoardError as exc:
        return _fail(f"malformed board: {exc}")

    result = count(parsed.rules, parsed.ballots)
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(render(parsed, result, data.get("digest")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
