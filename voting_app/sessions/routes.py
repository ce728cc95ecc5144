"""Sessions, rosters, check-in and voting cards (staff, and deputies checking themselves in)."""

import secrets
import time

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from voting_app.ballots import service as ballots
from voting_app.ballots.credentials import active_credential, issue_card, issue_missing_cards, revoke_card, unlock_card
from voting_app.ballots.models import Credential, Round
from voting_app.db import db, utcnow
from voting_app.errors import DomainError
from voting_app.forms import ButtonForm
from voting_app.projects.schedule import beijing_today
from voting_app.qr import qr_svg
from voting_app.sessions import changes, service
from voting_app.sessions.checkin_code import current_code, seconds_left
from voting_app.sessions.forms import CardScanForm, RosterConfirmForm, RosterImportForm, SessionForm, TermEndForm, VenueCodeForm
from voting_app.registry import stations
from voting_app.registry.models import Term
from voting_app.sessions.models import CongressSession, Deputy
from voting_app.web import current_actor, flash_domain_error, get_child_or_404, public_url, sheet_already_printed

bp = Blueprint("sessions", __name__, url_prefix="/sessions")
DESK_RESULTS = 30
DESK_RECENT = 8


def _session(session_id: int) -> CongressSession:
    return db.get_or_404(CongressSession, session_id)


@bp.get("/")
def session_list():
    sessions = db.session.scalars(select(CongressSession).order_by(CongressSession.id.desc())).all()
    return render_template("sessions/list.html", sessions=sessions, presence={s.id: service.presence(s.id) for s in sessions})


@bp.route("/new", methods=["GET", "POST"])
def session_new():
    form = SessionForm()
    form.offer_terms(service.terms_newest_first())
    if form.validate_on_submit():
        term = db.session.get(Term, form.term_id.data) if form.term_id.data else None
        congress = service.create_session(
            current_actor(), form.name.data, form.venue.data or "", form.starts_on.data, term, form.meeting_number.data
        )
        db.session.commit()
        flash(_("Session created. Next, import its roster."), "success")
        return redirect(url_for("sessions.roster_import", session_id=congress.id))
    return render_template("sessions/form.html", form=form, congress=None)


@bp.get("/<int:session_id>")
def session_detail(session_id: int):
    congress = _session(session_id)
    rounds = db.session.scalars(select(Round).where(Round.session_id == congress.id).order_by(Round.id)).all()
    returned = {r.id: ballots.returned_count(r.id) for r in rounds}
    return render_template(
        "sessions/detail.html",
        congress=congress,
        presence=service.presence(congress.id),
        rounds=rounds,
        returned=returned,
        can_delete=changes.record_begun(congress.id) is None,
    )


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
def session_edit(session_id: int):
    congress = _session(session_id)
    form = SessionForm(obj=congress)
    form.offer_terms(service.terms_newest_first())
    if form.validate_on_submit():
        term = db.session.get(Term, form.term_id.data) if form.term_id.data else None
        try:
            service.update_session(
                current_actor(), congress, form.name.data, form.venue.data or "", form.starts_on.data, term,
                form.meeting_number.data, beijing_today(),
            )
        except DomainError as error:
            db.session.rollback()
            form.term_id.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("Session saved."), "success")
            return redirect(url_for("sessions.session_detail", session_id=congress.id))
    return render_template("sessions/form.html", form=form, congress=congress), 400 if form.errors else 200


@bp.route("/<int:session_id>/delete", methods=["GET", "POST"])
def session_delete(session_id: int):
    """A confirmation page: what deleting takes with it, or why it is refused."""
    congress = _session(session_id)
    if ButtonForm().validate_on_submit():
        name = congress.name
        try:
            changes.delete_session(current_actor(), congress)
        except DomainError as error:
            flash_domain_error(error)
            return redirect(url_for("sessions.session_detail", session_id=session_id))
        db.session.commit()
        flash(_("Session “%(name)s” deleted.", name=name), "success")
        return redirect(url_for("sessions.session_list"))
    return render_template(
        "sessions/session_delete.html",
        congress=congress,
        presence=service.presence(congress.id),
        refusal=changes.session_delete_refusal(congress),
        button=ButtonForm(),
    )


@bp.get("/<int:session_id>/roster")
def roster(session_id: int):
    congress = _session(session_id)
    query = request.args.get("q", "").strip()
    deputies = service.search_deputies(congress.id, query, limit=1000) if query else congress.roster
    return render_template(
        "sessions/roster.html",
        congress=congress,
        deputies=deputies,
        query=query,
        presence=service.presence(congress.id),
        frozen=changes.is_roster_frozen(congress, beijing_today()),
    )


