"""A project's whole story as one ordered list, from the residents' proposals to the last
rating: the proposals (station and channel only), the deputies' vote, the project and its plan,
stages, milestones, progress reports, supervision, assessments and every change of its history.

Public: an entry carries only what the public pages already show (never a proposer's contact,
a proposal's text or photos). Entries hold data, not words: the page words each kind. Plain
module: no Flask; other areas (the residents' surveys) add their entries through `sources`."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from voting_app.ballots.counting import SATISFACTION
from voting_app.ballots.models import ANNOUNCED, Candidate, Round
from voting_app.ballots.service import count_round
from voting_app.clock import BEIJING
from voting_app.db import db
from voting_app.paging import Page, page_of
from voting_app.projects import delivery
from voting_app.projects.models import STAGES, Project, ProjectChange
from voting_app.projects.service import deputy_assessments
from voting_app.proposals.service import candidates_behind, proposals_behind

PROPOSALS, VOTE, CREATED, PLAN, CHANGES = "proposals", "vote", "created", "plan", "changes"
STAGE, MILESTONE, REPORT = "stage", "milestone", "report"
VISIT, ANSWER, VERDICT = "visit", "answer", "verdict"
DEPUTIES, RESIDENTS = "deputies", "residents"
# Within one day, the order the story reads in when two entries carry no time.
KINDS = (PROPOSALS, VOTE, CREATED, PLAN, STAGE, MILESTONE, REPORT, VISIT, ANSWER, VERDICT, CHANGES, RESIDENTS, DEPUTIES)
STARTED, ENDED, DUE = "started", "ended", "due"  # a stage's events
RATING_KINDS = (DEPUTIES, RESIDENTS)

# History lines another entry already tells (a milestone reached, a supervision step, a reported
# figure), so the timeline does not say them twice; the full history page keeps them.
TOLD_ELSEWHERE = ("milestone.done", "supervision.recorded", "supervision.issue_added", "supervision.answered",
                  "supervision.settled", "supervision.not_settled", "target.actual", "created")
# History lines that make or edit the plan: they group apart from the other changes, as the plan.
PLAN_PREFIXES = ("sub_item.", "target.", "milestone.added", "milestone.removed")
PLAN_DATES = (".planned_start", ".planned_end")
ROWS_SHOWN = 10  # a group of history lines shows this many; the history page has the rest
HISTORY_PER_PAGE = 50
STORY_PER_PAGE = 30


@dataclass(frozen=True)
class Entry:
    """One step of the story. `day` is the Beijing date it happened (or is planned for); `at`
    orders entries of the same day when known (UTC, as stored). `facts` are what the page words
    for this kind; `anchor` is where on the project page the full record is, `round_id` the
    public result of a vote or an assessment."""

    kind: str
    day: date
    title: str = ""
    facts: Mapping = field(default_factory=dict, compare=False)
    at: datetime | None = None
    anchor: str | None = None
    round_id: int | None = None
    is_upcoming: bool = False
    is_overdue: bool = False
    is_reassessment: bool = False
    rows: tuple[ProjectChange, ...] = field(default=(), compare=False)
    more_rows: int = 0  # lines of the group not shown here
    history_page: int = 1  # the page of the full history where the group starts

    def sort_key(self) -> tuple:
        moment = _beijing(self.at).time() if self.at else time.min
        return (self.day, moment, KINDS.index(self.kind) if self.kind in KINDS else len(KINDS))


Source = Callable[[Project, date], Iterable[Entry]]


def _beijing(moment: datetime) -> datetime:
    """A stored UTC time as Beijing's wall clock."""
    return moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(BEIJING).replace(tzinfo=None)


def beijing_day(moment: datetime) -> date:
    return _beijing(moment).date()


def _proposal_entries(project: Project) -> list[Entry]:
    """The proposals as one entry on the day the first came in: when, where (station) and how
    (channel) each came, nothing of who or what."""
    behind = sorted(proposals_behind(project), key=lambda proposal: proposal.created_at)
    if not behind:
        return []
    sources = [(beijing_day(p.created_at), p.station.name if p.station else "", p.channel) for p in behind]
    return [Entry(PROPOSALS, sources[0][0], facts={"sources": sources, "count": len(sources)}, at=behind[0].created_at)]


