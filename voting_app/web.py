"""Small helpers every blueprint's views share."""

from datetime import datetime
from urllib.parse import urlsplit

from flask import abort, current_app, flash, has_request_context, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import to_user_timezone
from flask_login import current_user

from voting_app.audit import actor_label
from voting_app.db import db
from voting_app.errors import DomainError

# The vendored plotly.js basic bundle; only pages with a chart load it.
PLOTLY_JS = "vendor/plotly-basic-4.1.1.min.js"


def safe_next(target: str | None, fallback: str) -> str:
    """Only a path on this site: no scheme, no host, no '//' or backslash tricks, and no
    control characters (browsers drop tabs and newlines, and CR/LF cannot go in a header)."""
    if not target or "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def local_time(moment: datetime | None) -> datetime | None:
    """A stored UTC time in the district's zone (Beijing, BABEL_DEFAULT_TIMEZONE), without its
    zone: the time the pages show as 北京时间 and the exports write, so both fall on the same day."""
    return to_user_timezone(moment).replace(tzinfo=None) if moment else None


TEXT_COOKIE = "text"
TEXT_SIZES = ("large", "normal")


def is_large_type() -> bool:
    """Large type, for older eyes: asked for in the link (?text=large) or remembered in a cookie.
    The resident pages and the staff and deputy pages share the one setting."""
    if not has_request_context():
        return False
    return request.args.get(TEXT_COOKIE, request.cookies.get(TEXT_COOKIE)) == "large"


def remember_text_size(response, size: str | None):
    """Keep a chosen text size for a year; anything else leaves the cookie alone."""
    if size in TEXT_SIZES:
        response.set_cookie(TEXT_COOKIE, size, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def int_or_none(value) -> int | None:
    """A whole number typed into a link or a form (an id, a year, a page, a count of rows):
    ASCII digits only, nine at most, so it always fits an INTEGER column; anything else
    (², 10**30, -1, " 7", None) is None."""
    text = "" if value is None else str(value)
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else None


def int_arg(name: str, values=None) -> int | None:
    """`int_or_none` of a value from the query string (or `values`, e.g. request.values)."""
    return int_or_none((request.args if values is None else values).get(name))


# The largest id a PostgreSQL INTEGER column holds; a larger one in a URL names nothing.
MAX_ID = 2**31 - 1


def current_actor() -> str:
    return actor_label(current_user)


def get_child_or_404(model, child_id: int, **parent_keys):
    """Load a child through its parent, so an id from another parent answers 404."""
    child = db.session.get(model, child_id)
    if child is None or any(getattr(child, key) != value for key, value in parent_keys.items()):
        abort(404)
    return child


def flash_domain_error(error: DomainError) -> None:
    db.session.rollback()
    flash(str(error.message), "error")


def render_domain_error(error: DomainError, template: str, **context):
    db.session.rollback()
    return render_template(template, error=str(error.message), **context), error.status


def public_url(endpoint: str, **values) -> str:
    """An absolute URL for print (QR codes, cards, posters): PUBLIC_URL when configured, so a
    poster printed from an intranet address still works for residents, else this request's host."""
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def sheet_already_printed() -> bool:
    """Reloading a printed sheet (cards, household codes) would post again and replace what was
    just printed; each issuing form carries a sheet id, honoured once per browser."""
    sheet = request.form.get("sheet", "")
    printed = session.get("printed_sheets", [])
    if sheet and sheet in printed:
        flash(_("This sheet was issued already; reloading would replace what was just printed. Issue again if you need a new one."), "error")
        return True
    if sheet:
        session["printed_sheets"] = [*printed[-49:], sheet]
    return False
