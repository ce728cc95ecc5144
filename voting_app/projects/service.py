"""Projects: made from passed candidates or entered by staff, changed with a history, and
read with the deputies' satisfaction assessments of them. Services flush; callers commit."""

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from voting_app import audit
from voting_app.auth.models import User
from voting_app.ballots.counting import SATISFACTION, CandidateResult, Overall
from voting_app.ballots.models import ANNOUNCED, CONFIRMED, Candidate, Round
from voting_app.ballots.service import count_round
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.paging import search_words
from voting_app.permissions import DEPARTMENT_OFFICER
from voting_app.projects.models import (
    APPROVED,
    APPROVED_CHANGE,
    IN_PROGRESS,
    STAGES,
    ChangeRequest,
    Department,
    Project,
    ProjectChange,
    StagePlan,
)
from voting_app.projects.schedule import stated_year
from voting_app.registry.models import DeputyGroup, GroupMembership

EDITABLE = ("name", "summary", "department", "year", "budget", "location", "stage", "progress_percent", "spent",
            "supervision_group")
# What a published plan changes only by an approved change request (projects.changes).
GATED = ("budget", "department", "year")


class PublishedPlanError(ConflictError):
    """A direct edit of what a published plan holds to: it goes through a change request."""


def require_decision(project: Project, changed: list[str], approved: ChangeRequest | None) -> None:
    """The one gate of a published plan: targets, funds, departments and deadlines change only
    as an approved change request of this project applies them; a plan not yet published, and
    small edits (names, summary, place), stay direct."""
    if project.plan_published_on is None or not changed:
        return
    if approved is not None and approved.project_id == project.id and approved.state == APPROVED_CHANGE:
        return
    raise PublishedPlanError(_l("This project’s plan is published: its targets, funds, departments and deadlines change "
                                "only by a change request the standing committee approves. Submit a change request."))


def require_decision_to_restructure(project: Project, approved: ChangeRequest | None) -> None:
    """Adding or removing a sub-item, a target or a milestone of a published plan changes what it
    holds to as much as a quantity does: the same gate, with its own reason."""
    try:
        require_decision(project, ["structure"], approved)
    except PublishedPlanError:
        raise PublishedPlanError(_l("This project’s plan is published: its targets, milestones and sub-items are added "
                                    "or removed only by a change request the standing committee approves. Submit a "
                                    "change request.")) from None


def department_named(name: str) -> Department | None:
    """The department of that name, created the first time a project or an account names it."""
    name = " ".join((name or "").split())
    if not name:
        return None
    department = db.session.scalar(select(Department).where(Department.name == name))
    if department is None:
        department = Department(name=name)
        db.session.add(department)
        db.session.flush()
    return department


def all_departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name)))


def add_department(actor: str, name: str) -> Department:
    """A new department on the managed list; a name already there is refused, not doubled."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_l("Enter the department's full name."))
    if db.session.scalar(select(Department.id).where(Department.name == name)) is not None:
        raise ConflictError(_l("%(name)s is already on the list.", name=name))
    department = department_named(name)
    audit.record(actor, "department.create", f"department:{department.id}", name=department.name)
    return department


def chosen_department(actor: str, department_id: int | None, new_name: str | None) -> Department | None:
    """The department a project form chose: a new name typed in adds it to the managed list
    (or picks the department of exactly that name); otherwise the one picked from the list."""
    new_name = " ".join((new_name or "").split())
    if new_name:
        existing = db.session.scalar(select(Department).where(Department.name == new_name))
        return existing or add_department(actor, new_name)
    if department_id is None:
        return None
    department = db.session.get(Department, department_id)
    if department is None:
        raise DomainError(_l("Choose a department from the list."))
    return department


@dataclass(frozen=True)
class DepartmentLine:
    department: Department
    officers: list[str]  # enabled officers' names
    projects: int


def department_overview() -> list[DepartmentLine]:
    """Each department on the list with who reports for it and how many projects it has."""
    officers: dict[int, list[str]] = {}
    for department_id, name in db.session.execute(
        select(User.department_id, User.display_name)
        .where(User.role == DEPARTMENT_OFFICER, User.is_enabled.is_(True), User.department_id.is_not(None))
        .order_by(User.display_name)
    ):
        officers.setdefault(department_id, []).append(name)
    counts = dict(db.session.execute(select(Project.department_id, func.count()).group_by(Project.department_id)).all())
    return [DepartmentLine(d, officers.get(d.id, []), counts.get(d.id, 0)) for d in all_departments()]


def unserved_department_ids() -> set[int]:
    """Departments no enabled officer's account is bound to: their projects get no progress reports."""
    served = (
        select(User.id)
        .where(User.department_id == Department.id, User.role == DEPARTMENT_OFFICER, User.is_enabled.is_(True))
        .exists()
    )
    return set(db.session.scalars(select(Department.id).where(~served)))