@bp.route("/<int:session_id>/roster/<int:deputy_id>/remove", methods=["GET", "POST"])
def deputy_remove(session_id: int, deputy_id: int):
    """While the session's roster follows the registry: a confirmation page naming every session
    of the term the deputy is deleted from (or what keeps them), then the deputy is deleted from
    the term's registry. Once the roster is part of the record: their end of term instead."""
    congress = _session(session_id)
    deputy = get_child_or_404(Deputy, deputy_id, session_id=congress.id)
    today = beijing_today()
    if changes.is_roster_frozen(congress, today):
        return redirect(url_for("sessions.deputy_term_end", session_id=congress.id, deputy_id=deputy.id))
    if ButtonForm().validate_on_submit():
        try:
            changes.remove_deputy(current_actor(), deputy, today)
        except DomainError as error:
            flash_domain_error(error)
            return redirect(url_for("sessions.roster", session_id=congress.id))
        db.session.commit()
        flash(
            _("%(name)s (%(number)s) deleted from the term's registry and from the roster of every session of the term.",
              name=deputy.name, number=deputy.number),
            "success",
        )
        return redirect(url_for("sessions.roster", session_id=congress.id))
    return render_template(
        "sessions/deputy_remove.html", congress=congress, deputy=deputy, plan=changes.removal_of(deputy, today),
        button=ButtonForm(),
    )


@bp.route("/<int:session_id>/roster/<int:deputy_id>/term-end", methods=["GET", "POST"])
def deputy_term_end(session_id: int, deputy_id: int):
    """Once the roster is part of the record: record that the deputy's term ended; nobody is
    deleted. When the term's registry already records the day they left, the form starts from
    that day and its kind (the service refuses another day)."""
    congress = _session(session_id)
    deputy = get_child_or_404(Deputy, deputy_id, session_id=congress.id)
    person = deputy.person
    form = TermEndForm()
    if deputy.is_in_office and form.validate_on_submit():
        try:
            dropped = service.end_term(current_actor(), deputy, form.ended_on.data, form.reason.data, beijing_today(), form.kind.data)
        except DomainError as error:
            db.session.rollback()
            form[getattr(error, "field", "reason")].errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("The term of %(name)s ended on %(date)s: recorded on the roster.", name=deputy.name, date=deputy.term_ended_on), "success")
            if note := stations.dropped_duties_note(deputy.name, dropped):
                flash(str(note), "info")
            return redirect(url_for("sessions.roster", session_id=congress.id))
    elif request.method == "GET":
        form.ended_on.data = person.left_office_on or beijing_today()
        if person.left_office_on is not None:
            form.kind.data = person.left_reason
            form.reason.data = next((change.note for change in reversed(person.changes) if change.kind == person.left_reason), "")
    status = 400 if form.errors else 200
    freeze = changes.roster_freeze(congress, beijing_today())
    return render_template(
        "sessions/deputy_term_end.html", congress=congress, deputy=deputy, person=person, form=form,
        freeze=changes.freeze_message(freeze) if freeze else None,
    ), status


@bp.route("/<int:session_id>/roster/import", methods=["GET", "POST"])
def roster_import(session_id: int):
    """Import or update the session's term's deputies, from the session's pages."""
    congress = _session(session_id)
    return import_page(
        congress.term,
        congress,
        here=url_for("sessions.roster_import", session_id=congress.id),
        done=url_for("sessions.roster", session_id=congress.id),
    )


def import_page(term: Term, congress: CongressSession | None, here: str, done: str):
    """The one import page, on a session's roster or on the term's registry (terms.term_import):
    upload, then a preview of what the file would change in the term's registry, then Import
    (the preview's button). Every session of the term whose roster is not part of the record
    (`changes.roster_freeze`) follows the registry."""
    form, confirm, page = RosterImportForm(), RosterConfirmForm(), "sessions/roster_import.html"
    scope, secret = service.import_scope(congress, term), current_app.config["SECRET_KEY"]
    context = {"congress": congress, "term": term, "form": form}
    if "table" in request.form:
        if not confirm.validate_on_submit():
            abort(400)
        summary = service.import_sealed(current_actor(), term, scope, secret, confirm.table.data)
        if summary is None:
            if congress is not None:
                flash(_("This preview is out of date or not this session's. Check the file again."), "error")
            else:
                flash(_("This preview is out of date or not this term's. Check the file again."), "error")
            return redirect(here)
        db.session.commit()
        flash(
            _(
                "Roster imported: %(added)s added, %(updated)s updated, %(unchanged)s unchanged.",
                added=summary.added,
                updated=summary.updated,
                unchanged=summary.unchanged,
            ),
            "success",
        )
        return redirect(done)
    if form.validate_on_submit():
        table, parsed = service.check_table(form.file.data.filename or "", form.file.data.read())
        if not parsed.is_valid:
            return render_template(page, parsed=parsed, **context), 400
        confirm.table.data = service.seal_table(secret, scope, table)
        preview = service.preview_import(term, parsed)
        return render_template(page, parsed=parsed, preview=preview, confirm=confirm, **context)
    return render_template(page, parsed=None, **context), 400 if form.errors else 200


