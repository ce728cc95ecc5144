"""Rounds for staff, presiding officers and scrutineers; the ballot for deputies; the
public results and ballot board."""

import hashlib
import re
import secrets
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from itsdangerous import BadSignature, Serializer, URLSafeSerializer, base64_encode
from werkzeug.exceptions import HTTPException
from sqlalchemy import select

from voting_app.ballots import keys, profiles, sealing, service
from voting_app.ballots.counting import CHOOSE_UP_TO, MARKS, RANK, RATINGS, SATISFACTION, RoundRules
from voting_app.ballots.forms import (
    CandidateForm,
    CloseForm,
    KeyCeremonyForm,
    PaperSwitchForm,
    ProjectCandidateForm,
    RoundForm,
    VoidRequestForm,
)
from voting_app.ballots.models import ANNOUNCED, CLOSED, CONFIRMED, DRAFT, ELECTRONIC, OPEN, PAPER, VOID, BallotKey, Candidate, Round
from voting_app.db import db, one_statement_writes, reads_first, start_writing
from voting_app.permissions import card_checked_where_written, card_out_of_force
from voting_app.documents import adoption
from voting_app.errors import ConflictError, DomainError
from voting_app.forms import ButtonForm
from voting_app.labels import mark_labels, rating_labels
from voting_app.projects.models import DELIVERED_STAGES, Project
from voting_app.projects.service import project_year
from voting_app.auth.models import User
from voting_app.sessions.models import CongressSession
from voting_app.qr import qr_svg
from voting_app.web import current_actor, flash_domain_error, get_child_or_404, sheet_already_printed

bp = Blueprint("ballots", __name__, url_prefix="/ballots")


def _round(round_id: int) -> Round:
    return db.get_or_404(Round, round_id)


def _to_detail(round_: Round):
    return redirect(url_for("ballots.round_detail", round_id=round_.id))


def _round_action(round_id: int, action) -> object:
    """Run one state change from a POST button: commit on success, flash the reason otherwise."""
    round_ = _round(round_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        action(round_)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return _to_detail(round_)


def _confirm_step(round_: Round, step: str, status: int = 200, **context):
    """The page before an irreversible step: what will happen, and the one button that does it
    (a plain form, so it works without JavaScript)."""
    return render_template("ballots/confirm_step.html", round=round_, step=step, button=ButtonForm(), **context), status


# ---- staff, presiding officer and scrutineers ---------------------------------------


@bp.route("/sessions/<int:session_id>/rounds/new", methods=["GET", "POST"])
def round_new(session_id: int):
    """A new round under the congress's 票决办法 in force: its methods, pass base and bar."""
    congress = db.get_or_404(CongressSession, session_id)
    form = RoundForm()
    rules = profiles.profile_in_force(congress.term.congress_id)[0]
    form.follow_rules(rules, is_new=request.method == "GET")
    if form.validate_on_submit():
        try:
            round_ = service.create_round(
                current_actor(),
                congress,
                form.title.data,
                form.method.data,
                form.seats.data,
                form.threshold_base.data,
                form.mode.data,
                form.satisfaction_bar.data,
            )
        except DomainError as error:
            db.session.rollback()
            form.method.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("Round created. Add its candidates."), "success")
            return _to_detail(round_)
    return render_template("ballots/round_form.html", form=form, congress=congress, round=None, **_grading_shown(rules)), (
        400 if form.errors else 200
    )


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
def round_edit(round_id: int):
    round_ = _round(round_id)
    form = RoundForm(obj=round_)
    form.follow_rules(round_.rules, is_new=False)
    if form.validate_on_submit():
        try:
            service.update_round(
                current_actor(),
                round_,
                form.title.data,
                form.method.data,
                form.seats.data,
                form.threshold_base.data,
                form.mode.data,
                form.satisfaction_bar.data,
            )
            db.session.commit()
            return _to_detail(round_)
        except DomainError as error:
            flash_domain_error(error)
            return _to_detail(round_)
    return render_template("ballots/round_form.html", form=form, congress=round_.session, round=round_, **_grading_shown(round_.rules))


def _grading_shown(rules) -> dict:
    """How the round's assessment is graded, read-only on its form: the 票决办法 decides it and
    the round copies it when it is created."""
    return {"grading": rules.grading, "grading_words": profiles.describe(rules)["assessment"]}


