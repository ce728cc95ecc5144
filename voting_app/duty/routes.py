"""Duty records (履职档案) for the committee's staff: the term's duty table, a deputy's record,
and the Excel export for duty evaluation (履职评价)."""

from datetime import datetime

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _

from voting_app import audit
from voting_app.clock import BEIJING
from voting_app.db import db
from voting_app.duty import excel, service
from voting_app.duty.forms import DutyExportForm
from voting_app.duty.labels import CHECKIN_METHOD_LABELS, LEVEL_LABELS, OFFICE_CHANGE_LABELS, STANDING_LABELS, label
from voting_app.projects.delivery import record_status
from voting_app.projects.stages import SUPERVISION_STATUS_LABELS
from voting_app.registry.models import Term, TermDeputy
from voting_app.web import current_actor, local_time

bp = Blueprint("duty", __name__, url_prefix="/duty")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _filters(source) -> tuple[str, str]:
    return source.get("delegation", "").strip()[:100], source.get("level", "").strip()[:20]


@bp.context_processor
def _labels() -> dict:
    return {"level_label": lambda code: label(LEVEL_LABELS, code),
            "method_label": lambda code: label(CHECKIN_METHOD_LABELS, code),
            "change_label": lambda code: label(OFFICE_CHANGE_LABELS, code),
            "standing_labels": STANDING_LABELS, "status_labels": SUPERVISION_STATUS_LABELS,
            "supervision_status": record_status}


@bp.get("/")
def term_list():
    return render_template("duty/terms.html", terms=service.terms())


@bp.get("/terms/<int:term_id>")
def duty_table(term_id: int):
    term = db.get_or_404(Term, term_id)
    delegation, level = _filters(request.args)
    table = service.duty_table(term, delegation, level)
    form = DutyExportForm(formdata=None, delegation=delegation, level=level)
    return render_template("duty/table.html", table=table, delegation=delegation, level=level, form=form)


@bp.get("/terms/<int:term_id>/deputies/<int:person_id>")
def deputy_duty(term_id: int, person_id: int):
    term = db.get_or_404(Term, term_id)
    person = db.get_or_404(TermDeputy, person_id)
    if person.term_id != term.id:
        abort(404)
    return render_template("duty/deputy.html", record=service.deputy_record(term, person))


def _export_labels() -> dict:
    return {
        "heading": _("{term} · Duty records · exported {at} (Beijing time)"),
        "duty_sheet": _("Duty records"), "checkin_sheet": _("Check-ins"), "supervision_sheet": _("Supervision visits"),
        "office_sheet": _("Changes in office"),
        "number": _("Number"), "name": _("Name"), "delegation": _("Delegation"), "unit": _("Work unit"),
        "level": _("Level"), "attended": _("Sessions attended"), "due": _("Sessions held while in office"),
        "rate": _("Attendance rate"), "check_ins": _("Check-ins"), "in_office": _("In office"),
        "serving": _("Serving"), "left": _("Left office on {day}"), "contact": _("Contact (staff only)"),
        "session": _("Session"), "checked_in_at": _("Checked in at (Beijing time)"), "method": _("Method"),
        "project": _("Project"), "visited_on": _("Visited on"), "findings": _("Findings"),
        "rectification": _("Rectification asked"), "status": _("Status"),
        "statuses": {key: str(value) for key, value in SUPERVISION_STATUS_LABELS.items()},
        "change": _("Change"), "effective_on": _("Effective on"), "note": _("Note"),
    }


@bp.route("/terms/<int:term_id>/duty.xlsx", methods=["GET", "POST"])
def duty_export(term_id: int):
    """GET: the table as filtered, without contacts. POST: the same, with the contacts when staff
    ticked the box, which goes on the audit log (GET never writes)."""
    term = db.get_or_404(Term, term_id)
    include_contacts = False
    if request.method == "POST":
        form = DutyExportForm()
        if not form.validate_on_submit():
            abort(400)
        delegation, level = form.delegation.data or "", form.level.data or ""
        include_contacts = bool(form.include_contacts.data)
    else:
        delegation, level = _filters(request.args)
    table = service.duty_table(term, delegation, level)
    records = service.deputy_records(term, [row.person for row in table.rows])
    contacts = None
    if include_contacts:
        contacts = service.contacts(term)
        audit.record(current_actor(), "duty.export_contacts", f"term:{term.id}",
                     delegation=delegation, level=level, deputies=len(table.rows))
        db.session.commit()
    content = excel.duty_workbook(table, records, _export_labels(), datetime.now(BEIJING), local_time,
                                  record_status, contacts)
    return Response(content, mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename=duty-term-{term.id}.xlsx"})
