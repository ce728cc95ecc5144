"""The session report and the year report: what they say, on the page and in Excel."""

import io
import re
from datetime import datetime, timedelta
from decimal import Decimal

from openpyxl import load_workbook

from tests.ballots.helpers import announce_round, as_deputy, as_role, cast, close_round, confirm_round, open_round
from voting_app.db import db
from voting_app.projects import delivery, schedule
from voting_app.projects.schedule import BEIJING
from voting_app.projects.models import Project
from voting_app.projects.service import create_project
from voting_app.reports import data
from voting_app.sessions.models import CongressSession

TODAY = schedule.beijing_today()


def counted(app, world, announce=True):
    open_round(app, world)
    a, b, c, _ = world.candidate_ids
    for index in range(7):
        cast(as_deputy(app, world, index), world.round_id, choices=[a, b] if index < 6 else [c])
    close_round(app, world)
    confirm_round(app, world)
    if announce:
        announce_round(app, world)


def test_the_session_report_has_every_counted_round_its_digest_and_the_elected(app, world):
    counted(app, world)
    with app.app_context():
        report = data.session_report(db.session.get(CongressSession, world.session_id))
        assert [r.round.id for r in report.rounds] == [world.round_id] and report.pending == []
        item = report.rounds[0]
        assert (item.result.returned, item.result.valid, item.result.void) == (7, 7, 0)
        assert item.digest.startswith("sha256:") and item.digest_matches
        assert [(e.candidate.name, e.votes) for e in report.elected] == [("项目1", 6), ("项目2", 6)]
    staff = as_role(app, world, "staff")
    page = staff.get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    assert item.digest in page and "Elected projects" in page and "项目1" in page and "Votes needed to pass" in page
    workbook = load_workbook(io.BytesIO(staff.get(f"/reports/sessions/{world.session_id}/report.xlsx").data))
    rounds, votes, elected = (list(sheet.values) for sheet in workbook.worksheets)
    assert rounds[2][0] == "测试票决" and rounds[2][5:8] == (7, 7, 0) and rounds[2][8] == 5 and rounds[2][10] == item.digest
    assert [row[2:4] for row in votes[1:]] == [("项目1", 6), ("项目2", 6), ("项目3", 1), ("项目4", 0)]
    assert votes[1][6] == "Elected" and votes[3][6] == "Not passed"
    assert [row[1] for row in elected[1:]] == ["项目1", "项目2"]


def test_a_round_not_yet_counted_is_listed_as_pending_without_figures(app, world):
    open_round(app, world)
    cast(as_deputy(app, world, 0), world.round_id, choices=[world.candidate_ids[0]])
    with app.app_context():
        report = data.session_report(db.session.get(CongressSession, world.session_id))
    assert report.rounds == [] and [r.id for r in report.pending] == [world.round_id]
    page = as_role(app, world, "staff").get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    assert "Rounds not yet counted" in page and "open for voting" in page
    assert "项目1" not in page


