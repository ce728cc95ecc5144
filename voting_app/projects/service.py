"""Projects: made from passed candidates or entered by staff, changed with a history, and
read with the deputies' satisfaction assessments of them. Services flush; callers commit."""

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from voting_app import audit
from voting_app.ballots.counting import SATISFACTION, CandidateResult
from voting_app.ballots.models import ANNOUNCED, CONFIRMED, Candidate, Round
from voting_app.ballots.service import count_round
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.projects.models import APPROVED, STAGES, Project, ProjectChange

EDITABLE = ("name", "summary", "department", "year", "budget", "location", "stage", "progress_percent", "spent")


def _check(values: dict) -> None:
    if values.get("stage", APPROVED) not in STAGES:
        raise DomainError(_l("Unknown project stage."))
    if not 0 <= values.get("progress_percent", 0) <= 100:
        raise DomainError(_l("Progress is a percentage from 0 to 100."))
    for key in ("budget", "spent"):
        if values.get(key) is not None and values[key] < 0:
            raise DomainError(_l("Amounts cannot be negative."))


def create_project(actor: str, actor_name: str, **values) -> Project:
    _check(values)
    project = Project(**{key: value for key, value in values.items() if key in EDITABLE})
    db.session.add(project)
    db.session.flush()
    project.changes.append(ProjectChange(actor_name=actor_name, field="created", new_value=project.name))
    db.session.flush()
    audit.record(actor, "project.create", f"project:{project.id}", name=project.name)
    return project


def project_from_candidate(actor: str, actor_name: str, candidate: Candidate) -> Project:
    """One step from an elected candidate to a project that carries its data."""
    round_ = candidate.round
    if round_.method == SATISFACTION or round_.state not in (CONFIRMED, ANNOUNCED):
        raise DomainError(_l("Only a candidate elected in a counted round becomes a project."))
    if candidate.id not in count_round(round_).elected:
        raise DomainError(_l("Only an elected candidate becomes a project."))
    if candidate.project_id is not None:
        raise ConflictError(_l("This candidate is a project already."))
    session_day = round_.session.starts_on
    project = create_project(
        actor,
        actor_name,
        name=candidate.name,
        summary=candidate.summary,
        department=candidate.department,
        budget=candidate.investment,
        year=session_day.year if session_day else candidate.round.created_at.year,
        stage=APPROVED,
    )
    candidate.project_id = project.id
    db.session.flush()
    return project


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    return str(value)


def update_project(actor: str, actor_name: str, project: Project, **values) -> list[str]:
    """Change the given fields; every change goes into the project's history and the audit log."""
    _check({"stage": project.stage, "progress_percent": project.progress_percent} | values)
    changed = []
    for key, value in values.items():
        if key not in EDITABLE or getattr(project, key) == value:
            continue
        project.changes.append(
            ProjectChange(actor_name=actor_name, field=key, old_value=_shown(getattr(project, key)), new_value=_shown(value))
        )
        setattr(project, key, value)
        changed.append(key)
    db.session.flush()
    if changed:
        audit.record(actor, "project.update", f"project:{project.id}", fields=changed)
    return changed


@dataclass(frozen=True)
class DeputyAssessment:
    round: Round
    line: CandidateResult
    ratings: dict
    bar: int
    is_below_bar: bool


def deputy_assessments(project: Project) -> list[DeputyAssessment]:
    """Announced satisfaction rounds that rated this project, oldest first."""
    rows = db.session.execute(
        select(Round, Candidate.id)
        .join(Candidate, Candidate.round_id == Round.id)
        .where(Candidate.project_id == project.id, Round.method == SATISFACTION, Round.state == ANNOUNCED)
        .order_by(Round.announced_at)
    ).all()
    assessments = []
    for round_, candidate_id in rows:
        result = count_round(round_)
        if result.void_round:
            continue
        line = next(item for item in result.ranking() if item.candidate_id == candidate_id)
        assessments.append(
            DeputyAssessment(
                round_,
                line,
                dict(result.ratings[candidate_id]),
                round_.satisfaction_bar,
                candidate_id in result.below_bar(),
            )
        )
    return assessments


def projects_by_year() -> dict[int, list[Project]]:
    projects = db.session.scalars(select(Project).order_by(Project.year.desc(), Project.id)).all()
    grouped: dict[int, list[Project]] = {}
    for project in projects:
        grouped.setdefault(project.year, []).append(project)
    return grouped
