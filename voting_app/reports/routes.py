"""Print-ready reports (A4 HTML) and their Excel twins: a session's rounds and elected
projects; a year's projects with stages, spending, supervision and satisfaction; the report
pack of each project at each of the year's supervision checkpoints."""

from datetime import date, datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from voting_app.ballots.counting import SATISFACTION
from voting_app.ballots.service import state_label
from voting_app.db import db
from voting_app.labels import small_sample_note
from voting_app.permissions import reads_supervision_pack
from voting_app.projects.forms import CheckpointDaysForm
from voting_app.projects.models import CHECKPOINT_KINDS, STAGES, Project
from voting_app.projects.service import default_year, project_ratings, project_years
from voting_app.projects.stages import (
    CHANGE_KIND_LABELS,
    CHANGE_STATE_LABELS,
    CHECKPOINT_LABELS,
    PLAN_FIELD_LABELS,
    STAGE_LABELS,
    STATUS_LABELS,
    SUPERVISION_STATUS_LABELS,
)
from voting_app.projects import checkpoints, delivery, plans, schedule, supervision
from voting_app.reports import data, excel, paging
from voting_app.sessions.models import CongressSession
from voting_app.web import current_actor, int_arg, local_time, public_url

bp = Blueprint("reports", __name__, url_prefix="/reports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The printing time an archive gives its pages: a WSGI environ key, which no HTTP client can set.
PRINTED_AT = "voting_app.printed_at"
# The years a report, a checkpoint or an archive is written for: a project's years, as the project form takes them.
YEARS = range(2000, 2101)


def _xlsx(content: bytes, filename: str) -> Response:
    return Response(content, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.context_processor
def print_context() -> dict:
    """What every printed report carries: when it was printed (Beijing time) and page numbers.
    An archive prints its pages as of its own moment (PRINTED_AT), so the same record prints
    the same bytes."""
    sentence = _("Page %(page)s of %(pages)s", page="{page}", pages="{pages}")
    return {"printed_at": _printed_at(), "page_counter": Markup(paging.counter_content(sentence))}


def _printed_at() -> datetime:
    moment = request.environ.get(PRINTED_AT)
    return datetime.fromisoformat(moment).astimezone(schedule.BEIJING) if moment else datetime.now(schedule.BEIJING)


def report_today() -> date:
    """The day a report, pack or letter is figured as of: the archive's moment in Beijing when
    an archive prints it (PRINTED_AT), so a later day prints the same bytes; else today."""
    return _printed_at().date() if request.environ.get(PRINTED_AT) else schedule.beijing_today()


def _ratings() -> dict:
    return project_ratings(current_app.extensions.get("rating_sources", []))


@bp.get("/sessions/<int:session_id>")
def session_report(session_id: int):
    congress = db.get_or_404(CongressSession, session_id)
    return render_template("reports/session.html", report=data.session_report(congress), satisfaction=SATISFACTION,
                           state_label=state_label, kind_labels=CHANGE_KIND_LABELS, decision_labels=CHANGE_STATE_LABELS, board_url=lambda round_: public_url("ballots.board", round_id=round_.id))


def _session_labels() -> dict:
    return {
        "rounds": _("Rounds"), "round": _("Round"), "state": _("State"), "roster": _("Roster"), "present": _("Present"),
        "issued": _("Ballots issued"), "returned": _("Ballots returned"), "valid": _("Valid"), "void": _("Void"),
        "needed": _("Votes needed to pass"), "announced_at": _("Announced at (Beijing time)"), "digest": _("Board digest"), "votes": _("Votes per candidate"),
        "rank": _("Rank"), "candidate": _("Candidate project"), "votes_column": _("Votes"), "rated": _("Rated"),
        "rate": _("Satisfaction rate"),
        "outcome": _("Outcome"), "elected_sheet": _("Elected projects"), "department": _("Responsible department"),
        "investment": _("Investment (10,000 yuan)"), "elected": _("Elected"), "runoff": _("Tied: runoff"), "tied": _("Tied: seat unfilled"),
        "passed_no_seat": _("Passed, no seat"), "not_passed": _("Not passed"),
        "states": {state: str(state_label(state)) for state in ("draft", "open", "closed", "confirmed", "announced")},
        "void_sheet": _("Rounds declared void"), "voided_at": _("Declared void at (Beijing time)"),
        "void_requested_by": _("Asked by"), "voided_by": _("Confirmed by"), "void_reason": _("Reason"),
        "not_counted": _("Ballots returned, not counted"),
        "overall": _("Overall satisfaction rate (总体满意率)"), "overall_rated": _("Overall: ratings counted"),
        "points": _("Points"), "priority": _("Priority"),
        "changes_sheet": _("Changes decided"), "project": _("Project"), "request": _("Request"),
        "decision": _("Decision"), "decision_number": _("Decision number"), "meeting": _("Meeting of the standing committee"),
        "decided_on": _("Date of the decision"), "values": _("Proposed values"),
        "kinds": {kind: str(label) for kind, label in CHANGE_KIND_LABELS.items()},
        "decisions": {state: str(label) for state, label in CHANGE_STATE_LABELS.items()},
    }


@bp.get("/sessions/<int:session_id>/report.xlsx")
def session_report_xlsx(session_id: int):
    congress = db.get_or_404(CongressSession, session_id)
    return _xlsx(excel.session_workbook(data.session_report(congress), _session_labels()), f"session-{congress.id}-report.xlsx")


def _year_arg() -> int | None:
    return None if request.args.get("year") == "all" else int_arg("year") or default_year(project_years())


@bp.get("/projects")
def year_report():
    report = data.year_report(_year_arg(), _ratings(), report_today())
    return render_template("reports/year.html", report=report, years=project_years(), stages=STAGE_LABELS,
                           stage_order=STAGES)


@bp.get("/projects.xlsx")
def year_report_xlsx():
    report = data.year_report(_year_arg(), _ratings(), report_today())
    labels = {
        "projects": _("Projects"), "project": _("Project"), "year": _("Year"), "department": _("Responsible department"),
        "stage": _("Stage"), "progress": _("Progress (percent)"), "budget": _("Budget (10,000 yuan)"),
        "spent": _("Spent so far (10,000 yuan)"), "spent_share": _("Spent (percent of budget)"),
        "milestones_done": _("Milestones reached"), "milestones_overdue": _("Overdue milestones"),
        "supervisions": _("Supervision visits"), "rectifications_asked": _("Rectifications asked"),
        "rectifications_settled": _("Rectifications settled"), "rectifications_overdue": _("Overdue rectifications"),
        "residents": _("Residents’ satisfaction rate"), "residents_low": _("Residents: interval, lower end (95%)"),
        "residents_high": _("Residents: interval, upper end (95%)"), "residents_valid": _("Residents: valid answers"),
        "residents_note": _("Residents: note"), "small_sample": str(small_sample_note()),
        "deputies": _("Deputies’ satisfaction rate"), "deputies_rated": _("Deputies: rated"),
        "residents_held": _("Residents’ answers held for review (not counted)"),
        "deputies_verdict": _("Deputies: grade or verdict"),
        "stages": {stage: str(label) for stage, label in STAGE_LABELS.items()},
    }
    return _xlsx(excel.year_workbook(report, labels), f"projects-{report.year or 'all'}.xlsx")


@bp.get("/projects/<int:project_id>")
def project_report(project_id: int):
    project = db.get_or_404(Project, project_id)
    today = report_today()
    return render_template("reports/project.html", item=data.project_report(project, _ratings(), today), stages=STAGE_LABELS,
                           plan_fields=PLAN_FIELD_LABELS, status_labels=SUPERVISION_STATUS_LABELS,
                           supervision_status=delivery.supervision_status,
                           milestone_overdue=lambda m: project.is_late(m.planned_on, m.done_on is not None, today),
                           rectification_overdue=lambda record: delivery.rectification_overdue(record, today))


# The supervision cycle: a year's three checkpoints and each project's report pack at them


def _checkpoint_days() -> dict:
    return current_app.config["SUPERVISION_CHECKPOINT_DAYS"]


def _year_or_404(year: int) -> int:
    """A project's year as the project form takes it; any other has no checkpoints."""
    if year not in YEARS:
        abort(404)
    return year


def _checkpoint_year() -> int:
    return _year_or_404(int_arg("year") or default_year(project_years()) or schedule.beijing_today().year)


def _checkpoints_page(year: int, form: CheckpointDaysForm | None = None, status: int = 200):
    items = checkpoints.year_checkpoints(year, _checkpoint_days())
    if form is None:
        form = CheckpointDaysForm(formdata=None, data={item.kind: item.day for item in items})
    return render_template("reports/checkpoints.html", year=year, years=sorted({*project_years(), year}, reverse=True),
                           checkpoints=items, projects=checkpoints.year_projects(year), form=form, kinds=CHECKPOINT_LABELS,
                           today=schedule.beijing_today()), status


@bp.get("/checkpoints")
def checkpoint_list():
    return _checkpoints_page(_checkpoint_year())


@bp.post("/checkpoints/<int:year>")
def checkpoint_days(year: int):
    _year_or_404(year)
    form = CheckpointDaysForm()
    if form.validate_on_submit():
        try:
            supervision.set_checkpoint_days(current_actor(), year, {kind: form[kind].data for kind in CHECKPOINT_KINDS})
            db.session.commit()
            flash(_("The checkpoints' days are saved."), "success")
            return redirect(url_for("reports.checkpoint_list", year=year))
        except supervision.CheckpointDaysError as error:
            db.session.rollback()
            form[error.field].errors.append(str(error.message))
    return _checkpoints_page(year, form, 400)


def _pack(year: int, kind: str, project_id: int) -> checkpoints.Pack:
    """The pack, for staff and for the deputies of the project's supervising group only."""
    project = db.get_or_404(Project, project_id)
    checkpoint = checkpoints.checkpoint_of(_year_or_404(year), kind, _checkpoint_days())
    if checkpoint is None or project.year != year:
        abort(404)
    if not reads_supervision_pack(current_user, project):
        abort(403)
    return checkpoints.project_pack(project, checkpoint, _ratings(), report_today())


@bp.get("/checkpoints/<int:year>/<kind>/projects/<int:project_id>")
def checkpoint_pack(year: int, kind: str, project_id: int):
    return render_template("reports/pack.html", pack=_pack(year, kind, project_id), kinds=CHECKPOINT_LABELS, stages=STAGE_LABELS,
                           status_labels=SUPERVISION_STATUS_LABELS, project_status=STATUS_LABELS, wan_text=plans.wan_text,
                           number_text=plans.number_text, local_time=local_time)


def _pack_labels() -> dict:
    return {
        "summary": _("Pack"), "project": _("Project"), "checkpoint": _("Checkpoint"), "checkpoint_day": _("Checkpoint day"),
        "as_of": _("Figures as of"), "department": _("Responsible department"), "stage": _("Stage (now)"),
        "group": _("Supervision group"), "leader": _("Leader"), "members": _("Members"), "progress": _("Progress (percent)"),
        "milestones_done": _("Milestones reached"), "milestones": _("Milestones"), "open_rectifications": _("Open rectifications"),
        "overdue": _("Overdue"), "yes": _("yes"),
        "targets_sheet": _("Plan and targets"), "sub_item": _("Sub-item"), "target": _("Target"), "planned": _("Planned"),
        "unit": _("Unit"), "due": _("Due by"), "actual": _("Actual"), "reported_on": _("Reported on"),
        "percent": _("Done (percent)"),
        "milestones_sheet": _("Milestones"), "milestone": _("Milestone"), "planned_on": _("Planned date"), "done_on": _("Reached on"),
        "spending_sheet": _("Spending"), "budget": _("Budget (10,000 yuan)"), "spent": _("Spent so far (10,000 yuan)"),
        "spent_share": _("Spent (percent of budget)"), "project_figures": _("Project’s own figures"),
        "findings_sheet": _("Supervision findings"), "visited_on": _("Visit date"), "deputy": _("Deputy"),
        "findings": _("Findings"), "rectification": _("Rectification asked for"),
        "rectifications_sheet": _("Open rectifications"), "answer": _("Department’s answer"), "status": _("Status"),
        "satisfaction_sheet": _("Satisfaction"), "source": _("Rated by"), "assessment": _("Assessment"),
        "announced_on": _("Announced on"), "rate": _("Satisfaction rate"), "rated": _("Rated"), "verdict": _("Verdict"),
        "note": _("Note"), "deputies": _("Deputies"), "residents": _("Residents"), "latest_survey": _("Latest survey"),
        "below_bar": _("Below the bar: rectification (整改)"), "small_sample": str(small_sample_note()),
        "counted_now": _("As counted now: survey answers carry no checkpoint date"),
        "kinds": {kind: str(label) for kind, label in CHECKPOINT_LABELS.items()},
        "stages": {stage: str(label) for stage, label in STAGE_LABELS.items()},
        "statuses": {status: str(label) for status, label in SUPERVISION_STATUS_LABELS.items()},
    }


@bp.get("/checkpoints/<int:year>/<kind>/projects/<int:project_id>.xlsx")
def checkpoint_pack_xlsx(year: int, kind: str, project_id: int):
    pack = _pack(year, kind, project_id)
    return _xlsx(excel.pack_workbook([pack], _pack_labels()), f"pack-{year}-{kind}-project-{project_id}.xlsx")


@bp.get("/checkpoints/<int:year>/<kind>.xlsx")
def checkpoint_packs_xlsx(year: int, kind: str):
    """Every project of the year at one checkpoint, in one workbook."""
    checkpoint = checkpoints.checkpoint_of(_year_or_404(year), kind, _checkpoint_days())
    if checkpoint is None:
        abort(404)
    ratings = _ratings()
    today = report_today()
    packs = [checkpoints.project_pack(project, checkpoint, ratings, today) for project in checkpoints.year_projects(year)]
    return _xlsx(excel.pack_workbook(packs, _pack_labels()), f"packs-{year}-{kind}.xlsx")