@bp.get("/<int:session_id>/roster/template.csv")
def roster_template(session_id: int):
    _session(session_id)
    body = "\ufeff代表证号,姓名,代表团,工作单位\n001,张三,城区代表团,樊城区某街道\n"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=roster-template.csv"},
    )


def _presence_payload(congress_id: int) -> dict:
    figures = service.presence(congress_id)
    return {
        "roster": figures.roster,
        "present": figures.present,
        "absent": figures.absent,
        "quorum": figures.quorum,
        "has_quorum": figures.has_quorum,
    }


@bp.get("/<int:session_id>/presence.json")
def presence_json(session_id: int):
    _session(session_id)
    return jsonify(_presence_payload(session_id))


@bp.get("/<int:session_id>/checkin")
def checkin_desk(session_id: int):
    congress = _session(session_id)
    query = request.args.get("q", "")
    return render_template(
        "sessions/checkin_desk.html",
        congress=congress,
        query=query,
        results=service.search_deputies(congress.id, query, limit=DESK_RESULTS),
        limit=DESK_RESULTS,
        recent=changes.recent_check_ins(congress.id, DESK_RECENT),
        presence=service.presence(congress.id),
        scan_form=CardScanForm(),
        button=ButtonForm(),
    )


@bp.post("/<int:session_id>/checkin/<int:deputy_id>")
def checkin_deputy(session_id: int, deputy_id: int):
    congress = _session(session_id)
    deputy = get_child_or_404(Deputy, deputy_id, session_id=congress.id)
    if ButtonForm().validate_on_submit():
        try:
            _flash_checkin(service.check_in(deputy, service.DESK, current_actor()), deputy)
        except DomainError as error:
            flash_domain_error(error)
        else:
            db.session.commit()
    return redirect(url_for("sessions.checkin_desk", session_id=congress.id, q=request.args.get("q", "")))


@bp.post("/<int:session_id>/checkin/<int:deputy_id>/undo")
def checkin_undo(session_id: int, deputy_id: int):
    """Take back a check-in made by mistake at the desk (checking in again is one click)."""
    congress = _session(session_id)
    deputy = get_child_or_404(Deputy, deputy_id, session_id=congress.id)
    if ButtonForm().validate_on_submit():
        try:
            undone = changes.undo_check_in(current_actor(), deputy)
        except DomainError as error:
            flash_domain_error(error)
        else:
            db.session.commit()
            if undone:
                flash(_("Check-in of %(name)s (%(number)s) undone.", name=deputy.name, number=deputy.number), "success")
            else:
                flash(_("%(name)s was not checked in.", name=deputy.name), "info")
    return redirect(url_for("sessions.checkin_desk", session_id=congress.id, q=request.args.get("q", "")))


@bp.post("/<int:session_id>/checkin/card")
def checkin_card(session_id: int):
    congress = _session(session_id)
    form = CardScanForm()
    if form.validate_on_submit():
        deputy = service.deputy_by_card(congress.id, form.card.data)
        if deputy is None:
            flash(_("No valid card of this session matches that code."), "error")
        else:
            _flash_checkin(service.check_in(deputy, service.DESK, current_actor()), deputy)
            db.session.commit()
    return redirect(url_for("sessions.checkin_desk", session_id=congress.id))


def _flash_checkin(is_new: bool, deputy: Deputy) -> None:
    if is_new:
        flash(_("%(name)s (%(number)s) checked in.", name=deputy.name, number=deputy.number), "success")
    else:
        flash(_("%(name)s was already checked in.", name=deputy.name), "info")


def _venue_code(congress_id: int) -> tuple[str, int]:
    period = current_app.config["CHECKIN_CODE_PERIOD"]
    now = time.time()
    return current_code(current_app.config["SECRET_KEY"], congress_id, now, period), seconds_left(now, period)


def _venue_payload(congress: CongressSession) -> dict:
    code, left = _venue_code(congress.id)
    url = public_url("sessions.checkin_self", session_id=congress.id, code=code)
    return {"code": code, "url": url, "seconds_left": left, "qr": str(qr_svg(url, _("Check-in code"))), **_presence_payload(congress.id)}


@bp.get("/<int:session_id>/checkin/screen")
def checkin_screen(session_id: int):
    congress = _session(session_id)
    return render_template("sessions/checkin_screen.html", congress=congress, venue=_venue_payload(congress))


