"""Staff download the session's archive from the session page (a plain link, on a phone and a
desktop), and the zip they get verifies with the standard-library verifier."""

import pytest
from sqlalchemy import select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, sign_in
from voting_app import verify_archive


@pytest.mark.demo
def test_staff_download_a_verifiable_archive_from_the_session_page(live_server, page_factory, screenshot, tmp_path, capsys):
    passwords, *_ = seeded(live_server)
    with live_server.app.app_context():
        from voting_app.db import db
        from voting_app.sessions.models import CongressSession

        session_id = db.session.scalar(select(CongressSession.id).where(CongressSession.name == "樊城区第十九届人民代表大会第六次会议"))
    axe = Axe()
    for kind, options in (("phone", {}), ("desktop", {"viewport": {"width": 1920, "height": 1080}})):
        page = page_factory(kind, accept_downloads=True, **options)
        sign_in(page, live_server, "staff", passwords["staff"])
        page.goto(live_server.url(f"/sessions/{session_id}"))
        link = page.locator(f"nav.actions a[href$='/archive/sessions/{session_id}.zip']")
        assert link.count() == 1 and link.is_visible()
        screenshot(page, f"session-page-{kind}")
        axe.check(page, f"session page ({kind})")
    with page.expect_download(timeout=120_000) as download:
        link.click()
    assert download.value.suggested_filename == f"archive-session-{session_id}.zip"
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert verify_archive.main([str(path)]) == 0, capsys.readouterr().out
    assert axe.problems == []
