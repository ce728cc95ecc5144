"""The public proposal form and tracker (no account), and the staff's screening pages."""

import csv
import io

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from markupsafe import Markup

from wtforms.fields.choices import SelectChoice

from voting_app.ballots.models import Candidate, Round
from voting_app.db import db, reads_first
from voting_app.errors import DomainError
from voting_app.extensions import csrf, limit_per_address
from voting_app.forms import ButtonForm
from voting_app.images import MAX_UPLOAD_BYTES
from voting_app.projects.schedule import beijing_today
from voting_app.proposals import reasons as reason_service, service
from voting_app.proposals.forms import (THEME_LABELS, AcceptForm, DeclineForm, EntryForm, MergeForm, ProposalForm,
                                       ReasonForm, ReserveForm, StationForm, WindowForm)
from voting_app.proposals.models import (ACCEPTED, CHANNELS, DECLINED, MERGED, ONLINE, RECEIVED, RESERVED, STATION_QR, STATUSES, DeclineReason,
                                         LiaisonStation, Proposal)
from voting_app.proposals.status import CHANNEL_LABELS, STATUS_LABELS, UNCLASSIFIED
from voting_app.proposals.summary import breakdown, tally
from voting_app.proposals.window import is_short
from voting_app.spreadsheets import csv_cell
from voting_app.qr import qr_svg
from voting_app.labels import grid_level_labels
from voting_app.registry import grid_service
from voting_app.registry.grid_forms import GridChoiceForm, chosen_level
from voting_app.registry.grid_map import PALETTE, count_breaks, count_class, count_labels
from voting_app.uploads import photos_before_writing
from voting_app.web import current_actor, flash_domain_error, int_arg, public_url

bp = Blueprint("proposals", __name__)


def _station_or_404(code: str) -> LiaisonStation:
    station = service.station_by_code(code)
    if station is None:
        abort(404)
    return station


