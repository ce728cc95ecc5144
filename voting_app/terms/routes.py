"""Congresses, terms and the standing registry of deputies: the committee's staff pages.

The registry's rules live in voting_app.registry; a change that reaches the sessions' rosters
goes through voting_app.sessions.service, which brings every session of the term in line."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from voting_app.ballots import profile_rules, profiles
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.paging import page_of
from voting_app.projects.delivery import records_of_deputy
from voting_app.projects.schedule import beijing_today
from voting_app.registry import service as registry, stations
from voting_app.registry.models import Congress, Grid, Term, TermDeputy
from voting_app.registry.roster import RosterRow
from voting_app.registry.terms import CONGRESS_LEVELS, DEPUTY_LEVELS, ELECTED, LEAVING_KINDS, term_label
from voting_app.sessions import changes
from voting_app.sessions import service as sessions
from voting_app.sessions.models import CongressSession, Deputy
from voting_app.sessions.routes import import_page
from voting_app.terms.forms import (
    CongressForm,
    DeputyGridForm,
    ElectedDeputyForm,
    OfficeChangeForm,
    RuleProfileConfirmForm,
    RuleProfileForm,
    RuleProfileImportForm,
    TermForm,
)
from voting_app.web import current_actor, get_child_or_404, int_arg

bp = Blueprint("terms", __name__, url_prefix="/terms")
PER_PAGE = 50


def _term(term_id: int) -> Term:
    return db.get_or_404(Term, term_id)


def _term_sessions(term: Term) -> list[CongressSession]:
    return list(
        db.session.scalars(
            select(CongressSession)
            .where(CongressSession.term_id == term.id)
            .order_by(CongressSession.starts_on.nulls_last(), CongressSession.meeting_number, CongressSession.id)
        )
    )


@bp.get("/")
def term_list():
    congresses = registry.congresses()
    counts = {term.id: len(term.deputies) for congress in congresses for term in congress.terms}
    meetings = {
        term.id: len(_term_sessions(term)) for congress in congresses for term in congress.terms
    }
    return render_template("terms/list.html", congresses=congresses, counts=counts, meetings=meetings)


@bp.route("/congresses/new", methods=["GET", "POST"])
def congress_new():
    form = CongressForm()
    if form.validate_on_submit():
        try:
            congress = registry.create_congress(current_actor(), form.name.data, form.level.data)
        except DomainError as error:
            db.session.rollback()
            form.name.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("Congress “%(name)s” added. Next, add its term.", name=congress.name), "success")
            return redirect(url_for("terms.term_new", congress_id=congress.id))
    return render_template("terms/congress_form.html", form=form), 400 if form.errors else 200


@bp.route("/congresses/<int:congress_id>/terms/new", methods=["GET", "POST"])
def term_new(congress_id: int):
    congress = db.get_or_404(Congress, congress_id)
    form = TermForm()
    if form.validate_on_submit():
        try:
            term = registry.create_term(current_actor(), congress, form.number.data, form.starts_on.data, form.ends_on.data)
        except DomainError as error:
            db.session.rollback()
            form.number.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("%(term)s added. Next, import its deputies.", term=term_label(congress.name, term.number)), "success")
            return redirect(url_for("terms.term_detail", term_id=term.id))
    return render_template("terms/term_form.html", form=form, congress=congress), 400 if form.errors else 200


@bp.get("/<int:term_id>")
def term_detail(term_id: int):
    """The term's sessions with their roster counts, and its standing registry: search, filters, pages."""
    term = _term(term_id)
    today = beijing_today()
    filters = {
        "query": request.args.get("q", "").strip()[:100],
        "status": request.args.get("status", "") if request.args.get("status") in (registry.IN_OFFICE, registry.LEFT_OFFICE) else "",
        "level": request.args.get("level", "") if request.args.get("level") in DEPUTY_LEVELS else "",
        "delegation": request.args.get("delegation", "")[:100],
    }
    found = registry.find_deputies(term, today, **filters)
    page = page_of(len(found), int_arg("page"), PER_PAGE)
    meetings = _term_sessions(term)
    return render_template(
        "terms/detail.html",
        term=term,
        today=today,
        filters=filters,
        deputies=found[page.offset : page.offset + page.per_page],
        page=page,
        counts=registry.registry_counts(term, today),
        delegations=registry.delegations(term),
        meetings=meetings,
        presence={meeting.id: sessions.presence(meeting.id) for meeting in meetings},
        levels=DEPUTY_LEVELS,
    )


