"""The session, year and project reports printed to PDF by Chromium, as an office would print
them from the browser: A4 pages (the year report landscape) numbered "第 N 页，共 M 页" in the
margin, the print date, the announcement of every round with its chart and board digest, a
round's heading never left alone at the foot of a page, the scrutineers' signature lines,
the recount in plain words in an appendix and no command line, and none of the screen-only bar."""

import io
import re
import unicodedata

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from tests.browser.conftest import SCREENSHOTS, seeded
from tests.browser.test_project_lifecycle import Axe, sign_in

A4_POINTS = (595.28, 841.89)
COMMAND_LINE = re.compile(r"python-m|voting_app\.verify|flask|--anchor|\.json")


def pdf_of(page, screenshot, name: str, axe: Axe | None = None) -> PdfReader:
    if axe is not None:
        page.emulate_media(media="screen")
        axe.check(page, name)
    page.emulate_media(media="print")
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


def assert_pages(reader: PdfReader, size: tuple[float, float]) -> list[str]:
    """Every page has the size and its number "第 N 页，共 M 页"; returns each page's text."""
    texts = [folded(page.extract_text()) for page in reader.pages]
    for number, (pdf_page, text) in enumerate(zip(reader.pages, texts), start=1):
        width, height = float(pdf_page.mediabox.width), float(pdf_page.mediabox.height)
        assert abs(width - size[0]) < 2 and abs(height - size[1]) < 2, (number, width, height)
        assert folded(f"第{number}页，共{len(texts)}页") in text, f"page {number} has no page number"
    return texts


@pytest.mark.demo
def test_reports_print_on_a4(live_server, page_factory, screenshot):
    passwords, under_way, *_ = seeded(live_server)
    with live_server.app.app_context():
        from voting_app.ballots.models import Round
        from voting_app.ballots.service import round_board
        from voting_app.db import db

        counted = db.session.scalars(select(Round).where(Round.state == "announced").order_by(Round.id)).all()
        session_id = counted[0].session_id
        expected = [(r.title, round_board(r)["digest"]) for r in counted if r.session_id == session_id]
        session_name = counted[0].session.name
        confirmed_by = {r.confirmed_by_id for r in counted if r.session_id == session_id}
        from voting_app.auth.models import User

        scrutineers = [db.session.get(User, user_id).display_name for user_id in confirmed_by]

    axe = Axe()
    page = page_factory("desktop")
    sign_in(page, live_server, "staff", passwords["staff"])
    assert page.goto(live_server.url(f"/reports/sessions/{session_id}")).status == 200
    assert page.locator("script").count() == 0
    assert page.locator("figure.chart svg[role=img] title").count() == len(expected)
    reader = pdf_of(page, screenshot, "session-report", axe)
    assert 1 <= len(reader.pages) <= 8
    pages = assert_pages(reader, A4_POINTS)
    text = "".join(pages)
    assert folded(session_name) in text and folded("打印时间：") in text and folded("（北京时间）") in text
    for title, digest in expected:
        assert folded(title) in text
        assert digest.removeprefix("sha256:")[:32] in text, f"the digest of {title} is not in the printed report"
        # The heading is printed on the page that holds its figures and chart, never alone at its foot.
        heading = folded(title) + "已公布"  # the heading and its state line (the title also names the round in tables)
        number = next(i for i, page_text in enumerate(pages) if heading in page_text)
        after = pages[number][pages[number].index(heading):]
        # The chart's line: the pass line, the bar, or under tiers (the demo's assessment) more than half.
        lines = ("通过线：", "整改线：", "过半数：")
        assert "发出票数" in after and any(folded(line) in after for line in lines), f"{title} is cut from its figures"
    assert "农村公路桥梁新改建" in text and "Ctrl+P" not in text
    assert "监票人签字" in pages[-2] + pages[-1] and all(folded(name) in text for name in scrutineers)
    appendix = pages[-1]
    assert folded("附录：任何人都可以复核计票结果") in appendix and "/ballots/rounds/" in appendix
    assert not COMMAND_LINE.search(text), COMMAND_LINE.search(text)

    assert page.goto(live_server.url("/reports/projects?year=all")).status == 200
    year = pdf_of(page, screenshot, "year-report", axe)
    year_text = "".join(assert_pages(year, tuple(reversed(A4_POINTS))))  # landscape
    assert folded("城区易涝点整治（一期）") in year_text and folded("社区卫生服务站标准化建设") in year_text
    assert folded("打印时间：") in year_text and not COMMAND_LINE.search(year_text)

    assert page.goto(live_server.url(f"/reports/projects/{under_way}")).status == 200
    project_text = "".join(assert_pages(pdf_of(page, screenshot, "project-report", axe), A4_POINTS))
    assert folded("打印时间：") in project_text and not COMMAND_LINE.search(project_text)
    assert axe.problems == [], "\n".join(axe.problems)
