"""Staff pages of the liaison stations (deputies, reception calendar, duty roster, counts), and the
deputy on duty's reception-day entry (接待日录入). Every page works without JavaScript."""

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from wtforms.fields.choices import SelectChoice

from voting_app.clock import beijing_today
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.proposals.forms import THEME_LABELS
from voting_app.proposals.models import RECEPTION_DAY, Proposal
from voting_app.proposals.reception import (MAX_ROWS, BatchError, Row, enter_reception_batch, reception_counts,
                                            reception_years, stations_in_order)
from voting_app.proposals.service import THEMES, tracking_code_shown
from voting_app.registry import service as registry, stations as service
from voting_app.registry.models import LiaisonStation, Term, TermDeputy
from voting_app.registry.reception import regular_day
from voting_app.registry.terms import term_label
from voting_app.stations.forms import (DutyForm, ReceptionChangeForm, ReceptionDayForm, ReceptionEntryForm,
                                       RemoveDeputyForm, StationDeputyForm)
from voting_app.web import current_actor, flash_domain_error, int_arg, int_or_none

bp = Blueprint("stations", __name__, url_prefix="/stations")

CALENDAR_MONTHS = 6
FIRST_ROWS, MORE_ROWS = 3, 3


def _day_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.values.get(name, ""))
    except ValueError:
        return None


@bp.get("/")
def station_index():
    today = beijing_today()
    stations = stations_in_order()
    counts = reception_counts(today.year)
    received = {station.id: sum(counts.get(station.id, {}).values()) for station in stations}
    nexts = {station.id: next((r for r in service.station_calendar(station, today, 2)
                               if r.on is not None and r.on >= today), None) for station in stations}
    return render_template("stations/index.html", stations=stations, deputies=service.deputy_counts(),
                           received=received, nexts=nexts, year=today.year)


def _with_terms(form: StationDeputyForm) -> StationDeputyForm:
    """The add-deputy form offers each congress's newest term; the district's is chosen unless another was."""
    terms = registry.newest_terms()
    form.term_id.choices = [SelectChoice(term.id, term_label(term.congress.name, term.number)) for term in terms]
    if form.term_id.data is None and terms:
        form.term_id.data = terms[0].id
    return form


def _station_page(station: LiaisonStation, status: int = 200, **forms):
    today = beijing_today()
    calendar = service.station_calendar(station, today, CALENDAR_MONTHS)
    return render_template(
        "stations/detail.html", station=station, calendar=calendar, duties=service.duties_by_day(station),
        day_form=forms.get("day_form") or ReceptionDayForm(reception_day=station.reception_day),
        deputy_form=forms.get("deputy_form") or _with_terms(StationDeputyForm()), remove_form=RemoveDeputyForm(), today=today,
        entered=_entered_by_deputy(station)), status


def _entered_by_deputy(station: LiaisonStation) -> dict[int, int]:
    return dict(db.session.execute(
        select(Proposal.entered_by_deputy_id, func.count()).where(Proposal.station_id == station.id,
                                                                  Proposal.channel == RECEPTION_DAY,
                                                                  Proposal.entered_by_deputy_id.is_not(None))
        .group_by(Proposal.entered_by_deputy_id)).all())


@bp.get("/<int:station_id>")
def station_detail(station_id: int):
    return _station_page(db.get_or_404(LiaisonStation, station_id))


@bp.post("/<int:station_id>/reception-day")
def station_reception_day(station_id: int):
    station = db.get_or_404(LiaisonStation, station_id)
    form = ReceptionDayForm()
    if not form.validate_on_submit():
        return _station_page(station, 400, day_form=form)
    try:
        service.set_reception_day(current_actor(), station, form.reception_day.data)
        db.session.commit()
        flash(_("The reception day is now day %(day)d of every month.", day=form.reception_day.data), "success")
    except DomainError as error:
        flash_domain_error(error)
    return redirect(url_for("stations.station_detail", station_id=station.id))


