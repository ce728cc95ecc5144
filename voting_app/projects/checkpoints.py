"""The yearly supervision cycle, "年初问计划、年中问进度、年底问效果": the days of a year's three
checkpoints (plan, progress, effect) and each project's report pack at one of them.

A pack is what was on record by its day, where the record has dates: the last figure reported
for each target on or before it (TargetReport.reported_on), milestones reached by then, the
project's own progress (without a plan) and spending as its history last recorded them by then,
supervision visits made by then, rectifications still open on that day, deputies' assessments
announced by then. Sub-items' funds and the residents' survey tallies carry no dates: the pack
gives their figures as they stand now, and says so. A checkpoint still ahead is packed as of today.

No Flask: the A4 page, the Excel workbook and the year's archive read the same objects."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from voting_app.clock import beijing_today
from voting_app.db import db
from voting_app.projects import plans, schedule
from voting_app.projects.models import (
    AWAITING_ANSWER,
    AWAITING_VERDICT,
    CHECKPOINT_KINDS,
    NOT_SETTLED,
    Milestone,
    Project,
    SubItem,
    SupervisionCheckpoint,
    SupervisionRecord,
    Target,
)
from voting_app.projects.service import Assessed, Rating, deputy_assessments
from voting_app.registry.models import DeputyGroup, TermDeputy


@dataclass(frozen=True)
class Checkpoint:
    year: int
    kind: str  # plan, progress or effect (models.CHECKPOINT_KINDS)
    day: date
    is_set: bool  # staff set the day; otherwise it is the default day

    def as_of(self, today: date) -> date:
        """The day the pack reads the record up to: the checkpoint's, or today while it is ahead."""
        return min(self.day, today)


def default_day(year: int, kind: str, days: dict) -> date:
    """The default day of a checkpoint from the setting SUPERVISION_CHECKPOINT_DAYS, (month, day) per kind."""
    month, day = days[kind]
    return date(year, month, day)


def year_checkpoints(year: int, days: dict) -> list[Checkpoint]:
    """The year's three checkpoints in order, on the days staff set or the default days."""
    rows = {row.kind: row for row in db.session.scalars(select(SupervisionCheckpoint).where(SupervisionCheckpoint.year == year))}
    return [
        Checkpoint(year, kind, rows[kind].held_on, True) if kind in rows else Checkpoint(year, kind, default_day(year, kind, days), False)
        for kind in CHECKPOINT_KINDS
    ]


def checkpoint_of(year: int, kind: str, days: dict) -> Checkpoint | None:
    return next((item for item in year_checkpoints(year, days) if item.kind == kind), None)


def year_projects(year: int) -> list[Project]:
    return list(db.session.scalars(select(Project).where(Project.year == year).order_by(Project.id)))


@dataclass(frozen=True)
class TargetAsOf:
    sub_item: SubItem
    target: Target
    actual: Decimal | None  # the last figure reported on or before the day
    reported_on: date | None
    percent: int
    is_overdue: bool

    @property
    def planned_text(self) -> str:
        return plans.number_text(self.target.planned)

    @property
    def actual_text(self) -> str:
        return plans.number_text(self.actual)


@dataclass(frozen=True)
class MilestoneAsOf:
    milestone: Milestone
    done_on: date | None  # reached on or before the day
    is_overdue: bool


@dataclass(frozen=True)
class Funds:
    """A sub-item's funds in whole yuan, as they stand now (funds carry no dates)."""

    sub_item: SubItem
    budget_yuan: int | None
    spent_yuan: int | None

    @property
    def spent_percent(self) -> int | None:
        if not self.budget_yuan or self.spent_yuan is None:
            return None
        return plans.share_percent(Decimal(self.budget_yuan), Decimal(self.spent_yuan))


@dataclass(frozen=True)
class OpenRectification:
    """A rectification asked for by the day and not settled on it, as it stood that day."""

    record: SupervisionRecord
    request: str
    due: date | None
    answer: str  # the department's answer given by the day, else empty
    status: str  # AWAITING_ANSWER, AWAITING_VERDICT or NOT_SETTLED (models)
    is_overdue: bool


def _day_of(moment) -> date | None:
    return beijing_today(moment) if moment is not None else None


def open_rectifications(project: Project, day: date) -> list[OpenRectification]:
    """The project's rectifications (issues of the supervision ledger) open on the day, oldest due
    first, each as it stood that day: an answer or a verdict given later is not yet there."""
    items = []
    for record in project.supervisions:
        if record.visited_on > day:
            continue
        for issue in record.issues:
            if not issue.rectification:
                continue
            judged = _day_of(issue.judged_at)
            settled = issue.settled if judged is not None and judged <= day else None
            if settled is True:
                continue
            answered = _day_of(issue.answered_at)
            answer = issue.answer if answered is not None and answered <= day else ""
            status = NOT_SETTLED if settled is False else AWAITING_VERDICT if answer else AWAITING_ANSWER
            items.append(OpenRectification(record, issue.rectification, issue.due_on, answer, status,
                                           not project.is_terminated
                                           and schedule.rectification_is_overdue(issue.due_on, True, settled, day)))
    return sorted(items, key=lambda item: (item.due or day, item.record.id))


