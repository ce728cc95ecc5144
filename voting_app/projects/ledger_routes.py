"""The supervision ledger and the reminder letters: the staff's ledger of issues (filtered,
exported), a department's own issues and letters, the staff's list of letters with the button
that issues them now, and the printable letter."""

from datetime import datetime

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from flask_login import current_user

from voting_app.db import db
from voting_app.forms import ButtonForm
from voting_app.permissions import reads_letter
from voting_app.projects import delivery, ledger, letters, overdue, schedule, service
from voting_app.projects.models import Department, ReminderLetter
from voting_app.projects.stages import LEDGER_STATE_LABELS, REMINDER_KIND_LABELS, SUPERVISION_STATUS_LABELS
from voting_app.reports.routes import XLSX, print_context
from voting_app.web import current_actor, int_arg

bp = Blueprint("ledger", __name__, url_prefix="/ledger")

# The letter prints as the reports do: when it was printed (Beijing time) and page numbers.
bp.context_processor(print_context)


def _filters() -> dict:
    years = service.project_years()
    year = None if request.args.get("year") == "all" else int_arg("year") or service.default_year(years)
    state = request.args.get("state") if request.args.get("state") in ledger.STATES else None
    return {"year": year, "department_id": int_arg("department"), "state": state, "years": years}


def _issue_rows(today) -> dict:
    """What ledger/_issue_rows.html needs besides the lines."""
    return {"status_labels": SUPERVISION_STATUS_LABELS, "supervision_status": ledger.supervision_status,
            "rectification_overdue": lambda issue: ledger.rectification_overdue(issue, today)}


@bp.get("/")
def issue_list():
    chosen = _filters()
    today = schedule.beijing_today()
    return render_template(
        "ledger/issues.html",
        lines=ledger.issues(chosen["year"], chosen["department_id"], chosen["state"], today),
        years=chosen["years"],
        departments=service.all_departments(),
        chosen=chosen,
        states=LEDGER_STATE_LABELS,
        **_issue_rows(today),
    )


@bp.get("/issues.xlsx")
def issue_export():
    chosen = _filters()
    today = schedule.beijing_today()
    labels = {
        "sheet": _("Supervision ledger"), "project": _("Project"), "year": _("Year"), "visited_on": _("Visited on"),
        "deputy": _("Deputy"), "problem": _("Issue found"), "department": _("Responsible department"),
        "rectification": _("Rectification asked"), "due_on": _("Due"), "answer": _("Department’s answer"),
        "answered_on": _("Answered on"), "status": _("Status"), "overdue": _("Overdue"), "yes": _("Yes"),
        "statuses": {key: str(value) for key, value in SUPERVISION_STATUS_LABELS.items()},
    }
    heading = _("Supervision ledger (问题、责任、整改台账) · exported %(at)s (Beijing time)",
                at=datetime.now(schedule.BEIJING).strftime("%Y-%m-%d %H:%M"))
    content = ledger.workbook(ledger.issues(chosen["year"], chosen["department_id"], chosen["state"], today),
                              labels, heading, today)
    name = f"supervision-ledger-{chosen['year'] or 'all'}.xlsx"
    return Response(content, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.get("/mine")
def department_issues():
    """A department's own issues (to answer on the project's page) and the letters sent to it."""
    department = db.session.get(Department, current_user.department_id) if current_user.department_id else None
    today = schedule.beijing_today()
    return render_template(
        "ledger/mine.html",
        department=department,
        lines=ledger.issues(department_id=department.id, today=today) if department else [],
        letters=letters.letters(department_id=department.id) if department else [],
        kinds=REMINDER_KIND_LABELS,
        **_issue_rows(today),
    )


@bp.get("/letters")
def letter_list():
    years = letters.letter_years()
    year = int_arg("year") or (years[0] if years else None)
    department_id = int_arg("department")
    today = schedule.beijing_today()
    return render_template(
        "ledger/letters.html",
        letters=letters.letters(year, department_id),
        years=years,
        chosen={"year": year, "department": department_id},
        departments=service.all_departments(),
        kinds=REMINDER_KIND_LABELS,
        late_by_department=overdue.by_department(delivery.overdue_items(today)),
        lettered=letters.issued_subjects(),
        today=today,
        button=ButtonForm(),
    )


@bp.post("/letters/generate")
def letter_generate():
    if not ButtonForm().validate_on_submit():
        abort(400)
    issued = letters.issue_letters(current_actor(), current_user.label, letters.settings_of(current_app.config))
    db.session.commit()
    if issued:
        flash(ngettext("%(num)d reminder letter issued: %(serials)s", "%(num)d reminder letters issued: %(serials)s",
                       len(issued), serials="、".join(letter.serial for letter in issued)), "success")
    else:
        flash(_("No new reminder letter: every overdue item already has one."), "success")
    return redirect(url_for("ledger.letter_list"))


@bp.get("/letters/<int:letter_id>")
def letter_detail(letter_id: int):
    letter = db.get_or_404(ReminderLetter, letter_id)
    if not reads_letter(current_user, letter):
        abort(403)
    return render_template("ledger/letter.html", letter=letter, kinds=REMINDER_KIND_LABELS,
                           sender=current_app.config["REMINDER_SENDER"])
