"""Every page names a site icon that exists, and /favicon.ico (which browsers ask for on pages
that name none: prints, files) answers with an icon instead of a 404 in every access log."""

import re

from tests.ballots.helpers import as_deputy, as_role
from tests.surveys.helpers import build_survey


def icon_links(page: str) -> list[str]:
    return re.findall(r'<link rel="icon" href="([^"]+)"', page)


def test_favicon_ico_is_a_real_icon(app):
    response = app.test_client().get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    assert response.data[:4] == b"\x00\x00\x01\x00"  # the ICO header
    assert "max-age" in response.headers["Cache-Control"]


def test_every_kind_of_page_links_icons_that_exist(app, world):
    built = build_survey(app)
    anonymous, staff = app.test_client(), as_role(app, world, "staff")
    presiding = as_role(app, world, "presiding")
    pages = {
        "home (base.html)": anonymous.get("/"),
        "sign-in": anonymous.get("/login"),
        "not found": anonymous.get("/no-such-page"),
        "staff page": staff.get(f"/sessions/{world.session_id}"),
        "deputy page": as_deputy(app, world).get("/ballots/"),
        "resident survey (resident_base.html)": anonymous.get(f"/s/{built.short_code}"),
        "report (reports/base.html)": presiding.get(f"/reports/sessions/{world.session_id}"),
        "venue screen": presiding.get(f"/screen/{world.session_id}"),
        "screen remote": presiding.get(f"/screen/{world.session_id}/remote"),
    }
    with app.test_request_context("/"):
        from voting_app.extensions import select_locale

        unavailable = app.jinja_env.get_template("unavailable.html").render(message="…", current_locale=select_locale())
    seen = set()
    for name, response in pages.items():
        assert response.status_code in (200, 404), name
        links = icon_links(response.get_data(as_text=True))
        assert len(links) == 1, f"{name} names {links}"
        seen.update(links)
    assert set(icon_links(unavailable)) == seen
    for href in seen:
        icon = anonymous.get(href)
        assert icon.status_code == 200, href
        assert icon.mimetype == "image/svg+xml" and b"<svg" in icon.data, href
        assert len(icon.data) > 100, href
        icon.close()
