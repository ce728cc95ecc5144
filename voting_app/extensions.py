"""Extension objects, bound to the app in create_app."""

import math
import time
from functools import lru_cache, wraps

from flask import current_app, has_request_context, request
from babel import Locale
from flask_babel import Babel
from flask_limiter import ExemptionScope, Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect
from limits import parse_many
from werkzeug.exceptions import TooManyRequests

from voting_app.db import db
from voting_app import rate_storage  # noqa: F401  registers worker-memory:// with limits

csrf = CSRFProtect()
login_manager = LoginManager()
migrate = Migrate(db=db)
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Limits that Flask-Limiter checks before every request, whatever its view.
_LIMITS_FOR_EVERY_ROUTE = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def init_limiter(app) -> None:
    """Every limit of this app is a decorator on its view, checked as that view runs. With no
    default, application or meta limit, the pass Flask-Limiter makes before every request finds
    nothing to check on any route, yet costs each request its lookups (~40 µs, as much as a
    resident's page spends rendering); it is left out then, and kept once such a limit is set."""
    limiter.init_app(app)
    every_route = [app.config.get(key) for key in _LIMITS_FOR_EVERY_ROUTE]
    manager = limiter.limit_manager
    if limiter.enabled and not any(every_route) and not manager.default_limits and not manager.application_limits:
        app.before_request_funcs[None].remove(limiter._check_request_limit)


def limit_per_address(config_key: str):
    """A view's own limit per network address, as `limiter.limit(...)` would set it, counted by
    the same limiter (its storage and fixed windows, under the same keys, RATELIMIT_ENABLED) for
    the views a crowd sends at once. Flask-Limiter's decorator works out on every request which
    of its limits apply and parses their text again, which cost a resident's answer 0.2 ms, as
    much as its statements; here the limits in `config_key` are parsed once per value. Like a
    decorated limit, they stand instead of any default limit, the shortest window is counted
    first, and a refusal is logged and answered 429 with Retry-After. No X-RateLimit-* headers
    are sent: no phone reads them."""

    def decorate(view):
        @wraps(view)
        def limited(*args, **kwargs):
            if limiter.enabled:
                strategy, address = limiter.limiter, get_remote_address()
                prefix, scope = current_app.config.get("RATELIMIT_KEY_PREFIX") or "", request.endpoint or view.__name__
                keys = (prefix, address, scope) if prefix else (address, scope)
                for item in _parsed_limits(current_app.config[config_key]):
                    if not strategy.hit(item, *keys):
                        current_app.logger.info("ratelimit %s exceeded at endpoint: %s", item, scope)  # no address (logs.py)
                        reset_at = strategy.get_window_stats(item, *keys).reset_time
                        raise TooManyRequests(retry_after=max(1, math.ceil(reset_at - time.time())))
            return view(*args, **kwargs)

        return limiter.exempt(limited, flags=ExemptionScope.DEFAULT)

    return decorate


@lru_cache(maxsize=16)
def _parsed_limits(text: str) -> tuple:
    return tuple(sorted(parse_many(text)))


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
