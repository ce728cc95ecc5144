"""The session report and the year report printed to PDF by Chromium, as an office would
print them from the browser: A4 pages, the announcement of every round with its board
digest, the elected projects, and none of the screen-only bar."""

import io
import re
import unicodedata

from pypdf import PdfReader
from sqlalchemy import select

from tests.browser.conftest import SCREENSHOTS, seeded
from tests.browser.test_project_lifecycle import sign_in

A4_POINTS = (595.28, 841.89)


def pdf_of(page, screenshot, name: str) -> PdfReader:
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi, for the screenshot
    screenshot(page, name)
    data = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    folder = SCREENSHOTS / "test_reports_print_on_a4"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.pdf").write_bytes(data)
    return PdfReader(io.BytesIO(data))


# Chromium's embedded Noto CJK maps some glyphs back to radical code points (⼤ for 大, ⺠ for
# 民). NFKC folds the Kangxi radicals; these supplement radicals have no folding of their own.
RADICALS = str.maketrans("⺠⻓⻔⻅⻆⻋⻘⻝⻢⻜⻛⻚⻥⻦⻬⻨⻩⻰⻳⻄⺟", "民长门见角车青食马飞风页鱼鸟齐麦黄龙龟西母")


def folded(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).translate(RADICALS))


def text_of(reader: PdfReader) -> str:
    return folded("".join(page.extract_text() for page in reader.pages))


def test_reports_print_on_a4(live_server, page_factory, screenshot):
    passwords, *_ = seeded(live_server)
    with live_server.app.app_context():
        from voting_app.ballots.models import Round
        from voting_app.ballots.service import round_board
        from voting_app.db import db

        counted = db.session.scalars(select(Round).where(Round.state == "announced").order_by(Round.id)).all()
        session_id = counted[0].session_id
        expected = [(r.title, round_board(r)["digest"]) for r in counted if r.session_id == session_id]
        session_name = counted[0].session.name

    page = page_factory("desktop")
    sign_in(page, live_server, "staff", passwords["staff"])
    assert page.goto(live_server.url(f"/reports/sessions/{session_id}")).status == 200
    reader = pdf_of(page, screenshot, "session-report")
    assert 1 <= len(reader.pages) <= 6
    for pdf_page in reader.pages:
        width, height = float(pdf_page.mediabox.width), float(pdf_page.mediabox.height)
        assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2, (width, height)
    text = text_of(reader)
    assert folded(session_name) in text
    for title, digest in expected:
        assert folded(title) in text
        assert digest.removeprefix("sha256:")[:32] in text, f"the digest of {title} is not in the printed report"
    assert "农村公路桥梁新改建" in text and "Ctrl+P" not in text

    assert page.goto(live_server.url("/reports/projects?year=all")).status == 200
    year = pdf_of(page, screenshot, "year-report")
    assert len(year.pages) >= 1
    year_text = text_of(year)
    assert folded("城区易涝点整治（一期）") in year_text and folded("社区卫生服务站标准化建设") in year_text