@bp.post("/<int:station_id>/deputies")
def station_deputy_add(station_id: int):
    """A deputy is named by a term and their number in it: numbers repeat across congresses."""
    station = db.get_or_404(LiaisonStation, station_id)
    form = _with_terms(StationDeputyForm())
    if not form.validate_on_submit():
        return _station_page(station, 400, deputy_form=form)
    term = db.session.get(Term, form.term_id.data)
    deputy = registry.deputy_by_number(term, form.number.data)
    if deputy is None:
        form.number.errors.append(_("%(term)s has no deputy numbered %(number)s.",
                                    term=term_label(term.congress.name, term.number), number=form.number.data.strip()))
        return _station_page(station, 400, deputy_form=form)
    moved_from = deputy.station
    dropped = service.assign_station(current_actor(), deputy, station, beijing_today())
    db.session.commit()
    if moved_from is not None and moved_from.id != station.id:
        flash(_("%(name)s moved here from %(station)s.", name=deputy.name, station=moved_from.name), "success")
    else:
        flash(_("%(name)s works at this station now.", name=deputy.name), "success")
    if note := service.dropped_duties_note(deputy.name, dropped):
        flash(str(note), "info")
    return redirect(url_for("stations.station_detail", station_id=station.id) + "#deputies")


@bp.post("/<int:station_id>/deputies/remove")
def station_deputy_remove(station_id: int):
    station = db.get_or_404(LiaisonStation, station_id)
    form = RemoveDeputyForm()
    if not form.validate_on_submit():
        abort(400)
    deputy = db.session.get(TermDeputy, int_or_none(form.term_deputy_id.data) or 0)
    if deputy is None or deputy.station_id != station.id:
        abort(404)
    dropped = service.assign_station(current_actor(), deputy, None, beijing_today())
    db.session.commit()
    flash(_("%(name)s no longer works at this station.", name=deputy.name), "success")
    if note := service.dropped_duties_note(deputy.name, dropped):
        flash(str(note), "info")
    return redirect(url_for("stations.station_detail", station_id=station.id) + "#deputies")


def _is_regular(station: LiaisonStation, day: date) -> bool:
    return regular_day(day.year, day.month, station.reception_day) == day


def _duty_choices(station: LiaisonStation, scheduled: date) -> list[SelectChoice]:
    return [SelectChoice(d.id, f"{d.name}（{d.number}）") for d in service.duty_choices(station, scheduled)]


def _day_page(station: LiaisonStation, scheduled: date, status: int = 200, change_form=None, duty_form=None):
    reception = next(r for r in service.station_calendar(station, scheduled, 1))
    duty_form = duty_form or DutyForm(deputies=[d.id for d in service.duty_of(station, scheduled)])
    duty_form.deputies.choices = _duty_choices(station, scheduled)
    return render_template("stations/day.html", station=station, reception=reception,
                           change_form=change_form or ReceptionChangeForm(), duty_form=duty_form), status


@bp.get("/<int:station_id>/day")
def reception_day(station_id: int):
    station = db.get_or_404(LiaisonStation, station_id)
    scheduled = _day_arg("on")
    if scheduled is None or not _is_regular(station, scheduled):
        abort(404)
    return _day_page(station, scheduled)


@bp.post("/<int:station_id>/day/change")
def reception_change(station_id: int):
    station = db.get_or_404(LiaisonStation, station_id)
    scheduled = _day_arg("on")
    if scheduled is None or not _is_regular(station, scheduled):
        abort(404)
    form = ReceptionChangeForm()
    if not form.validate_on_submit():
        return _day_page(station, scheduled, 400, change_form=form)
    try:
        if form.action.data == "restore":
            service.restore_reception(current_actor(), station, scheduled)
        else:
            if form.action.data == "move" and form.moved_to.data is None:
                form.moved_to.errors = [_("Choose the new date.")]
                return _day_page(station, scheduled, 400, change_form=form)
            service.change_reception(current_actor(), station, scheduled,
                                     form.moved_to.data if form.action.data == "move" else None, form.reason.data or "")
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        form.reason.errors = [str(error.message)]
        return _day_page(db.get_or_404(LiaisonStation, station_id), scheduled, error.status, change_form=form)
    flash(_("The reception calendar is saved."), "success")
    return redirect(url_for("stations.station_detail", station_id=station.id) + "#calendar")