def _render_form(station: LiaisonStation | None, form: ProposalForm, message: str | None = None, status: int = 200):
    """The station's QR form, or the online form when there is no station; both follow the collection window."""
    collection = service.collection_today()
    return render_template("proposals/propose.html", station=station, form=form, message=message,
                           collection=collection, max_mb=MAX_UPLOAD_BYTES // (1024 * 1024)), \
        (status if collection.is_open else 409 if request.method == "POST" else 200)


def _take_proposal(station: LiaisonStation | None, channel: str):
    """CSRF is checked here rather than by the global guard, so a resident whose page went
    stale gets the form back with what they wrote instead of an error page."""
    form = ProposalForm()
    if not service.collection_today().is_open:
        return _render_form(station, form)
    if not ButtonForm().validate_on_submit():
        message = _("This page was open too long, so your proposal could not be sent. It is still below: choose the photo again if you had one, and press Send again.")
        return _render_form(station, form, message, status=400)
    if not form.validate():
        return _render_form(station, form, status=400)
    try:
        photos = photos_before_writing([form.photo.data], service.MAX_PROPOSAL_PHOTOS)
        proposal = service.submit_proposal(station, form.title.data, form.description.data, form.location.data,
                                           form.theme.data, form.contact.data, photos, channel=channel)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _render_form(station, form, str(error.message), status=error.status)
    return redirect(url_for("proposals.track", code=proposal.tracking_code, new=1))


@bp.get("/p/online")
def propose_online():
    """The online form (网上征集): the same form with no station, published on the district's site."""
    return _render_form(None, ProposalForm(formdata=None))


@bp.post("/p/online")
@reads_first
@csrf.exempt
@limit_per_address("PROPOSAL_SUBMIT_LIMIT")
def propose_online_submit():
    return _take_proposal(None, ONLINE)


@bp.get("/p/<station_code>")
def propose(station_code: str):
    return _render_form(_station_or_404(station_code), ProposalForm(formdata=None))


@bp.post("/p/<station_code>")
@reads_first
@csrf.exempt
@limit_per_address("PROPOSAL_SUBMIT_LIMIT")
def propose_submit(station_code: str):
    return _take_proposal(_station_or_404(station_code), STATION_QR)


def reason_text(reason: DeclineReason) -> str:
    """A managed reason in the reader's language: the English wording when there is one."""
    return reason.label_en if reason.label_en and str(get_locale()).startswith("en") else reason.label


@bp.get("/p/track")
def track():
    typed = request.args.get("code", "")
    proposal = service.find_by_tracking_code(typed) if typed else None
    merged_into = proposal.merged_into if proposal is not None else None
    followed = merged_into or proposal
    candidate = db.session.get(Candidate, followed.candidate_id) if followed and followed.candidate_id else None
    return render_template(
        "proposals/track.html",
        typed=typed,
        proposal=proposal,
        merged_into=merged_into,
        candidate=candidate,
        project=service.project_of(candidate) if candidate else None,
        is_new=request.args.get("new") == "1",
        shown=service.tracking_code_shown,
        statuses=STATUS_LABELS,
        themes=THEME_LABELS,
        channels=CHANNEL_LABELS,
        reason_text=reason_text,
        unclassified=UNCLASSIFIED,
    ), 404 if typed and proposal is None else 200


# Staff


@bp.get("/proposals/")
def proposal_list():
    station_id = int_arg("station")
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    theme = request.args.get("theme") if request.args.get("theme") in THEME_LABELS else None
    search = request.args.get("q", "").strip()
    from_reserve = request.args.get("reserve") == "1"
    channel = request.args.get("channel") if request.args.get("channel") in CHANNELS else None
    proposals, page = service.proposal_page(status, station_id, theme, search, int_arg("page"), from_reserve, channel)
    return render_template(
        "proposals/list.html",
        proposals=proposals,
        page=page,
        stations=db.session.scalars(db.select(LiaisonStation).order_by(LiaisonStation.name)).all(),
        chosen={"status": status, "station": station_id, "theme": theme, "q": search, "reserve": from_reserve,
                "channel": channel},
        statuses=STATUS_LABELS,
        themes=THEME_LABELS,
        channels=CHANNEL_LABELS,
        shown=service.tracking_code_shown,
    )


def _stations() -> list[LiaisonStation]:
    return db.session.scalars(db.select(LiaisonStation).order_by(LiaisonStation.name)).all()


@bp.route("/proposals/new", methods=["GET", "POST"])
@reads_first
def proposal_enter():
    """Staff enter a proposal on a resident's behalf (reception day, courtyard meeting, deputy,
    department): the same checks as the public form, with the channel it came through."""
    form = EntryForm() if request.method == "POST" else EntryForm(formdata=None)
    form.offer_stations(_stations())
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            station = db.session.get(LiaisonStation, form.station_id.data) if form.station_id.data else None
            try:
                photos = photos_before_writing([form.photo.data], service.MAX_PROPOSAL_PHOTOS)
                proposal = service.submit_proposal(station, form.title.data, form.description.data, form.location.data,
                                                   form.theme.data, form.contact.data, photos, channel=form.channel.data,
                                                   entered_by=current_actor())
                db.session.commit()
            except DomainError as error:
                db.session.rollback()
                form.channel.errors.append(str(error.message))
                status = error.status
            else:
                flash(_("Proposal entered. Its tracking code for the proposer: %(code)s",
                        code=service.tracking_code_shown(proposal.tracking_code)), "success")
                return redirect(url_for("proposals.proposal_detail", proposal_id=proposal.id))
        else:
            status = 400
    return render_template("proposals/enter.html", form=form, max_mb=MAX_UPLOAD_BYTES // (1024 * 1024)), status


def _round_choices() -> list[SelectChoice]:
    return [SelectChoice(r.id, f"{r.session.name} · {r.title}") for r in service.draft_rounds()]


def _detail_page(proposal: Proposal, accept_form=None, merge_form=None, decline_form=None, reserve_form=None,
                 grid_form=None, status: int = 200):
    accept_form = accept_form or AcceptForm(formdata=None)
    accept_form.round_id.choices = _round_choices()
    accept_form.offer_departments()
    return render_template(
        "proposals/detail.html",
        proposal=proposal,
        accept_form=accept_form,
        merge_form=merge_form or MergeForm(formdata=None, meta={"csrf": False}),
        button=ButtonForm(),
        decline_form=decline_form or _decline_form(formdata=None),
        reserve_form=reserve_form or ReserveForm(formdata=None),
        grid_form=grid_form or GridChoiceForm(formdata=None, obj=proposal),
        may_reserve=service.may_reserve(proposal),
        duplicates=db.session.scalars(db.select(Proposal).where(Proposal.merged_into_id == proposal.id)).all(),
        supporters=service.supporters(proposal),
        similar=service.similar_proposals(proposal) if proposal.status in (RECEIVED, RESERVED) else [],
        statuses=STATUS_LABELS,
        themes=THEME_LABELS,
        channels=CHANNEL_LABELS,
        reason_text=reason_text,
        unclassified=UNCLASSIFIED,
        shown=service.tracking_code_shown,
    ), status


def _decline_form(**kwargs) -> DeclineForm:
    """Offers the active reasons only: a retired one stays on old proposals but is never chosen again."""
    form = DeclineForm(**kwargs)
    form.offer_reasons(reason_service.reason_list(active_only=True))
    return form


def _proposal(proposal_id: int) -> Proposal:
    return db.get_or_404(Proposal, proposal_id)


def _screened(proposal: Proposal, message: str):
    flash(message, "success")
    return redirect(url_for("proposals.proposal_detail", proposal_id=proposal.id))


@bp.get("/proposals/<int:proposal_id>")
def proposal_detail(proposal_id: int):
    return _detail_page(_proposal(proposal_id))


@bp.post("/proposals/<int:proposal_id>/grid")
def proposal_grid(proposal_id: int):
    """The grid a proposal is about, set at screening (any level: a centre when it is no nearer)."""
    proposal = _proposal(proposal_id)
    form = GridChoiceForm()
    if not form.validate_on_submit():
        return _detail_page(proposal, grid_form=form, status=400)
    service.set_grid(current_actor(), proposal, form.grid_id.data)
    db.session.commit()
    return _screened(proposal, _("Grid saved."))


@bp.post("/proposals/<int:proposal_id>/accept")
def proposal_accept(proposal_id: int):
    proposal = _proposal(proposal_id)
    form = AcceptForm()
    form.round_id.choices = _round_choices()
    form.offer_departments()
    if not form.validate_on_submit():
        return _detail_page(proposal, accept_form=form, status=400)
    try:
        candidate = service.accept_proposal(
            current_actor(), current_user.label, proposal, db.get_or_404(Round, form.round_id.data),
            form.chosen_department_name(current_actor()), form.investment.data, form.planned_completion.data,
        )
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("proposals.proposal_detail", proposal_id=proposal_id))
    return _screened(proposal, _("Accepted as a candidate in “%(round)s”.", round=candidate.round.title))


def _merge_target(form: MergeForm) -> Proposal | None:
    """The proposal the form's tracking code names, or None with the error on the form."""
    into = service.find_by_tracking_code(form.into.data)
    if into is None:
        form.into.errors.append(_("No proposal has this tracking code."))
    return into


@bp.get("/proposals/<int:proposal_id>/merge")
def proposal_merge_confirm(proposal_id: int):
    """Says what the merge will do before anything changes; the button on it merges."""
    proposal = _proposal(proposal_id)
    form = MergeForm(request.args, meta={"csrf": False})
    into = _merge_target(form) if form.validate() else None
    if into is None:
        return _detail_page(proposal, merge_form=form, status=400)
    try:
        plan = service.merge_plan(proposal, into)
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("proposals.proposal_detail", proposal_id=proposal_id))
    return render_template("proposals/merge_confirm.html", plan=plan, form=MergeForm(formdata=None),
                           statuses=STATUS_LABELS, channels=CHANNEL_LABELS, shown=service.tracking_code_shown)


