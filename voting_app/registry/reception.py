"""The reception calendar of a liaison station (接待选民日), as plain rules: no Flask, no database.

The rule in words: a station receives voters once a month on its day of the month (15 by default,
Fancheng's practice); in a month shorter than that day it receives on the month's last day. Staff
may move one month's day to another date or cancel it, with a reason; a change names the regular
day it replaces. A day's duty roster is named by the regular day too, so moving a day keeps it."""

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Change:
    scheduled_on: date
    moved_to: date | None  # None: cancelled
    reason: str


@dataclass(frozen=True)
class ReceptionDay:
    scheduled_on: date  # the regular day
    on: date | None  # when voters are received; None when cancelled
    reason: str = ""

    @property
    def is_cancelled(self) -> bool:
        return self.on is None

    @property
    def is_moved(self) -> bool:
        return self.on is not None and self.on != self.scheduled_on


def regular_day(year: int, month: int, day_of_month: int) -> date:
    if not 1 <= day_of_month <= 31:
        raise ValueError("day of month out of range")
    return date(year, month, min(day_of_month, calendar.monthrange(year, month)[1]))


def _changes_by_day(changes: Iterable[Change]) -> Mapping[date, Change]:
    return {change.scheduled_on: change for change in changes}


def reception_of_month(year: int, month: int, day_of_month: int, changes: Iterable[Change] = ()) -> ReceptionDay:
    scheduled = regular_day(year, month, day_of_month)
    change = _changes_by_day(changes).get(scheduled)
    if change is None:
        return ReceptionDay(scheduled, scheduled)
    return ReceptionDay(scheduled, change.moved_to, change.reason)


def held_on(scheduled_on: date, changes: Iterable[Change] = ()) -> date | None:
    """The day the reception named by its regular day `scheduled_on` is held: that day, the day
    it was moved to, or None when it was cancelled."""
    change = _changes_by_day(changes).get(scheduled_on)
    return scheduled_on if change is None else change.moved_to


def add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + months
    return index // 12, index % 12 + 1


def calendar_from(start: date, months: int, day_of_month: int, changes: Iterable[Change] = ()) -> list[ReceptionDay]:
    """The reception days of `months` months from start's month on, in order of the regular day."""
    changes = list(changes)
    return [reception_of_month(*add_months(start.year, start.month, n), day_of_month, changes) for n in range(months)]


# A moved day stays near its month: it may be held up to this many months from its regular day.
MOVE_REACH_MONTHS = 1


def reception_on(day: date, day_of_month: int, changes: Iterable[Change] = ()) -> ReceptionDay | None:
    """The reception held on `day`, if any (a regular day not cancelled, or a day moved to it)."""
    changes = list(changes)
    around = calendar_from(date(*add_months(day.year, day.month, -MOVE_REACH_MONTHS), 1),
                           2 * MOVE_REACH_MONTHS + 1, day_of_month, changes)
    return next((reception for reception in around if reception.on == day), None)


def next_reception(after: date, day_of_month: int, changes: Iterable[Change] = (), months: int = 24) -> ReceptionDay | None:
    """The first reception held on or after `after`."""
    start = date(*add_months(after.year, after.month, -MOVE_REACH_MONTHS), 1)
    days = calendar_from(start, months + MOVE_REACH_MONTHS, day_of_month, changes)
    held = sorted((r for r in days if r.on is not None and r.on >= after), key=lambda r: r.on)
    return held[0] if held else None


def check_move(scheduled_on: date, moved_to: date | None, reason: str) -> str | None:
    """Why a change cannot be recorded (an English message key), or None."""
    if not reason.strip():
        return "reason"
    if moved_to is not None:
        if moved_to == scheduled_on:
            return "same"
        distance = (moved_to.year * 12 + moved_to.month) - (scheduled_on.year * 12 + scheduled_on.month)
        if abs(distance) > MOVE_REACH_MONTHS:
            return "far"
    return None


def month_counts(entries: Iterable[tuple[int | None, date]]) -> dict[int | None, dict[tuple[int, int], int]]:
    """Counts per station per (year, month) from (station id, Beijing date) pairs."""
    counts: dict[int | None, dict[tuple[int, int], int]] = {}
    for station_id, day in entries:
        per_month = counts.setdefault(station_id, {})
        per_month[(day.year, day.month)] = per_month.get((day.year, day.month), 0) + 1
    return counts
