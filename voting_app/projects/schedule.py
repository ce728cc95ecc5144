"""Dates of a project's delivery: what counts as overdue and which dates make sense.
Plain Python, so the rules are tested without an app; "today" is always Beijing's."""

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from voting_app.clock import BEIJING, beijing_today  # noqa: F401 (the delivery rules' "today", re-exported)


def is_overdue(due: date | None, finished: bool, today: date) -> bool:
    """Overdue: a due date that has passed (the due day itself still counts as on time) with the work unfinished."""
    return due is not None and not finished and due < today


@dataclass(frozen=True)
class PlanProblem:
    """A reason a stage's dates are refused, and the date field it is about; the service turns it into a message."""

    code: str
    field: str


END_BEFORE_START, ACTUAL_IN_FUTURE, END_WITHOUT_START = "end_before_start", "actual_in_future", "end_without_start"


def plan_problems(
    planned_start: date | None, planned_end: date | None, actual_start: date | None, actual_end: date | None, today: date
) -> list[PlanProblem]:
    """Every problem with one stage's four dates: an end before its start, an actual date after
    today, an actual end without an actual start."""
    problems = []
    if planned_start and planned_end and planned_end < planned_start:
        problems.append(PlanProblem(END_BEFORE_START, "planned_end"))
    if actual_start and actual_end and actual_end < actual_start:
        problems.append(PlanProblem(END_BEFORE_START, "actual_end"))
    for field, day in (("actual_start", actual_start), ("actual_end", actual_end)):
        if day is not None and day > today:
            problems.append(PlanProblem(ACTUAL_IN_FUTURE, field))
    if actual_end and not actual_start:
        problems.append(PlanProblem(END_WITHOUT_START, "actual_end"))
    return problems


def is_long_before_year(day: date, year: int) -> bool:
    """A date more than a year before the project's year is most likely a mistyped year."""
    return day.year < year - 1


_STATED_YEAR = re.compile(r"(?<!\d)(\d{4})\s*年")


def stated_year(title: str) -> int | None:
    """The year a round's title states ("2029年度樊城区民生实事项目票决" -> 2029), full-width digits too."""
    match = _STATED_YEAR.search(unicodedata.normalize("NFKC", title or ""))
    if match is None:
        return None
    year = int(match.group(1))
    return year if 2000 <= year <= 2100 else None


def stage_is_overdue(planned_end: date | None, actual_end: date | None, today: date, passed: bool = False) -> bool:
    """A stage the project has already moved past is finished, whether or not its end was entered."""
    return is_overdue(planned_end, actual_end is not None or passed, today)


def rectification_is_overdue(due: date | None, asked: bool, settled: bool | None, today: date) -> bool:
    """A rectification stays overdue after its due date until the deputy marks it settled."""
    return asked and is_overdue(due, settled is True, today)