def departments_without_officer(department_id: int | None = None) -> list[Department]:
    """Departments that have projects but no officer to report on them (one department, or all)."""
    query = (
        select(Department)
        .where(Department.id.in_(unserved_department_ids()), Department.id.in_(select(Project.department_id)))
        .order_by(Department.name)
    )
    if department_id is not None:
        query = query.where(Department.id == department_id)
    return list(db.session.scalars(query))


def _check(values: dict) -> None:
    if values.get("stage", APPROVED) not in STAGES:
        raise DomainError(_l("Unknown project stage."))
    if not 0 <= values.get("progress_percent", 0) <= 100:
        raise DomainError(_l("Progress is a percentage from 0 to 100."))
    for key in ("budget", "spent"):
        if values.get(key) is not None and values[key] < 0:
            raise DomainError(_l("Amounts cannot be negative."))


def _department(actor: str, value: Department | str | None) -> Department | None:
    """A project's department as the form gives it (a row of the managed list, or None), or by
    name as a candidate, the demo and scripts give it (found, or added to the list)."""
    return chosen_department(actor, None, value) if isinstance(value, str) else value


def create_project(actor: str, actor_name: str, **values) -> Project:
    _check(values)
    fields = {key: value for key, value in values.items() if key in EDITABLE}
    fields["department"] = _department(actor, fields.get("department"))
    project = Project(**fields)
    db.session.add(project)
    db.session.flush()
    project.changes.append(ProjectChange(actor_name=actor_name, field="created", new_value=project.name))
    db.session.flush()
    audit.record(actor, "project.create", f"project:{project.id}", name=project.name)
    return project


def project_from_candidate(actor: str, actor_name: str, candidate: Candidate, year: int) -> Project:
    """One step from an elected candidate to a project that carries its data, in the year staff
    confirmed (offered as project_year(round))."""
    round_ = candidate.round
    if round_.method == SATISFACTION or round_.state not in (CONFIRMED, ANNOUNCED):
        raise DomainError(_l("Only a candidate elected in a counted round becomes a project."))
    if candidate.id not in count_round(round_).elected:
        raise DomainError(_l("Only an elected candidate becomes a project."))
    if candidate.project_id is not None:
        raise ConflictError(_l("This candidate is a project already."))
    project = create_project(
        actor,
        actor_name,
        name=candidate.name,
        summary=candidate.summary,
        department=candidate.department,
        budget=candidate.investment,
        location=candidate.location,
        year=year,
        stage=APPROVED,
    )
    if candidate.planned_completion:
        project.stage_plans.append(StagePlan(stage=IN_PROGRESS, planned_end=candidate.planned_completion))
        project.changes.append(ProjectChange(actor_name=actor_name, field=f"{IN_PROGRESS}.planned_end",
                                             new_value=candidate.planned_completion.isoformat()))
    candidate.project_id = project.id
    db.session.flush()
    return project


