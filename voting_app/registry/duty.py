"""A deputy's duty record (履职档案) over a term: pure rules, no Flask, no database.

Attendance is read from the sessions' rosters. A session counts as held once check-in has begun
there (anyone checked in): a session with no check-in at all has no attendance record yet, so
nobody is absent from it. A deputy was due (应到) at a held session when they are on its roster
and were in office on its day: one who left office before the session (their roster row kept
with the day their term ended, once voting had begun) is not counted absent, and one who took
office after it is not on its roster at all. A deputy who checked in attended (实到), whatever
happened later that day.

The record says nothing of ballots: whether a deputy voted in a round, or how, is a fact of the
secret ballot and never part of it (the duty package reads no ballot table; a test holds it to that)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from voting_app.registry.roster import in_roster_order


@dataclass(frozen=True)
class SessionHeld:
    """A session of the term, and whether check-in has begun there."""

    id: int
    name: str
    day: date | None
    meeting_number: int | None
    is_held: bool


@dataclass(frozen=True)
class RosterEntry:
    """One deputy on one session's roster: when (UTC, naive) and how they checked in."""

    person_id: int
    session_id: int
    checked_in_at: datetime | None
    checkin_method: str | None
    term_ended_on: date | None


@dataclass(frozen=True)
class CheckIn:
    session: SessionHeld
    checked_in_at: datetime  # UTC, naive, as stored
    method: str


@dataclass(frozen=True)
class Attendance:
    """Sessions attended out of the held sessions the deputy was due at, and each check-in."""

    attended: int
    due: int
    check_ins: tuple[CheckIn, ...] = ()
    sessions: tuple[tuple[SessionHeld, str], ...] = ()  # each session of the term: ATTENDED, ABSENT, NOT_DUE, NOT_HELD

    @property
    def rate_tenths(self) -> int | None:
        return rate_tenths(self.attended, self.due)

    @property
    def rate_text(self) -> str | None:
        tenths = self.rate_tenths
        return None if tenths is None else tenths_text(tenths)

    def methods(self) -> dict[str, int]:
        """How many check-ins by each method, in the order first used."""
        counts: dict[str, int] = {}
        for check_in in self.check_ins:
            counts[check_in.method] = counts.get(check_in.method, 0) + 1
        return counts


# Where a deputy stood at one session of the term.
ATTENDED, ABSENT, NOT_DUE, NOT_HELD = "attended", "absent", "not_due", "not_held"


def rate_tenths(part: int, whole: int) -> int | None:
    """A rate in tenths of a percent, rounded down as every figure of the app is (the count's
    rule: 2/3 is 66.6%, never 66.7%); None when the whole is nothing. Integers only."""
    if part < 0 or whole < 0 or part > whole:
        raise ValueError("a rate needs 0 <= part <= whole")
    return None if whole == 0 else part * 1000 // whole


def tenths_text(tenths: int) -> str:
    return f"{tenths // 10}.{tenths % 10}"


def is_due(session: SessionHeld, entry: RosterEntry | None) -> bool:
    """On the session's roster and in office on its day (a check-in proves both)."""
    if entry is None or not session.is_held:
        return False
    if entry.checked_in_at is not None:
        return True
    if entry.term_ended_on is None:
        return True
    return session.day is not None and entry.term_ended_on > session.day


def attendance(sessions: Iterable[SessionHeld], entries: Iterable[RosterEntry]) -> Attendance:
    """One deputy's attendance over the term's sessions, from their rows on the sessions' rosters."""
    by_session = {entry.session_id: entry for entry in entries}
    attended = due = 0
    check_ins, standing = [], []
    for session in sessions:
        entry = by_session.get(session.id)
        if entry is not None and entry.checked_in_at is not None:
            check_ins.append(CheckIn(session, entry.checked_in_at, entry.checkin_method or ""))
        if not session.is_held:
            standing.append((session, NOT_HELD))
        elif is_due(session, entry):
            due += 1
            is_present = entry is not None and entry.checked_in_at is not None
            attended += is_present
            standing.append((session, ATTENDED if is_present else ABSENT))
        else:
            standing.append((session, NOT_DUE))
    return Attendance(attended, due, tuple(check_ins), tuple(standing))


def in_session_order(sessions: Iterable[SessionHeld]) -> list[SessionHeld]:
    """The term's sessions by day (undated last), then meeting number and id."""
    return sorted(sessions, key=lambda s: (s.day is None, s.day or date.min, s.meeting_number or 0, s.id))


@dataclass(frozen=True)
class Person:
    """What the duty record shows of a term's deputy (never the contact: that is staff-only
    and goes into an export only when asked for)."""

    id: int
    number: str
    name: str
    delegation: str
    unit: str
    level: str
    took_office_on: date | None
    left_office_on: date | None
    left_reason: str


@dataclass(frozen=True)
class DutyRow:
    """One deputy's line of the term's duty table: attendance and every named figure."""

    person: Person
    attendance: Attendance
    figures: dict[str, int] = field(default_factory=dict)


def select_people(people: Iterable[Person], delegation: str = "", level: str = "") -> list[Person]:
    """The deputies of one delegation and level (empty: any), in roster order (numbers as numbers)."""
    return in_roster_order(
        person for person in people
        if (not delegation or person.delegation == delegation) and (not level or person.level == level)
    )


@dataclass(frozen=True)
class Totals:
    deputies: int
    attended: int
    due: int
    figures: dict[str, int]

    @property
    def rate_text(self) -> str | None:
        tenths = rate_tenths(self.attended, self.due)
        return None if tenths is None else tenths_text(tenths)


def totals(rows: list[DutyRow], keys: Iterable[str]) -> Totals:
    return Totals(
        len(rows),
        sum(row.attendance.attended for row in rows),
        sum(row.attendance.due for row in rows),
        {key: sum(row.figures.get(key, 0) for row in rows) for key in keys},
    )