@bp.post("/proposals/<int:proposal_id>/merge")
def proposal_merge(proposal_id: int):
    proposal = _proposal(proposal_id)
    form = MergeForm()
    if not form.validate_on_submit():
        return _detail_page(proposal, merge_form=form, status=400)
    into = _merge_target(form)
    if into is None:
        return _detail_page(proposal, merge_form=form, status=400)
    try:
        service.merge_proposal(current_actor(), current_user.label, proposal, into)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("proposals.proposal_detail", proposal_id=proposal_id))
    return _screened(proposal, _("Merged into %(code)s. You can undo this below.",
                                 code=service.tracking_code_shown(into.tracking_code)))


@bp.post("/proposals/<int:proposal_id>/unmerge")
def proposal_unmerge(proposal_id: int):
    proposal = _proposal(proposal_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        came_back = service.unmerge_proposal(current_actor(), proposal)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("proposals.proposal_detail", proposal_id=proposal_id))
    return _screened(proposal, _("Merge undone: the proposal is open for screening again, and %(count)d merged into it came back with it.",
                                 count=len(came_back)))


def _screening_step(proposal_id: int, form, form_name: str, step, done_message: str):
    """A screening decision taken from the detail page's form: the page again with the form's
    errors (400), or the step, committed, then back with its message."""
    proposal = _proposal(proposal_id)
    if not form.validate_on_submit():
        return _detail_page(proposal, **{form_name: form}, status=400)
    try:
        step(proposal, form)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("proposals.proposal_detail", proposal_id=proposal_id))
    return _screened(proposal, done_message)


