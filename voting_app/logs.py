"""What the logs may carry: never a card token, PIN, password or a resident's address.

Card links carry their token in the path (/c/<token>), so paths are redacted before any
line is written; query strings, form bodies and client addresses are never logged at all.
"""

import logging
import re

from gunicorn.glogging import Logger

CARD_PATH = re.compile(r"/c/[^/\s?#\"']+")
REDACTED_CARD_PATH = "/c/[card]"
# No %(h)s (the client's address) and %(U)s (the path without its query), not %(r)s. No
# response size (%(B)s): a page's size may follow what a deputy chose.
ACCESS_LOG_FORMAT = '%(t)s "%(m)s %(U)s %(H)s" %(s)s %(M)sms'


def redact(text: str) -> str:
    return CARD_PATH.sub(REDACTED_CARD_PATH, text)


class RedactingFilter(logging.Filter):
    """Flask logs an unexpected error as "Exception on /c/<token> [POST]": the token goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class AddresslessLimiterFilter(logging.Filter):
    """Flask-Limiter logs each refusal with the key it counted, which is the client's address:
    the line stays, the address goes."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 3 and str(record.msg).startswith("ratelimit "):
            record.args = (record.args[0], "[address]", record.args[2])
        return True


class PrivateAccessLogger(Logger):
    """gunicorn's logger with the request path redacted before the access line is built."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("U", "r", "f"):
            if key in atoms and isinstance(atoms[key], str):
                atoms[key] = redact(atoms[key])
        return atoms


_LIMITER_FILTER = AddresslessLimiterFilter()


def init_app(app) -> None:
    app.logger.addFilter(RedactingFilter())
    limiter_logger = logging.getLogger("flask-limiter")
    if _LIMITER_FILTER not in limiter_logger.filters:
        limiter_logger.addFilter(_LIMITER_FILTER)