def test_the_year_report_sums_spending_and_counts_supervision_and_overdue_items(app, world):
    with app.app_context():
        deputy = world.credential(world.deputy_ids[0]).deputy
        bridge = create_project("test", "staff", name="桥梁", year=TODAY.year, department="区交通运输局",
                                budget=Decimal("800"), spent=Decimal("200"), stage="in_progress")
        lights = create_project("test", "staff", name="路灯", year=TODAY.year, budget=Decimal("200"), stage="operating")
        create_project("test", "staff", name="往年项目", year=TODAY.year - 1)
        delivery.add_milestone("test", "staff", bridge, "主体完工", TODAY - timedelta(days=3))
        done = delivery.add_milestone("test", "staff", bridge, "招标", TODAY - timedelta(days=30))
        delivery.complete_milestone("test", "staff", bridge, done, TODAY - timedelta(days=29))
        visit = TODAY - timedelta(days=20)
        delivery.record_supervision("test", deputy, bridge, visit, "围挡破损", "修复围挡", visit + timedelta(days=5), [])
        delivery.record_supervision("test", deputy, bridge, TODAY, "施工规范", "", None, [])
        db.session.commit()
        report = data.year_report(TODAY.year, {})
        by_name = {item.project.name: item for item in report.projects}
        assert set(by_name) == {"桥梁", "路灯"} and report.budget == Decimal("1000") and report.spent == Decimal("200")
        item = by_name["桥梁"]
        assert (item.spent_share, item.milestones_done, item.milestones_overdue) == (25.0, 1, 1)
        assert (item.supervisions, item.rectifications_asked, item.rectifications_settled, item.rectifications_overdue) == (2, 1, 0, 1)
        assert report.by_stage()["in_progress"] == 1 and report.by_stage()["operating"] == 1
        bridge_id = bridge.id
    staff = as_role(app, world, "staff")
    page = staff.get("/reports/projects").get_data(as_text=True)
    assert "桥梁" in page and "往年项目" not in page and "1000.00" in page
    assert "往年项目" in staff.get("/reports/projects?year=all").get_data(as_text=True)
    sheet = load_workbook(io.BytesIO(staff.get(f"/reports/projects.xlsx?year={TODAY.year}").data)).worksheets[0]
    rows = {row[0]: row for row in sheet.values}
    assert rows["桥梁"][5:14] == (800.0, 200.0, 25.0, 1, 1, 2, 1, 0, 1)
    one = staff.get(f"/reports/projects/{bridge_id}").get_data(as_text=True)
    assert "围挡破损" in one and "修复围挡" in one and "overdue" in one


def test_reports_are_for_staff_and_presiding_only(app, world):
    assert app.test_client().get(f"/reports/sessions/{world.session_id}").status_code == 302
    scrutineer = as_role(app, world, "scrutineer")
    assert scrutineer.get("/reports/projects").status_code == 403
    assert as_role(app, world, "presiding").get("/reports/projects").status_code == 200


def test_names_that_look_like_formulas_stay_text_in_excel(app, world):
    with app.app_context():
        create_project("test", "staff", name="=HYPERLINK(\"http://x\")", year=TODAY.year)
        db.session.commit()
    sheet = load_workbook(io.BytesIO(as_role(app, world, "staff").get(f"/reports/projects.xlsx?year={TODAY.year}").data)).worksheets[0]
    cell = sheet.cell(row=2, column=1)
    assert cell.value == "=HYPERLINK(\"http://x\")" and cell.data_type == "s"


def test_the_session_workbook_has_the_announcement_in_beijing_time_and_chinese_headers(app, world):
    from datetime import datetime

    from voting_app.ballots.models import Round
    from voting_app.web import local_time

    counted(app, world)
    staff = as_role(app, world, "staff")
    staff.set_cookie("lang", "zh_CN")
    rounds = load_workbook(io.BytesIO(staff.get(f"/reports/sessions/{world.session_id}/report.xlsx").data)).worksheets[0]
    head = [cell.value for cell in rounds[2]]
    column = head.index("公布时间（北京时间）")
    cell = rounds[3][column]
    with app.test_request_context():
        stored = db.session.get(Round, world.round_id).announced_at  # UTC
        announced = local_time(stored)
    assert isinstance(cell.value, datetime) and cell.is_date and cell.number_format == "yyyy-mm-dd hh:mm:ss"
    assert abs((cell.value - announced).total_seconds()) < 1
    assert abs((cell.value - stored).total_seconds() - 8 * 3600) < 1  # Beijing: UTC+8, no summer time
    assert "发出票数" in head and "满意率" in [c.value for c in load_workbook(io.BytesIO(
        staff.get(f"/reports/sessions/{world.session_id}/report.xlsx").data)).worksheets[1][1]]


