"""Print-ready reports (A4 HTML) and their Excel twins: a session's rounds and elected
projects; a year's projects with stages, spending, supervision and satisfaction."""

from datetime import datetime

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup

from voting_app.ballots.counting import SATISFACTION
from voting_app.ballots.service import state_label
from voting_app.db import db
from voting_app.labels import small_sample_note
from voting_app.projects.models import STAGES, Project
from voting_app.projects.service import default_year, project_ratings, project_years
from voting_app.projects.stages import PLAN_FIELD_LABELS, STAGE_LABELS, SUPERVISION_STATUS_LABELS
from voting_app.projects import delivery, schedule
from voting_app.reports import data, excel, paging
from voting_app.sessions.models import CongressSession
from voting_app.web import int_arg, public_url

bp = Blueprint("reports", __name__, url_prefix="/reports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The printing time an archive gives its pages: a WSGI environ key, which no HTTP client can set.
PRINTED_AT = "voting_app.printed_at"


def _xlsx(content: bytes, filename: str) -> Response:
    return Response(content, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.context_processor
def print_context() -> dict:
    """What every printed report carries: when it was printed (Beijing time) and page numbers.
    An archive prints its pages as of its own moment (PRINTED_AT), so the same record prints
    the same bytes."""
    sentence = _("Page %(page)s of %(pages)s", page="{page}", pages="{pages}")
    moment = request.environ.get(PRINTED_AT)
    printed_at = datetime.fromisoformat(moment).astimezone(schedule.BEIJING) if moment else datetime.now(schedule.BEIJING)
    return {"printed_at": printed_at, "page_counter": Markup(paging.counter_content(sentence))}


def _ratings() -> dict:
    return project_ratings(current_app.extensions.get("rating_sources", []))


@bp.get("/sessions/<int:session_id>")
def session_report(session_id: int):
    congress = db.get_or_404(CongressSession, session_id)
    return render_template("reports/session.html", report=data.session_report(congress), satisfaction=SATISFACTION,
                           state_label=state_label, board_url=lambda round_: public_url("ballots.board", round_id=round_.id))


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
    }


@bp.get("/sessions/<int:session_id>/report.xlsx")
def session_report_xlsx(session_id: int):
    congress = db.get_or_404(CongressSession, session_id)
    return _xlsx(excel.session_workbook(data.session_report(congress), _session_labels()), f"session-{congress.id}-report.xlsx")


def _year_arg() -> int | None:
    return None if request.args.get("year") == "all" else int_arg("year") or default_year(project_years())


@bp.get("/projects")
def year_report():
    report = data.year_report(_year_arg(), _ratings())
    return render_template("reports/year.html", report=report, years=project_years(), stages=STAGE_LABELS,
                           stage_order=STAGES)


@bp.get("/projects.xlsx")
def year_report_xlsx():
    report = data.year_report(_year_arg(), _ratings())
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
    today = schedule.beijing_today()
    return render_template("reports/project.html", item=data.project_report(project, _ratings(), today), stages=STAGE_LABELS,
                           plan_fields=PLAN_FIELD_LABELS, status_labels=SUPERVISION_STATUS_LABELS,
                           supervision_status=delivery.supervision_status,
                           milestone_overdue=lambda m: schedule.is_overdue(m.planned_on, m.done_on is not None, today),
                           rectification_overdue=lambda record: delivery.rectification_overdue(record, today))