@bp.route("/<int:term_id>/import", methods=["GET", "POST"])
def term_import(term_id: int):
    """Import or update the term's deputies: the session roster import's page, on the term."""
    term = _term(term_id)
    return import_page(
        term,
        None,
        here=url_for("terms.term_import", term_id=term.id),
        done=url_for("terms.term_detail", term_id=term.id),
    )


@bp.get("/<int:term_id>/template.csv")
def registry_template(term_id: int):
    term = _term(term_id)
    level = "乡镇" if term.congress.level == CONGRESS_LEVELS[1] else "区"
    body = f"\ufeff代表证号,姓名,代表团,工作单位,代表层级,联系电话,网格编码\n001,张三,城区代表团,樊城区某街道,{level},13800000000,\n"
    return Response(
        body.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=registry-template.csv"},
    )


def _attendance(term: Term, person: TermDeputy) -> list[tuple[CongressSession, Deputy | None]]:
    """Each session of the term, with the person's roster row in it (None: not on that roster)."""
    rows = {
        row.session_id: row
        for row in db.session.scalars(select(Deputy).where(Deputy.term_deputy_id == person.id))
    }
    return [(meeting, rows.get(meeting.id)) for meeting in _term_sessions(term)]


@bp.get("/<int:term_id>/deputies/<int:person_id>")
def deputy_detail(term_id: int, person_id: int):
    """A deputy across the term: office history, attendance per session, supervision visits.
    Nothing of how they voted is read here."""
    term = _term(term_id)
    person = get_child_or_404(TermDeputy, person_id, term_id=term.id)
    attendance = _attendance(term, person)
    rows = [row for _, row in attendance if row is not None]
    grid_form = DeputyGridForm(formdata=None, grid_id=person.grid_id)
    return render_template(
        "terms/deputy.html",
        term=term,
        person=person,
        grid_form=grid_form,
        recorders=_recorders(person),
        attendance=attendance,
        records=records_of_deputy(rows[0]) if rows else [],
        today=beijing_today(),
    )


@bp.post("/<int:term_id>/deputies/<int:person_id>/grid")
def deputy_grid(term_id: int, person_id: int):
    """Link the deputy to a grid, or to none."""
    term = _term(term_id)
    person = get_child_or_404(TermDeputy, person_id, term_id=term.id)
    form = DeputyGridForm()
    if not form.validate_on_submit():
        flash(_("Choose a grid from the list."), "error")
        return redirect(url_for("terms.deputy_detail", term_id=term.id, person_id=person.id))
    grid = db.session.get(Grid, form.grid_id.data) if form.grid_id.data else None
    registry.set_deputy_grid(current_actor(), person, grid)
    db.session.commit()
    flash(_("Grid saved."), "success")
    return redirect(url_for("terms.deputy_detail", term_id=term.id, person_id=person.id))


def _recorders(person: TermDeputy) -> dict[str, str]:
    """Who recorded each change, by their display name."""
    return _people([change.recorded_by for change in person.changes])


def _reached(term: Term, day) -> list[tuple[CongressSession, bool]]:
    """The sessions a change on `day` reaches, each with whether its roster is part of the record."""
    today = beijing_today()
    return [(meeting, changes.is_roster_frozen(meeting, today)) for meeting in sessions.sessions_on_or_after(term, day, today)]