COMMAND_LINE = re.compile(r"python\s+-m|voting_app\.verify|\bflask\s|--anchor|\.json\b|\$ ")


def report_body(html: str) -> str:
    """The printed part of a report page: <main> without the screen-only bar."""
    return html[html.index("<main"):html.index("</main>")]


def test_the_session_report_has_a_chart_print_date_page_numbers_signature_lines_and_an_appendix(app, world):
    counted(app, world)
    before = datetime.now(BEIJING).replace(second=0, microsecond=0)
    page = as_role(app, world, "staff").get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    after = datetime.now(BEIJING)
    printed = re.search(r"Printed (\d{4}-\d\d-\d\d \d\d:\d\d) \(Beijing time\)", page)
    assert printed and before <= datetime.strptime(printed[1], "%Y-%m-%d %H:%M").replace(tzinfo=BEIJING) <= after
    assert '@page{@bottom-center{content:"Page " counter(page) " of " counter(pages)}}' in page
    # The chart: static SVG (no script anywhere), named and described for screen readers, the pass line labelled.
    assert "<script" not in page
    chart = page[page.index('<figure class="chart">'):page.index("</figure>")]
    key = f"chart-{world.round_id}"
    assert f'role="img" aria-labelledby="{key}-title {key}-desc"' in chart
    assert f'<title id="{key}-title">Votes per candidate: 测试票决</title>' in chart
    assert "The line marks the 5 votes needed to pass (more than half of 9); 2 of 4 candidates reach it." in chart
    assert "Pass line: 5 votes" in chart and chart.count('class="bar-elected"') == 2 + 1  # two bars and the legend
    # The heading, figures and chart are one block kept on one page.
    head = page[page.index('<div class="round-head">'):page.index('<table class="results">')]
    assert "<h2" in head and "Votes needed to pass" in head and '<figure class="chart">' in head
    # Signature lines with the scrutineer who confirmed the count, and blank ones for the others.
    signatures = page[page.index('<section class="signatures'):page.index("</section>", page.index('<section class="signatures'))]
    assert "Scrutineer</td>" in signatures and signatures.count("____-__-__") == 3
    assert "count confirmed by Scrutineer" in page
    # The recount in plain words in an appendix, with the public board's address; no command line anywhere.
    appendix = page[page.index('<section class="appendix"'):]
    assert "Appendix: how anyone can recount these results" in appendix
    assert f"/ballots/rounds/{world.round_id}/board</code>" in appendix
    assert not COMMAND_LINE.search(report_body(page)), COMMAND_LINE.search(report_body(page))


def test_a_round_confirmed_but_not_announced_has_no_board_address_yet(app, world):
    counted(app, world, announce=False)
    page = as_role(app, world, "staff").get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    assert "published when the result is announced" in page and f"/ballots/rounds/{world.round_id}/board" not in page


def test_no_report_shows_command_line_text_and_the_year_report_prints_landscape(app, world):
    counted(app, world)
    with app.app_context():
        project = create_project("test", "staff", name="桥梁", year=TODAY.year, budget=Decimal("800"))
        db.session.commit()
        project_id = project.id
    staff = as_role(app, world, "staff")
    for path in (f"/reports/sessions/{world.session_id}", "/reports/projects?year=all", f"/reports/projects/{project_id}"):
        page = staff.get(path).get_data(as_text=True)
        assert not COMMAND_LINE.search(report_body(page)), (path, COMMAND_LINE.search(report_body(page)))
        assert "(Beijing time)" in page and "counter(pages)" in page, path
    results = staff.get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", " ", report_body(results))  # the words on the page, not the links' addresses
    assert "Anyone can recount" in shown and not COMMAND_LINE.search(shown), COMMAND_LINE.search(shown)
    assert '<body class="wide">' in staff.get("/reports/projects").get_data(as_text=True)
    assert "<body>" in staff.get(f"/reports/projects/{project_id}").get_data(as_text=True)
