"""The application factory: config -> extensions -> blueprints -> error pages -> CLI."""

import os
import secrets
import tempfile
import time
from pathlib import Path

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix
from sqlalchemy.exc import IntegrityError, OperationalError

from voting_app.config import DefaultConfig, environment_overrides
from voting_app.db import autocommit_one_statement_views, db
from voting_app.errors import DomainError
from voting_app.extensions import babel, babel_locale, csrf, init_limiter, login_manager, migrate, select_locale

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(
        "voting_app",
        instance_path=str(ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(DefaultConfig)
    app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{ROOT / 'instance' / 'voting.sqlite3'}"
    if test_config is None:
        _ensure_instance_secrets(Path(app.instance_path))
        app.config["AUDIT_KEY"] = _read_audit_key(Path(app.instance_path) / AUDIT_KEY_FILE)
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(environment_overrides())
        from voting_app.audit import parse_key

        parse_key(app.config["AUDIT_KEY"])  # a missing or malformed key stops the start, not the first staff action
    else:
        app.config.update(test_config)

    _neutralise_template_output(app)

    if app.config.get("PROXY_COUNT"):
        # Behind nginx: take the resident's address from X-Forwarded-For, or every resident
        # would share the proxy's address in rate limits and repeat flags.
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    _init_extensions(app)
    _register_blueprints(app)
    _register_error_pages(app)

    from voting_app.cli import register_commands

    register_commands(app)
    return app


def _neutralise_template_output(app: Flask) -> None:
    """Every value a template prints, and the JSON it embeds for charts, passes through
    `voting_app.text`, so no page shows a resident's hidden reordering characters raw.
    Set once the configuration is read and before anything creates the Jinja environment,
    which reads these options once."""
    from markupsafe import Markup

    from voting_app.text import needs_neutralising, neutralise, neutralise_all

    def finalize(value):
        if isinstance(value, str) and needs_neutralising(value):
            return Markup(neutralise(value)) if isinstance(value, Markup) else neutralise(value)
        return value

    app.jinja_options = {**app.jinja_options, "finalize": finalize}
    dumps = app.jinja_env.policies["json.dumps_function"]
    app.jinja_env.policies["json.dumps_function"] = lambda value, **options: dumps(neutralise_all(value), **options)


def _ensure_instance_secrets(instance: Path) -> None:
    """Write a random SECRET_KEY into instance/config.py and a random audit key into
    instance/audit.key the first time the app starts (the audit key only when AUDIT_KEY
    does not come from the environment)."""
    instance.mkdir(exist_ok=True)
    if not os.environ.get("AUDIT_KEY"):
        ensure_audit_key_file(instance / AUDIT_KEY_FILE)
    config_file = instance / "config.py"
    if config_file.exists():
        return
    try:
        fd = os.open(config_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "w") as handle:
        handle.write(
            "# Generated on first run; keep it secret and out of git.\n"
            f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
        )


AUDIT_KEY_FILE = "audit.key"


def ensure_audit_key_file(path: Path) -> None:
    """A file of its own, not a line in config.py: config.py travels with the database
    backups, the audit key must not. Written whole under a temporary name and linked into
    place, so workers starting together never read half a key and the first one's key stands."""
    if path.exists():
        return
    fd, partial = tempfile.mkstemp(dir=path.parent, prefix=".audit.key.")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        os.link(partial, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(partial)


def _read_audit_key(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    from voting_app import logs, security

    security.init_app(app)  # before CSRFProtect: its form-size limit must run first
    logs.init_app(app)
    csrf.init_app(app)
    init_limiter(app)
    babel.init_app(app, locale_selector=babel_locale, default_translation_directories=str(ROOT / "translations"))
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    app.before_request(autocommit_one_statement_views)  # before `guard_request` loads the signed-in card

    from flask import session

    from voting_app.auth.service import SESSION_EPOCH_KEY, SIGNED_IN_AT_KEY, casting_card, load_principal, remember_card
    from voting_app.permissions import checks_card_where_written

    @login_manager.user_loader
    def load_signed_in(principal_id: str):
        """Nobody stays signed in longer than SESSION_MAX_HOURS, so a copied cookie dies by
        itself too; an older session is asked to sign in again. A view whose write checks the
        card itself gets it unloaded (`auth.service.CastingCard`)."""
        signed_in_at = session.get(SIGNED_IN_AT_KEY)
        if signed_in_at is not None and time.time() - signed_in_at > app.config["SESSION_MAX_HOURS"] * 3600:
            return None
        epoch = session.get(SESSION_EPOCH_KEY, 0)
        card = principal_id.startswith("credential:")
        if card and checks_card_where_written():
            return casting_card(principal_id, epoch)
        principal = load_principal(principal_id, epoch)
        if card and principal is not None:
            remember_card(principal)
        return principal


def _register_blueprints(app: Flask) -> None:
    from surveys import init_app as init_surveys
    from voting_app.audit_routes import bp as audit_bp
    from voting_app.auth.routes import bp as auth_bp
    from voting_app.ballots.routes import bp as ballots_bp
    from voting_app.labels import mark_labels, rating_labels, small_sample_note, too_few_note
    from voting_app.main.routes import bp as main_bp
    from voting_app.permissions import can, guard_request
    from voting_app.projects.routes import bp as projects_bp
    from voting_app.proposals.routes import bp as proposals_bp
    from voting_app.registry.grid_routes import bp as grids_bp
    from voting_app.registry.household_routes import bp as households_bp
    from voting_app.screen.routes import bp as screen_bp
    from voting_app.reports.routes import bp as reports_bp
    from voting_app.assets import bp as assets_bp, vendor_url
    from voting_app.web import is_large_type
    from voting_app.sessions.routes import bp as sessions_bp
    from voting_app.groups.routes import bp as groups_bp
    from voting_app.duty.routes import bp as duty_bp
    from voting_app.terms.routes import bp as terms_bp
    from voting_app.registry.labels import congress_level_labels, deputy_level_labels, office_change_labels
    from voting_app.registry.terms import meeting_label, term_label

    for blueprint in (main_bp, auth_bp, sessions_bp, ballots_bp, projects_bp, proposals_bp, grids_bp, screen_bp, reports_bp, assets_bp, audit_bp):
        app.register_blueprint(blueprint)
    for blueprint in (households_bp,):
        app.register_blueprint(blueprint)
    app.register_blueprint(groups_bp)
    app.register_blueprint(duty_bp)
    app.register_blueprint(terms_bp)
    from voting_app.documents.routes import bp as documents_bp
    from voting_app.archive.routes import bp as archive_bp
    app.register_blueprint(archive_bp)
    app.register_blueprint(documents_bp)
    from voting_app.stations.routes import bp as stations_bp
    app.register_blueprint(stations_bp)
    from voting_app.projects.ledger_routes import bp as ledger_bp
    app.register_blueprint(ledger_bp)
    init_surveys(app)
    app.before_request(guard_request)

    from flask_login import current_user

    from voting_app.ballots.profiles import pass_rule_words
    from voting_app.ballots.service import state_label

    from voting_app.web import local_time

    app.jinja_env.filters["local"] = local_time

    @app.context_processor
    def template_helpers():
        return {
            "can": lambda permission: can(current_user, permission),
            "current_locale": select_locale(),
            "state_label": state_label,
            "pass_rule_words": pass_rule_words,
            "rating_labels": rating_labels,
            "mark_labels": mark_labels,
            "small_sample_note": small_sample_note,
            "too_few_note": too_few_note,
            "vendor_url": vendor_url,
            "large_type": is_large_type(),
            "office_change_labels": office_change_labels,
            "deputy_level_labels": deputy_level_labels,
            "congress_level_labels": congress_level_labels,
            "meeting_label": meeting_label,
            "term_label": term_label,
        }


def _register_error_pages(app: Flask) -> None:
    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You do not have permission to open this page."),
        404: lambda: _("This page does not exist."),
        409: lambda: _("This action conflicts with a change made at the same time. Please try again."),
        413: lambda: _("This is too much to send at once: a photo may be up to 8 MB, a form far less."),
        429: lambda: _("Too many attempts. Please wait a moment and try again."),
        500: lambda: _("Something went wrong on our side. Nothing was saved."),
    }

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        # A 429 or 503 may say when to come back (werkzeug's retry_after).
        retry_after = getattr(error, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if isinstance(retry_after, int) else {}
        return render_template("error.html", code=code, message=messages.get(code, messages[500])()), code, headers

    for code in messages:
        app.register_error_handler(code, render_error)

    @app.errorhandler(IntegrityError)
    def conflict(error):
        """A database constraint stopped a race the service's own check could not see."""
        db.session.rollback()
        return render_template("error.html", code=409, message=messages[409]()), 409

    @app.errorhandler(OperationalError)
    def database_unavailable(error):
        """A page that needs no database (the usual layout asks who is signed in), so it can
        still be shown while the database is away; the transaction is dropped, not half-kept."""
        try:
            db.session.rollback()
        except OperationalError:
            db.session.close()
        message = _("The database is busy or unavailable. Nothing was saved; please try again in a moment.")
        # Straight from the Jinja environment: render_template would run Flask-Login's context
        # processor, which loads the signed-in user from the very database that is away.
        page = app.jinja_env.get_template("unavailable.html").render(message=message, current_locale=select_locale())
        return page, 503, {"Retry-After": "5"}

    @app.errorhandler(DomainError)
    def domain_error(error):
        db.session.rollback()
        return render_template("error.html", code=error.status, message=str(error.message)), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        message = _("The form has expired or was not sent from this site. Please go back, reload and try again.")
        return render_template("error.html", code=400, message=message), 400
