"""Home page and language switch."""

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from voting_app.ballots.models import ANNOUNCED, Round
from voting_app.db import db
from voting_app.extensions import LANGUAGES
from voting_app.permissions import DEPUTY, can
from voting_app.sessions.models import CongressSession
from voting_app.web import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated and current_user.role == DEPUTY:
        return redirect(url_for("ballots.deputy_home"))
    if can(current_user, "session.view"):
        return redirect(url_for("sessions.session_list"))
    if can(current_user, "survey.list"):
        return redirect(url_for("surveys.survey_list"))
    announced = db.session.scalars(
        select(Round).where(Round.state == ANNOUNCED).order_by(Round.announced_at.desc()).limit(20)
    ).all()
    sessions = {s.id: s for s in db.session.scalars(select(CongressSession))}
    return render_template("main/index.html", announced=announced, sessions=sessions)


@bp.get("/language/<code>")
def language(code: str):
    """Remember the visitor's language in a cookie; nothing is stored on the server."""
    response = make_response(redirect(safe_next(request.args.get("next"), url_for("main.index"))))
    if code in LANGUAGES:
        response.set_cookie("lang", code, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response
