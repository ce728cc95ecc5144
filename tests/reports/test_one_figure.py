"""One figure everywhere: the same satisfaction rate reads the same on every page, export,
report, chart, the venue screen and the verifier, rounded by the count's rule (down, to one
decimal). The figures are chosen so that naive rounding would give another number:
1200 of 2001 residents is 59.97% (59.9, never the bar's 60.0), 8 of 9 deputies is 88.89%
(88.8, not 88.9), 2 of 3 is 66.67% (66.6, not 66.7)."""

import html
import io
import json
import re
from datetime import date, datetime

import openpyxl
from sqlalchemy import insert, select

from tests.ballots.helpers import announce_round, as_deputy, as_role, close_round, confirm_round, open_round
from tests.ballots.test_assessment import assessment_world, rate
from tests.conftest import post
from tests.screen.test_screen import go, slide
from voting_app.db import db

RESIDENTS_A = ("59.9", "60.0")  # (shown, what naive rounding would show)
DEPUTIES_A = ("88.8", "88.9")
DEPUTIES_B = ("66.6", "66.7")
RESIDENTS_B = ("66.6", "66.7")


def plain(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))))


def shows(text: str, figure: tuple[str, str]) -> bool:
    """The figure as shown and never as naive rounding would show it."""
    shown, naive = figure
    return f"{shown}%" in text and f"{naive}%" not in text


def residents_survey(app, project_id: int, positive: int, total: int) -> int:
    """A survey on the project with `positive` of `total` answers satisfied or mostly satisfied,
    loaded in bulk (as an import does) and tallied by `tallies.rebuild`."""
    from surveys import service, tallies
    from surveys.models import Answer, Response, Survey

    with app.app_context():
        survey = service.create_from_template("test", "满意度", project_id, "operating")
        db.session.flush()
        question = next(q.id for q in survey.questions if q.kind == "satisfaction")
        week = date(2026, 3, 2)
        db.session.execute(insert(Response.__table__), [
            {"survey_id": survey.id, "submitted_at": datetime(2026, 3, 2, 10, 0), "week_start": week, "is_assisted": False,
             "is_flagged": False} for _ in range(total)])
        ids = db.session.scalars(select(Response.id).where(Response.survey_id == survey.id).order_by(Response.id)).all()
        ratings = ["satisfied" if n % 2 else "mostly_satisfied" for n in range(positive)] + ["dissatisfied"] * (total - positive)
        db.session.execute(insert(Answer.__table__), [
            {"response_id": rid, "question_id": question, "survey_id": survey.id, "value": value, "week_start": week,
             "is_assisted": False, "is_flagged": False, "is_hidden": False, "is_held": False}
            for rid, value in zip(ids, ratings)])
        tallies.rebuild(survey.id)
        survey_id = survey.id
        db.session.commit()
        assert db.session.get(Survey, survey_id).project_id == project_id
    return survey_id


def assessed(app):
    """Nine deputies rate two projects: 8 of 9 and 6 of 9 (2/3) satisfied or mostly satisfied."""
    world, project_ids = assessment_world(app)
    staff = as_role(app, world, "staff")
    for project_id in project_ids[:2]:
        assert post(staff, f"/ballots/rounds/{world.round_id}/candidates/project", {"project_id": str(project_id)}).status_code == 302
    with app.app_context():
        from voting_app.ballots.models import Candidate

        candidates = {c.project_id: c.id for c in db.session.scalars(select(Candidate).where(Candidate.round_id == world.round_id))}
    a, b = candidates[project_ids[0]], candidates[project_ids[1]]
    open_round(app, world)
    for index in range(9):
        ratings = {a: "satisfied" if index < 8 else "dissatisfied", b: "mostly_satisfied" if index < 6 else "dissatisfied"}
        assert rate(as_deputy(app, world, index), world.round_id, ratings).status_code == 302
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    return world, project_ids


def percent_cells(rows, header_row: int, column_name: str) -> list:
    index = rows[header_row].index(column_name)
    return [row[index] for row in rows[header_row + 1:]]


def as_shown(cell) -> str:
    """What Excel shows for a cell formatted 0.0%."""
    assert cell.number_format == "0.0%", cell.number_format
    return f"{cell.value * 100:.1f}"


