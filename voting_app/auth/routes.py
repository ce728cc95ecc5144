"""Sign-in for accounts, deputies' card sign-in, and account management."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import login_user, logout_user
from sqlalchemy import select

from voting_app.projects.service import all_departments
from voting_app.auth.forms import ROLE_LABELS, AccountForm, LoginForm, PinForm
from voting_app.auth.models import User
from voting_app.auth.service import authenticate, create_user
from voting_app.ballots.credentials import sign_in_with_card
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.extensions import limiter
from voting_app.forms import ButtonForm
from voting_app.web import current_actor, safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(form.username.data, form.password.data)
        db.session.commit()
        if result.user is not None:
            session.clear()
            login_user(result.user)
            return redirect(safe_next(request.args.get("next"), url_for("main.index")))
        if result.locked_until:
            flash(_("Too many wrong passwords. Try again after %(time)s.", time=format_datetime(result.locked_until, "short")), "error")
        else:
            flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    if ButtonForm().validate_on_submit():
        logout_user()
        session.clear()
    return redirect(url_for("main.index"))


@bp.get("/c/<token>")
def card(token: str):
    """The page a deputy's card QR code opens: it asks for the PIN printed separately."""
    return render_template("auth/card.html", form=PinForm(), token=token)


@bp.post("/c/<token>")
@limiter.limit("30 per minute")
def card_pin(token: str):
    form = PinForm()
    if not form.validate_on_submit():
        return render_template("auth/card.html", form=form, token=token), 400
    config = current_app.config
    result = sign_in_with_card(token, form.pin.data, config["PIN_MAX_FAILURES"], config["PIN_LOCK_MINUTES"])
    db.session.commit()
    if result.credential is not None:
        session.clear()  # nothing of a previous deputy on a shared tablet survives
        login_user(result.credential)
        return redirect(url_for("ballots.deputy_home"))
    if result.problem == "locked":
        message = _(
            "Too many wrong PINs: this card is locked until %(time)s. The staff desk can unlock it.",
            time=format_datetime(result.locked_until, "short"),
        )
    elif result.problem == "wrong_pin":
        message = _("Wrong PIN. %(left)s attempts left before the card locks.", left=result.attempts_left)
    else:
        message = _("This card is not valid. It may have been replaced; please ask the staff desk.")
    return render_template("auth/card.html", form=form, token=token, error=message), 401 if result.problem != "locked" else 429


@bp.get("/accounts")
def account_list():
    users = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    return render_template("auth/accounts.html", users=users, roles=ROLE_LABELS)


@bp.route("/accounts/new", methods=["GET", "POST"])
def account_new():
    form = AccountForm()
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.display_name.data, form.role.data, form.password.data, current_actor(),
                               department=form.department.data or "")
            db.session.commit()
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.account_list"))
        except DomainError as error:
            db.session.rollback()
            form.username.errors.append(str(error.message))
    return render_template("auth/account_new.html", form=form, department_names=[d.name for d in all_departments()])