@bp.route("/<int:term_id>/deputies/<int:person_id>/change", methods=["GET", "POST"])
def office_change(term_id: int, person_id: int):
    """Record a change in office: the form, then a confirmation page (what it will reach), then
    the change. Works without JavaScript: the confirmation carries the values back."""
    term = _term(term_id)
    person = get_child_or_404(TermDeputy, person_id, term_id=term.id)
    form = OfficeChangeForm()
    if request.method == "GET":
        form.kind.data = ELECTED if person.left_office_on else LEAVING_KINDS[0]
        form.effective_on.data = beijing_today()
    elif form.validate_on_submit():
        if form.confirmed.data == "yes":
            try:
                recorded = sessions.record_office_change(
                    current_actor(), person, form.kind.data, form.effective_on.data, form.note.data or "", beijing_today()
                )
            except DomainError as error:
                db.session.rollback()
                form[getattr(error, "field", "kind")].errors.append(str(error.message))
            else:
                db.session.commit()
                flash(_("Change in office of %(name)s recorded.", name=person.name), "success")
                if note := stations.dropped_duties_note(person.name, recorded.duties_dropped):
                    flash(str(note), "info")
                return redirect(url_for("terms.deputy_detail", term_id=term.id, person_id=person.id))
        else:
            form.confirmed.data = "yes"
            return render_template(
                "terms/office_change_confirm.html", term=term, person=person, form=form,
                reached=_reached(term, form.effective_on.data),
                coming_duties=len(stations.future_duties(person, beijing_today())) if form.kind.data in LEAVING_KINDS else 0,
            )
    form.confirmed.data = ""
    status = 400 if form.errors else 200
    return render_template("terms/office_change.html", term=term, person=person, form=form, today=beijing_today()), status


@bp.route("/<int:term_id>/elected", methods=["GET", "POST"])
def deputy_elected(term_id: int):
    """Add a deputy elected in a by-election (补选), with a confirmation page; the term's
    sessions from that day take them onto their rosters."""
    term = _term(term_id)
    form = ElectedDeputyForm()
    if request.method == "GET":
        form.level.data = term.congress.level
        form.took_office_on.data = beijing_today()
    elif form.validate_on_submit():
        row = RosterRow(
            0, form.number.data.strip(), form.name.data.strip(), (form.delegation.data or "").strip(),
            (form.unit.data or "").strip(), form.level.data, (form.contact.data or "").strip(),
        )
        if form.confirmed.data == "yes":
            try:
                person = sessions.add_elected_deputy(
                    current_actor(), term, row, form.took_office_on.data, beijing_today(), form.note.data or ""
                )
            except DomainError as error:
                db.session.rollback()
                field = {"effective_on": "took_office_on"}.get(getattr(error, "field", "number"), getattr(error, "field", "number"))
                form[field if field in form else "number"].errors.append(str(error.message))
            else:
                db.session.commit()
                flash(_("%(name)s (%(number)s) added as elected in a by-election.", name=person.name, number=person.number), "success")
                return redirect(url_for("terms.deputy_detail", term_id=term.id, person_id=person.id))
        else:
            form.confirmed.data = "yes"
            return render_template(
                "terms/elected_confirm.html", term=term, form=form, reached=_reached(term, form.took_office_on.data)
            )
    form.confirmed.data = ""
    return render_template("terms/elected.html", term=term, form=form), 400 if form.errors else 200


# ---- the congress's 票决办法 (rule profile) -----------------------------------------------------


def _congress(congress_id: int) -> Congress:
    return db.get_or_404(Congress, congress_id)


@bp.get("/congresses/<int:congress_id>/rules")
def rule_profile(congress_id: int):
    """The profile in force, in plain words, and every version before it."""
    congress = _congress(congress_id)
    profile, newest = profiles.profile_in_force(congress.id)
    return render_template(
        "terms/rules.html",
        congress=congress,
        settings=profiles.described_settings(profile),
        newest=newest,
        versions=profiles.versions(congress),
        people=_people([saved.created_by for saved in profiles.versions(congress)]),
    )


@bp.route("/congresses/<int:congress_id>/rules/edit", methods=["GET", "POST"])
def rule_profile_edit(congress_id: int):
    """Edit the profile: each save is a new version; nothing is stored while a setting is wrong."""
    congress = _congress(congress_id)
    form = RuleProfileForm()
    if request.method == "GET":
        form.fill(profiles.profile_in_force(congress.id)[0])
    elif form.validate_on_submit():
        profile, problems = profile_rules.from_document(form.document())
        try:
            if profile is None:
                raise profiles.ProfileError(problems)
            saved = profiles.save_profile(current_actor(), congress, profile, form.note.data or "")
        except profiles.ProfileError as error:
            db.session.rollback()
            form.show_problems(error.problems, profiles.problem_message)
        except DomainError as error:
            db.session.rollback()
            form.note.errors.append(str(error.message))
        else:
            db.session.commit()
            flash(_("Version %(number)s of the 票决办法 saved. Rounds created from now on follow it.", number=saved.number), "success")
            return redirect(url_for("terms.rule_profile", congress_id=congress.id))
    return render_template("terms/rules_form.html", congress=congress, form=form), 400 if form.errors else 200


