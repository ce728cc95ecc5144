"""How a priority ballot marked with numbers reads as the ordered list the count takes.

A deputy numbers up to N candidates by priority, 1 the most urgent, on the phone or on paper;
the count (`counting.RANK`) takes the candidates as a list in that order. This module is the
one place the numbers are read. Pure: no Flask, no database, no I/O.

* On the phone a ballot with any problem is refused and the deputy corrects it: more
  candidates numbered than N, a number outside 1..N, one number given twice, or a number
  skipped (1, 2, 4).
* On paper the scrutineers key the numbers as written, and the count's rule decides: a ballot
  listing more than N candidates is void, and so is one giving a number to two candidates (it
  leaves no single order) or a number below 1. Any other set of numbers gives the deputy's
  order, so a skipped number (1, 2, 4) or one above N (1, 2, 12 with N = 10) is read as
  first, second, third: the ballot lists no more than N, and the order is the one written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

TOO_MANY = "too_many"  # details: count
OUT_OF_RANGE = "out_of_range"  # details: number
REPEATED = "repeated"  # details: number
GAP = "gap"  # details: number (the first one skipped)


class NumberingError(ValueError):
    """Why the numbers on a ballot give no valid order, with what the message names."""

    def __init__(self, reason: str, **details: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def priority_order(numbers: Mapping[int, int], places: int) -> list[int]:
    """The numbered candidates, most urgent first; NumberingError names the first problem.

    Checked in the order a deputy fixes them: too many numbered, a number out of 1..N, a
    repeated number, a skipped number. Nothing numbered is a blank ballot, ``[]``.
    """
    if len(numbers) > places:
        raise NumberingError(TOO_MANY, count=len(numbers))
    for number in sorted(numbers.values()):
        if not 1 <= number <= places:
            raise NumberingError(OUT_OF_RANGE, number=number)
    repeated = sorted(number for number, times in Counter(numbers.values()).items() if times > 1)
    if repeated:
        raise NumberingError(REPEATED, number=repeated[0])
    given = set(numbers.values())
    for number in range(1, len(given) + 1):
        if number not in given:
            raise NumberingError(GAP, number=number)
    return _in_order(numbers)


def paper_order(numbers: Mapping[int, int], places: int) -> list[int] | None:
    """A paper ballot as keyed: the order its numbers give, or None (void) when it numbers more
    than N candidates, gives one number twice, or a number below 1. A skipped number or one
    above N keeps the order written."""
    given = list(numbers.values())
    if len(numbers) > places or len(set(given)) != len(given) or any(number < 1 for number in given):
        return None
    return _in_order(numbers)


def _in_order(numbers: Mapping[int, int]) -> list[int]:
    return [cid for cid, _ in sorted(numbers.items(), key=lambda item: item[1])]
