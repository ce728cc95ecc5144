"""The public proposal form and tracker (no account), and the staff's screening pages."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from wtforms.fields.choices import SelectChoice

from voting_app.ballots.models import Candidate, Round
from voting_app.db import db, reads_first
from voting_app.errors import DomainError
from voting_app.extensions import csrf, limiter
from voting_app.forms import ButtonForm
from voting_app.images import MAX_UPLOAD_BYTES
from voting_app.proposals import service
from voting_app.proposals.forms import (THEME_LABELS, AcceptForm, DeclineForm, MergeForm, ProposalForm, ReserveForm,
                                       StationForm, WindowForm)
from voting_app.proposals.models import RECEIVED, RESERVED, STATUSES, LiaisonStation, Proposal
from voting_app.proposals.window import is_short
from voting_app.proposals.status import STATUS_LABELS
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


def _render_form(station: LiaisonStation, form: ProposalForm, message: str | None = None, status: int = 200):
    collection = service.collection_today()
    return render_template("proposals/propose.html", station=station, form=form, message=message,
                           collection=collection, max_mb=MAX_UPLOAD_BYTES // (1024 * 1024)), \
        (status if collection.is_open else 409 if request.method == "POST" else 200)


@bp.get("/p/<station_code>")
def propose(station_code: str):
    return _render_form(_station_or_404(station_code), ProposalForm(formdata=None))


@bp.post("/p/<station_code>")
@reads_first
@csrf.exempt
@limiter.limit(lambda: current_app.config["PROPOSAL_SUBMIT_LIMIT"])
def propose_submit(station_code: str):
    """CSRF is checked here rather than by the global guard, so a resident whose page went
    stale gets the form back with what they wrote instead of an error page."""
    station = _station_or_404(station_code)
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
                                           form.theme.data, form.contact.data, photos)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return _render_form(station, form, str(error.message), status=error.status)
    return redirect(url_for("proposals.track", code=proposal.tracking_code, new=1))


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
    ), 404 if typed and proposal is None else 200


# Staff


@bp.get("/proposals/")
def proposal_list():
    station_id = int_arg("station")
    status = request.args.get("status") if request.args.get("status") in STATUSES else None
    theme = request.args.get("theme") if request.args.get("theme") in THEME_LABELS else None
    search = request.args.get("q", "").strip()
    from_reserve = request.args.get("reserve") == "1"
    proposals, page = service.proposal_page(status, station_id, theme, search, int_arg("page"), from_reserve)
    return render_template(
        "proposals/list.html",
        proposals=proposals,
        page=page,
        stations=db.session.scalars(db.select(LiaisonStation).order_by(LiaisonStation.name)).all(),
        chosen={"status": status, "station": station_id, "theme": theme, "q": search, "reserve": from_reserve},
        statuses=STATUS_LABELS,
        themes=THEME_LABELS,
        shown=service.tracking_code_shown,
    )


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
        decline_form=decline_form or DeclineForm(formdata=None),
        reserve_form=reserve_form or ReserveForm(formdata=None),
        grid_form=grid_form or GridChoiceForm(formdata=None, obj=proposal),
        may_reserve=service.may_reserve(proposal),
        duplicates=db.session.scalars(db.select(Proposal).where(Proposal.merged_into_id == proposal.id)).all(),
        supporters=service.supporters(proposal),
        similar=service.similar_proposals(proposal) if proposal.status in (RECEIVED, RESERVED) else [],
        statuses=STATUS_LABELS,
        themes=THEME_LABELS,
        shown=service.tracking_code_shown,
    ), status


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
                           statuses=STATUS_LABELS, shown=service.tracking_code_shown)


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
        proposal_id, DeclineForm(), "decline_form",
        lambda proposal, form: service.decline_proposal(current_actor(), current_user.label, proposal, form.reason.data),
        _("Declined; the proposer can read the reason."),
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
    by_station = service.counts_by_station()
    return render_template(
        "proposals/counts.html",
        totals={key: sum(row.by_status.get(key, 0) for row in by_station) for key in STATUSES},
        by_station=by_station,
        by_theme=service.counts_by_theme(),
        statuses=STATUS_LABELS,
        themes=THEME_LABELS,
    )


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
    return render_template("proposals/stations.html", stations=stations, links=links, form=form), status


@bp.get("/proposals/stations/<int:station_id>/poster")
def station_poster(station_id: int):
    station = db.get_or_404(LiaisonStation, station_id)
    url = public_url("proposals.propose", station_code=station.code)
    return render_template("proposals/poster.html", station=station, url=url, qr=qr_svg(url, station.name))
