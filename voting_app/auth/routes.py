"""Sign-in for accounts, deputies' card sign-in, and account management."""

import time

from flask import Blueprint, current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from voting_app.auth.devices import current_client, remember_device
from voting_app.auth.forms import ROLE_LABELS, AccountForm, CodeForm, LoginForm, PinForm, SecondFactorForm
from voting_app.auth.models import User
from voting_app.auth.service import (
    SESSION_EPOCH_KEY,
    SIGNED_IN_AT_KEY,
    SecondFactorError,
    authenticate,
    check_second_factor,
    create_user,
    disable_second_factor,
    enable_second_factor,
    end_all_sessions,
    locks_by_account,
    new_totp_secret,
    totp_uri,
    unlock_account,
)
from voting_app.ballots.credentials import sign_in_with_card
from voting_app.db import db, reads_first, start_writing, utcnow
from voting_app.errors import DomainError
from voting_app.extensions import limiter
from voting_app.forms import ButtonForm
from voting_app.qr import qr_svg
from voting_app.web import current_actor, safe_next

bp = Blueprint("auth", __name__)


PENDING_KEY = "pending_second_factor"
PENDING_SECONDS = 300


def _start_session(principal) -> None:
    """A fresh session for whoever just signed in: nothing of the one before survives (its
    CSRF token included), and the cookie carries the principal's current epoch."""
    session.clear()
    login_user(principal)
    session[SESSION_EPOCH_KEY] = principal.session_epoch
    session[SIGNED_IN_AT_KEY] = int(time.time())


def _refused_message() -> str:
    """The one answer to every failed sign-in: a wrong name, a wrong password and a lock read
    alike, so the page tells an outsider nothing about which accounts exist or are locked."""
    return _("Wrong username or password, or too many attempts from here. Wait a while and try again, "
             "or ask the committee staff to unlock the account.")


def _signed_in(principal, target: str):
    _start_session(principal)
    response = redirect(target)
    remember_device(response, principal.id)
    return response


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
@reads_first
def login():
    form = LoginForm()
    if form.validate_on_submit():
        result = authenticate(form.username.data, form.password.data, current_client(), start_writing)
        db.session.commit()
        if result.user is not None and result.user.has_second_factor:
            session.clear()
            session[PENDING_KEY] = {"user": result.user.id, "until": int(time.time()) + PENDING_SECONDS}
            return redirect(url_for("auth.login_code", next=safe_next(request.args.get("next"), "")))
        if result.user is not None:
            return _signed_in(result.user, safe_next(request.args.get("next"), url_for("main.index")))
        flash(_refused_message(), "error")
    return render_template("auth/login.html", form=form)


@bp.route("/login/code", methods=["GET", "POST"])
@limiter.limit("20 per minute", methods=["POST"])
def login_code():
    """The second step for accounts with an authenticator app: the password was right, and
    the session holds only that, for five minutes."""
    pending = session.get(PENDING_KEY)
    if not pending or pending.get("until", 0) < time.time():
        session.pop(PENDING_KEY, None)
        flash(_("Please sign in with your password first."), "error")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        result = check_second_factor(pending["user"], form.code.data, current_client())
        db.session.commit()
        if result.user is not None:
            return _signed_in(result.user, safe_next(request.args.get("next"), url_for("main.index")))
        if result.held:
            session.pop(PENDING_KEY, None)
            flash(_refused_message(), "error")
            return redirect(url_for("auth.login"))
        form.code.errors.append(_("The code does not match. Type the code your authenticator app shows now."))
    return render_template("auth/login_code.html", form=form)


@bp.post("/logout")
def logout():
    """Signing out ends every session of this account or card, so a session cookie copied
    earlier (a shared venue tablet, a stolen phone) is useless from now on."""
    if ButtonForm().validate_on_submit():
        end_all_sessions(current_user._get_current_object())
        db.session.commit()
        logout_user()
        session.clear()
    return redirect(url_for("main.index"))


@bp.get("/c/<token>")
def card(token: str):
    """The page a deputy's card QR code opens: it asks for the PIN printed separately."""
    return render_template("auth/card.html", form=PinForm(), token=token)


@bp.post("/c/<token>")
@limiter.limit("30 per minute")
@reads_first
def card_pin(token: str):
    form = PinForm()
    if not form.validate_on_submit():
        return render_template("auth/card.html", form=form, token=token), 400
    config = current_app.config
    result = sign_in_with_card(token, form.pin.data, config["PIN_MAX_FAILURES"], config["PIN_LOCK_MINUTES"], start_writing)
    db.session.commit()
    if result.credential is not None:
        _start_session(result.credential)  # nothing of a previous deputy on a shared tablet survives
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
    return render_template("auth/accounts.html", users=users, roles=ROLE_LABELS, locks=locks_by_account(utcnow()),
                           button=ButtonForm())


@bp.post("/accounts/<int:user_id>/unlock")
def account_unlock(user_id: int):
    user = db.get_or_404(User, user_id)
    if ButtonForm().validate_on_submit():
        unlock_account(user, current_actor())
        db.session.commit()
        flash(_("Account %(name)s unlocked.", name=user.username), "success")
    return redirect(url_for("auth.account_list"))


TOTP_PENDING_KEY = "totp_enrolment"


@bp.route("/account/security", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
@reads_first
def account_security():
    """An account holder turns the authenticator-app code on or off for their own account,
    with the password and a current code. The key being set up stays in the signed session
    cookie (HttpOnly) until it is confirmed; it is the holder's own, shown on this page."""
    user = current_user._get_current_object()
    form = SecondFactorForm()
    enrolment = None
    if not user.has_second_factor:
        secret = session.get(TOTP_PENDING_KEY) or new_totp_secret()
        session[TOTP_PENDING_KEY] = secret
        uri = totp_uri(user, secret)
        enrolment = {"secret": secret, "uri": uri, "qr": qr_svg(uri, _("QR code to add this account to an authenticator app"))}
    if form.validate_on_submit():
        try:
            if enrolment:
                enable_second_factor(user, form.password.data, enrolment["secret"], form.code.data, current_actor(),
                                     current_client(), start_writing)
            else:
                disable_second_factor(user, form.password.data, form.code.data, current_actor(), current_client(), start_writing)
        except SecondFactorError as error:
            db.session.commit()  # the wrong guess is counted; nothing else was written
            getattr(form, error.field).errors.append(str(error.message))
        else:
            db.session.commit()
            session.pop(TOTP_PENDING_KEY, None)
            session[SESSION_EPOCH_KEY] = user.session_epoch
            if enrolment:
                flash(_("From now on, signing in asks for the code from your authenticator app. Other devices were signed out."), "success")
            else:
                flash(_("The authenticator-app code is off. Other devices were signed out."), "success")
            return redirect(url_for("auth.account_security"))
    response = make_response(render_template("auth/security.html", user=user, form=form, enrolment=enrolment),
                             400 if form.errors else 200)
    response.headers["Cache-Control"] = "no-store"  # the key being set up is on this page
    return response


@bp.route("/accounts/new", methods=["GET", "POST"])
def account_new():
    form = AccountForm()
    form.offer_departments(none_label=_("— None: not a department officer —"))
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, form.display_name.data, form.role.data, form.password.data, current_actor(),
                               department=form.chosen_department(current_actor()))
            db.session.commit()
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.account_list"))
        except DomainError as error:
            db.session.rollback()
            form.username.errors.append(str(error.message))
    return render_template("auth/account_new.html", form=form), 400 if form.errors else 200