@bp.get("/rounds/<int:round_id>")
def round_detail(round_id: int):
    round_ = _round(round_id)
    result = service.count_round(round_) if round_.state not in (DRAFT, OPEN, VOID) and not round_.is_sealed else None
    if round_.mode == PAPER and round_.state == CLOSED and not service.paper_ballots_stored(round_):
        result = None
    return render_template(
        "ballots/round_detail.html",
        round=round_,
        result=result,
        returned=service.returned_count(round_.id),
        presence=service.round_presence(round_),
        round_rules=profiles.described_settings(round_.rules),
        margin=service.margin_check(round_) if round_.state == DRAFT else None,
        candidate_form=_candidate_form(round_),
        project_form=_project_form(round_),
        close_form=CloseForm(),
        button=ButtonForm(),
        names={c.id: c.name for c in round_.candidates},
        paper_entries=service.paper_entries(round_) if round_.mode == PAPER else [],
        paper_comparison=service.compare_paper_entries(round_) if round_.mode == PAPER else None,
        follow_ups=db.session.scalars(select(Round).where(Round.parent_id == round_.id)).all(),
        holds_ballots=service.holds_ballots(round_) if round_.state in (OPEN, CLOSED) else False,
        void_people=_void_people(round_),
        project_year=project_year(round_),
        adoption_state=adoption.adoption_state(round_),
        adoption_record=adoption.latest_adoption(round_),
        switched_by=_display_name(round_.paper_from_by_id),
        paper_returned=_paper_returned(round_),
    )


def _display_name(user_id: int | None) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else ""


def _paper_returned(round_: Round) -> int | None:
    """Paper ballots accepted in a round switched to paper: its keyed copies are cleared once
    accepted, so the figure is the ballots in the box less those cast by phone."""
    if not (round_.is_switched_to_paper and service.paper_ballots_stored(round_)):
        return None
    return service.returned_count(round_.id) - (round_.phone_voters or 0)


def _void_people(round_: Round) -> dict:
    """Who asked to declare the round void and who confirmed it, by their display names."""
    return {"requested_by": _display_name(round_.void_requested_by_id), "voided_by": _display_name(round_.voided_by_id)}


@bp.post("/rounds/<int:round_id>/candidates")
def candidate_add(round_id: int):
    round_ = _round(round_id)
    form = CandidateForm()
    form.offer_departments()
    if not form.validate_on_submit():
        for field, messages in form.errors.items():
            flash(f"{form[field].label.text}: {' '.join(messages)}", "error")
        return _to_detail(round_)
    try:
        service.add_candidate(
            current_actor(),
            round_,
            form.name.data,
            form.summary.data or "",
            form.investment.data,
            form.chosen_department_name(current_actor()),
            form.planned_completion.data,
        )
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return _to_detail(round_)


def _candidate_form(round_: Round) -> CandidateForm | None:
    """While the round is a draft: a candidate's fields, its department from the managed list."""
    if round_.state != DRAFT:
        return None
    form = CandidateForm(formdata=None)
    form.offer_departments()
    return form


def _project_form(round_: Round) -> ProjectCandidateForm | None:
    """For a satisfaction assessment: the projects not yet on the ballot."""
    if round_.method != SATISFACTION or round_.state != DRAFT:
        return None
    on_ballot = {c.project_id for c in round_.candidates}
    form = ProjectCandidateForm()
    delivered = select(Project).where(Project.stage.in_(DELIVERED_STAGES)).order_by(Project.year.desc(), Project.name)
    form.project_id.choices = [(p.id, f"{p.year} · {p.name}") for p in db.session.scalars(delivered) if p.id not in on_ballot]
    return form


@bp.post("/rounds/<int:round_id>/candidates/project")
def candidate_add_project(round_id: int):
    round_ = _round(round_id)
    form = ProjectCandidateForm()
    project = db.session.get(Project, form.project_id.data) if form.validate_on_submit() and form.project_id.data else None
    if project is None:
        flash(_("Choose a project to assess."), "error")
        return _to_detail(round_)
    try:
        service.add_candidate(
            current_actor(), round_, project.name, project.summary, project.budget, project.department_name, project_id=project.id
        )
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return _to_detail(round_)


@bp.route("/rounds/<int:round_id>/candidates/<int:candidate_id>/delete", methods=["GET", "POST"])
def candidate_delete(round_id: int, candidate_id: int):
    round_ = _round(round_id)
    candidate = get_child_or_404(Candidate, candidate_id, round_id=round_.id)
    if request.method == "GET":
        if round_.state != DRAFT:
            return _to_detail(round_)
        return _confirm_step(round_, "candidate_delete", candidate=candidate)
    return _round_action(round_id, lambda r: service.remove_candidate(current_actor(), r, candidate))


@bp.route("/rounds/<int:round_id>/open", methods=["GET", "POST"])
def round_open(round_id: int):
    if request.method == "GET":
        round_ = _round(round_id)
        if round_.state != DRAFT:
            return _to_detail(round_)
        key = keys.active_key(round_.session_id) if round_.mode == ELECTRONIC else None
        return _confirm_step(
            round_,
            "open",
            presence=service.round_presence(round_),
            margin=service.margin_check(round_),
            key=key,
            adoption_state=adoption.adoption_state(round_),
        )
    return _round_action(round_id, lambda r: service.open_round(current_actor(), r))