@bp.get("/congresses/<int:congress_id>/rules.json")
def rule_profile_export(congress_id: int):
    """The profile in force (or `?version=N`) as the readable file an import takes back."""
    congress = _congress(congress_id)
    number = int_arg("version")
    if number is not None:
        saved = profiles.version(congress, number)
        if saved is None:
            abort(404)
        text, name = saved.document, f"rule-profile-{congress.id}-v{saved.number}.json"
    else:
        profile, newest = profiles.profile_in_force(congress.id)
        text = profile_rules.to_json(profile)
        name = f"rule-profile-{congress.id}-v{newest.number}.json" if newest else f"rule-profile-{congress.id}-default.json"
    return Response(
        text.encode("utf-8"),
        mimetype="application/json",
        headers={"Content-Disposition": f"attachment; filename={name}"},
    )


@bp.route("/congresses/<int:congress_id>/rules/import", methods=["GET", "POST"])
def rule_profile_import(congress_id: int):
    """Upload a profile file, see what it would change (or what is wrong with it), then import."""
    congress = _congress(congress_id)
    form, confirm = RuleProfileImportForm(), RuleProfileConfirmForm()
    secret = current_app.config["SECRET_KEY"]
    context = {"congress": congress, "form": form, "problems": [], "preview": None}
    if "profile" in request.form:
        if not confirm.validate_on_submit():
            abort(400)
        try:
            saved = profiles.import_sealed(current_actor(), congress, secret, confirm.profile.data, confirm.note.data or "")
        except profiles.ProfileError as error:
            db.session.rollback()
            for path, code in error.problems:
                flash(f"{profiles.field_label(path)}: {profiles.problem_message(path, code)}", "error")
            return redirect(url_for("terms.rule_profile_import", congress_id=congress.id))
        except DomainError as error:
            db.session.rollback()
            flash(str(error.message), "error")
            return redirect(url_for("terms.rule_profile_import", congress_id=congress.id))
        if saved is None:
            flash(_("This preview is out of date: the profile has changed since, or the preview is too old. Check the file again."), "error")
            return redirect(url_for("terms.rule_profile_import", congress_id=congress.id))
        db.session.commit()
        flash(_("Version %(number)s of the 票决办法 imported. Rounds created from now on follow it.", number=saved.number), "success")
        return redirect(url_for("terms.rule_profile", congress_id=congress.id))
    if form.validate_on_submit():
        preview, problems = profiles.preview_import(congress, form.file.data.read(profile_rules.MAX_DOCUMENT_BYTES + 1))
        if preview is None:
            context["problems"] = [(profiles.field_label(path), profiles.problem_message(path, code)) for path, code in problems]
            return render_template("terms/rules_import.html", **context), 400
        before = profiles.describe(profiles.profile_in_force(congress.id)[0])
        after = profiles.describe(preview.profile)
        confirm.profile.data = profiles.seal_preview(secret, congress, preview)
        context.update(
            preview=preview,
            confirm=confirm,
            changes=[(str(profiles.SETTING_LABELS[name]), before[name], after[name]) for name in preview.changed],
            settings=profiles.described_settings(preview.profile),
        )
        return render_template("terms/rules_import.html", **context)
    return render_template("terms/rules_import.html", **context), 400 if form.errors else 200


def _people(actors: list[str]) -> dict[str, str]:
    """Display names for actor labels ("user:3" is 人大常委会办公室 李敏)."""
    from voting_app.auth.models import User

    names = {}
    for actor in actors:
        kind, _, number = actor.partition(":")
        user = db.session.get(User, int(number)) if kind == "user" and number.isdecimal() else None
        names[actor] = user.display_name if user else actor
    return names
