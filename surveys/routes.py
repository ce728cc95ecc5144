"""Staff build surveys and read results; residents answer at /s/<code> (the QR codes'
short URLs, stable whatever is edited)."""

import re
import secrets
import weakref
from datetime import date, datetime, time
from functools import lru_cache

from flask import (
    Blueprint,
    Response as HttpResponse,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import get_locale, gettext as _
from flask_babel import to_utc, to_user_timezone
from flask_login import current_user
from itsdangerous import BadSignature, URLSafeSerializer
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms.validators import ValidationError
from markupsafe import Markup, escape
from sqlalchemy import select

from surveys import exports, qr, rules, service
from surveys.charts import placement_figure
from voting_app.web import PLOTLY_JS
from voting_app.labels import rating_labels
from surveys.forms import CodesForm, PlacementForm, QuestionEnglishForm, QuestionForm, SurveyForm
from voting_app.labels import grid_level_labels, too_few_note
from voting_app.registry import grid_service
from voting_app.registry.grid_forms import GridChoiceForm, chosen_level
from voting_app.registry.grid_map import PALETTE, rate_class, rate_labels
from surveys.models import TOKENED, Answer, Placement, Question, Response, Survey
from voting_app.db import db, reads_first, start_writing, utcnow
from voting_app.errors import DomainError
from voting_app.extensions import csrf, limit_per_address, select_locale
from voting_app.forms import ButtonForm
from voting_app.projects.models import Project
from voting_app.qr import qr_svg
from voting_app.web import (
    TEXT_COOKIE,
    current_actor,
    flash_domain_error,
    get_child_or_404,
    int_arg,
    is_large_type,
    public_url,
    remember_text_size,
    sheet_already_printed,
)

bp = Blueprint("surveys", __name__)
ANSWERED_COOKIE = "answered"


def _survey(survey_id: int) -> Survey:
    return db.get_or_404(Survey, survey_id)


def _to_detail(survey: Survey):
    return redirect(url_for("surveys.survey_detail", survey_id=survey.id))


def _project_choices():
    projects = db.session.scalars(select(Project).order_by(Project.year.desc(), Project.name)).all()
    return [("", _("Stands alone (no project)"))] + [(str(p.id), f"{p.year} · {p.name}") for p in projects]


def _local(moment):
    return to_user_timezone(moment).replace(tzinfo=None) if moment else None


def _utc(moment):
    return to_utc(moment) if moment else None


def short_url(code: str) -> str:
    return public_url("surveys.respond", code=code)


# ---- staff: building -----------------------------------------------------------------


@bp.get("/surveys/")
def survey_list():
    surveys = db.session.scalars(select(Survey).order_by(Survey.id.desc())).all()
    counts = dict(db.session.execute(select(Response.survey_id, db.func.count()).group_by(Response.survey_id)).all())
    now = utcnow()
    states = {s.id: rules.availability(s.opens_at, s.closes_at, now) for s in surveys}
    return render_template("surveys/list.html", surveys=surveys, counts=counts, states=states)


@bp.route("/surveys/new", methods=["GET", "POST"])
def survey_new():
    form = SurveyForm(project_id=int_arg("project"), hold_after=current_app.config["SURVEY_HOLD_AFTER"])
    form.project_id.choices = _project_choices()
    if form.validate_on_submit():
        settings = dict(
            mode=form.mode.data,
            opens_at=_utc(form.opens_at.data),
            closes_at=_utc(form.closes_at.data),
            threshold_percent=form.threshold_percent.data,
            hold_after=form.hold_after.data,
        )
        try:
            if form.use_template.data:
                survey = service.create_from_template(
                    current_actor(), form.title.data, form.project_id.data, form.stage.data or None, **settings
                )
            else:
                survey = service.create_survey(
                    current_actor(), form.title.data, form.intro.data or "", form.project_id.data, form.stage.data or None, **settings
                )
            if form.intro.data:
                survey.intro = form.intro.data.strip()
            db.session.commit()
            return _to_detail(survey)
        except DomainError as error:
            flash_domain_error(error)
    return render_template("surveys/form.html", form=form, survey=None)


@bp.route("/surveys/<int:survey_id>/edit", methods=["GET", "POST"])
def survey_edit(survey_id: int):
    survey = _survey(survey_id)
    form = SurveyForm(obj=survey)
    form.project_id.choices = _project_choices()
    if request.method == "GET":
        form.opens_at.data, form.closes_at.data = _local(survey.opens_at), _local(survey.closes_at)
        form.stage.data = survey.stage or ""
    if form.validate_on_submit():
        try:
            service.update_survey(
                current_actor(),
                survey,
                title=form.title.data,
                intro=form.intro.data or "",
                project_id=form.project_id.data,
                stage=form.stage.data or None,
                mode=form.mode.data,
                opens_at=_utc(form.opens_at.data),
                closes_at=_utc(form.closes_at.data),
                threshold_percent=form.threshold_percent.data,
                hold_after=survey.hold_after if form.hold_after.data is None else form.hold_after.data,
            )
            db.session.commit()
            return _to_detail(survey)
        except DomainError as error:
            flash_domain_error(error)
    return render_template("surveys/form.html", form=form, survey=survey)


@bp.get("/surveys/<int:survey_id>")
def survey_detail(survey_id: int):
    survey = _survey(survey_id)
    return render_template(
        "surveys/detail.html",
        survey=survey,
        state=rules.availability(survey.opens_at, survey.closes_at, utcnow()),
        responses=db.session.scalar(select(db.func.count()).select_from(Response).where(Response.survey_id == survey.id)),
        question_form=QuestionForm(),
        placement_form=PlacementForm(),
        codes_form=CodesForm(),
        sheet=secrets.token_urlsafe(8),
        button=ButtonForm(),
        short_url=short_url,
        local=_local,
    )


@bp.post("/surveys/<int:survey_id>/questions")
def question_add(survey_id: int):
    survey = _survey(survey_id)
    form = QuestionForm()
    if not form.validate_on_submit():
        for name, messages in form.errors.items():
            flash(f"{form[name].label.text}: {' '.join(messages)}", "error")
        return _to_detail(survey)
    try:
        service.add_question(
            current_actor(),
            survey,
            form.kind.data,
            form.prompt.data,
            form.is_required.data,
            (form.options.data or "").splitlines(),
            form.max_length.data,
            prompt_en=form.prompt_en.data or "",
            options_en=(form.options_en.data or "").splitlines(),
        )
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
    return _to_detail(survey)


@bp.route("/surveys/<int:survey_id>/questions/<int:question_id>/english", methods=["GET", "POST"])
def question_english(survey_id: int, question_id: int):
    """The English text of a question, shown to residents whose interface is English."""
    survey = _survey(survey_id)
    question = get_child_or_404(Question, question_id, survey_id=survey.id)
    form = QuestionEnglishForm()
    if request.method == "GET":
        form.prompt_en.data = question.prompt_en
        form.options_en.data = "\n".join(option.get("label_en", "") for option in question.options)
    if form.validate_on_submit():
        try:
            service.translate_question(
                current_actor(), survey, question, form.prompt_en.data or "", (form.options_en.data or "").splitlines()
            )
            db.session.commit()
            return _to_detail(survey)
        except DomainError as error:
            flash_domain_error(error)
    return render_template("surveys/question_english.html", survey=survey, question=question, form=form)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/move")
def question_move(survey_id: int, question_id: int):
    survey = _survey(survey_id)
    question = get_child_or_404(Question, question_id, survey_id=survey.id)
    if ButtonForm().validate_on_submit():
        service.move_question(current_actor(), survey, question, -1 if request.form.get("direction") == "up" else 1)
        db.session.commit()
    return _to_detail(survey)


@bp.post("/surveys/<int:survey_id>/questions/<int:question_id>/delete")
def question_delete(survey_id: int, question_id: int):
    survey = _survey(survey_id)
    question = get_child_or_404(Question, question_id, survey_id=survey.id)
    if ButtonForm().validate_on_submit():
        try:
            service.remove_question(current_actor(), survey, question)
            db.session.commit()
        except DomainError as error:
            flash_domain_error(error)
    return _to_detail(survey)


@bp.post("/surveys/<int:survey_id>/placements")
def placement_add(survey_id: int):
    survey = _survey(survey_id)
    form = PlacementForm()
    if form.validate_on_submit():
        service.add_placement(current_actor(), survey, form.name.data, form.grid_id.data)
        db.session.commit()
    else:
        flash(_("Name the place where the QR code will be posted."), "error")
    return _to_detail(survey)


def _placement(survey_id: int, placement_id: int) -> tuple[Survey, Placement]:
    survey = _survey(survey_id)
    return survey, get_child_or_404(Placement, placement_id, survey_id=survey.id)


@bp.route("/surveys/<int:survey_id>/placements/<int:placement_id>/grid", methods=["GET", "POST"])
def placement_grid(survey_id: int, placement_id: int):
    """The grid a placement hangs in: answers scanned there from now on count for it."""
    survey, placement = _placement(survey_id, placement_id)
    form = GridChoiceForm(obj=placement)
    if form.validate_on_submit():
        service.set_placement_grid(current_actor(), survey, placement, form.grid_id.data)
        db.session.commit()
        flash(_("Grid saved for %(name)s.", name=placement.name), "success")
        return _to_detail(survey)
    return render_template("surveys/placement_grid.html", survey=survey, placement=placement, form=form), 400 if form.errors else 200


@bp.get("/surveys/<int:survey_id>/placements/<int:placement_id>/qr.png")
def qr_png(survey_id: int, placement_id: int):
    _, placement = _placement(survey_id, placement_id)
    response = make_response(qr.qr_png(short_url(placement.code)))
    response.headers["Content-Type"] = "image/png"
    response.headers["Content-Disposition"] = f"attachment; filename=survey-{survey_id}-{placement.code}.png"
    return response


@bp.get("/surveys/<int:survey_id>/placements/<int:placement_id>/qr.svg")
def qr_svg_download(survey_id: int, placement_id: int):
    _, placement = _placement(survey_id, placement_id)
    response = make_response(qr.qr_svg_file(short_url(placement.code)))
    response.headers["Content-Type"] = "image/svg+xml"
    response.headers["Content-Disposition"] = f"attachment; filename=survey-{survey_id}-{placement.code}.svg"
    return response


@bp.get("/surveys/<int:survey_id>/placements/<int:placement_id>/poster")
def poster(survey_id: int, placement_id: int):
    survey, placement = _placement(survey_id, placement_id)
    url = short_url(placement.code)
    return render_template("surveys/poster.html", survey=survey, placement=placement, url=url, qr=qr_svg(url, survey.title))


@bp.post("/surveys/<int:survey_id>/codes")
def codes_issue(survey_id: int):
    survey = _survey(survey_id)
    form = CodesForm()
    if not form.validate_on_submit():
        flash(_("Print between 1 and 5000 codes at a time."), "error")
        return _to_detail(survey)
    if sheet_already_printed():
        return _to_detail(survey)
    try:
        codes = service.issue_household_codes(current_actor(), survey, form.count.data, current_app.config["SECRET_KEY"], form.grid_id.data)
        db.session.commit()
    except DomainError as error:
        flash_domain_error(error)
        return _to_detail(survey)
    url = short_url(survey.short_code)
    slips = [{"code": code, "qr": qr_svg(f"{url}?code={code}", code)} for code in codes]
    response = make_response(render_template("surveys/codes_print.html", survey=survey, slips=slips, url=url))
    response.headers["Cache-Control"] = "no-store"
    return response


# ---- staff: results and moderation ---------------------------------------------------


def _include_flagged() -> bool:
    return request.args.get("flagged", "include") != "exclude"


@bp.get("/surveys/<int:survey_id>/results")
def results(survey_id: int):
    survey = _survey(survey_id)
    outcome = service.results(survey, _include_flagged())
    level_form, level = chosen_level(request.args)
    return render_template(
        "surveys/results.html",
        survey=survey,
        results=outcome,
        level_form=level_form,
        level=level,
        level_labels=grid_level_labels(),
        grid_cells=service.grid_results(survey, level, _include_flagged()),
        min_answers=service.GRID_MIN_ANSWERS,
        frame_rates=_frame_rates(survey, level),
        figure=_figure(outcome),
        plotly_js=PLOTLY_JS,
        placement_rows=lambda r: [(p.name if p else _("No placement (household slip or paper)"), rate) for p, rate in r.by_placement],
        week_rows=lambda r: [(week.isoformat(), rate) for week, rate in r.by_week],
        entry_rows=lambda r: [(_("Assisted entry") if assisted else _("Answered by residents"), rate) for assisted, rate in r.by_entry],
        option_labels=_option_labels,
    )


def _frame_rates(survey, level):
    from surveys import frames

    return [frames.frame_rate(frame, level, service.GRID_MIN_ANSWERS) for frame in frames.frames_of(survey) if frame.printed_at]


@bp.get("/surveys/<int:survey_id>/grid-map")
def grid_map(survey_id: int):
    """The satisfaction rate by grid as a map drawn on the server, with the same figures in a table."""
    survey = _survey(survey_id)
    level_form, level = chosen_level(request.args)
    cells = service.grid_results(survey, level, _include_flagged())
    values = {
        cell.grid.id: (f"{cell.rate.rate_text}% (n={cell.rate.valid})", rate_class(cell.rate.rate_tenths))
        for cell in cells if cell.grid is not None and not cell.is_suppressed
    }
    labels = grid_level_labels()
    title = _("Satisfaction rate by %(level)s: %(survey)s", level=labels[level], survey=survey.title)
    svg = Markup(grid_service.draw_map(level, values, title, str(too_few_note())))
    return render_template(
        "surveys/grid_map.html", survey=survey, cells=cells, svg=svg, title=title, level_form=level_form, level=level,
        level_labels=labels, legend=list(zip(PALETTE, rate_labels())), min_answers=service.GRID_MIN_ANSWERS,
    )


def _option_labels(question: Question) -> dict:
    if question.kind == "satisfaction":
        return rating_labels()
    return question.option_labels_in(str(get_locale()))


def _figure(outcome) -> dict | None:
    if not outcome.by_placement:
        return None
    return placement_figure(outcome, rating_labels(), _("General QR code"))


@bp.get("/surveys/<int:survey_id>/results.json")
def results_json(survey_id: int):
    survey = _survey(survey_id)
    outcome = service.results(survey, _include_flagged())
    return jsonify(_results_payload(outcome))


def _rate_payload(rate):
    if rate is None:
        return None
    return {
        "satisfied": rate.satisfied,
        "mostly_satisfied": rate.mostly,
        "dissatisfied": rate.dissatisfied,
        "valid": rate.valid,
        "rate_percent": rate.rate,
        "rate_text": rate.rate_text,
        "interval_percent": list(rate.interval) if rate.interval else None,
        "interval_text": list(rate.interval_text) if rate.interval_text else None,
        "is_small_sample": rate.is_small_sample,
    }


def _results_payload(outcome) -> dict:
    return {
        "survey": {"id": outcome.survey.id, "title": outcome.survey.title, "bar_percent": outcome.survey.threshold_percent},
        "responses": outcome.responses,
        "flagged": outcome.flagged,
        "assisted": outcome.assisted,
        "include_flagged": outcome.include_flagged,
        "held": outcome.held,
        "satisfaction": _rate_payload(outcome.rate),
        "needs_rectification": outcome.needs_rectification,
        "questions": [
            {
                "id": item.question.id,
                "kind": item.question.kind,
                "prompt": item.question.prompt,
                "answered": item.answered,
                "counts": {share.key: share.count for share in item.shares},
                "mean": item.mean,
                "comments": item.comments,
            }
            for item in outcome.questions
        ],
        "by_placement": [
            {"placement": placement.name if placement else None, **_rate_payload(rate)} for placement, rate in outcome.by_placement
        ],
        "by_week": [{"week_start": week.isoformat(), **_rate_payload(rate)} for week, rate in outcome.by_week],
        "by_entry": [{"assisted": assisted, **_rate_payload(rate)} for assisted, rate in outcome.by_entry],
    }


@bp.get("/surveys/<int:survey_id>/export.csv")
def export_csv(survey_id: int):
    survey = _survey(survey_id)

    def generate():
        # The view's database session ends when it returns; the stream reads in a fresh one.
        yield from exports.csv_chunks(db.session.get(Survey, survey_id))

    return HttpResponse(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename=survey-{survey.id}.csv"},
    )


@bp.get("/surveys/<int:survey_id>/export.xlsx")
def export_xlsx(survey_id: int):
    survey = _survey(survey_id)
    return HttpResponse(
        exports.xlsx_bytes(survey, service.results(survey)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f"attachment; filename=survey-{survey.id}.xlsx"},
    )


@bp.get("/surveys/<int:survey_id>/comments")
def comments(survey_id: int):
    survey = _survey(survey_id)
    page = service.visible_comments(survey, int_arg("page") or 1, include_hidden=True)
    prompts = {q.id: q.prompt_in(str(get_locale())) for q in survey.questions}
    return render_template("surveys/comments.html", survey=survey, page=page, prompts=prompts, button=ButtonForm())


@bp.post("/surveys/<int:survey_id>/comments/<int:answer_id>/hide")
def comment_hide(survey_id: int, answer_id: int):
    survey = _survey(survey_id)
    answer = get_child_or_404(Answer, answer_id, survey_id=survey.id)
    if ButtonForm().validate_on_submit():
        try:
            service.set_comment_hidden(current_actor(), survey, answer, request.form.get("hidden") != "0")
            db.session.commit()
        except DomainError as error:
            flash_domain_error(error)
    return redirect(url_for("surveys.comments", survey_id=survey.id, page=int_arg("page") or 1))


@bp.get("/surveys/<int:survey_id>/flagged")
def flagged(survey_id: int):
    """Suspected repeats, for staff to judge: they stay counted unless left out or cleared.
    Held answers are judged on their own page."""
    survey = _survey(survey_id)
    page = db.paginate(
        select(Response).where(Response.survey_id == survey.id, Response.is_flagged.is_(True), Response.held_on.is_(None))
        .order_by(Response.id.desc()),
        page=int_arg("page") or 1,
        per_page=50,
        error_out=False,
    )
    placements = {p.id: p.name for p in survey.placements}
    return render_template("surveys/flagged.html", survey=survey, page=page, placements=placements, button=ButtonForm(), local=_local)


@bp.get("/surveys/<int:survey_id>/held")
def held(survey_id: int):
    """Answers past the survey's daily count from one address, by day and placement: staff
    count them in or discard them together, since an estate may share one address."""
    survey = _survey(survey_id)
    return render_template("surveys/held.html", survey=survey, groups=service.held_groups(survey), button=ButtonForm())


@bp.post("/surveys/<int:survey_id>/held")
def held_settle(survey_id: int):
    survey = _survey(survey_id)
    if ButtonForm().validate_on_submit():
        try:
            day = date.fromisoformat(request.form["day"]) if request.form.get("day") else None
        except ValueError:
            abort(400)
        try:
            number = service.settle_held(current_actor(), survey, request.form.get("decision", ""), day,
                                         int_arg("placement", request.form))
            db.session.commit()
        except DomainError as error:
            flash_domain_error(error)
        else:
            message = _("%(count)s held answers are now counted.", count=number) if request.form.get("decision") == service.RELEASE \
                else _("%(count)s held answers were discarded.", count=number)
            flash(message, "success")
    return redirect(url_for("surveys.held", survey_id=survey.id))


@bp.post("/surveys/<int:survey_id>/responses/<int:response_id>/flag")
def response_flag(survey_id: int, response_id: int):
    survey = _survey(survey_id)
    response = get_child_or_404(Response, response_id, survey_id=survey.id)
    if ButtonForm().validate_on_submit():
        service.set_response_flag(current_actor(), survey, response, request.form.get("flagged") == "1")
        db.session.commit()
    return redirect(url_for("surveys.flagged", survey_id=survey.id))


# ---- answering -----------------------------------------------------------------------


def _submitted(survey) -> dict[int, list[str]]:
    return {q.id: request.form.getlist(f"q{q.id}") for q in survey.questions}


def _answered() -> URLSafeSerializer:
    return _answered_serializer(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _answered_serializer(secret_key: str) -> URLSafeSerializer:
    """Built once per key: building one costs as much as signing with it."""
    return URLSafeSerializer(secret_key, salt="surveys-answered")


def _answered_ids() -> list[int]:
    try:
        return list(_answered().loads(request.cookies.get(ANSWERED_COOKIE, "")))
    except BadSignature:
        return []


def _resolve(code: str) -> tuple[service.ResidentSurvey, service.PlacementView | None]:
    """A short code names a placement, or the survey itself (household slips use that)."""
    found = service.resident_survey(code)
    if found is None:
        abort(make_response(render_template("surveys/unknown.html", large=is_large_type()), 404))
    return found


def _availability(survey) -> str:
    return rules.availability(survey.opens_at, survey.closes_at, utcnow())


def _answered_here(survey) -> bool:
    """This phone answered this survey already (a tokened survey asks its slip's code instead)."""
    return survey.mode != TOKENED and survey.id in _answered_ids()


def _render_survey(survey, placement, code, *, errors=None, values=None, message=None, status=200, assisted=False):
    response = make_response(
        render_template(
            "surveys/respond.html",
            survey=survey,
            placement=placement,
            code=code,
            state=_availability(survey),
            errors=errors or {},
            values=values or {},
            message=message,
            already=not assisted and _answered_here(survey),
            household_code=(request.form.get("household_code") or request.args.get("code", "")) if not assisted else "",
            local=_local,
            large=is_large_type(),
            assisted=assisted,
            button=ButtonForm(),
        ),
        status,
    )
    return remember_text_size(response, request.args.get(TEXT_COOKIE))


# What differs between two residents opening the same blank page, filled into the kept copy
# per request. Random per worker, so no text of a survey can contain one.
_CSRF_SLOT, _CODE_SLOT, _NAV_SLOT = (f"slot-{name}-{secrets.token_hex(12)}" for name in ("csrf", "code", "nav"))
_SLOTS = re.compile(f"({_CSRF_SLOT}|{_CODE_SLOT}|{_NAV_SLOT})")
# Each kept survey (service.resident_survey) -> its rendered pages; they go when it is replaced.
_kept_pages: "weakref.WeakKeyDictionary[service.ResidentSurvey, dict]" = weakref.WeakKeyDictionary()


def _blank_page(survey, placement, code) -> str:
    """The answer page before anything is answered, rendered once per survey as last read,
    language, text size, open state and whether this phone answered already; this request's
    CSRF token, household code (from a slip's link) and header links are filled in."""
    locale, large = select_locale(), is_large_type()
    state, already = _availability(survey), _answered_here(survey)
    pages = _kept_pages.setdefault(survey, {})
    key = (locale, large, state, already)
    pieces = pages.get(key)
    if pieces is None:
        page = render_template(
            "surveys/respond.html", survey=survey, placement=placement, code=code, state=state, errors={}, values={},
            message=None, already=already, household_code=_CODE_SLOT, local=_local, large=large, assisted=False,
            button=ButtonForm(), nav=Markup(_NAV_SLOT),
        )
        pieces = pages[key] = _SLOTS.split(page.replace(generate_csrf(), _CSRF_SLOT))
    fills = {_CSRF_SLOT: generate_csrf(), _CODE_SLOT: str(escape(request.args.get("code", ""))), _NAV_SLOT: _nav(pages, locale, large)}
    return "".join(fills[piece] if index % 2 else piece for index, piece in enumerate(pieces))


def _nav(pages: dict, locale: str, large: bool) -> str:
    """The header's links, which keep this request's path and query: kept too when there is
    no query (a scanned QR code), else rendered for this request."""
    nav = current_app.jinja_env.get_template("surveys/_resident_nav.html")
    if request.query_string:
        return nav.render(large=large, current_locale=locale)
    key = ("nav", request.path, locale, large)
    if key not in pages:
        pages[key] = nav.render(large=large, current_locale=locale)
    return pages[key]


@bp.get("/s/<code>")
def respond(code: str):
    survey, placement = _resolve(code)
    if session.get("_flashes"):  # a message to show once: the page is this request's own
        return _render_survey(survey, placement, code)
    return remember_text_size(make_response(_blank_page(survey, placement, code)), request.args.get(TEXT_COOKIE))


@bp.post("/s/<code>")
@csrf.exempt
@limit_per_address("SURVEY_SUBMIT_LIMIT")
@reads_first
def respond_submit(code: str):
    """CSRF is checked here, not by the global guard, so a resident whose page went stale
    gets their answers back on the survey page instead of an error page."""
    survey, placement = _resolve(code)
    answered = _answered_ids()
    if survey.mode != TOKENED and survey.id in answered:
        return _render_survey(survey, placement, code, status=409)
    if not _csrf_token_valid():
        message = _("This page was open too long, so your answers could not be sent. They are still below: press Submit again.")
        return _render_survey(survey, placement, code, values=_submitted(survey), message=message, status=400)
    submitted = _submitted(survey)
    checked = rules.check_answers(service.question_specs(survey), submitted)
    if not checked.is_valid:  # answered wrongly: said without ever taking the write lock
        return _render_survey(survey, placement, code, errors=dict(checked.errors), values=submitted, status=400)
    start_writing(writes_follow=True)
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    try:
        service.store_response(
            survey,
            placement,
            submitted,
            household_code=request.form.get("household_code", ""),
            secret=current_app.config["SECRET_KEY"],
            address=service.address_key(survey, request.remote_addr or "", zone),
            zone=zone,
        )
        db.session.commit()
    except service.AnswerErrors as error:
        db.session.rollback()
        return _render_survey(survey, placement, code, errors=error.errors, values=submitted, status=400)
    except DomainError as error:
        db.session.rollback()
        return _render_survey(survey, placement, code, values=submitted, message=str(error.message), status=error.status)
    response = redirect(url_for("surveys.thanks", code=code))
    if survey.mode != TOKENED:
        response.set_cookie(ANSWERED_COOKIE, _answered().dumps([*answered[-49:], survey.id]), max_age=365 * 24 * 3600,
                            samesite="Lax", httponly=True)
    return response


def _csrf_token_valid() -> bool:
    """Flask-WTF's own check of the posted token, without building a form around it (and, as
    a form would, none when CSRF protection is switched off)."""
    if not current_app.config["WTF_CSRF_ENABLED"]:
        return True
    try:
        validate_csrf(request.form.get(current_app.config["WTF_CSRF_FIELD_NAME"]))
    except ValidationError:
        return False
    return True


@bp.get("/s/<code>/thanks")
def thanks(code: str):
    survey, placement = _resolve(code)
    return render_template("surveys/thanks.html", survey=survey, code=code, large=is_large_type())


def _filled_at():
    """The day written on the paper, taken as noon Beijing time (or now, if that is later
    than now); None, meaning now, when not given."""
    try:
        day = date.fromisoformat(request.form.get("filled_on", ""))
    except ValueError:
        return None
    return min(_utc(datetime.combine(day, time(12, 0))), utcnow())


@bp.route("/surveys/<int:survey_id>/assisted", methods=["GET", "POST"])
def assisted_entry(survey_id: int):
    """A grid worker keys in a paper answer for a resident; marked, and shown apart."""
    survey = _survey(survey_id)
    placement = db.session.get(Placement, int_arg("placement", request.values) or 0)
    if placement is not None and placement.survey_id != survey.id:
        abort(404)
    if request.method == "GET":
        return _render_survey(survey, placement, survey.short_code, assisted=True)
    if not ButtonForm().validate_on_submit():
        abort(400)
    try:
        service.enter_paper_answer(
            current_actor(),
            current_user.id,
            survey,
            placement,
            _submitted(survey),
            filled_at=_filled_at(),
            zone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
        )
        db.session.commit()
    except service.AnswerErrors as error:
        db.session.rollback()
        return _render_survey(survey, placement, survey.short_code, errors=error.errors, values=_submitted(survey), status=400, assisted=True)
    except DomainError as error:
        db.session.rollback()
        return _render_survey(survey, placement, survey.short_code, values=_submitted(survey), message=str(error.message), status=error.status, assisted=True)
    flash(_("The paper answer has been entered. Enter the next one below."), "success")
    return redirect(url_for("surveys.assisted_entry", survey_id=survey.id, placement=placement.id if placement else None))