@bp.post("/proposals/<int:proposal_id>/decline")
def proposal_decline(proposal_id: int):
    return _screening_step(
        proposal_id, _decline_form(), "decline_form",
        lambda proposal, form: service.decline_proposal(current_actor(), current_user.label, proposal,
                                                        form.reasons.data, form.explanation.data),
        _("Declined; the proposer can read the reasons."),
    )


@bp.post("/proposals/<int:proposal_id>/reserve")
def proposal_reserve(proposal_id: int):
    return _screening_step(
        proposal_id, ReserveForm(), "reserve_form",
        lambda proposal, form: service.reserve_proposal(current_actor(), current_user.label, proposal, form.note.data),
        _("Kept in the reserve: it appears in next year’s screening, marked as from the reserve."),
    )


@bp.route("/proposals/windows", methods=["GET", "POST"])
def window_list():
    """Each year's collection window; the public form follows it."""
    form = WindowForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                window = service.set_window(current_actor(), form.year.data, form.opens_on.data, form.closes_on.data)
                db.session.commit()
                flash(_("Collection for %(year)s runs from %(opens)s to %(closes)s.", year=window.year,
                        opens=window.opens_on.isoformat(), closes=window.closes_on.isoformat()), "success")
                if is_short(window):
                    flash(_("Collection is shorter than 30 days (%(days)d days). Common practice is at least 30 days, in the third quarter.",
                            days=window.days), "warn")
                return redirect(url_for("proposals.window_list"))
            except DomainError as error:
                db.session.rollback()
                form.closes_on.errors.append(str(error.message))
                status = error.status
        else:
            status = 400
    return render_template("proposals/windows.html", form=form, windows=service.windows(),
                           collection=service.collection_today()), status


@bp.get("/proposals/counts")
def proposal_counts():
    by_channel = service.counts_by_channel()
    return render_template(
        "proposals/counts.html",
        totals={key: sum(row.by_status.get(key, 0) for row in by_channel) for key in STATUSES},
        by_station=service.counts_by_station(),
        by_theme=service.counts_by_theme(),
        by_channel=by_channel,
        declined=tally(service.summary_facts()),
        reasons=reason_service.reason_list(),
        reason_text=reason_text,
        unclassified=UNCLASSIFIED,
        statuses=STATUS_LABELS,
        themes=THEME_LABELS,
        channels=CHANNEL_LABELS,
    )


