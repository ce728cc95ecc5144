"""Following a project's delivery: stage dates, milestones, the department's progress notes,
the deputies' supervision, and what is overdue. Services flush; callers commit; who may call
them is decided in voting_app.permissions."""

import secrets
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, undefer

from voting_app import audit
from voting_app.db import db, utcnow
from voting_app.errors import ConflictError, DomainError
from voting_app.images import CleanImage, thumbnail_of
from voting_app.projects import schedule
from voting_app.projects.models import (
    AWAITING_ANSWER,
    AWAITING_VERDICT,
    NOT_SETTLED,
    NOTED,
    SETTLED,
    STAGES,
    TERMINATED,
    Milestone,
    Photo,
    ProgressNote,
    Project,
    ProjectChange,
    StagePlan,
    SupervisionRecord,
)
from voting_app.projects.planning import record_actuals, refresh_progress, set_milestone_sub_item
from voting_app.projects.service import require_decision, update_project
from voting_app.projects.stages import PLAN_FIELD_LABELS, STAGE_LABELS
from voting_app.sessions.models import Deputy

MAX_PHOTOS = 4
PLAN_FIELDS = ("planned_start", "planned_end", "actual_start", "actual_end")
PLAN_MESSAGES = {
    schedule.END_BEFORE_START: _l("A stage cannot end before it starts."),
    schedule.ACTUAL_IN_FUTURE: _l("An actual date cannot be in the future."),
    schedule.END_WITHOUT_START: _l("Enter the actual start before the actual end."),
}


def date_message(field_label, problem):
    """A date's message always names its field, so the user knows which date to fix."""
    return _l("%(field)s: %(problem)s", field=field_label, problem=problem)


def stage_field_label(stage: str, field: str):
    return _l("%(stage)s · %(field)s", stage=STAGE_LABELS[stage], field=PLAN_FIELD_LABELS[field])


def long_before_year(project: Project):
    return _l("The date is long before the project’s year (%(year)s); check the year you typed.", year=project.year)


@dataclass(frozen=True)
class DateProblem:
    """One refused stage date: where it is, and what is wrong with it."""

    stage: str
    field: str
    problem: object  # a lazy message without the field's name, shown beside the field

    @property
    def message(self):
        return date_message(stage_field_label(self.stage, self.field), self.problem)


class StageDatesError(DomainError):
    """Every problem with the stage dates of one save; nothing of that save is stored."""

    def __init__(self, problems: list[DateProblem]):
        super().__init__(problems[0].message)
        self.problems = problems


def photo_rows(images: list[CleanImage], public: bool = True) -> list[Photo]:
    """Rows for photos already cleaned (voting_app.uploads does it before the write lock)."""
    if len(images) > MAX_PHOTOS:
        raise DomainError(_l("At most %(count)d photos at a time.", count=MAX_PHOTOS))
    return [
        Photo(
            token=secrets.token_urlsafe(16),
            content_type=image.content_type,
            data=image.data,
            thumbnail=image.thumbnail or None,
            width=image.width,
            height=image.height,
            is_public=public,
        )
        for image in images
    ]


def _history(project: Project, actor_name: str, field: str, old: str = "", new: str = "") -> None:
    project.changes.append(ProjectChange(actor_name=actor_name, field=field, old_value=old, new_value=new))


