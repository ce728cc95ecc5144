"""What is overdue on a day, for the dashboard and the reminder letters (提醒函): milestones not
reached after their planned date, targets still below their planned quantity after their due
date, and rectifications not settled after theirs. Plain Python over plain rows, so the rules are
tested without a database; the loader is `delivery.overdue_items`."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import groupby

from voting_app.projects import schedule

MILESTONE, TARGET, RECTIFICATION = "milestone", "target", "rectification"
KINDS = (MILESTONE, TARGET, RECTIFICATION)


@dataclass(frozen=True)
class Subject:
    """Something with a due date that a department must finish: a milestone, a target or a
    rectification, as the loader reads it."""

    kind: str
    id: int
    project_id: int
    project_name: str
    department_id: int | None
    department_name: str
    what: str
    due: date | None
    is_finished: bool
    asked: str = ""  # the rectification asked, or the planned quantity of a target


@dataclass(frozen=True)
class Late:
    subject: Subject
    days_late: int


def milestone_is_finished(done_on: date | None) -> bool:
    return done_on is not None


def target_is_finished(planned: Decimal, actual: Decimal | None) -> bool:
    """A target is met when the actual figure reported reaches the planned quantity."""
    return actual is not None and actual >= planned


def rectification_is_finished(settled: bool | None) -> bool:
    """An answer is not enough: a rectification is finished when the deputy marks it settled."""
    return settled is True


def late_items(subjects: list[Subject], today: date) -> list[Late]:
    """The subjects overdue on `today` (the due day itself is on time), oldest first."""
    late = [Late(subject, (today - subject.due).days) for subject in subjects
            if schedule.is_overdue(subject.due, subject.is_finished, today)]
    return sorted(late, key=lambda item: (item.subject.due, KINDS.index(item.subject.kind), item.subject.project_id, item.subject.id))


def by_department(items: list[Late]) -> list[tuple[str, list[Late]]]:
    """The late items per department, departments by name; items without a department last."""
    def department(item: Late) -> tuple:
        return item.subject.department_id is None, item.subject.department_name, item.subject.department_id or 0

    return [(key[1], list(group)) for key, group in groupby(sorted(items, key=department), key=department)]
