"""Following a project's delivery: stage dates, milestones, the department's progress notes,
the deputies' supervision, and what is overdue. Services flush; callers commit; who may call
them is decided in voting_app.permissions."""

import secrets
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import contains_eager, selectinload

from voting_app import audit
from voting_app.db import db, utcnow
from voting_app.errors import ConflictError, DomainError
from voting_app.images import CleanImage, thumbnail_of
from voting_app.projects import overdue, schedule
from voting_app.projects.models import (
    AWAITING_ANSWER,
    AWAITING_VERDICT,
    NOT_SETTLED,
    NOTED,
    SETTLED,
    STAGES,
    TERMINATED,
    Department,
    Milestone,
    Photo,
    ProgressNote,
    Project,
    ProjectChange,
    StagePlan,
    SubItem,
    SupervisionIssue,
    SupervisionRecord,
    Target,
)
from voting_app.projects.plans import number_text
from voting_app.projects.planning import record_actuals, refresh_progress, set_milestone_sub_item
from voting_app.projects.service import require_decision, require_decision_to_restructure, update_project
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


def check_milestone(project: Project, name: str, planned_on: date | None) -> str:
    """The milestone's name as stored; a DomainError when the name or the date will not do."""
    name = " ".join((name or "").split())
    if not name or planned_on is None:
        raise DomainError(_l("A milestone needs a name and a planned date."))
    if schedule.is_long_before_year(planned_on, project.year):
        raise DomainError(date_message(_l("Planned date"), long_before_year(project)))
    return name


def add_milestone(actor: str, actor_name: str, project: Project, name: str, planned_on: date | None,
                  sub_item=None, *, approved=None) -> Milestone:
    """A milestone of the project, or of one of its sub-items (whose department marks it reached);
    on a published plan only as an approved change request adds it."""
    name = check_milestone(project, name, planned_on)
    require_decision_to_restructure(project, approved)
    milestone = Milestone(name=name, planned_on=planned_on, project_id=project.id)
    project.milestones.append(milestone)
    set_milestone_sub_item(milestone, sub_item)
    _history(project, actor_name, "milestone.added", new=f"{name} ({planned_on.isoformat()})")
    db.session.flush()
    audit.record(actor, "project.milestone_add", f"project:{project.id}", milestone=milestone.id, name=name)
    refresh_progress(actor, actor_name, project)
    return milestone


def remove_milestone(actor: str, actor_name: str, project: Project, milestone: Milestone, *, approved=None) -> None:
    """A reached milestone stays on the record; a published plan's goes only as an approved change request removes it."""
    require_decision_to_restructure(project, approved)
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


def move_milestone(actor: str, actor_name: str, project: Project, milestone: Milestone, planned_on: date | None,
                   *, approved=None) -> None:
    """A milestone's planned date, a deadline of the plan: on a published plan only by an approved change request."""
    check_milestone(project, milestone.name, planned_on)
    if planned_on == milestone.planned_on:
        return
    require_decision(project, ["milestone.planned_on"], approved)
    _history(project, actor_name, "milestone.planned_on", f"{milestone.name} ({milestone.planned_on.isoformat()})",
             f"{milestone.name} ({planned_on.isoformat()})")
    milestone.planned_on = planned_on
    db.session.flush()
    audit.record(actor, "project.milestone_move", f"project:{project.id}", milestone=milestone.id,
                 planned_on=planned_on.isoformat())


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


def _issue_values(problem: str, rectification: str, due_on: date | None, visited_on: date) -> tuple[str, str]:
    problem, rectification = (problem or "").strip(), (rectification or "").strip()
    if not problem:
        raise DomainError(_l("Write what was found."))
    if bool(rectification) != (due_on is not None):
        raise DomainError(_l("A rectification request needs a due date, and a due date needs a request."))
    if due_on is not None and due_on < visited_on:
        raise DomainError(date_message(_l("Rectification due by"), _l("The due date cannot be before the visit.")))
    return problem, rectification


def record_supervision(actor: str, deputy, project: Project, visited_on: date | None, findings: str,
                       rectification: str, rectification_due: date | None, images: list[CleanImage],
                       today: date | None = None, department: Department | None = None) -> SupervisionRecord:
    """A visit with its first issue; the responsible department is the project's unless named."""
    today = today or schedule.beijing_today()
    if visited_on is None or not (findings or "").strip():
        raise DomainError(_l("A supervision record needs the visit date and what was found."))
    if visited_on > today:
        raise DomainError(date_message(_l("Visit date"), _l("The date cannot be in the future.")))
    problem, rectification = _issue_values(findings, rectification, rectification_due, visited_on)
    record = SupervisionRecord(deputy_id=deputy.id, deputy_name=deputy.name, visited_on=visited_on, photos=photo_rows(images))
    record.issues.append(SupervisionIssue(problem=problem, rectification=rectification, due_on=rectification_due,
                                          department=department or project.department))
    project.supervisions.append(record)
    _history(project, deputy.name, "supervision.recorded", new=_brief(problem))
    db.session.flush()
    audit.record(actor, "supervision.record", f"project:{project.id}", record=record.id, issue=record.issues[0].id)
    return record