def project_year(round_: Round) -> int:
    """The year to offer for the round's projects: the one its title states ("2029年度…"),
    failing that its session's year. Staff confirm it when a candidate becomes a project."""
    session_day = round_.session.starts_on
    return stated_year(round_.title) or (session_day.year if session_day else round_.created_at.year)


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (Department, DeputyGroup)):
        return value.name
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def update_project(actor: str, actor_name: str, project: Project, *, approved: ChangeRequest | None = None,
                   **values) -> list[str]:
    """Change the given fields; every change goes into the project's history and the audit log.
    A project with a plan has its progress computed (set_computed_progress), never typed; a
    published plan's budget and department change only by an approved change request."""
    if project.has_plan and values.get("progress_percent", project.progress_percent) != project.progress_percent:
        raise DomainError(_l("This project’s progress is computed from its targets and milestones."))
    if "department" in values:
        values["department"] = _department(actor, values["department"])
    require_decision(project, [key for key in GATED if key in values and values[key] != getattr(project, key)], approved)
    return _change(actor, actor_name, project, values)


def set_computed_progress(actor: str, actor_name: str, project: Project, percent: int) -> None:
    """The progress planning.refresh_progress computed from the plan, into the history like any change."""
    _change(actor, actor_name, project, {"progress_percent": percent})


def _change(actor: str, actor_name: str, project: Project, values: dict) -> list[str]:
    _check({"stage": project.stage, "progress_percent": project.progress_percent} | values)
    changed = []
    for key, value in values.items():
        if key not in EDITABLE:
            continue
        if key == "department":
            value = _department(actor, value)
        current = getattr(project, key)
        if current == value:
            continue
        project.changes.append(ProjectChange(actor_name=actor_name, field=key, old_value=_shown(current), new_value=_shown(value)))
        setattr(project, key, value)
        changed.append(key)
    db.session.flush()
    if changed:
        audit.record(actor, "project.update", f"project:{project.id}", fields=changed)
    return changed


@dataclass(frozen=True)
class Assessed:
    """What one announced satisfaction round decided for one of its projects."""

    round: Round
    line: CandidateResult
    ratings: dict
    grade: str | None  # the tiers grade (counting.GRADES); None under the bar
    is_rectification: bool  # sent to rectification (整改): under the bar, or graded dissatisfied
    overall: Overall  # the round's overall rate (总体满意率)


def _assessed(round_: Round) -> dict[int, Assessed]:
    """Each project of a counted satisfaction round (by project id) with its verdict. The one
    place a deputies' assessment sends a project to rectification: the count's `below_bar`,
    which under tiers is every project graded dissatisfied."""
    result = count_round(round_)
    if result.void_round:
        return {}
    below = set(result.below_bar())
    projects = {candidate.id: candidate.project_id for candidate in round_.candidates if candidate.project_id}
    return {
        projects[line.candidate_id]: Assessed(
            round_,
            line,
            dict(result.ratings[line.candidate_id]),
            result.grades.get(line.candidate_id),
            line.candidate_id in below,
            result.overall(),
        )
        for line in result.ranking()
        if line.candidate_id in projects
    }


def _announced_assessments(project_id: int | None = None) -> list[Round]:
    """Announced satisfaction rounds, oldest first; with `project_id`, those that rated it."""
    query = select(Round).where(Round.method == SATISFACTION, Round.state == ANNOUNCED).order_by(Round.announced_at)
    if project_id is not None:
        query = query.where(Round.id.in_(select(Candidate.round_id).where(Candidate.project_id == project_id)))
    return list(db.session.scalars(query))


def deputy_assessments(project: Project) -> list[Assessed]:
    """Announced satisfaction rounds that rated this project, oldest first."""
    assessments = (_assessed(round_).get(project.id) for round_ in _announced_assessments(project.id))
    return [assessment for assessment in assessments if assessment is not None]


@dataclass(frozen=True)
class Rating:
    """One satisfaction figure for a project, from the deputies' ballot or the residents' survey."""

    source: str  # "deputies" or "residents"
    rate_text: str | None
    rated: int
    is_below_bar: bool  # sent to rectification (整改) by this figure
    held: int = 0  # residents' answers held for review, not in the figure
    interval: tuple[str, str] | None = None  # the residents' 95% interval as shown; the deputies' is a count, not a sample
    is_small_sample: bool = False  # too few answers for more than reference (surveys.rates.SMALL_SAMPLE)
    grade: str | None = None  # the deputies' tiers grade; None under the bar and for residents

    @property
    def is_assessed(self) -> bool:
        """Rated, or graded: under tiers a project no ballot rated is still graded (dissatisfied)."""
        return self.rated > 0 or self.grade is not None