def _vote_entries(project: Project) -> list[Entry]:
    """Each announced vote the project stood in (a runoff too): its votes, rank and outcome."""
    candidates = db.session.scalars(
        select(Candidate).join(Round, Round.id == Candidate.round_id)
        .where(Candidate.id.in_(candidates_behind(project)), Round.method != SATISFACTION, Round.state == ANNOUNCED)
        .order_by(Round.announced_at, Candidate.id)
    )
    entries = []
    for candidate in candidates:
        round_ = candidate.round
        result = count_round(round_)
        line = next((line for line in result.ranking() if line.candidate_id == candidate.id), None)
        if line is None or result.void_round:
            continue
        entries.append(Entry(VOTE, beijing_day(round_.announced_at), round_.title, at=round_.announced_at, round_id=round_.id,
                             facts={"line": line, "session": round_.session.name, "method": round_.method,
                                    "candidates": len(round_.candidates), "seats": round_.seats}))
    return entries


def _stage_entries(project: Project, today: date) -> list[Entry]:
    """When each stage began and ended; a stage not ended shows its planned end."""
    entries = []
    for plan in sorted(project.stage_plans, key=lambda plan: STAGES.index(plan.stage)):
        if plan.actual_start:
            entries.append(Entry(STAGE, plan.actual_start, facts={"stage": plan.stage, "event": STARTED}))
        if plan.actual_end:
            entries.append(Entry(STAGE, plan.actual_end, facts={"stage": plan.stage, "event": ENDED}))
        elif plan.planned_end:
            entries.append(Entry(STAGE, plan.planned_end, facts={"stage": plan.stage, "event": DUE},
                                 is_upcoming=plan.planned_end >= today, is_overdue=delivery.stage_overdue(plan, today)))
    return entries


def _milestone_entries(project: Project, today: date) -> list[Entry]:
    """A milestone on the day it was reached, or on its planned day, marked upcoming or overdue."""
    entries = []
    for milestone in project.milestones:
        reached = milestone.done_on is not None
        facts = {"planned_on": milestone.planned_on, "reached": reached,
                 "sub_item": milestone.sub_item.name if milestone.sub_item else ""}
        entries.append(Entry(MILESTONE, milestone.done_on or milestone.planned_on, milestone.name, facts=facts,
                             anchor="milestones", is_upcoming=not reached and milestone.planned_on >= today,
                             is_overdue=project.is_late(milestone.planned_on, reached, today)))
    return entries


def _report_entries(project: Project) -> list[Entry]:
    """A department's progress report with the figures it reported against the planned ones."""
    entries = []
    for note in project.notes:
        figures = [(report.target.name, report.actual, report.target.planned, report.target.unit) for report in note.target_reports]
        day = min((report.reported_on for report in note.target_reports), default=beijing_day(note.created_at))
        entries.append(Entry(REPORT, day, note.department_name, at=note.created_at, anchor=f"note-{note.id}",
                             facts={"body": note.body, "percent": note.progress_percent, "figures": figures,
                                    "photos": len(note.photos)}))
    return entries


def _supervision_entries(project: Project) -> list[Entry]:
    """A deputy's visit with the issues found, and each issue's answer by its department and the
    deputy's verdict, each on its own day."""
    entries = []
    for record in project.supervisions:
        anchor = f"supervision-{record.id}"
        entries.append(Entry(VISIT, record.visited_on, record.deputy_name, anchor=anchor,
                             facts={"findings": record.findings, "status": delivery.record_status(record),
                                    "rectifications": [(issue.rectification, issue.due_on) for issue in record.issues
                                                       if issue.rectification]}))
        for issue in record.issues:
            if issue.answered_at:
                entries.append(Entry(ANSWER, beijing_day(issue.answered_at), issue.answered_by_name, at=issue.answered_at,
                                     anchor=anchor, facts={"answer": issue.answer}))
            if issue.judged_at and issue.settled is not None:
                entries.append(Entry(VERDICT, beijing_day(issue.judged_at), record.deputy_name, at=issue.judged_at,
                                     anchor=anchor, facts={"settled": issue.settled}))
    return entries


