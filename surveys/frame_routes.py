"""Staff: sample frames of a tokened survey (draw, verify, redraw before printing, print)."""

from flask import current_app, flash, make_response, redirect, render_template, url_for
from flask_babel import gettext as _

from surveys import frames
from surveys.forms import FrameForm
from surveys.models import TOKENED, SampleFrame, Survey
from surveys.routes import bp, short_url
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.forms import ButtonForm
from voting_app.qr import qr_svg
from voting_app.registry.models import Grid
from voting_app.web import current_actor, flash_domain_error, sheet_already_printed


def _frame(survey_id: int, frame_id: int) -> tuple[Survey, SampleFrame]:
    survey = db.get_or_404(Survey, survey_id)
    frame = db.get_or_404(SampleFrame, frame_id)
    if frame.survey_id != survey.id:
        from flask import abort

        abort(404)
    return survey, frame


def _frames_page(survey: Survey, form: FrameForm, status: int = 200):
    return render_template("surveys/frames.html", survey=survey, form=form, frames=frames.frames_of(survey),
                           scopes={grid.id: grid for grid in db.session.scalars(db.select(Grid).where(
                               Grid.id.in_([f.grid_scope_id for f in frames.frames_of(survey) if f.grid_scope_id])))},
                           is_tokened=survey.mode == TOKENED), status


@bp.route("/surveys/<int:survey_id>/frames", methods=["GET", "POST"])
def frame_list(survey_id: int):
    survey = db.get_or_404(Survey, survey_id)
    form = FrameForm()
    if not form.is_submitted():
        return _frames_page(survey, form)
    if not form.validate():
        return _frames_page(survey, form, 400)
    try:
        frame = frames.draw_frame(current_actor(), survey, form.size.data, form.scope_id.data)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash_domain_error(error)
        return _frames_page(survey, form, 400)
    flash(_("A frame of %(size)s households is drawn.", size=frame.size), "success")
    return redirect(url_for("surveys.frame_detail", survey_id=survey.id, frame_id=frame.id))


@bp.get("/surveys/<int:survey_id>/frames/<int:frame_id>")
def frame_detail(survey_id: int, frame_id: int):
    survey, frame = _frame(survey_id, frame_id)
    scope = db.session.get(Grid, frame.grid_scope_id) if frame.grid_scope_id else None
    return render_template("surveys/frame.html", survey=survey, frame=frame, scope=scope, verification=None,
                           rate=frames.frame_rate(frame, 1, 30) if frame.printed_at else None, button=ButtonForm())


@bp.get("/surveys/<int:survey_id>/frames/<int:frame_id>/verify")
def frame_verify(survey_id: int, frame_id: int):
    """Draw again from the recorded seed over today's list and compare: reads only."""
    survey, frame = _frame(survey_id, frame_id)
    scope = db.session.get(Grid, frame.grid_scope_id) if frame.grid_scope_id else None
    return render_template("surveys/frame.html", survey=survey, frame=frame, scope=scope, verification=frames.verify_frame(frame),
                           rate=None, button=ButtonForm())


@bp.route("/surveys/<int:survey_id>/frames/<int:frame_id>/redraw", methods=["GET", "POST"])
def frame_redraw(survey_id: int, frame_id: int):
    survey, frame = _frame(survey_id, frame_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        return render_template("surveys/frame_confirm.html", survey=survey, frame=frame, form=form, action="redraw")
    try:
        frames.redraw_frame(current_actor(), frame)
        db.session.commit()
        flash(_("The frame is drawn again with a new seed."), "success")
    except DomainError as error:
        db.session.rollback()
        flash_domain_error(error)
    return redirect(url_for("surveys.frame_detail", survey_id=survey.id, frame_id=frame.id))


@bp.route("/surveys/<int:survey_id>/frames/<int:frame_id>/print", methods=["GET", "POST"])
def frame_print(survey_id: int, frame_id: int):
    """GET says what printing does; POST creates the codes and returns the sheet, once."""
    survey, frame = _frame(survey_id, frame_id)
    form = ButtonForm()
    if not form.validate_on_submit():
        return render_template("surveys/frame_confirm.html", survey=survey, frame=frame, form=form, action="print")
    if sheet_already_printed():
        return redirect(url_for("surveys.frame_detail", survey_id=survey.id, frame_id=frame.id))
    try:
        slips = frames.print_frame(current_actor(), frame, current_app.config["SECRET_KEY"])
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        flash_domain_error(error)
        return redirect(url_for("surveys.frame_detail", survey_id=survey.id, frame_id=frame.id))
    url = short_url(survey.short_code)
    sheet = [{"code": slip.code, "address": slip.address, "qr": qr_svg(f"{url}?code={slip.code}", slip.code)} for slip in slips]
    response = make_response(render_template("surveys/codes_print.html", survey=survey, slips=sheet, url=url))
    response.headers["Cache-Control"] = "no-store"
    return response