MET, BELOW, UNRATED = "met", "below", "unrated"


def satisfaction_band(ratings: list[Rating]) -> str:
    """Below the bar when any figure sends the project to rectification (on either source);
    met when assessed."""
    assessed = [rating for rating in ratings if rating.is_assessed]
    if not assessed:
        return UNRATED
    return BELOW if any(rating.is_below_bar for rating in assessed) else MET


def latest_deputy_ratings() -> dict[int, Rating]:
    """Each project's most recent announced deputies' assessment, counted once per round."""
    ratings: dict[int, Rating] = {}
    for round_ in _announced_assessments():
        for project_id, assessed in _assessed(round_).items():
            line = assessed.line
            ratings[project_id] = Rating(
                "deputies", line.rate_text, line.rated, assessed.is_rectification, grade=assessed.grade
            )
    return ratings


def project_ratings(rating_sources) -> dict[int, list[Rating]]:
    """Every figure per project: the deputies' here, the residents' from the sources other areas register."""
    ratings: dict[int, list[Rating]] = {}
    for source in (latest_deputy_ratings, *rating_sources):
        for project_id, rating in source().items():
            ratings.setdefault(project_id, []).append(rating)
    return ratings


def filtered_projects(year: int | None = None, stage: str | None = None, department_id: int | None = None,
                      search: str | None = None, group_id: int | None = None) -> list[Project]:
    """The search matches name, summary, place and department, every typed word."""
    query = select(Project).outerjoin(Department, Department.id == Project.department_id).order_by(Project.year.desc(), Project.id)
    for word in search_words(search):
        query = query.where(or_(*(column.icontains(word, autoescape=True)
                                  for column in (Project.name, Project.summary, Project.location, Department.name))))
    if year is not None:
        query = query.where(Project.year == year)
    if stage in STAGES:
        query = query.where(Project.stage == stage)
    if department_id is not None:
        query = query.where(Project.department_id == department_id)
    if group_id is not None:
        query = query.where(Project.supervision_group_id == group_id)
    return list(db.session.scalars(query))


def default_year(years: list[int]) -> int | None:
    """The list opens on this year's projects (Beijing), or the latest year there is."""
    from voting_app.projects.schedule import beijing_today

    this_year = beijing_today().year
    return this_year if this_year in years else (years[0] if years else None)


def project_years() -> list[int]:
    return list(db.session.scalars(select(Project.year).distinct().order_by(Project.year.desc())))


# Supervision groups: a deputy group assigned to a project (the registry keeps the groups)


def chosen_group(group_id: int | None) -> DeputyGroup | None:
    if group_id is None:
        return None
    group = db.session.get(DeputyGroup, group_id)
    if group is None:
        raise DomainError(_l("Choose a deputy group from the list."))
    return group


def supervised_names(group: DeputyGroup) -> list[str]:
    """The projects a group supervises, by name: what stops the group being deleted."""
    return list(db.session.scalars(select(Project.name).where(Project.supervision_group_id == group.id).order_by(Project.id)))


def supervised_counts(group_ids) -> dict[int, int]:
    return dict(db.session.execute(
        select(Project.supervision_group_id, func.count())
        .where(Project.supervision_group_id.in_(group_ids)).group_by(Project.supervision_group_id)
    ).all())


def projects_of_member(person) -> list[Project]:
    """Projects supervised by a group the person (a term's deputy) is a member of, newest year first."""
    if person is None:
        return []
    mine = select(GroupMembership.group_id).where(GroupMembership.term_deputy_id == person.id)
    return list(db.session.scalars(
        select(Project).where(Project.supervision_group_id.in_(mine)).order_by(Project.year.desc(), Project.id)
    ))
