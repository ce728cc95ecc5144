"""The headers and cookie flags every response gets, decided in one place.

Scripts come only from this site (charts.js, screen.js and the vendored plotly bundle);
chart data travels in `<script type="application/json">` blocks, which are never run.
Styles allow inline attributes because plotly sizes its SVG with them.
"""

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

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
    ProxyFix reads X-Forwarded-Proto), so one configuration serves both."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or request.is_secure


def add_security_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
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


def init_app(app: Flask) -> None:
    app.session_interface = SessionInterface()
    app.after_request(add_security_headers)