@bp.get("/<int:session_id>/checkin/screen.json")
def checkin_screen_json(session_id: int):
    return jsonify(_venue_payload(_session(session_id)))


@bp.route("/<int:session_id>/checkin/venue", methods=["GET", "POST"])
def checkin_self(session_id: int):
    """A deputy, signed in with their card, scans the code on the venue screen."""
    congress = _session(session_id)
    deputy = current_user.deputy
    if deputy.session_id != congress.id:
        abort(403)
    form = VenueCodeForm(code=request.args.get("code", ""))
    if form.validate_on_submit():
        period = current_app.config["CHECKIN_CODE_PERIOD"]
        outcome = service.check_in_with_venue_code(current_app.config["SECRET_KEY"], period, deputy, form.code.data)
        if outcome is None:
            form.code.errors.append(_("This code has expired or is wrong. Scan the code on the screen again."))
        else:
            db.session.commit()
            flash(_("You are checked in.") if outcome else _("You were already checked in."), "success")
            return redirect(url_for("ballots.deputy_home"))
    return render_template("sessions/checkin_self.html", congress=congress, deputy=deputy, form=form)


@bp.get("/<int:session_id>/cards")
def credential_list(session_id: int):
    congress = _session(session_id)
    credentials = {
        c.deputy_id: c
        for c in db.session.scalars(
            select(Credential)
            .join(Deputy, Deputy.id == Credential.deputy_id)
            .where(Deputy.session_id == congress.id, Credential.revoked_at.is_(None))
        )
    }
    return render_template(
        "sessions/cards.html",
        congress=congress,
        credentials=credentials,
        now=utcnow(),
        button=ButtonForm(),
        sheet=secrets.token_urlsafe(8),
    )


def _print_cards(congress: CongressSession, cards):
    """The one page that shows tokens and PINs in clear: never cached, never stored."""
    printable = [
        {
            "deputy": card.deputy,
            "pin": card.pin,
            "qr": qr_svg(public_url("auth.card", token=card.token), card.deputy.name),
        }
        for card in cards
    ]
    response = make_response(render_template("sessions/cards_print.html", congress=congress, cards=printable))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/<int:session_id>/cards/issue")
def credential_issue_all(session_id: int):
    congress = _session(session_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    if sheet_already_printed():
        return redirect(url_for("sessions.credential_list", session_id=congress.id))
    cards = issue_missing_cards(current_actor(), congress)
    db.session.commit()
    if not cards:
        flash(_("Every deputy already holds a card. Reissue a single card if one is lost."), "info")
        return redirect(url_for("sessions.credential_list", session_id=congress.id))
    return _print_cards(congress, cards)


@bp.route("/<int:session_id>/cards/<int:deputy_id>/reissue", methods=["GET", "POST"])
def credential_reissue(session_id: int, deputy_id: int):
    """GET: what reissuing does (the old card stops working at once); POST: issue and print."""
    congress = _session(session_id)
    deputy = get_child_or_404(Deputy, deputy_id, session_id=congress.id)
    if request.method == "GET":
        return render_template(
            "sessions/card_reissue.html",
            congress=congress,
            deputy=deputy,
            card=active_credential(deputy.id),
            button=ButtonForm(),
            sheet=secrets.token_urlsafe(8),
        )
    if not ButtonForm().validate_on_submit():
        abort(400)
    if sheet_already_printed():
        return redirect(url_for("sessions.credential_list", session_id=congress.id))
    try:
        card = issue_card(current_actor(), deputy)
    except DomainError as error:
        flash_domain_error(error)
        return redirect(url_for("sessions.credential_list", session_id=congress.id))
    db.session.commit()
    return _print_cards(congress, [card])


def _card_action(session_id: int, deputy_id: int, action, done_message: str):
    """Revoke or unlock a deputy's current card from a POST button."""
    congress = _session(session_id)
    deputy = get_child_or_404(Deputy, deputy_id, session_id=congress.id)
    credential = active_credential(deputy.id)
    if ButtonForm().validate_on_submit() and credential is not None:
        action(current_actor(), credential)
        db.session.commit()
        flash(done_message % {"name": deputy.name}, "success")
    return redirect(url_for("sessions.credential_list", session_id=congress.id))


@bp.post("/<int:session_id>/cards/<int:deputy_id>/revoke")
def credential_revoke(session_id: int, deputy_id: int):
    return _card_action(session_id, deputy_id, revoke_card, _("The card of %(name)s no longer works."))


@bp.post("/<int:session_id>/cards/<int:deputy_id>/unlock")
def credential_unlock(session_id: int, deputy_id: int):
    return _card_action(session_id, deputy_id, unlock_card, _("The card of %(name)s is unlocked."))