def _assessment_entries(project: Project) -> list[Entry]:
    return [Entry(DEPUTIES, beijing_day(assessed.round.announced_at), assessed.round.title, at=assessed.round.announced_at,
                  round_id=assessed.round.id, facts={"assessed": assessed, "below_bar": assessed.is_rectification})
            for assessed in deputy_assessments(project)]


def _is_plan_field(name: str) -> bool:
    return name.startswith(PLAN_PREFIXES) or name.endswith(PLAN_DATES)


def _is_told_elsewhere(change: ProjectChange) -> bool:
    """A line another entry tells: the events themselves, and an actual stage date set the
    first time (the stage entry says it); a corrected date stays a change."""
    if change.field in TOLD_ELSEWHERE:
        return True
    return change.field.endswith((".actual_start", ".actual_end")) and not change.old_value


def _history_entries(changes: list[ProjectChange]) -> list[Entry]:
    """The history folded: the lines one person wrote on one day make one entry (at most
    ROWS_SHOWN of them shown), the plan's lines apart from the other changes."""
    newest_first = sorted(changes, key=lambda change: change.id, reverse=True)
    position = {change.id: index for index, change in enumerate(newest_first)}
    created = [change for change in changes if change.field == "created"]
    entries = [Entry(CREATED, beijing_day(change.at), change.actor_name, at=change.at) for change in created]
    groups: dict[tuple[date, str, str], list[ProjectChange]] = {}
    for change in sorted(changes, key=lambda change: change.id):
        if not _is_told_elsewhere(change):
            kind = PLAN if _is_plan_field(change.field) else CHANGES
            groups.setdefault((beijing_day(change.at), change.actor_name, kind), []).append(change)
    for (day, actor, kind), rows in groups.items():
        entries.append(Entry(kind, day, actor, at=rows[0].at, rows=tuple(rows[:ROWS_SHOWN]),
                             more_rows=max(0, len(rows) - ROWS_SHOWN),
                             history_page=min(position[row.id] for row in rows) // HISTORY_PER_PAGE + 1,
                             facts={"count": len(rows), "fields": list(dict.fromkeys(row.field for row in rows))}))
    return entries


def _mark_reassessments(entries: list[Entry]) -> list[Entry]:
    """Once the residents' or the deputies' rating sent the project to rectification (整改), their
    next ratings are its reassessment."""
    marked, rectifying = [], set()
    for entry in entries:
        if entry.kind in RATING_KINDS:
            if entry.kind in rectifying:
                entry = replace(entry, is_reassessment=True)
            if entry.facts.get("below_bar"):
                rectifying.add(entry.kind)
        marked.append(entry)
    return marked


def project_story(project: Project, today: date, sources: Iterable[Source] = ()) -> list[Entry]:
    """Every entry of the project's story in the order it happened (planned ones where they fall)."""
    entries = [
        *_proposal_entries(project),
        *_vote_entries(project),
        *_history_entries(list(project.changes)),
        *_stage_entries(project, today),
        *_milestone_entries(project, today),
        *_report_entries(project),
        *_supervision_entries(project),
        *_assessment_entries(project),
    ]
    for source in sources:
        entries.extend(source(project, today))
    return _mark_reassessments(sorted(entries, key=Entry.sort_key))


def history_page(project: Project, requested: int | None) -> tuple[list[ProjectChange], Page]:
    """One page of every history line, newest first: where the timeline's folded groups lead."""
    total = db.session.scalar(select(func.count(ProjectChange.id)).where(ProjectChange.project_id == project.id))
    page = page_of(total, requested, HISTORY_PER_PAGE)
    changes = db.session.scalars(select(ProjectChange).where(ProjectChange.project_id == project.id)
                                 .order_by(ProjectChange.id.desc()).offset(page.offset).limit(page.per_page))
    return list(changes), page
