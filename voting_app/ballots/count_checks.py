"""The arithmetic checks of a 计票报告单 (count report): what the scrutineers tick before they sign.

Pure rules, no Flask, no database. Each check compares two figures of the count and holds or
not (符合 / 不符); where a check has nothing to compare (a round voided because more ballots
came back than were issued has no valid or void figure) it is not applicable (None). The
count itself never breaks them; the checks are printed so the paper tally can be compared line
by line, and a figure keyed or copied wrong shows up as 不符.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from voting_app.ballots.counting import CHOOSE_UP_TO, RANK, SATISFACTION, CountResult

RETURNED_WITHIN_ISSUED = "returned_within_issued"  # returned ≤ issued
VALID_AND_VOID_MAKE_RETURNED = "valid_and_void_make_returned"  # valid + void = returned
EACH_COUNT_WITHIN_VALID = "each_count_within_valid"  # every candidate's count ≤ valid
MARKS_WITHIN_PLACES = "marks_within_places"  # all marks ≤ valid × N (choose up to N, rank)
# Methods where a valid ballot marks at most N candidates, so the marks have a ceiling.
CAPPED_METHODS = (CHOOSE_UP_TO, RANK)


@dataclass(frozen=True)
class Check:
    code: str
    left: int | None  # the figure checked
    right: int | None  # what it is checked against
    holds: bool | None  # None: not applicable
    failing: tuple[int, ...] = ()  # for EACH_COUNT_WITHIN_VALID: the candidates over valid


def checks(
    issued: int, returned: int, valid: int | None, void: int | None, counts: Mapping[int, int], seats: int, method: str
) -> list[Check]:
    """The checks of one round's count, in the order the report prints them. `counts` is each
    candidate's count on the report (its votes; for an assessment, all its ratings)."""
    found = [Check(RETURNED_WITHIN_ISSUED, returned, issued, returned <= issued)]
    if valid is None or void is None:
        found.append(Check(VALID_AND_VOID_MAKE_RETURNED, None, returned, None))
        found.append(Check(EACH_COUNT_WITHIN_VALID, None, None, None))
        if method in CAPPED_METHODS:
            found.append(Check(MARKS_WITHIN_PLACES, None, None, None))
        return found
    found.append(Check(VALID_AND_VOID_MAKE_RETURNED, valid + void, returned, valid + void == returned))
    over = tuple(sorted(cid for cid, number in counts.items() if number > valid))
    found.append(Check(EACH_COUNT_WITHIN_VALID, max(counts.values(), default=0), valid, not over, over))
    if method in CAPPED_METHODS:
        marks = sum(counts.values())
        found.append(Check(MARKS_WITHIN_PLACES, marks, valid * seats, marks <= valid * seats))
    return found


def report_counts(result: CountResult) -> dict[int, int]:
    """Each candidate's count as the report lists it: its votes, or for an assessment every
    rating it got (satisfied, mostly satisfied and dissatisfied: one per ballot that rated it)."""
    if result.method == SATISFACTION:
        return {cid: sum(ratings.values()) for cid, ratings in result.ratings.items()}
    return dict(result.votes)


def checks_of(result: CountResult, issued: int, seats: int) -> list[Check]:
    return checks(issued, result.returned, result.valid, result.void, report_counts(result), seats, result.method)


def all_hold(found: list[Check]) -> bool:
    return all(check.holds is not False for check in found)