@dataclass(frozen=True)
class Recorded:
    """A project figure as the history last recorded it by a day (typed figures have no other date)."""

    value: Decimal
    recorded_on: date


def recorded_as_of(project: Project, field: str, day: date) -> Recorded | None:
    """The value of a project's own field (progress_percent, spent) as last recorded on or
    before the day, read from its history; None when nothing was recorded by then."""
    changes = sorted((change for change in project.changes if change.field == field), key=lambda change: (change.at, change.id))
    before = [change for change in changes if _day_of(change.at) <= day]
    if before:
        text, on = before[-1].new_value, _day_of(before[-1].at)
    else:
        created = _day_of(project.created_at)
        if created > day:
            return None
        # unchanged by the day: the value the project was created with, as it stood before any later change
        value = getattr(project, field)
        text, on = (changes[0].old_value if changes else ("" if value is None else str(value))), created
    return Recorded(Decimal(text), on) if text else None


def _target_as_of(item: SubItem, target: Target, day: date) -> TargetAsOf:
    reports = [report for report in target.reports if report.reported_on <= day]
    last = max(reports, key=lambda report: (report.reported_on, report.id)) if reports else None
    actual = last.actual if last else None
    percent = plans.share_percent(target.planned, actual)
    return TargetAsOf(item, target, actual, last.reported_on if last else None, percent,
                      item.project.is_late(target.due_on, percent == 100, day))


@dataclass(frozen=True)
class Pack:
    """One project's report pack at one checkpoint."""

    project: Project
    checkpoint: Checkpoint
    as_of: date
    group: DeputyGroup | None
    members: list[TermDeputy]
    targets: list[TargetAsOf]
    milestones: list[MilestoneAsOf]
    funds: list[Funds]
    findings: list[SupervisionRecord]  # visits made by the day, newest first
    rectifications: list[OpenRectification]
    assessments: list[Assessed]  # deputies' assessments announced by the day
    residents: Rating | None  # the residents' figure as counted now (tallies carry no dates)

    typed_progress: Recorded | None  # a project without a plan: the progress last recorded by the day
    spent: Recorded | None  # the project's own spent figure (10,000 yuan) last recorded by the day

    @property
    def progress_percent(self) -> int | None:
        """A planned project's progress computed from the targets and milestones as of the day;
        a project without a plan, the figure last recorded by then (None: none yet)."""
        if not self.project.has_plan:
            return int(self.typed_progress.value) if self.typed_progress else None
        return plans.progress_percent([plans.target_measure(line.target.planned, line.actual) for line in self.targets]
                                      + [plans.milestone_measure(line.done_on) for line in self.milestones])

    @property
    def budget_yuan(self) -> int:
        return sum(line.budget_yuan or 0 for line in self.funds)

    @property
    def spent_yuan(self) -> int:
        return sum(line.spent_yuan or 0 for line in self.funds)

    @property
    def milestones_done(self) -> int:
        return sum(1 for line in self.milestones if line.done_on)

    @property
    def overdue_count(self) -> int:
        return (sum(1 for line in self.targets if line.is_overdue) + sum(1 for line in self.milestones if line.is_overdue)
                + sum(1 for line in self.rectifications if line.is_overdue))


def project_pack(project: Project, checkpoint: Checkpoint, ratings: dict[int, list[Rating]], today: date | None = None) -> Pack:
    """The pack of a project at a checkpoint; `ratings` is project_ratings() (the residents' figure is read from it)."""
    day = checkpoint.as_of(today or beijing_today())
    group = project.supervision_group
    milestones = []
    for milestone in project.milestones:
        done_on = milestone.done_on if milestone.done_on is not None and milestone.done_on <= day else None
        milestones.append(MilestoneAsOf(milestone, done_on, project.is_late(milestone.planned_on, done_on is not None, day)))
    return Pack(
        project=project,
        checkpoint=checkpoint,
        as_of=day,
        group=group,
        members=group.members_in_roster_order if group else [],
        targets=[_target_as_of(item, target, day) for item in project.sub_items for target in item.targets],
        milestones=milestones,
        funds=[Funds(item, item.budget_yuan, item.spent_yuan) for item in project.sub_items],
        findings=[record for record in project.supervisions if record.visited_on <= day],
        rectifications=open_rectifications(project, day),
        assessments=[item for item in deputy_assessments(project)
                     if item.round.announced_at is not None and _day_of(item.round.announced_at) <= day],
        residents=next((rating for rating in ratings.get(project.id, []) if rating.source == "residents" and rating.is_assessed), None),
        typed_progress=None if project.has_plan else recorded_as_of(project, "progress_percent", day),
        spent=recorded_as_of(project, "spent", day),
    )