# Decline reasons, managed by staff


def _reason(reason_id: int) -> DeclineReason:
    return db.get_or_404(DeclineReason, reason_id)


def _reasons_page(form: ReasonForm | None = None, status: int = 200):
    return render_template("proposals/reasons.html", reasons=reason_service.reason_list(),
                           uses=reason_service.uses_by_reason(), form=form or ReasonForm(formdata=None),
                           button=ButtonForm()), status


def _reason_step(step, message: str):
    """A change to the list from a button: done and committed, or the error flashed; back to the list."""
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        step()
        db.session.commit()
        flash(message, "success")
    except DomainError as error:
        db.session.rollback()
        flash_domain_error(error)
    return redirect(url_for("proposals.reason_list"))


@bp.route("/proposals/reasons", methods=["GET", "POST"])
def reason_list():
    """The reasons staff choose from when declining; add one here."""
    if request.method == "GET":
        return _reasons_page()
    form = ReasonForm()
    if not form.validate_on_submit():
        return _reasons_page(form, 400)
    try:
        reason = reason_service.add_reason(current_actor(), form.label.data, form.label_en.data)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        form.label.errors.append(str(error.message))
        return _reasons_page(form, error.status)
    flash(_("Reason “%(label)s” added.", label=reason.label), "success")
    return redirect(url_for("proposals.reason_list"))


@bp.route("/proposals/reasons/<int:reason_id>", methods=["GET", "POST"])
def reason_edit(reason_id: int):
    reason = _reason(reason_id)
    form = ReasonForm(obj=reason) if request.method == "GET" else ReasonForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                reason_service.rename_reason(current_actor(), reason, form.label.data, form.label_en.data)
                db.session.commit()
                flash(_("Reason renamed."), "success")
                return redirect(url_for("proposals.reason_list"))
            except DomainError as error:
                db.session.rollback()
                form.label.errors.append(str(error.message))
                status = error.status
        else:
            status = 400
    return render_template("proposals/reason_edit.html", reason=reason, form=form,
                           uses=reason_service.uses(reason)), status


@bp.post("/proposals/reasons/<int:reason_id>/retire")
def reason_retire(reason_id: int):
    reason = _reason(reason_id)
    restore = not reason.is_active
    return _reason_step(lambda: reason_service.set_active(current_actor(), reason, restore),
                        _("Reason offered again.") if restore else _("Reason retired: no longer offered, kept on the proposals that carry it."))


@bp.post("/proposals/reasons/<int:reason_id>/move")
def reason_move(reason_id: int):
    reason = _reason(reason_id)
    step = -1 if request.form.get("step") == "up" else 1
    return _reason_step(lambda: reason_service.move_reason(current_actor(), reason, step), _("Order changed."))


@bp.get("/proposals/reasons/<int:reason_id>/delete")
def reason_delete_confirm(reason_id: int):
    """Says whether the reason can go before anything changes; the button on it deletes."""
    reason = _reason(reason_id)
    return render_template("proposals/reason_delete.html", reason=reason, uses=reason_service.uses(reason),
                           button=ButtonForm())


@bp.post("/proposals/reasons/<int:reason_id>/delete")
def reason_delete(reason_id: int):
    reason = _reason(reason_id)
    label = reason.label
    return _reason_step(lambda: reason_service.delete_reason(current_actor(), reason),
                        _("Reason “%(label)s” deleted.", label=label))


# The public collection summary


def _summary_year(years: list[int]) -> int:
    year = int_arg("year")
    if year in years:
        return year
    this_year = beijing_today().year
    return this_year if this_year in years or not years else years[0]


