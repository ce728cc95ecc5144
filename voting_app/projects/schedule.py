"""Dates of a project's delivery: what counts as overdue and which dates make sense.
Plain Python, so the rules are tested without an app; "today" is always Beijing's."""

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

BEIJING = ZoneInfo("Asia/Shanghai")


def beijing_today(now: datetime | None = None) -> date:
    """A due date passes at midnight in Beijing, wherever the server's clock is set."""
    moment = now or datetime.now(tz=BEIJING)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    return moment.astimezone(BEIJING).date()


def is_overdue(due: date | None, finished: bool, today: date) -> bool:
    """Overdue: a due date that has passed (the due day itself still counts as on time) with the work unfinished."""
    return due is not None and not finished and due < today


@dataclass(frozen=True)
class PlanProblem:
    """A reason a stage's dates are refused; the service turns it into a message."""

    code: str


END_BEFORE_START = PlanProblem("end_before_start")
ACTUAL_IN_FUTURE = PlanProblem("actual_in_future")
END_WITHOUT_START = PlanProblem("end_without_start")


def plan_problems(
    planned_start: date | None, planned_end: date | None, actual_start: date | None, actual_end: date | None, today: date
) -> list[PlanProblem]:
    problems = []
    if planned_start and planned_end and planned_end < planned_start:
        problems.append(END_BEFORE_START)
    elif actual_start and actual_end and actual_end < actual_start:
        problems.append(END_BEFORE_START)
    if any(day is not None and day > today for day in (actual_start, actual_end)):
        problems.append(ACTUAL_IN_FUTURE)
    if actual_end and not actual_start:
        problems.append(END_WITHOUT_START)
    return problems


def stage_is_overdue(planned_end: date | None, actual_end: date | None, today: date, passed: bool = False) -> bool:
    """A stage the project has already moved past is finished, whether or not its end was entered."""
    return is_overdue(planned_end, actual_end is not None or passed, today)


def rectification_is_overdue(due: date | None, asked: bool, settled: bool | None, today: date) -> bool:
    """A rectification stays overdue after its due date until the deputy marks it settled."""
    return asked and is_overdue(due, settled is True, today)