@bp.post("/<int:station_id>/day/duty")
def reception_duty(station_id: int):
    station = db.get_or_404(LiaisonStation, station_id)
    scheduled = _day_arg("on")
    if scheduled is None or not _is_regular(station, scheduled):
        abort(404)
    form = DutyForm()
    form.deputies.choices = _duty_choices(station, scheduled)
    if not form.validate_on_submit():
        return _day_page(station, scheduled, 400, duty_form=form)
    try:
        service.set_duty(current_actor(), station, scheduled, form.deputies.data or [])
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("stations.reception_day", station_id=station.id, on=scheduled.isoformat()))
    flash(_("The duty roster is saved."), "success")
    return redirect(url_for("stations.station_detail", station_id=station.id) + "#calendar")


@bp.get("/counts")
def reception_count_table():
    today = beijing_today()
    years = reception_years() or [today.year]
    year = int_arg("year") or (today.year if today.year in years else years[0])
    counts = reception_counts(year)
    stations = stations_in_order()
    months = list(range(1, 13))
    month_totals = {m: sum(per.get((year, m), 0) for per in counts.values()) for m in months}
    return render_template("stations/counts.html", stations=stations, counts=counts, months=months, year=year,
                           years=years, month_totals=month_totals,
                           total=sum(month_totals.values()))


# The deputy on duty: reception-day entry (接待日录入)


def _rows_from_request(count: int) -> list[Row]:
    return [Row(title=request.form.get(f"row-{i}-title", ""), description=request.form.get(f"row-{i}-description", ""),
                location=request.form.get(f"row-{i}-location", ""), theme=request.form.get(f"row-{i}-theme", ""))
            for i in range(count)]


def _off_duty_page(person: TermDeputy, today: date):
    """Why the deputy cannot enter today and, while they are in office, their next duty."""
    in_office = person.is_in_office_on(today)
    return render_template("stations/off_duty.html", reason=service.why_off_duty(person, today), in_office=in_office,
                           next_duty=service.next_duty(person, today) if in_office else None)


@bp.route("/reception", methods=["GET", "POST"])
def reception_entry():
    person = current_user.deputy.person
    today = beijing_today()
    duty = service.duty_on(person, today)
    if duty is None:
        return _off_duty_page(person, today)
    form = ReceptionEntryForm()
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        count = max(1, min(int_or_none(form.rows.data) or FIRST_ROWS, MAX_ROWS))
        rows = _rows_from_request(count)
        if "more" in request.form:
            rows += [Row() for _ in range(min(MORE_ROWS, MAX_ROWS - count))]
        else:
            try:
                stored = enter_reception_batch(current_actor(), person, rows, today)
                db.session.commit()
                flash(_("%(count)d proposals stored for %(station)s. Tracking codes for the visitors: %(codes)s",
                        count=len(stored), station=duty.station.name,
                        codes="、".join(tracking_code_shown(p.tracking_code) for p in stored)), "success")
                return redirect(url_for("stations.reception_entry"))
            except BatchError as batch:
                db.session.rollback()
                error, status = str(batch.message), 400
            except DomainError as problem:
                db.session.rollback()
                error, status = str(problem.message), problem.status
            person = db.session.get(TermDeputy, person.id)
            duty = service.duty_on(person, today)
            if duty is None:
                return _off_duty_page(person, today)
    else:
        rows = [Row() for _ in range(FIRST_ROWS)]
    entered_today = db.session.scalar(select(func.count(Proposal.id)).where(
        Proposal.entered_by_deputy_id == person.id, Proposal.station_id == duty.station.id,
        Proposal.channel == RECEPTION_DAY)) or 0
    return render_template("stations/entry.html", duty=duty, form=form, rows=rows, themes=THEMES,
                           theme_labels=THEME_LABELS, error=error, max_rows=MAX_ROWS,
                           entered=entered_today), status
