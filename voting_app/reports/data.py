"""What the session report and the year report say, gathered from the ballots, projects and
surveys. No Flask: the HTML, the Excel file and the tests read the same objects."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from voting_app import audit
from voting_app.auth.models import User
from voting_app.ballots.counting import SATISFACTION, CountResult
from voting_app.ballots.models import VOID, Candidate, PaperEntry, Round
from voting_app.ballots.service import count_round, returned_count, round_board
from voting_app.db import db
from voting_app.projects import changes, delivery, schedule
from voting_app.projects.models import STAGES, ChangeRequest, Project
from voting_app.projects.service import Rating
from voting_app.reports.chart import RoundChart, round_chart
from voting_app.sessions.models import CongressSession
from voting_app.sessions.presence import Presence
from voting_app.sessions.service import presence

COUNTED = ("confirmed", "announced")


@dataclass(frozen=True)
class RoundReport:
    round: Round
    result: CountResult
    names: dict[int, str]
    digest: str
    digest_matches: bool
    chart: RoundChart | None
    confirmed_by: str | None  # the scrutineer who confirmed the count


@dataclass(frozen=True)
class VoidRound:
    """A round declared void: why, by whom, and how many ballots it holds that never count."""

    round: Round
    returned: int
    requested_by: str
    voided_by: str


@dataclass(frozen=True)
class ElectedProject:
    candidate: Candidate
    votes: int
    rank: int | None
    round: Round
    project: Project | None


@dataclass(frozen=True)
class SessionReport:
    congress: CongressSession
    presence: Presence
    rounds: list[RoundReport]
    pending: list[Round]
    elected: list[ElectedProject]
    audit_anchor: str
    scrutineers: list[str] = field(default_factory=list)  # who confirmed or keyed a count, in order
    voided: list[VoidRound] = field(default_factory=list)
    changes: list["DecidedChange"] = field(default_factory=list)  # decided since the session before (向人代会报告)


@dataclass(frozen=True)
class DecidedChange:
    """A change request the standing committee decided, as the session's report lists it."""

    request: ChangeRequest
    values: list[tuple[str, str, str]]  # (what, from, to), as the project's pages show them


def decided_changes(congress: CongressSession) -> list[DecidedChange]:
    from voting_app.projects.stages import STATUS_LABELS, change_value_label

    def text(key: str, value: str) -> str:
        return str(STATUS_LABELS.get(value, value)) if key == changes.STATUS else value

    return [DecidedChange(request, [(change_value_label(key, entry["what"]), text(key, entry["old_text"]),
                                     text(key, entry["new_text"])) for key, entry in request.proposed.items()])
            for request in changes.decided_for_session(congress)]



def _name(user_id: int | None) -> str | None:
    user = db.session.get(User, user_id) if user_id is not None else None
    return user.display_name if user else None


def _scrutineer_names(round_: Round) -> list[str]:
    """The scrutineers on record for a counted round: who keyed its paper ballots, who confirmed it."""
    ids = list(db.session.scalars(select(PaperEntry.scrutineer_id).where(PaperEntry.round_id == round_.id).order_by(PaperEntry.id)))
    names = [_name(user_id) for user_id in [*ids, round_.confirmed_by_id]]
    return [name for name in names if name]


def session_report(congress: CongressSession) -> SessionReport:
    """Every counted round with its announcement, chart and board digest, rounds not yet
    counted, rounds declared void (with the reason), the candidates elected (those that became
    projects link to them), the scrutineers whose names go on the signature lines, and the
    changes of projects the standing committee decided since the session before."""
    rounds = db.session.scalars(select(Round).where(Round.session_id == congress.id).order_by(Round.id)).all()
    reports, pending, elected, scrutineers, voided = [], [], [], [], []
    for round_ in rounds:
        if round_.state == VOID:
            voided.append(_void_round(round_))
            continue
        if round_.state not in COUNTED:
            if round_.state != "draft":
                pending.append(round_)
            continue
        result = count_round(round_)
        digest = round_board(round_)["digest"]
        names = {c.id: c.name for c in round_.candidates}
        for name in _scrutineer_names(round_):
            if name not in scrutineers:
                scrutineers.append(name)
        reports.append(RoundReport(round_, result, names, digest, digest == round_.board_digest,
                                   round_chart(result, names, round_.satisfaction_bar),
                                   _name(round_.confirmed_by_id)))
        if result.method == SATISFACTION or result.void_round:
            continue
        by_id = {c.id: c for c in round_.candidates}
        for line in result.ranking():
            if line.is_elected:
                candidate = by_id[line.candidate_id]
                project = db.session.get(Project, candidate.project_id) if candidate.project_id else None
                elected.append(ElectedProject(candidate, line.votes, line.rank, round_, project))
    return SessionReport(congress, presence(congress.id), reports, pending, elected, audit.anchor(), scrutineers, voided,
                         decided_changes(congress))


def _void_round(round_: Round) -> VoidRound:
    return VoidRound(round_, returned_count(round_.id), _name(round_.void_requested_by_id) or "", _name(round_.voided_by_id) or "")


@dataclass(frozen=True)
class ProjectReport:
    project: Project
    stage_rows: list[tuple[str, object, bool]]  # (stage, plan or None, overdue)
    spent_share: float | None  # percent of the budget spent
    milestones_done: int
    milestones_overdue: int
    supervisions: int
    rectifications_asked: int
    rectifications_settled: int
    rectifications_overdue: int
    ratings: list[Rating] = field(default_factory=list)

    def rating(self, source: str) -> Rating | None:
        return next((r for r in self.ratings if r.source == source and r.is_assessed), None)


def _spent_share(budget: Decimal | None, spent: Decimal | None) -> float | None:
    if not budget or spent is None:
        return None
    return float(spent * 100 / budget)


def project_report(project: Project, ratings: dict[int, list[Rating]], today: date | None = None) -> ProjectReport:
    today = today or schedule.beijing_today()
    rows = [(stage, project.plan_for(stage), bool(project.plan_for(stage)) and delivery.stage_overdue(project.plan_for(stage), today))
            for stage in STAGES]
    asked = [issue for record in project.supervisions for issue in record.rectifications]
    return ProjectReport(
        project=project,
        stage_rows=rows,
        spent_share=_spent_share(project.budget, project.spent),
        milestones_done=sum(1 for m in project.milestones if m.done_on),
        milestones_overdue=sum(1 for m in project.milestones if project.is_late(m.planned_on, m.done_on is not None, today)),
        supervisions=len(project.supervisions),
        rectifications_asked=len(asked),
        rectifications_settled=sum(1 for issue in asked if issue.settled is True),
        rectifications_overdue=sum(1 for issue in asked if delivery.rectification_overdue(issue, today)),
        ratings=ratings.get(project.id, []),
    )


@dataclass(frozen=True)
class YearReport:
    year: int | None
    projects: list[ProjectReport]

    @property
    def budget(self) -> Decimal:
        return sum((p.project.budget or Decimal(0) for p in self.projects), Decimal(0))

    @property
    def spent(self) -> Decimal:
        return sum((p.project.spent or Decimal(0) for p in self.projects), Decimal(0))

    def by_stage(self) -> dict[str, int]:
        counts = dict.fromkeys(STAGES, 0)
        for report in self.projects:
            counts[report.project.stage] += 1
        return counts


def year_report(year: int | None, ratings: dict[int, list[Rating]], today: date | None = None) -> YearReport:
    query = select(Project).order_by(Project.id)
    if year is not None:
        query = query.where(Project.year == year)
    return YearReport(year, [project_report(project, ratings, today) for project in db.session.scalars(query)])