def add_issue(actor: str, record: SupervisionRecord, problem: str, rectification: str, due_on: date | None,
              department: Department | None = None) -> SupervisionIssue:
    """One more issue found at a visit, entered by the deputy who recorded it."""
    problem, rectification = _issue_values(problem, rectification, due_on, record.visited_on)
    issue = SupervisionIssue(problem=problem, rectification=rectification, due_on=due_on,
                             department=department or record.project.department)
    record.issues.append(issue)
    _history(record.project, record.deputy_name, "supervision.issue_added", new=_brief(problem))
    db.session.flush()
    audit.record(actor, "supervision.issue_add", f"supervision:{record.id}", project=record.project_id, issue=issue.id)
    return issue


def answer_issue(actor: str, officer, issue: SupervisionIssue, answer: str) -> None:
    """The department's answer; answering again after a "not settled" asks the deputy anew."""
    answer = (answer or "").strip()
    if not answer:
        raise DomainError(_l("Write the department's answer."))
    if not issue.rectification:
        raise DomainError(_l("No rectification was asked for, so there is nothing to answer."))
    if issue.settled is True:
        raise ConflictError(_l("The deputy has already marked this as settled."))
    if issue.answer and issue.settled is None:
        raise ConflictError(_l("The deputy has not yet judged the last answer."))
    _history(issue.project, officer.label, "supervision.answered", _brief(issue.answer), _brief(answer))
    issue.answer = answer
    issue.answered_at = utcnow()
    issue.answered_by_name = officer.label
    issue.settled = None
    issue.judged_at = None
    db.session.flush()
    audit.record(actor, "supervision.answer", f"supervision:{issue.record_id}", project=issue.project.id, issue=issue.id)


def judge_issue(actor: str, issue: SupervisionIssue, settled: bool) -> None:
    if not issue.rectification:
        raise DomainError(_l("No rectification was asked for, so there is nothing to settle."))
    if not issue.answer:
        raise DomainError(_l("The department has not answered yet."))
    if issue.settled is not None:
        raise ConflictError(_l("You have already judged this answer."))
    issue.settled = settled
    issue.judged_at = utcnow()
    _history(issue.project, issue.record.deputy_name, "supervision.settled" if settled else "supervision.not_settled",
             new=_brief(issue.rectification))
    db.session.flush()
    audit.record(actor, "supervision.judge", f"supervision:{issue.record_id}", project=issue.project.id, issue=issue.id,
                 settled=settled)


def supervision_status(issue: SupervisionIssue) -> str:
    if not issue.rectification:
        return NOTED
    if issue.settled is True:
        return SETTLED
    if issue.settled is False:
        return NOT_SETTLED
    return AWAITING_VERDICT if issue.answer else AWAITING_ANSWER


# A visit stands where its least advanced issue stands.
_STATUS_ORDER = (NOT_SETTLED, AWAITING_ANSWER, AWAITING_VERDICT, SETTLED, NOTED)


def record_status(record: SupervisionRecord) -> str:
    return min((supervision_status(issue) for issue in record.issues), key=_STATUS_ORDER.index, default=NOTED)


def stage_overdue(plan: StagePlan, today: date) -> bool:
    if plan.project.is_terminated:
        return False
    passed = STAGES.index(plan.project.stage) > STAGES.index(plan.stage)
    return schedule.stage_is_overdue(plan.planned_end, plan.actual_end, today, passed)


def rectification_overdue(issue: SupervisionIssue, today: date) -> bool:
    if issue.record.project.is_terminated:
        return False
    return schedule.rectification_is_overdue(issue.due_on, bool(issue.rectification), issue.settled, today)


@dataclass(frozen=True)
class Overdue:
    project: Project
    what: str
    due: date
    days_late: int


@dataclass(frozen=True)
class Dashboard:
    milestones: list[overdue.Late]
    targets: list[overdue.Late]
    stages: list[Overdue]
    rectifications: list[overdue.Late]
    awaiting_answer: list[SupervisionIssue]


def _department_of(project: Project, sub_item: SubItem | None) -> Department | None:
    """A sub-item's department answers for its targets and milestones; the project's for the rest."""
    return sub_item.department if sub_item is not None and sub_item.department_id is not None else project.department


def _subject(kind: str, id_: int, project: Project, department: Department | None, what: str, due: date | None,
             is_finished: bool, asked: str = "") -> overdue.Subject:
    return overdue.Subject(kind, id_, project.id, project.name, department.id if department else None,
                           department.name if department else "", what, due, is_finished, asked)


