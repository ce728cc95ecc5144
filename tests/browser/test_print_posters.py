"""Every QR poster prints on one A4 page with its QR code on it, whatever the length of the
introduction up to the form's 1,000 characters (and a linked project's summary up to its
form's 2,000), the longest title and the longest placement or station names: printed by
Chromium to PDF as an office would print it, and measured in print media emulation."""

import io

from pypdf import PdfReader

from tests.browser.test_project_lifecycle import Axe, sign_in

PASSWORD = "correct horse battery"  # tests.conftest.make_user
A4_POINTS = (595.28, 841.89)
PAGE_HEIGHT_PX = (297 - 2 * 15) / 25.4 * 96  # the poster's printable height (A4, 15 mm margins) in CSS px
SHORTENED = "shortened"  # the introduction is cut to make room for a long title or name, and ends with "…"
SENTENCE = "本项目改建村道桥梁三座、新建一座，解决雨季群众出行难、学生上学绕远路的问题；施工期间请注意绕行。"


def chinese(length: int) -> str:
    return (SENTENCE * (length // len(SENTENCE) + 1))[:length]


def set_up(server) -> dict:
    """Surveys with introductions of 0, 300 and 1,000 characters, one for a project with the
    longest name and summary, and a station with the longest name and address."""
    from surveys import service
    from tests.conftest import make_user
    from voting_app.db import db
    from voting_app.projects.models import Project
    from voting_app.proposals.service import add_station

    paths = {}
    with server.app.app_context():
        for length in (0, 300, 1000):
            survey = service.create_survey("test", f"桥梁满意度调查{length}", intro=chinese(length))
            placement = service.add_placement("test", survey, "桥北端")
            paths[f"survey-intro-{length}"] = (f"/surveys/{survey.id}/placements/{placement.id}/poster", length)
        survey = service.create_survey("test", chinese(60), intro=chinese(1000))
        placement = service.add_placement("test", survey, chinese(40))
        paths["survey-long-title"] = (f"/surveys/{survey.id}/placements/{placement.id}/poster", SHORTENED)
        project = Project(name=chinese(200), summary=chinese(2000), year=2026, stage="operating")
        db.session.add(project)
        db.session.flush()
        survey = service.create_survey("test", "满意度调查", project_id=project.id, stage="operating", mode="tokened")
        placement = service.add_placement("test", survey, chinese(200))
        paths["survey-longest-names"] = (f"/surveys/{survey.id}/placements/{placement.id}/poster", SHORTENED)
        station = add_station("test", chinese(200), chinese(200))
        paths["station-longest-names"] = (f"/proposals/stations/{station.id}/poster", None)
        paths["station"] = (f"/proposals/stations/{add_station('test', '城关镇人大代表联络站', '城关镇东门路1号').id}/poster", None)
        staff = make_user("staff")
        db.session.commit()
        return {"staff": staff.username, "paths": paths}


def test_every_poster_prints_on_one_a4_page_with_its_qr_code(live_server, page_factory, screenshot):
    setup = set_up(live_server)
    page = page_factory("desktop")
    sign_in(page, live_server, setup["staff"], PASSWORD)
    axe = Axe()
    for name, (path, intro) in setup["paths"].items():
        assert page.goto(live_server.url(path)).status == 200, path
        page.emulate_media(media="screen")
        axe.check(page, name)
        page.emulate_media(media="print")
        shot = screenshot(page, name)

        qr = page.locator("svg.qr").bounding_box()
        poster = page.locator("main.poster").bounding_box()
        assert qr["width"] > 280 and qr["height"] > 280, f"{name}: the QR code shrank to {qr}"  # 80 mm is 302 px
        assert qr["y"] >= poster["y"] and qr["y"] + qr["height"] <= poster["y"] + poster["height"], f"{name}: QR code cut off"
        assert poster["y"] + poster["height"] <= PAGE_HEIGHT_PX, f"{name}: the poster is taller than the page"
        for part in ("h1", ".url", ".how", ".place"):
            box = page.locator(f"main.poster {part}").bounding_box()
            assert box["y"] + box["height"] <= poster["y"] + poster["height"] + 1, f"{name}: {part} cut off"
        summary = page.locator("main.poster .summary")
        if summary.count():
            assert summary.evaluate("element => element.scrollHeight <= element.clientHeight + 1"), f"{name}: text cut off"
        if intro == SHORTENED:
            assert summary.inner_text().endswith("…"), f"{name}: shortened without a mark"
        elif intro == 0:
            assert summary.count() == 0
        elif intro:
            assert len(summary.inner_text()) == intro, f"{name}: the introduction is shortened"

        pdf = page.pdf(format="A4", prefer_css_page_size=True)
        shot.with_suffix(".pdf").write_bytes(pdf)
        reader = PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) == 1, f"{name} prints on {len(reader.pages)} pages"
        box = reader.pages[0].mediabox
        assert abs(float(box.width) - A4_POINTS[0]) < 2 and abs(float(box.height) - A4_POINTS[1]) < 2
    assert axe.problems == [], "\n".join(axe.problems)