def _brief(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def stage_date_problems(plans: dict[str, dict], today: date) -> list[DateProblem]:
    """What is wrong with the dates of every stage given, in stage order."""
    problems = []
    for stage in STAGES:
        if stage in plans:
            values = {field: plans[stage].get(field) for field in PLAN_FIELDS}
            problems += [DateProblem(stage, found.field, PLAN_MESSAGES[found.code])
                         for found in schedule.plan_problems(today=today, **values)]
    return problems


def set_stage_plans(actor: str, actor_name: str, project: Project, plans: dict[str, dict], today: date | None = None,
                    approved=None) -> list[str]:
    """Record the planned and actual dates of the stages given, all or none: every stage is
    checked before anything is written. An actual start moves the project on to that stage. A
    published plan's planned ends (its deadlines) move only with an approved change request."""
    if any(stage not in STAGES for stage in plans):
        raise DomainError(_l("Unknown project stage."))
    require_decision(project, [stage for stage, dates in plans.items()
                               if dates.get("planned_end") != _planned_end(project, stage)], approved)
    problems = stage_date_problems(plans, today or schedule.beijing_today())
    if problems:
        raise StageDatesError(problems)
    changed = []
    for stage in STAGES:
        if stage in plans:
            changed += [f"{stage}.{field}" for field in _write_stage_plan(actor, actor_name, project, stage, plans[stage])]
    if changed:
        audit.record(actor, "project.stage_plan", f"project:{project.id}", fields=changed)
    return changed


def _planned_end(project: Project, stage: str) -> date | None:
    plan = project.plan_for(stage)
    return plan.planned_end if plan else None


def set_stage_plan(actor: str, actor_name: str, project: Project, stage: str, today: date | None = None, **dates) -> list[str]:
    """One stage's dates (the demo and scripts); the schedule page saves every stage at once."""
    return set_stage_plans(actor, actor_name, project, {stage: dates}, today)


def _write_stage_plan(actor: str, actor_name: str, project: Project, stage: str, dates: dict) -> list[str]:
    values = {field: dates.get(field) for field in PLAN_FIELDS}
    plan = project.plan_for(stage)
    if plan is None:
        if not any(values.values()):
            return []
        plan = StagePlan(stage=stage)
        project.stage_plans.append(plan)
    changed = []
    for field, value in values.items():
        if getattr(plan, field) != value:
            _history(project, actor_name, f"{stage}.{field}", _day(getattr(plan, field)), _day(value))
            setattr(plan, field, value)
            changed.append(field)
    db.session.flush()
    if values["actual_start"] and STAGES.index(stage) > STAGES.index(project.stage):
        update_project(actor, actor_name, project, stage=stage)
    return changed


def add_milestone(actor: str, actor_name: str, project: Project, name: str, planned_on: date | None,
                  sub_item=None) -> Milestone:
    """A milestone of the project, or of one of its sub-items (whose department marks it reached)."""
    name = " ".join((name or "").split())
    if not name or planned_on is None:
        raise DomainError(_l("A milestone needs a name and a planned date."))
    if schedule.is_long_before_year(planned_on, project.year):
        raise DomainError(date_message(_l("Planned date"), long_before_year(project)))
    milestone = Milestone(name=name, planned_on=planned_on, project_id=project.id)
    project.milestones.append(milestone)
    set_milestone_sub_item(milestone, sub_item)
    _history(project, actor_name, "milestone.added", new=f"{name} ({planned_on.isoformat()})")
    db.session.flush()
    audit.record(actor, "project.milestone_add", f"project:{project.id}", milestone=milestone.id, name=name)
    refresh_progress(actor, actor_name, project)
    return milestone


def remove_milestone(actor: str, actor_name: str, project: Project, milestone: Milestone) -> None:
    if milestone.done_on is not None:
        raise ConflictError(_l("A milestone that was reached stays on the record."))
    _history(project, actor_name, "milestone.removed", old=f"{milestone.name} ({milestone.planned_on.isoformat()})")
    sub_item = milestone.sub_item
    project.milestones.remove(milestone)
    db.session.flush()
    if sub_item is not None:
        db.session.expire(sub_item, ["milestones"])  # read again without the milestone just deleted
    audit.record(actor, "project.milestone_remove", f"project:{project.id}", milestone=milestone.id)
    refresh_progress(actor, actor_name, project)


def complete_milestone(actor: str, actor_name: str, project: Project, milestone: Milestone, done_on: date | None,
                       today: date | None = None) -> None:
    today = today or schedule.beijing_today()
    if done_on is None:
        raise DomainError(_l("Enter the date the milestone was reached."))
    if done_on > today:
        raise DomainError(date_message(_l("Reached on"), _l("An actual date cannot be in the future.")))
    if schedule.is_long_before_year(done_on, project.year):
        raise DomainError(date_message(_l("Reached on"), long_before_year(project)))
    if milestone.done_on is not None:
        raise ConflictError(_l("This milestone is already marked as reached."))
    milestone.done_on = done_on
    _history(project, actor_name, "milestone.done", new=f"{milestone.name} ({done_on.isoformat()})")
    db.session.flush()
    audit.record(actor, "project.milestone_done", f"project:{project.id}", milestone=milestone.id, done_on=done_on.isoformat())
    refresh_progress(actor, actor_name, project)


def add_progress_note(actor: str, author, project: Project, body: str, progress_percent: int | None,
                      images: list[CleanImage], actuals: dict | None = None, today: date | None = None) -> ProgressNote:
    """A department's report, with the actual figures of its own targets when the project has a
    plan (whose progress is then computed, never typed); all of it is stored, or none."""
    body = (body or "").strip()
    if not body:
        raise DomainError(_l("Write what has been done."))
    if project.has_plan and progress_percent is not None:
        raise DomainError(_l("This project's progress is computed from its targets and milestones; report the actual figures instead."))
    photos = photo_rows(images)
    department = getattr(author, "department", None)
    note = ProgressNote(
        author_id=author.id,
        author_name=author.label,
        department_name=department.name if department is not None else project.department_name,
        body=body,
        progress_percent=progress_percent,
        photos=photos,
    )
    project.notes.append(note)
    db.session.flush()
    if progress_percent is not None:
        update_project(actor, author.label, project, progress_percent=progress_percent)
    record_actuals(actor, author.label, getattr(author, "department_id", None), project, note, actuals or {},
                   today or schedule.beijing_today())
    audit.record(actor, "project.progress_note", f"project:{project.id}", note=note.id, photos=len(photos))
    return note


def record_supervision(actor: str, deputy, project: Project, visited_on: date | None, findings: str,
                       rectification: str, rectification_due: date | None, images: list[CleanImage],
                       today: date | None = None) -> SupervisionRecord:
    today = today or schedule.beijing_today()
    findings, rectification = (findings or "").strip(), (rectification or "").strip()
    if visited_on is None or not findings:
        raise DomainError(_l("A supervision record needs the visit date and what was found."))
    if visited_on > today:
        raise DomainError(date_message(_l("Visit date"), _l("The date cannot be in the future.")))
    if bool(rectification) != (rectification_due is not None):
        raise DomainError(_l("A rectification request needs a due date, and a due date needs a request."))
    if rectification_due is not None and rectification_due < visited_on:
        raise DomainError(date_message(_l("Rectification due by"), _l("The due date cannot be before the visit.")))
    record = SupervisionRecord(
        deputy_id=deputy.id,
        deputy_name=deputy.name,
        visited_on=visited_on,
        findings=findings,
        rectification=rectification,
        rectification_due=rectification_due,
        photos=photo_rows(images),
    )
    project.supervisions.append(record)
    _history(project, deputy.name, "supervision.recorded", new=_brief(findings))
    db.session.flush()
    audit.record(actor, "supervision.record", f"project:{project.id}", record=record.id)
    return record


def answer_supervision(actor: str, officer, record: SupervisionRecord, answer: str) -> None:
    """The department's answer; answering again after a "not settled" asks the deputy anew."""
    answer = (answer or "").strip()
    if not answer:
        raise DomainError(_l("Write the department's answer."))
    if not record.rectification:
        raise DomainError(_l("No rectification was asked for, so there is nothing to answer."))
    if record.settled is True:
        raise ConflictError(_l("The deputy has already marked this as settled."))
    if record.answer and record.settled is None:
        raise ConflictError(_l("The deputy has not yet judged the last answer."))
    _history(record.project, officer.label, "supervision.answered", _brief(record.answer), _brief(answer))
    record.answer = answer
    record.answered_at = utcnow()
    record.answered_by_name = officer.label
    record.settled = None
    record.judged_at = None
    db.session.flush()
    audit.record(actor, "supervision.answer", f"supervision:{record.id}", project=record.project_id)


def judge_supervision(actor: str, record: SupervisionRecord, settled: bool) -> None:
    if not record.rectification:
        raise DomainError(_l("No rectification was asked for, so there is nothing to settle."))
    if not record.answer:
        raise DomainError(_l("The department has not answered yet."))
    if record.settled is not None:
        raise ConflictError(_l("You have already judged this answer."))
    record.settled = settled
    record.judged_at = utcnow()
    _history(record.project, record.deputy_name, "supervision.settled" if settled else "supervision.not_settled",
             new=_brief(record.rectification))
    db.session.flush()
    audit.record(actor, "supervision.judge", f"supervision:{record.id}", project=record.project_id, settled=settled)


def supervision_status(record: SupervisionRecord) -> str:
    if not record.rectification:
        return NOTED
    if record.settled is True:
        return SETTLED
    if record.settled is False:
        return NOT_SETTLED
    return AWAITING_VERDICT if record.answer else AWAITING_ANSWER


def stage_overdue(plan: StagePlan, today: date) -> bool:
    if plan.project.is_terminated:
        return False
    passed = STAGES.index(plan.project.stage) > STAGES.index(plan.stage)
    return schedule.stage_is_overdue(plan.planned_end, plan.actual_end, today, passed)


def rectification_overdue(record: SupervisionRecord, today: date) -> bool:
    if record.project.is_terminated:
        return False
    return schedule.rectification_is_overdue(record.rectification_due, bool(record.rectification), record.settled, today)


@dataclass(frozen=True)
class Overdue:
    project: Project
    what: str
    due: date
    days_late: int


@dataclass(frozen=True)
class Dashboard:
    milestones: list[Overdue]
    stages: list[Overdue]
    rectifications: list[Overdue]
    awaiting_answer: list[SupervisionRecord]


def _late(project: Project, what: str, due: date, today: date) -> Overdue:
    return Overdue(project, what, due, (today - due).days)


def dashboard(today: date | None = None, department_id: int | None = None) -> Dashboard:
    """Everything late, oldest first, of projects not terminated; unfinished rows come from SQL,
    lateness from the schedule rules."""
    today = today or schedule.beijing_today()

    def scoped(query, model):
        query = query.join(Project, Project.id == model.project_id).where(Project.status != TERMINATED)
        return query.where(Project.department_id == department_id) if department_id is not None else query

    milestones = db.session.scalars(scoped(
        select(Milestone).where(Milestone.done_on.is_(None), Milestone.planned_on < today)
        .options(contains_eager(Milestone.project)), Milestone)).all()
    plans = db.session.scalars(scoped(
        select(StagePlan).where(StagePlan.actual_end.is_(None), StagePlan.planned_end < today)
        .options(contains_eager(StagePlan.project)), StagePlan)).all()
    records = db.session.scalars(scoped(
        select(SupervisionRecord).where(SupervisionRecord.rectification != "",
                                        or_(SupervisionRecord.settled.is_(None), SupervisionRecord.settled.is_(False)))
        .options(contains_eager(SupervisionRecord.project)), SupervisionRecord)).all()
    late_milestones = [_late(m.project, m.name, m.planned_on, today) for m in milestones
                       if schedule.is_overdue(m.planned_on, False, today)]
    late_stages = [_late(p.project, p.stage, p.planned_end, today) for p in plans if stage_overdue(p, today)]
    late_rectifications = [_late(r.project, r.rectification, r.rectification_due, today) for r in records
                           if rectification_overdue(r, today)]
    awaiting = [r for r in records if supervision_status(r) in (AWAITING_ANSWER, NOT_SETTLED)]
    by_due = lambda item: (item.due, item.project.id)  # noqa: E731
    return Dashboard(
        sorted(late_milestones, key=by_due),
        sorted(late_stages, key=by_due),
        sorted(late_rectifications, key=by_due),
        sorted(awaiting, key=lambda r: (r.rectification_due or today, r.id)),
    )


def records_of_deputy(deputy) -> list[SupervisionRecord]:
    """This deputy's records, also those made with a card of an earlier session of the term: the
    same person in the term's registry."""
    return list(db.session.scalars(
        select(SupervisionRecord).join(Deputy, Deputy.id == SupervisionRecord.deputy_id)
        .where(Deputy.term_deputy_id == deputy.term_deputy_id)
        .order_by(SupervisionRecord.visited_on.desc(), SupervisionRecord.id.desc())
    ))