def overdue_items(today: date | None = None, department_id: int | None = None) -> list[overdue.Late]:
    """Every milestone, target and rectification late on `today`, of projects not terminated, for a
    department or for all: the one answer to "what is overdue" that the dashboard, the ledger and
    the reminder letters share. Unfinished rows with a past due date come from SQL; lateness from the rules in `overdue`.
    While a project is deferred its targets and milestones are due by the new deadline at the
    earliest (Project.due_by); rectifications keep their own due dates."""
    today = today or schedule.beijing_today()
    milestones = db.session.scalars(
        select(Milestone).where(Milestone.done_on.is_(None), Milestone.planned_on < today)
        .options(selectinload(Milestone.project).selectinload(Project.department),
                 selectinload(Milestone.sub_item).selectinload(SubItem.department))).all()
    targets = db.session.scalars(
        select(Target).where(Target.due_on < today)
        .options(selectinload(Target.sub_item).selectinload(SubItem.department),
                 selectinload(Target.sub_item).selectinload(SubItem.project).selectinload(Project.department))).all()
    issues = db.session.scalars(
        select(SupervisionIssue).where(SupervisionIssue.rectification != "", SupervisionIssue.due_on < today,
                                       or_(SupervisionIssue.settled.is_(None), SupervisionIssue.settled.is_(False)))
        .options(selectinload(SupervisionIssue.department),
                 selectinload(SupervisionIssue.record).selectinload(SupervisionRecord.project))).all()
    subjects = [
        *(_subject(overdue.MILESTONE, m.id, m.project, _department_of(m.project, m.sub_item), m.name,
                   m.project.due_by(m.planned_on), overdue.milestone_is_finished(m.done_on)) for m in milestones if not m.project.is_terminated),
        *(_subject(overdue.TARGET, t.id, t.sub_item.project, _department_of(t.sub_item.project, t.sub_item),
                   f"{t.sub_item.name} · {t.name}", t.sub_item.project.due_by(t.due_on),
                   overdue.target_is_finished(t.planned, t.actual),
                   f"{number_text(t.planned)} {t.unit}") for t in targets if not t.sub_item.project.is_terminated),
        *(_subject(overdue.RECTIFICATION, i.id, i.project, i.department, i.problem, i.due_on,
                   overdue.rectification_is_finished(i.settled), i.rectification) for i in issues if not i.project.is_terminated),
    ]
    late = overdue.late_items(subjects, today)
    return late if department_id is None else [item for item in late if item.subject.department_id == department_id]


def _late(project: Project, what: str, due: date, today: date) -> Overdue:
    return Overdue(project, what, due, (today - due).days)


def dashboard(today: date | None = None, department_id: int | None = None) -> Dashboard:
    """Everything late, oldest first, of projects not terminated, for a department (the one
    responsible for each item) or for all."""
    today = today or schedule.beijing_today()
    late = overdue_items(today, department_id)
    plans = select(StagePlan).where(StagePlan.actual_end.is_(None), StagePlan.planned_end < today) \
        .join(Project, Project.id == StagePlan.project_id).where(Project.status != TERMINATED) \
        .options(contains_eager(StagePlan.project))
    if department_id is not None:
        plans = plans.where(Project.department_id == department_id)
    late_stages = [_late(p.project, p.stage, p.planned_end, today) for p in db.session.scalars(plans) if stage_overdue(p, today)]
    issues = select(SupervisionIssue).where(SupervisionIssue.rectification != "", or_(
        SupervisionIssue.answer == "", SupervisionIssue.settled.is_(False))).options(
        selectinload(SupervisionIssue.record).selectinload(SupervisionRecord.project))
    if department_id is not None:
        issues = issues.where(SupervisionIssue.department_id == department_id)
    awaiting = [issue for issue in db.session.scalars(issues)
                if not issue.record.project.is_terminated and supervision_status(issue) in (AWAITING_ANSWER, NOT_SETTLED)]
    return Dashboard(
        [item for item in late if item.subject.kind == overdue.MILESTONE],
        [item for item in late if item.subject.kind == overdue.TARGET],
        sorted(late_stages, key=lambda item: (item.due, item.project.id)),
        [item for item in late if item.subject.kind == overdue.RECTIFICATION],
        sorted(awaiting, key=lambda issue: (issue.due_on or today, issue.id)),
    )


def records_of_deputy(deputy) -> list[SupervisionRecord]:
    """This deputy's records, also those made with a card of an earlier session of the term: the
    same person in the term's registry."""
    return list(db.session.scalars(
        select(SupervisionRecord).join(Deputy, Deputy.id == SupervisionRecord.deputy_id)
        .where(Deputy.term_deputy_id == deputy.term_deputy_id)
        .order_by(SupervisionRecord.visited_on.desc(), SupervisionRecord.id.desc())
    ))
