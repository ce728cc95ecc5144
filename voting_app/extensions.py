"""Extension objects, bound to the app in create_app."""

from flask import has_request_context, request
from babel import Locale
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from voting_app.db import db

csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate(db=db)
limiter = Limiter(key_func=get_remote_address, default_limits=[])
LANGUAGES = ("zh_CN", "en")


def select_locale() -> str:
    """Chinese unless the visitor chose English with the switch (a cookie)."""
    if not has_request_context():
        return "zh_CN"  # the CLI and the demo seed: the default language
    chosen = request.cookies.get("lang")
    return chosen if chosen in LANGUAGES else "zh_CN"


# Parsed once: Babel's Locale.parse scans every known locale name, on each request otherwise.
_LOCALES = {code: Locale.parse(code) for code in LANGUAGES}


def babel_locale() -> Locale:
    """Flask-Babel's selector: the same choice as select_locale, as a ready Locale."""
    return _LOCALES[select_locale()]


babel = Babel()