def test_the_same_rate_reads_the_same_on_every_page_export_report_screen_and_the_verifier(app, tmp_path, capsys):
    world, (project_a, project_b, _) = assessed(app)
    survey_a = residents_survey(app, project_a, 1200, 2001)
    survey_b = residents_survey(app, project_b, 2, 3)
    staff = as_role(app, world, "staff")
    anyone = app.test_client()

    # the survey results page and its JSON
    results = plain(staff.get(f"/surveys/{survey_a}/results"))
    assert shows(results, RESIDENTS_A) and "marked for rectification" in results
    assert staff.get(f"/surveys/{survey_a}/results.json").get_json()["satisfaction"]["rate_text"] == "59.9"
    assert shows(plain(staff.get(f"/surveys/{survey_b}/results")), RESIDENTS_B)

    # the public project pages and the list
    page_a, page_b = plain(anyone.get(f"/projects/{project_a}")), plain(anyone.get(f"/projects/{project_b}"))
    assert shows(page_a, RESIDENTS_A) and shows(page_a, DEPUTIES_A)
    assert shows(page_b, RESIDENTS_B) and shows(page_b, DEPUTIES_B)
    listing = plain(anyone.get("/projects/"))
    assert all(shows(listing, figure) for figure in (RESIDENTS_A, DEPUTIES_A, DEPUTIES_B))

    # the round's results page, the session report, the year report and the project reports
    round_page = plain(anyone.get(f"/ballots/rounds/{world.round_id}/results"))
    session_page = plain(staff.get(f"/reports/sessions/{world.session_id}"))
    year_page = plain(staff.get("/reports/projects?year=all"))
    for text in (round_page, session_page, year_page):
        assert shows(text, DEPUTIES_A) and shows(text, DEPUTIES_B)
    assert shows(year_page, RESIDENTS_A) and shows(year_page, RESIDENTS_B)
    report_a, report_b = plain(staff.get(f"/reports/projects/{project_a}")), plain(staff.get(f"/reports/projects/{project_b}"))
    assert shows(report_a, RESIDENTS_A) and shows(report_a, DEPUTIES_A)
    assert shows(report_b, RESIDENTS_B) and shows(report_b, DEPUTIES_B)

    # the residents' rate in the reports carries its 95% interval and n; a small sample says so
    for text in (year_page, report_a, page_a, results):
        assert "59.9% (95% interval 57.8%–62.1%, n=2001)" in text
    for text in (year_page, report_b, page_b):
        assert "66.6% (95% interval 20.7%–93.9%, n=3) Fewer than 30 answers: for reference only" in text
    assert "±" not in year_page + report_a + report_b + page_a + results

    # the Excel exports: the very figure, as a number formatted 0.0%
    survey_book = openpyxl.load_workbook(io.BytesIO(staff.get(f"/surveys/{survey_a}/export.xlsx").data))
    assert as_shown(survey_book.worksheets[0].cell(row=4, column=2)) == "59.9"
    session_book = openpyxl.load_workbook(io.BytesIO(staff.get(f"/reports/sessions/{world.session_id}/report.xlsx").data))
    votes = session_book.worksheets[1]
    header = [cell.value for cell in votes[1]]
    rate_column = header.index("Satisfaction rate") + 1
    assert [as_shown(votes.cell(row=row, column=rate_column)) for row in (2, 3)] == ["88.8", "66.6"]
    year_book = openpyxl.load_workbook(io.BytesIO(staff.get("/reports/projects.xlsx?year=all").data))
    sheet = year_book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    by_name = {sheet.cell(row=row, column=1).value: row for row in range(2, sheet.max_row + 1)}
    residents = header.index("Residents’ satisfaction rate") + 1
    deputies = header.index("Deputies’ satisfaction rate") + 1
    with app.app_context():
        from voting_app.projects.models import Project

        name_a, name_b = db.session.get(Project, project_a).name, db.session.get(Project, project_b).name
    assert as_shown(sheet.cell(row=by_name[name_a], column=residents)) == "59.9"
    assert as_shown(sheet.cell(row=by_name[name_b], column=residents)) == "66.6"
    assert as_shown(sheet.cell(row=by_name[name_a], column=deputies)) == "88.8"
    assert as_shown(sheet.cell(row=by_name[name_b], column=deputies)) == "66.6"

    # the venue screen: the round's chart, its table, and the residents-and-deputies slide
    presiding = as_role(app, world, "presiding")
    go(presiding, world.session_id, f"round-{world.round_id}-chart")
    chart_slide = slide(presiding, world.session_id).get_data(as_text=True)
    figure = json.loads(html.unescape(re.search(r'class="plotly-figure"[^>]*>(.*?)</script>', chart_slide, re.DOTALL).group(1)))
    assert figure["data"][0]["text"] == ["88.8%", "66.6%"]
    assert shows(plain(slide(presiding, world.session_id)), DEPUTIES_A)
    go(presiding, world.session_id, "satisfaction")
    both = slide(presiding, world.session_id)
    figure = json.loads(html.unescape(re.search(r'class="plotly-figure"[^>]*>(.*?)</script>', both.get_data(as_text=True), re.DOTALL).group(1)))
    texts = [text for trace in figure["data"] for text in trace["text"]]
    assert any(text.startswith("59.9%") for text in texts) and "88.8%" in texts and "66.6%" in texts
    assert not any(text.startswith(("60.0%", "88.9%", "66.7%")) for text in texts)
    screen_table = plain(both)
    assert all(shows(screen_table, figure) for figure in (RESIDENTS_A, DEPUTIES_A, DEPUTIES_B))
    # the public list and the screen give the residents' rate its interval too; a small sample is marked
    for text in (listing, screen_table):
        assert "59.9% (95% interval 57.8%–62.1%, n=2001)" in text
    assert "66.6% (n=3*)" in texts and "* Fewer than 30 answers: for reference only" in screen_table

    # the verifier, recounting the published board
    from voting_app.verify import main as verify_main

    board = tmp_path / "board.json"
    board.write_text(json.dumps(anyone.get(f"/ballots/rounds/{world.round_id}/board.json").get_json()))
    assert verify_main([str(board)]) == 0
    table = capsys.readouterr().out
    assert re.search(r"\s88\.8\s", table) and re.search(r"\s66\.6\s", table)
    assert "88.9" not in table and "66.7" not in table