@bp.route("/rounds/<int:round_id>/close", methods=["GET", "POST"])
def round_close(round_id: int):
    round_ = _round(round_id)
    if request.method == "GET":
        if round_.state != OPEN:
            return _to_detail(round_)
        return _confirm_step(
            round_, "close", turnout=service.turnout(round_), close_form=CloseForm(), desk=service.paper_desk(round_)
        )
    form = CloseForm()
    if not form.validate_on_submit():
        flash(_("The number of ballots issued must be a whole number."), "error")
        return _to_detail(round_)
    try:
        service.close_round(current_user, round_, form.issued.data)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return _to_detail(round_)


@bp.post("/rounds/<int:round_id>/confirm")
def round_confirm(round_id: int):
    return _round_action(round_id, lambda r: service.confirm_round(current_user, r))


@bp.route("/rounds/<int:round_id>/announce", methods=["GET", "POST"])
def round_announce(round_id: int):
    if request.method == "GET":
        round_ = _round(round_id)
        if round_.state != CONFIRMED:
            return _to_detail(round_)
        names = {c.id: c.name for c in round_.candidates}
        return _confirm_step(round_, "announce", result=service.count_round(round_), names=names)
    return _round_action(round_id, lambda r: service.announce_round(current_user, r))


@bp.route("/rounds/<int:round_id>/cancel", methods=["GET", "POST"])
def round_cancel(round_id: int):
    """A round opened by mistake goes back to preparation, while no ballot has been cast."""
    if request.method == "GET":
        round_ = _round(round_id)
        if round_.state not in (OPEN, CLOSED):
            return _to_detail(round_)
        return _confirm_step(round_, "cancel", holds_ballots=service.holds_ballots(round_))
    return _round_action(round_id, lambda r: service.cancel_round(current_actor(), r))


@bp.route("/rounds/<int:round_id>/void", methods=["GET", "POST"])
def round_void(round_id: int):
    """The presiding officer asks, with a reason, to declare the round void."""
    round_ = _round(round_id)
    if round_.state not in (OPEN, CLOSED) or round_.is_void_requested:
        return _to_detail(round_)
    return _reasoned_step(
        round_,
        "void",
        VoidRequestForm(),
        service.request_void,
        _("Your request is recorded. A scrutineer must now confirm that the round is void."),
        turnout=service.turnout(round_),
    )


def _reasoned_step(round_: Round, step: str, form, act, done_message: str, **context):
    """A confirmation step whose action needs a reason in writing (a void, a switch to paper):
    shown on GET, acted on with the reason on POST, shown again with the refusal if refused."""
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        try:
            act(current_user, round_, form.reason.data)
            db.session.commit()
        except DomainError as problem:
            db.session.rollback()
            error, status = str(problem.message), problem.status
        else:
            flash(done_message, "success")
            return _to_detail(round_)
    return _confirm_step(round_, step, status, form=form, error=error, **context)


@bp.route("/rounds/<int:round_id>/void/answer", methods=["GET", "POST"])
def round_void_answer(round_id: int):
    """A scrutineer other than the one who asked confirms the void, or declines it."""
    round_ = _round(round_id)
    if not round_.is_void_requested:
        return _to_detail(round_)
    if request.method == "GET":
        requester = db.session.get(User, round_.void_requested_by_id)
        return _confirm_step(round_, "void_answer", requester=requester, returned=service.returned_count(round_.id))
    decline = request.form.get("decision") == "decline"
    return _round_action(
        round_id, lambda r: (service.decline_void if decline else service.confirm_void)(current_user, r)
    )


