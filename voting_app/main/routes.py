"""Home page, language and text-size switches, and the site icon."""

from flask import Blueprint, current_app, make_response, redirect, render_template, request, send_from_directory, url_for
from flask_login import current_user
from sqlalchemy import select

from voting_app.ballots.models import ANNOUNCED, Round
from voting_app.db import db
from voting_app.extensions import LANGUAGES
from voting_app.permissions import DEPUTY, can
from voting_app.sessions.models import CongressSession
from voting_app.web import remember_text_size, safe_next

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


@bp.get("/text-size")
def text_size():
    """Remember large or normal type (?size=) in a cookie, the same one the resident pages' switch sets."""
    return remember_text_size(redirect(safe_next(request.args.get("next"), url_for("main.index"))), request.args.get("size"))


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on every page that names no icon (prints, raw files)."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)
