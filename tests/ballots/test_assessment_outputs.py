"""Every output of a satisfaction assessment shows what it decided: the grade of each project
when the congress's 票决办法 grades in tiers (满意 / 基本满意 / 不满意), the bar's verdict
otherwise, and the round's overall rate (总体满意率) either way; a project graded 不满意 goes to
rectification (整改) exactly as one under the bar. The same round is read through the result
page, the venue screen, the reports and their Excel files, and the project pages."""

import io
import json
import re

import pytest
from openpyxl import load_workbook

from tests.ballots.assessment_world import BRIDGE, CORRIDOR, LIGHTS, OVERALL_TEXT, announced_assessment
from tests.ballots.helpers import as_role
from tests.conftest import post
from voting_app.db import db


def chinese(client):
    client.set_cookie("lang", "zh_Hans_CN")
    return client


def text_of(html: str) -> str:
    """The page's words, tags dropped and spaces folded, as a reader sees them."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def row_of(html: str, name: str) -> str:
    """The words of the table row that names `name`."""
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, re.S)
    return text_of(next(row for row in rows if name in row))


@pytest.fixture
def tiers(app):
    return announced_assessment(app, "tiers")


def test_the_result_page_grades_every_project_and_gives_the_overall_rate(app, tiers):
    page = app.test_client().get(f"/ballots/rounds/{tiers.world.round_id}/results").get_data(as_text=True)
    assert "Satisfied" in row_of(page, BRIDGE) and "rectification" not in row_of(page, BRIDGE)
    assert "Mostly satisfied" in row_of(page, LIGHTS) and "rectification" not in row_of(page, LIGHTS)
    corridor = row_of(page, CORRIDOR)
    assert "100.0%" in corridor and "Dissatisfied" in corridor and "rectification (整改)" in corridor
    words = text_of(page)
    assert f"Overall satisfaction rate (总体满意率) {OVERALL_TEXT} (n=20)" in words
    assert "graded on the roster of 9" in words and "Votes for more than half 5" in words
    assert "Satisfaction bar" not in words, "tiers have no bar"

    zh = text_of(chinese(app.test_client()).get(f"/ballots/rounds/{tiers.world.round_id}/results").get_data(as_text=True))
    assert "总体满意率 85.0%" in zh and "不满意 整改" in zh and "基本满意" in zh


def test_the_bar_gives_its_verdict_and_the_same_overall_rate(app):
    # At a bar of 80%, the lights (6 of 8, 75%) go to rectification; the corridor, rated 100%
    # by the four who rated it, meets the bar.
    assessment = announced_assessment(app, "bar", bar=80)
    page = app.test_client().get(f"/ballots/rounds/{assessment.world.round_id}/results").get_data(as_text=True)
    assert "rectification (整改)" in row_of(page, LIGHTS)
    assert "Meets the bar" in row_of(page, CORRIDOR) and "Meets the bar" in row_of(page, BRIDGE)
    words = text_of(page)
    assert f"Overall satisfaction rate (总体满意率) {OVERALL_TEXT}" in words and "Satisfaction bar 80%" in words
    assert "Dissatisfied rectification" not in words and "grade-" not in page


def test_dissatisfied_sends_the_project_to_rectification_as_the_bar_does(app, tiers):
    client = app.test_client()
    below = client.get("/projects/?satisfaction=below&year=2026").get_data(as_text=True)
    assert CORRIDOR in below and BRIDGE not in below and LIGHTS not in below
    met = client.get("/projects/?satisfaction=met&year=2026").get_data(as_text=True)
    assert BRIDGE in met and LIGHTS in met and CORRIDOR not in met
    corridor = text_of(client.get(f"/projects/{tiers.project_ids[CORRIDOR]}").get_data(as_text=True))
    assert "Grade Dissatisfied rectification (整改)" in corridor
    assert f"Overall satisfaction rate of the round (总体满意率) {OVERALL_TEXT}" in corridor
    bridge = text_of(client.get(f"/projects/{tiers.project_ids[BRIDGE]}").get_data(as_text=True))
    assert "Grade Satisfied" in bridge and "rectification (整改)" not in bridge
    listing = client.get("/projects/?year=2026").get_data(as_text=True)
    assert "Dissatisfied" in row_of(listing, CORRIDOR) and "rectification" in row_of(listing, CORRIDOR)
    assert "Mostly satisfied" in row_of(listing, LIGHTS)


def test_under_the_bar_the_same_ratings_send_the_corridor_nowhere(app):
    """The control for the test above: a rate of 100% meets a bar of 60%, so only tiers,
    counting on the roster, send the corridor to rectification."""
    announced_assessment(app, "bar", bar=60)
    below = app.test_client().get("/projects/?satisfaction=below&year=2026").get_data(as_text=True)
    assert CORRIDOR not in below


def test_the_venue_screen_shows_grades_and_the_overall_rate(app, tiers):
    world = tiers.world
    presiding = as_role(app, world, "presiding")
    assert post(presiding, f"/screen/{world.session_id}/go", {"to": f"round-{world.round_id}-result"}).status_code == 302
    result = presiding.get(f"/screen/{world.session_id}/slide").get_data(as_text=True)
    assert "Dissatisfied" in row_of(result, CORRIDOR) and "rectification" in row_of(result, CORRIDOR)
    assert f"Overall satisfaction rate (总体满意率) {OVERALL_TEXT}" in text_of(result)
    zh = text_of(chinese(as_role(app, world, "presiding")).get(f"/screen/{world.session_id}").get_data(as_text=True))
    assert "总体满意率 85.0%" in zh and "等次" in zh and "不满意 整改" in zh
    assert post(presiding, f"/screen/{world.session_id}/go", {"to": f"round-{world.round_id}-chart"}).status_code == 302
    chart = presiding.get(f"/screen/{world.session_id}/slide").get_data(as_text=True)
    assert "half of the base of 9" in text_of(chart) and f"Overall satisfaction rate (总体满意率) {OVERALL_TEXT}" in text_of(chart)
    figure = json.loads(re.search(r'class="plotly-figure"[^>]*>(.*?)</script>', chart, re.S).group(1))
    grades = {note["y"]: note["text"] for note in figure["layout"]["annotations"]}
    # By grade, not by rate: the corridor's 100% from four raters stands last, as 不满意.
    assert grades == {f"1. {BRIDGE}": "Satisfied", f"2. {LIGHTS}": "Mostly satisfied",
                      f"3. {CORRIDOR}": "Dissatisfied rectification (整改)"}
    assert post(presiding, f"/screen/{world.session_id}/go", {"to": "satisfaction"}).status_code == 302
    both = presiding.get(f"/screen/{world.session_id}/slide").get_data(as_text=True)
    assert "Dissatisfied" in row_of(both, CORRIDOR) and "rectification" in row_of(both, CORRIDOR)
    zh = text_of(chinese(as_role(app, world, "presiding")).get(f"/screen/{world.session_id}").get_data(as_text=True))
    assert "100.0% (n=4) 不满意 整改" in zh


def test_the_tiers_figure_stacks_the_votes_against_half_the_roster(app, tiers):
    from voting_app.ballots.models import Round
    from voting_app.ballots.service import count_round
    from voting_app.screen.charts import result_figure

    with app.app_context():
        round_ = db.session.get(Round, tiers.world.round_id)
        figure = result_figure(count_round(round_), {c.id: c.name for c in round_.candidates}, 60,
                               labels={"dissatisfied": "不满意", "below": "整改"})
    satisfied, mostly = figure["data"]
    assert list(satisfied["x"]) == [5, 3, 4] and list(mostly["x"]) == [2, 3, 0], "bridge, lights, corridor by grade"
    assert [note["text"] for note in figure["layout"]["annotations"]][-1] == "不满意 整改"
    assert figure["layout"]["shapes"][0]["x0"] == 4.5 and figure["layout"]["barmode"] == "stack"


def test_the_session_report_grades_gives_the_overall_rate_and_explains_the_grades(app, tiers):
    staff = as_role(app, tiers.world, "staff")
    page = staff.get(f"/reports/sessions/{tiers.world.session_id}").get_data(as_text=True)
    words = text_of(page)
    assert "Dissatisfied rectification (整改)" in row_of(page, CORRIDOR)
    assert f"Overall satisfaction rate (总体满意率) {OVERALL_TEXT} (n=20)" in words
    assert 'data-key="tiers"' in page and 'data-key="overall"' in page and 'data-key="rank-points"' not in page
    assert "59.96 is printed as 59.9" in words
    # The print chart: the corridor's four satisfied votes stop short of the line at 5.
    assert "More than half: 5 votes" in words and "4 + 0 · Dissatisfied: rectification (整改)" in words
    assert "bar-dissatisfied" in page and "bar-satisfied" in page

    zh = text_of(chinese(as_role(app, tiers.world, "staff")).get(f"/reports/sessions/{tiers.world.session_id}").get_data(as_text=True))
    assert "总体满意率 85.0%" in zh and "不满意（整改）" in zh


def workbook(response):
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return load_workbook(io.BytesIO(response.data))


def sheet_rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_session_workbook_carries_grades_and_the_overall_rate(app, tiers):
    book = workbook(as_role(app, tiers.world, "staff").get(f"/reports/sessions/{tiers.world.session_id}/report.xlsx"))
    rounds, votes = sheet_rows(book.worksheets[0]), sheet_rows(book.worksheets[1])
    header = rounds[1]
    line = dict(zip(header, rounds[2]))
    assert line["Overall satisfaction rate (总体满意率)"] == pytest.approx(0.85) and line["Overall: ratings counted"] == 20
    assert line["Votes needed to pass"] == 5, "under tiers: more than half of the roster"
    outcomes = {row[2]: row[votes[0].index("Outcome")] for row in votes[1:]}
    assert outcomes == {BRIDGE: "Satisfied", LIGHTS: "Mostly satisfied", CORRIDOR: "Dissatisfied: rectification (整改)"}

    zh = workbook(chinese(as_role(app, tiers.world, "staff")).get(f"/reports/sessions/{tiers.world.session_id}/report.xlsx"))
    zh_votes = sheet_rows(zh.worksheets[1])
    assert {row[2]: row[6] for row in zh_votes[1:]}[CORRIDOR] == "不满意（整改）"
    assert "总体满意率" in sheet_rows(zh.worksheets[0])[1]


def test_the_year_report_project_report_and_workbook_carry_the_grade(app, tiers):
    staff = as_role(app, tiers.world, "staff")
    year = staff.get("/reports/projects?year=2026").get_data(as_text=True)
    assert "Dissatisfied" in row_of(year, CORRIDOR) and "rectification" in row_of(year, CORRIDOR)
    assert "Satisfied" in row_of(year, BRIDGE)
    report = text_of(staff.get(f"/reports/projects/{tiers.project_ids[LIGHTS]}").get_data(as_text=True))
    assert "Deputies 75.0% (n=8) Mostly satisfied" in report
    book = sheet_rows(workbook(staff.get("/reports/projects.xlsx?year=2026")).worksheets[0])
    verdicts = {row[0]: row[book[0].index("Deputies: grade or verdict")] for row in book[1:]}
    assert verdicts == {BRIDGE: "Satisfied", LIGHTS: "Mostly satisfied", CORRIDOR: "Dissatisfied: rectification (整改)"}


def test_the_round_form_shows_the_grading_it_copies_and_asks_no_bar_under_tiers(app, tiers):
    staff = as_role(app, tiers.world, "staff")
    form = staff.get(f"/ballots/sessions/{tiers.world.session_id}/rounds/new").get_data(as_text=True)
    assert "Satisfaction assessment: grading" in form and "Three grades on the base" in form
    assert 'type="hidden"' in re.search(r'<input[^>]*name="satisfaction_bar"[^>]*>', form).group(0)
    response = post(staff, f"/ballots/sessions/{tiers.world.session_id}/rounds/new", {
        "title": "第二次测评", "method": "satisfaction", "seats": "1", "threshold_base": "roster", "mode": "electronic",
        "satisfaction_bar": "60",
    })
    assert response.status_code == 302
    with app.app_context():
        from sqlalchemy import select

        from voting_app.ballots.models import Round

        assert db.session.scalar(select(Round.grading).where(Round.title == "第二次测评")) == "tiers"


def test_a_bar_round_form_keeps_its_bar_field(app):
    assessment = announced_assessment(app, "bar", bar=70)
    form = as_role(app, assessment.world, "staff").get(f"/ballots/sessions/{assessment.world.session_id}/rounds/new")
    page = form.get_data(as_text=True)
    assert 'type="hidden"' not in re.search(r'<input[^>]*name="satisfaction_bar"[^>]*>', page).group(0)
    assert "A project rated under 70% goes to rectification" in text_of(page)


def test_a_project_nobody_rated_is_graded_dissatisfied_and_every_output_says_it_had_no_ratings(app):
    """Under tiers the rule grades a project against the whole roster, rated or not; the outputs
    show it had no ratings, and rank it after every project that was rated."""
    from tests.ballots.assessment_world import UNRATED

    assessment = announced_assessment(app, "tiers", unrated=True)
    world = assessment.world
    staff = as_role(app, world, "staff")
    page = app.test_client().get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True)
    assert row_of(page, UNRATED).startswith(" — 背街小巷改造 0 0 0 — (n=0) Dissatisfied No ratings rectification (整改)")
    assert "No ratings" not in row_of(page, CORRIDOR)
    names = [name for name in re.findall(r'<tr data-candidate="\d+"><td>[^<]*</td><td>([^<]+)</td>', page)]
    assert names == [BRIDGE, LIGHTS, CORRIDOR, UNRATED]
    zh = chinese(app.test_client()).get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True)
    assert "不满意 无人评价 整改" in row_of(zh, UNRATED)

    presiding = as_role(app, world, "presiding")
    post(presiding, f"/screen/{world.session_id}/go", {"to": f"round-{world.round_id}-chart"})
    chart = presiding.get(f"/screen/{world.session_id}/slide").get_data(as_text=True)
    figure = json.loads(re.search(r'class="plotly-figure"[^>]*>(.*?)</script>', chart, re.S).group(1))
    grades = {note["y"]: note["text"] for note in figure["layout"]["annotations"]}
    assert grades[f"—. {UNRATED}"] == "Dissatisfied (No ratings) rectification (整改)"
    assert "No ratings" in row_of(chart, UNRATED)

    report = staff.get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    assert "No ratings" in row_of(report, UNRATED)
    assert "No ratings · Dissatisfied: rectification (整改)" in text_of(report)  # the print chart's bar
    book = workbook(staff.get(f"/reports/sessions/{world.session_id}/report.xlsx"))
    votes = sheet_rows(book.worksheets[1])
    outcomes = {row[2]: row[votes[0].index("Outcome")] for row in votes[1:]}
    assert outcomes[UNRATED] == "Dissatisfied (no ratings): rectification (整改)"
    assert outcomes[CORRIDOR] == "Dissatisfied: rectification (整改)"
    project = text_of(staff.get(f"/projects/{assessment.project_ids[UNRATED]}").get_data(as_text=True))
    assert "Grade Dissatisfied No ratings rectification (整改)" in project