@bp.post("/rounds/<int:round_id>/follow-up")
def round_followup(round_id: int):
    round_ = _round(round_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        follow = service.follow_up_round(current_actor(), round_)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return _to_detail(round_)
    return _to_detail(follow)


@bp.route("/rounds/<int:round_id>/paper-switch", methods=["GET", "POST"])
def round_paper_switch(round_id: int):
    """The voting system has failed in the hall: the presiding officer continues the round on paper."""
    round_ = _round(round_id)
    if round_.state != OPEN or round_.mode != ELECTRONIC:
        return _to_detail(round_)
    return _reasoned_step(
        round_,
        "paper_switch",
        PaperSwitchForm(),
        service.switch_to_paper,
        _("The round continues on paper. The desk issues paper ballots to the deputies present who have not voted."),
        desk=service.paper_desk(round_),
    )


@bp.get("/rounds/<int:round_id>/paper-desk")
def paper_desk(round_id: int):
    """How many paper ballots to hand out after a switch to paper; the turnout page names whom."""
    round_ = _round(round_id)
    if not round_.is_switched_to_paper:
        abort(404)
    return render_template("ballots/paper_desk.html", round=round_, desk=service.paper_desk(round_))


@bp.get("/rounds/<int:round_id>/turnout")
def round_turnout(round_id: int):
    round_ = _round(round_id)
    # Who is still to vote helps the desk while the round is open; once it closes, who voted is a
    # fact of the secret ballot that no page keeps (duty records, tests/duty/test_duty_secrecy.py).
    # After a switch to paper the same list names whom the desk gives a paper ballot: who has
    # voted, never how (the phone ballots are pooled with the paper ones at the count).
    waiting = service.deputies_not_voted(round_) if round_.state == OPEN else None
    return render_template("ballots/turnout.html", round=round_, waiting=waiting, returned=service.returned_count(round_.id))


@bp.get("/rounds/<int:round_id>/status.json")
def round_status_json(round_id: int):
    """Live figures for the round page; never a partial result."""
    round_ = _round(round_id)
    figures = service.round_presence(round_)
    return jsonify(
        {
            "state": round_.state,
            "returned": service.returned_count(round_.id),
            "roster": figures.roster,
            "present": figures.present,
            "quorum": figures.quorum,
            "has_quorum": figures.has_quorum,
        }
    )


# ---- the session's key: ceremony, share checks, opening a round's ballots --------------


def _share_texts() -> list[str]:
    """The desk form's share boxes, as typed or scanned; kept in this request only."""
    return [text[:2000] for text in request.form.getlist("share")[: sealing.MAX_SHARES]]


def _no_store(response):
    response = make_response(response)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/sessions/<int:session_id>/key")
def key_detail(session_id: int):
    congress = db.get_or_404(CongressSession, session_id)
    key = keys.active_key(congress.id)
    return render_template(
        "ballots/key_detail.html",
        congress=congress,
        key=key,
        waiting=keys.rounds_holding_sealed_ballots(congress.id),
        form=KeyCeremonyForm(),
        sheet=secrets.token_urlsafe(8),
    )


@bp.post("/sessions/<int:session_id>/key")
def key_ceremony(session_id: int):
    """The one response that carries the shares: printed now, never cached, never stored."""
    congress = db.get_or_404(CongressSession, session_id)
    form = KeyCeremonyForm()
    back = redirect(url_for("ballots.key_detail", session_id=congress.id))
    if not form.validate_on_submit():
        for field, messages in form.errors.items():
            flash(f"{form[field].label.text}: {' '.join(messages)}", "error")
        return back
    if sheet_already_printed():
        return back
    holders = (form.holders.data or "").splitlines()
    try:
        key, ceremony = keys.hold_ceremony(current_actor(), congress, form.threshold.data, form.share_count.data, holders)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return back
    sheets = [
        {
            "number": number,
            "holder": key.holders[number - 1],
            "words": share.split(),
            "qr": qr_svg(share, _("Share %(number)s of %(count)s", number=number, count=key.share_count)),
        }
        for number, share in enumerate(ceremony.shares, start=1)
    ]
    return _no_store(
        render_template("ballots/key_shares.html", congress=congress, key=key, sheets=sheets, test_phrase=ceremony.test_phrase)
    )


@bp.route("/sessions/<int:session_id>/key/check", methods=["GET", "POST"])
def key_check(session_id: int):
    congress = db.get_or_404(CongressSession, session_id)
    key = keys.active_key(congress.id)
    if key is None:
        flash(_("No key has been made for this session yet."), "error")
        return redirect(url_for("ballots.key_detail", session_id=congress.id))
    checked, error, status = None, None, 200
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        try:
            checked = keys.check_shares(current_actor(), key, _share_texts())
            db.session.commit()
        except DomainError as problem:
            db.session.rollback()
            error, status = str(problem.message), problem.status
    page = render_template(
        "ballots/key_check.html", congress=congress, key=key, checked=checked, error=error, button=ButtonForm()
    )
    return _no_store((page, status))


@bp.route("/rounds/<int:round_id>/unseal", methods=["GET", "POST"])
def round_unseal(round_id: int):
    round_ = _round(round_id)
    if not round_.is_sealed or round_.state != CLOSED:
        return _to_detail(round_)
    key = db.session.get(BallotKey, round_.key_id)
    error, status = None, 200
    if request.method == "POST":
        if not ButtonForm().validate_on_submit():
            abort(400)
        try:
            opened = service.unseal_round(current_user, round_, _share_texts())
            db.session.commit()
        except DomainError as problem:
            db.session.rollback()
            error, status = str(problem.message), problem.status
        else:
            flash(_("%(count)s ballots opened. Check the count, then confirm it.", count=opened), "success")
            return _to_detail(round_)
    page = render_template(
        "ballots/unseal.html",
        round=round_,
        key=key,
        returned=service.returned_count(round_.id),
        error=error,
        button=ButtonForm(),
    )
    return _no_store((page, status))


# ---- paper rounds --------------------------------------------------------------------


def _paper_choices(round_: Round):
    """A keyed paper ballot as read: void when the scrutineer marks it spoiled."""
    if request.form.get("spoiled"):
        return None
    return _choices_from_form(service.ballot_rules(round_))


@bp.get("/rounds/<int:round_id>/paper")
def paper_entry(round_id: int):
    round_ = _round(round_id)
    if round_.mode != PAPER:
        abort(404)
    entry = service.paper_entry(round_, current_user)
    return render_template(
        "ballots/paper_entry.html",
        round=round_,
        entry=entry,
        button=ButtonForm(),
        names={str(c.id): c.name for c in round_.candidates},
        comparison=service.compare_paper_entries(round_),
        accepted=service.paper_ballots_stored(round_),
        paper_returned=_paper_returned(round_),
    )


@bp.post("/rounds/<int:round_id>/paper/add")
def paper_entry_add(round_id: int):
    round_ = _round(round_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        copies = int(request.form.get("copies", "1") or "1")
        service.add_paper_ballot(round_, current_user, _paper_choices(round_), copies)
        db.session.commit()
    except ValueError:
        flash(_("The number of identical ballots must be a whole number."), "error")
    except DomainError as error:
        flash_domain_error(error)
    return redirect(url_for("ballots.paper_entry", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/paper/<int:index>/remove")
def paper_entry_remove(round_id: int, index: int):
    round_ = _round(round_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        service.remove_paper_ballot(round_, current_user, index)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return redirect(url_for("ballots.paper_entry", round_id=round_.id))


@bp.post("/rounds/<int:round_id>/paper/submit")
def paper_entry_submit(round_id: int):
    round_ = _round(round_id)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        if request.form.get("action") == "withdraw":
            service.withdraw_paper_entry(round_, current_user)
        else:
            comparison = service.submit_paper_entry(round_, current_user)
            if comparison.agree:
                flash(_("Both entries agree. The paper ballots are accepted and can be confirmed."), "success")
            elif comparison.entries == 2:
                flash(
                    _(
                        "The two entries disagree (%(first)s and %(second)s ballots differ). Compare with the paper and correct.",
                        first=comparison.only_first,
                        second=comparison.only_second,
                    ),
                    "error",
                )
            else:
                flash(_("Entry submitted. Waiting for the second scrutineer's entry."), "info")
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return redirect(url_for("ballots.paper_entry", round_id=round_.id))


# ---- deputies ------------------------------------------------------------------------


@bp.after_request
def _no_store_for_deputies(response):
    """A deputy's pages show their ballot and receipt: never keep them in a cache. Read from
    the session, not the database, so the header is set even on the page that says the
    database is away."""
    if str(session.get("_user_id", "")).startswith("credential:"):
        response.headers["Cache-Control"] = "no-store"
    return response


def _deputy():
    return current_user.deputy


class _TicketSerializer(URLSafeSerializer):
    """Never compressed: zlib would shorten some tickets and not others, by chance."""

    def dump_payload(self, obj) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


def _tickets(deputy_id: int) -> URLSafeSerializer:
    """The deputy is bound into the signature's salt, never written into the ticket, so a
    ticket seen anywhere does not say whose receipt it carries."""
    return _TicketSerializer(current_app.config["SECRET_KEY"], salt=f"ballot-receipt:{deputy_id}")


def _ticket_for(round_: Round, deputy_id: int) -> str:
    """The receipt and a nonce are drawn when the ballot page is served and signed for this
    deputy and round; a resubmission carries them back, which makes casting idempotent."""
    return _tickets(deputy_id).dumps(
        {"round": round_.id, "opened": _opening(round_.opened_at), "receipt": service.new_receipt(), "nonce": secrets.token_hex(16)}
    )


def _opening(opened: datetime | None) -> str:
    """Which opening of the round a ticket belongs to: a round cancelled back to preparation
    and opened again refuses the tickets (and so the receipts) served before."""
    if opened is None:
        return ""
    return hashlib.sha256(opened.replace(tzinfo=None).isoformat(timespec="microseconds").encode()).hexdigest()[:12]


def _ticket_contents(round_id: int, opened_at: datetime | None, deputy_id: int) -> tuple[str, str]:
    """(receipt, nonce) from the posted ticket; anything forged, foreign or stale is a 400."""
    try:
        data = _tickets(deputy_id).loads(request.form.get("ticket", ""))
    except BadSignature:
        abort(400)
    if not isinstance(data, dict) or data.get("round") != round_id or not isinstance(data.get("nonce"), str):
        abort(400)
    if data.get("opened") != _opening(opened_at):
        raise ConflictError(_("This ballot page was opened before the round was restarted. Please open the ballot again."))
    return data["receipt"], data["nonce"]


def _choices_from_form(rules: RoundRules):
    """Read the ballot as submitted, from the posted form only (never the URL); the service
    decides whether it is valid."""
    if rules.method == CHOOSE_UP_TO:
        raw = request.form.getlist("choice")
        try:
            return [int(value) for value in raw]
        except ValueError as error:
            raise DomainError(_("This ballot is not valid for this round. Please fill it in again.")) from error
    if rules.method == SATISFACTION:
        return _ratings_from_form(rules.candidate_ids)
    if rules.method == RANK:
        return _numbers_from_form(rules.candidate_ids)
    marks = {}
    for candidate_id in rules.candidate_ids:
        mark = request.form.get(f"mark-{candidate_id}")
        if mark is None:
            continue  # left unmarked: the service asks for it, keeping the marks already made
        if mark not in MARKS:
            raise DomainError(_("This ballot is not valid for this round. Please fill it in again."))
        marks[candidate_id] = mark
    known = {f"mark-{candidate_id}" for candidate_id in rules.candidate_ids}
    if any(key.startswith("mark-") and key not in known for key in request.form):
        raise DomainError(_("This ballot is not valid for this round. Please fill it in again."))
    return marks


def _ratings_from_form(candidate_ids: tuple[int, ...]) -> dict[int, str]:
    """A satisfaction ballot: a project left unrated is simply not rated."""
    known = {f"rate-{candidate_id}" for candidate_id in candidate_ids}
    if any(key.startswith("rate-") and key not in known for key in request.form):
        raise DomainError(_("This ballot is not valid for this round. Please fill it in again."))
    ratings = {}
    for candidate_id in candidate_ids:
        rating = request.form.get(f"rate-{candidate_id}", "")
        if rating and rating not in RATINGS:
            raise DomainError(_("This ballot is not valid for this round. Please fill it in again."))
        if rating:
            ratings[candidate_id] = rating
    return ratings


_NUMBER = re.compile(r"[0-9]{1,4}")


def _numbers_from_form(candidate_ids: tuple[int, ...]) -> dict[int, int]:
    """A ranked ballot as numbered: {candidate id: number}; a candidate left empty is not
    numbered. Whether the numbers give a valid order is the service's to say."""
    known = {f"rank-{candidate_id}" for candidate_id in candidate_ids}
    if any(key.startswith("rank-") and key not in known for key in request.form):
        raise DomainError(_("This ballot is not valid for this round. Please fill it in again."))
    numbers = {}
    for candidate_id in candidate_ids:
        values = request.form.getlist(f"rank-{candidate_id}")
        if len(values) > 1 or (values and values[0] and not _NUMBER.fullmatch(values[0])):
            raise DomainError(_("This ballot is not valid for this round. Please fill it in again."))
        if values and values[0]:
            numbers[candidate_id] = int(values[0])
    return numbers


def _deputy_round(round_id: int) -> Round:
    round_ = _round(round_id)
    if round_.session_id != current_user.session_id:
        abort(404)
    return round_


def _receipts_key() -> str:
    return f"receipts:{current_user.get_id()}"


def _receipts() -> dict:
    """Receipts this card cast from this browser; the session is cleared at every sign-in
    and sign-out, so a shared venue tablet never shows one deputy's receipt to the next."""
    return session.get(_receipts_key(), {})


WAITING_REFRESH_SECONDS = 12  # how soon a waiting deputy's phone shows a round that has opened


@bp.get("/")
def deputy_home():
    deputy = _deputy()
    announced = db.session.scalars(
        select(Round).where(Round.session_id == deputy.session_id, Round.state.in_((ANNOUNCED, VOID))).order_by(Round.id)
    ).all()
    return render_template(
        "ballots/deputy_home.html",
        deputy=deputy,
        rounds=service.open_rounds_for(deputy),
        announced=announced,
        receipts=_receipts(),
        button=ButtonForm(),
        refresh_seconds=0 if request.args.get("refresh") == "off" else WAITING_REFRESH_SECONDS,
    )


@bp.route("/rounds/<int:round_id>/ballot", methods=["GET", "POST"])
def ballot_form(round_id: int):
    """GET: a fresh ballot. POST: back from the confirm page, the choices still ticked
    (a POST, so neither the ticket nor the choices ever appear in a URL)."""
    round_ = _deputy_round(round_id)
    deputy = _deputy()
    problem = service.voting_problem(round_, deputy)
    if problem:
        return _deputy_page(round_, "ballots/ballot_closed.html", 409, message=problem)
    ticket, selected, error = _ticket_for(round_, deputy.id), None, None
    if request.method == "POST":
        try:
            _ticket_contents(round_.id, round_.opened_at, deputy.id)
        except DomainError as stale:
            error = str(stale.message)
        else:
            ticket = request.form["ticket"]
            try:
                selected = _choices_from_form(service.ballot_rules(round_))
            except DomainError:
                selected = None
    return _deputy_page(round_, "ballots/ballot_form.html", ticket=ticket, selected=selected, error=error)


@bp.post("/rounds/<int:round_id>/ballot/confirm")
def ballot_confirm(round_id: int):
    round_ = _deputy_round(round_id)
    deputy = _deputy()
    problem = service.voting_problem(round_, deputy)
    if problem:
        return _deputy_page(round_, "ballots/ballot_closed.html", 409, message=problem)
    try:
        _ticket_contents(round_.id, round_.opened_at, deputy.id)
    except DomainError as stale:
        return _deputy_page(round_, "ballots/ballot_closed.html", stale.status, message=str(stale.message))
    ticket = request.form["ticket"]
    submitted = None
    try:
        submitted = _choices_from_form(service.ballot_rules(round_))
        choices = service.check_choices(round_, submitted)
    except DomainError as error:
        return _deputy_page(round_, "ballots/ballot_form.html", 400, ticket=ticket, selected=submitted, error=str(error.message))
    return _deputy_page(round_, "ballots/ballot_confirm.html", ticket=ticket, choices=choices, button=ButtonForm())


@bp.post("/rounds/<int:round_id>/ballot/cast")
@reads_first
@one_statement_writes
@card_checked_where_written
def ballot_cast(round_id: int):
    """The hall's busiest request, kept lean: the round's rules come from this worker's copy
    (`service.cast_rules`, checked against the round under the cast's lock), and the card is
    not loaded: the statement that stores the ballot checks it is still in force and signed
    in (`auth.service.CastingCard`). The whole round is loaded only to show a refusal, and
    the card before any refusal. On PostgreSQL it runs in autocommit, one statement and one
    round trip (`service.cast`)."""
    card = current_user
    try:
        return _cast(card, round_id)
    except HTTPException:
        refused = card_out_of_force(card)
        if refused is not None:
            return refused
        raise


def _cast(card, round_id: int):
    deputy_id, session_id, receipts_key = card.deputy_id, card.session_id, _receipts_key()
    rules = service.cast_rules(round_id)
    if rules is not None and rules.session_id != session_id:
        rules = service.cast_rules(round_id, fresh=True)
    if rules is None or rules.session_id != session_id:
        abort(404)
    try:
        try:
            receipt, nonce, choices = _checked_ballot(rules, deputy_id)
        except DomainError:
            fresh = service.cast_rules(round_id, fresh=True)  # the copy may predate a restart of the round
            if fresh is None or fresh.session_id != session_id:
                abort(404)
            if fresh == rules:
                raise
            rules = fresh
            receipt, nonce, choices = _checked_ballot(rules, deputy_id)
        start_writing(writes_follow=True)
        cast = service.cast(rules, deputy_id, choices, receipt, nonce, card=(card.id, card.session_epoch))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        return card_out_of_force(card) or _deputy_page(
            _deputy_round(round_id), "ballots/ballot_closed.html", error.status, message=str(error.message)
        )
    session[receipts_key] = {**session.get(receipts_key, {}), str(round_id): cast.receipt}
    return redirect(url_for("ballots.ballot_receipt", round_id=round_id))


def _checked_ballot(rules: service.CastRules, deputy_id: int) -> tuple[str, str, object]:
    """(receipt, nonce, choices) of the posted ballot: a bad ballot is refused before the
    write lock is taken."""
    receipt, nonce = _ticket_contents(rules.round_id, rules.opened_at, deputy_id)
    choices = _choices_from_form(rules.ballot)
    service.check_choices(rules, choices)
    return receipt, nonce, choices


@bp.get("/rounds/<int:round_id>/receipt")
def ballot_receipt(round_id: int):
    round_ = _deputy_round(round_id)
    receipt = _receipts().get(str(round_.id))
    if receipt is None:
        abort(404)
    return _deputy_page(round_, "ballots/receipt.html", receipt=receipt)


PAGE_SIZE_STEP = 1024
PAGE_SIZE_SLACK = 512  # what a name's or a message's length may add beyond the fullest page rendered
_page_sizes: dict[tuple, int] = {}


def _deputy_page(round_: Round, template: str, status: int = 200, **context):
    """A deputy's ballot page padded to one size per round and language, whatever was chosen:
    an access log, a proxy or anyone watching the encrypted traffic sees the same length for
    every ballot. The size is that of the fullest pages (every candidate chosen, the longest
    marks) plus room for names and messages, so every real page fits under it."""
    html = render_template(template, round=round_, **context)
    size = _round_page_size(round_)
    body = html.encode()
    if len(body) > size:  # cannot happen with the slack above; never send a size that depends on the choices
        current_app.logger.warning("a ballot page for round %s outgrew its padded size", round_.id)
        size = -(-len(body) // PAGE_SIZE_STEP) * PAGE_SIZE_STEP
    return current_app.response_class(body + b" " * (size - len(body)), status=status, mimetype="text/html")


def _round_page_size(round_: Round) -> int:
    key = (round_.id, round_.state, len(round_.candidates), str(get_locale()))
    if key not in _page_sizes:
        fullest = _fullest_choices(round_)
        ticket = _ticket_for(round_, 0)
        many = len(round_.candidates) * 100
        longest_error = max(
            _("You chose %(chosen)s projects; choose at most %(seats)s.", chosen=many, seats=round_.seats),
            _("Choose for, against or abstain for every project: %(count)s not chosen yet.", count=many),
            _("This ballot page was opened before the round was restarted. Please open the ballot again."),
            *([str(m) for m in service.numbering_messages(round_.seats, many, many)] if round_.method == RANK else []),
            key=lambda text: len(text.encode()),
        )
        confirmed = [c.id for c in round_.candidates] if round_.method == RANK else fullest
        pages = (
            render_template("ballots/ballot_form.html", round=round_, ticket=ticket, selected=fullest, error=longest_error),
            render_template("ballots/ballot_form.html", round=round_, ticket=ticket, selected=None, error=longest_error),
            render_template("ballots/ballot_confirm.html", round=round_, ticket=ticket, choices=confirmed, button=ButtonForm()),
        )
        largest = max(_size_for_any_name(page) for page in pages)
        _page_sizes[key] = -(-(largest + PAGE_SIZE_SLACK) // PAGE_SIZE_STEP) * PAGE_SIZE_STEP
    return _page_sizes[key]


NAME_ROOM = 4 * 64  # bytes a name may take: 64 characters of up to 4 bytes in UTF-8


def _size_for_any_name(page: str) -> int:
    """The page's size with room for the longest name wherever the requester's name shows, so
    the padded size never depends on who happened to ask first (a few bytes of a name could
    otherwise tip it over a step, and two workers would pad the same ballot to two sizes)."""
    name = current_user.label if current_user.is_authenticated else ""
    shown = page.count(name) if name else 0
    return len(page.encode()) + shown * (NAME_ROOM - len(name.encode()))


def _fullest_choices(round_: Round):
    """Every candidate chosen, or marked with the mark whose words are longest here; on a
    ranked ballot every candidate numbered N, each flagged as a repeated number."""
    ids = [c.id for c in round_.candidates]
    if round_.method == CHOOSE_UP_TO:
        return ids
    if round_.method == RANK:
        return dict.fromkeys(ids, round_.seats)
    labels = rating_labels() if round_.method == SATISFACTION else mark_labels()
    longest = max(labels, key=lambda value: len(str(labels[value]).encode()))
    return {cid: longest for cid in ids}


# ---- public --------------------------------------------------------------------------


def _announced_round(round_id: int) -> Round:
    round_ = _round(round_id)
    if round_.state != ANNOUNCED:
        abort(404)
    return round_


@bp.get("/rounds/<int:round_id>/results")
def results(round_id: int):
    round_ = _announced_round(round_id)
    board = service.round_board(round_)
    return render_template(
        "ballots/results.html",
        round=round_,
        result=service.count_round(round_),
        names={c.id: c.name for c in round_.candidates},
        board=board,
        digest_matches=board["digest"] == round_.board_digest,
    )


@bp.get("/rounds/<int:round_id>/board")
def board(round_id: int):
    """The public board; a round declared void shows that, with the reason, and no ballots."""
    round_ = _round(round_id)
    if round_.state == VOID:
        return render_template("ballots/board_void.html", round=round_, returned=service.returned_count(round_.id))
    round_ = _announced_round(round_id)
    board = service.round_board(round_)
    query = service.receipt_as_typed(request.args.get("receipt", ""))
    found = [b for b in board["ballots"] if b["receipt"] == query] if query else []
    return render_template(
        "ballots/board.html",
        round=round_,
        board=board,
        query=query,
        found=found,
        names={str(c.id): c.name for c in round_.candidates},
        digest_matches=board["digest"] == round_.board_digest,
        # A priority ballot's points and order are not read off the list at a glance: the
        # board shows what these ballots count to, for the reader to check against.
        result=service.count_round(round_) if round_.method == RANK else None,
        result_names={c.id: c.name for c in round_.candidates},
    )


@bp.get("/rounds/<int:round_id>/board.json")
def board_json(round_id: int):
    response = jsonify(service.round_board(_announced_round(round_id)))
    response.headers["Content-Disposition"] = f"inline; filename=ballot-board-{round_id}.json"
    return response
