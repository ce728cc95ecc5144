"""What every request and response passes through, decided in one place: the size and
shape of input before any view or the CSRF check reads it, and the headers and cookie flags
on the way out.

Scripts come only from this site (charts.js, screen.js and the vendored plotly bundle);
chart data travels in `<script type="application/json">` blocks, which are never run.
Styles allow inline attributes because plotly sizes its SVG with them.
"""

from flask import Flask, abort, current_app, request
from flask.sessions import SecureCookieSessionInterface

from voting_app.web import MAX_ID

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Card links (/c/<token>) and survey codes must never leave in a Referer.
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


class SessionInterface(SecureCookieSessionInterface):
    """The session cookie is Secure whenever the request came over HTTPS (behind nginx,
    ProxyFix reads X-Forwarded-Proto), so one configuration serves both.

    The signing serializer is built once per key set, not twice a request: building one
    serializes a trial value to learn its type, as much work as signing the cookie."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure

    def get_signing_serializer(self, app: Flask):
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        kept = app.extensions.get("security.session_serializer")
        if kept is None or kept[0] != keys:
            kept = app.extensions["security.session_serializer"] = (keys, super().get_signing_serializer(app))
        return kept[1]


def add_security_headers(response):
    # One pass over the headers a view set, not a lookup per header: a miss in werkzeug's
    # Headers raises and catches an exception, six of them a page.
    present = {name.lower() for name in response.headers.keys()}
    response.headers.extend([(name, value) for name, value in HEADERS.items() if name.lower() not in present])
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
        _make_cookies_secure(response)
    return response


def _make_cookies_secure(response) -> None:
    """The language, large-type and answered cookies are set by views; over HTTPS they all
    get the Secure flag here."""
    cookies = response.headers.getlist("Set-Cookie")
    if not cookies:
        return
    response.headers.remove("Set-Cookie")
    for cookie in cookies:
        if "; secure" not in cookie.lower():
            cookie += "; Secure"
        response.headers.add("Set-Cookie", cookie)


def limit_plain_forms():
    """Only photo uploads (multipart) may use MAX_CONTENT_LENGTH's 34 MB. Werkzeug limits the
    size of multipart fields but reads a url-encoded body whole, so without this a single
    anonymous POST of tiny fields costs seconds of CPU and hundreds of MB before the CSRF
    check even looks at it."""
    if request.mimetype != "multipart/form-data":
        request.max_content_length = current_app.config["MAX_FORM_MEMORY_SIZE"]


def refuse_malformed_input() -> None:
    """Run before every request, before the CSRF check. A NUL byte in a query or form
    value is refused with 400: PostgreSQL cannot store it and no keyboard types it. So is a
    form of more fields than MAX_FORM_PARTS, a cap Werkzeug applies only to multipart forms
    (many values of one field, as a crafted ballot's choices, are left to the view to judge).
    A NUL in the path, or an id beyond what the database's integer columns hold, names no page
    (404). Each would otherwise reach the database driver as a 500, or be quietly accepted."""
    for value in (request.view_args or {}).values():
        if isinstance(value, int) and not 0 <= value <= MAX_ID or isinstance(value, str) and "\x00" in value:
            abort(404)
    limit = current_app.config.get("MAX_FORM_PARTS")
    if limit is not None and len(request.form) > limit:
        abort(400)
    for source in (request.args, request.form):
        for key, values in source.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                abort(400)


def init_app(app: Flask) -> None:
    """Called before CSRFProtect is set up, so the size limit runs before the form is parsed."""
    app.session_interface = SessionInterface()
    app.before_request(limit_plain_forms)
    app.before_request(refuse_malformed_input)
    app.after_request(add_security_headers)
