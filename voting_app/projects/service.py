"""Reading projects and the deputies' satisfaction assessments of them."""

from dataclasses import dataclass

from sqlalchemy import select

from voting_app.ballots.counting import SATISFACTION, CandidateResult
from voting_app.ballots.models import ANNOUNCED, Candidate, Round
from voting_app.ballots.service import count_round
from voting_app.db import db
from voting_app.projects.models import Project


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