def _summary():
    """The year's figures, broken down by every dimension, with the words each row is labelled with."""
    years = service.summary_years()
    year = _summary_year(years)
    facts = service.summary_facts(year)
    tables = []
    for dimension in service.SUMMARY_DIMENSIONS:
        rows = dimension.rows()
        labels = dict(rows)
        tables.append((dimension.heading, dimension.row_heading, breakdown(facts, dimension.name, [key for key, _label in rows]),
                       lambda key, labels=labels, none=dimension.none_label: labels.get(key, none if key is None else str(key))))
    reasons = reason_service.reason_list()
    total = tally(facts)
    shown_reasons = [r for r in reasons if r.is_active or total.reason(r.id)]
    return years, year, total, tables, shown_reasons


SUMMARY_STATUSES = (RECEIVED, ACCEPTED, MERGED, DECLINED, RESERVED)


@bp.get("/proposals/summary")
def summary():
    """What became of every proposal of a year, for anyone to read: counts only, no proposer."""
    years, year, total, tables, reasons = _summary()
    return render_template("proposals/summary.html", years=years, year=year, total=total, tables=tables,
                           reasons=reasons, reason_text=reason_text, unclassified=UNCLASSIFIED,
                           statuses=STATUS_LABELS, summary_statuses=SUMMARY_STATUSES)


@bp.get("/proposals/summary.csv")
def summary_csv():
    """The same figures as the page, one row per channel or station, for Excel (UTF-8 with BOM)."""
    years, year, total, tables, reasons = _summary()
    reason_keys = [r.id for r in reasons] + [None]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_cell(str(text)) for text in (
        _("Breakdown"), _("Row"), _("Proposals received"), *(STATUS_LABELS[key] for key in SUMMARY_STATUSES),
        _("Elected by the deputies"), *(reason_text(r) for r in reasons), UNCLASSIFIED)])
    for heading, _column, table, label in tables:
        for key, row in [*table.rows, ("__total__", table.total)]:
            writer.writerow([csv_cell(value) for value in (
                str(heading), str(_("Total") if key == "__total__" else label(key)), row.received,
                *(row.status(s) for s in SUMMARY_STATUSES), row.elected, *(row.reason(r) for r in reason_keys))])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename=proposal-summary-{year}.csv"})


@bp.get("/proposals/by-grid")
def proposal_grid_counts():
    """Proposals by grid at a chosen level: a map of how many, and the counts by status."""
    form, level = chosen_level(request.args)
    rows = service.counts_by_grid(level)
    breaks = count_breaks([row.total for row in rows if row.key is not None])
    values = {row.key.id: (str(row.total), count_class(row.total, breaks)) for row in rows if row.key is not None}
    labels = grid_level_labels()
    title = _("Proposals by %(level)s", level=labels[level])
    return render_template(
        "proposals/by_grid.html", rows=rows, level=level, level_form=form, level_labels=labels, title=title,
        svg=Markup(grid_service.draw_map(level, values, title, "")),
        legend=list(zip(PALETTE, count_labels(breaks))), statuses=STATUS_LABELS,
        totals={key: sum(row.by_status.get(key, 0) for row in rows) for key in STATUSES},
    )


@bp.route("/proposals/stations", methods=["GET", "POST"])
def station_list():
    form = StationForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                station = service.add_station(current_actor(), form.name.data, form.address.data)
                db.session.commit()
                flash(_("Liaison station %(name)s added.", name=station.name), "success")
                return redirect(url_for("proposals.station_list"))
            except DomainError as error:
                db.session.rollback()
                form.name.errors.append(str(error.message))
                status = error.status
        else:
            status = 400
    stations = db.session.scalars(db.select(LiaisonStation).order_by(LiaisonStation.name)).all()
    links = {station.id: public_url("proposals.propose", station_code=station.code) for station in stations}
    return render_template("proposals/stations.html", stations=stations, links=links, form=form,
                           online=public_url("proposals.propose_online")), status


@bp.get("/proposals/stations/<int:station_id>/poster")
def station_poster(station_id: int):
    station = db.get_or_404(LiaisonStation, station_id)
    url = public_url("proposals.propose", station_code=station.code)
    return render_template("proposals/poster.html", station=station, url=url, qr=qr_svg(url, station.name))
