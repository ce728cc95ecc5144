"""A priority ballot (rank) in the session report: the appendix tells a reader how to count its
points by hand, and the Excel file carries each candidate's points and the priority order."""

import io
import re

from openpyxl import load_workbook

from tests.ballots.helpers import announce_round, as_role, close_round, confirm_round, open_round
from tests.ballots.test_rank_ballots import cast_all, rank_world


def announced_rank_round(app):
    """Nine on the roster, three places. The first two candidates have 6 votes each, more than
    half of the roster; the first has 15 points, the second 12, so it comes first."""
    world = rank_world(app)
    a, b, c, d, e = world.candidate_ids
    open_round(app, world)
    cast_all(app, world, [
        {a: 1, b: 2, c: 3}, {b: 1, a: 2}, {a: 1, c: 2, b: 3}, {c: 1, a: 2, b: 3}, {b: 1, a: 2, d: 3},
        {a: 1}, {}, {e: 1, b: 2},
    ])
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    return world


def test_the_appendix_explains_rank_points_for_a_hand_recount(app):
    world = announced_rank_round(app)
    page = as_role(app, world, "staff").get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    item = re.search(r'<li data-key="rank-points">(.*?)</li>', page, re.S)
    assert item and "gives the project numbered 1 N points" in item.group(1) and "then by points" in item.group(1)
    assert 'data-key="tiers"' not in page and 'data-key="overall"' not in page

    chinese = as_role(app, world, "staff")
    chinese.set_cookie("lang", "zh_Hans_CN")
    zh = chinese.get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    assert "编为 1 号的项目得 N 分" in re.search(r'<li data-key="rank-points">(.*?)</li>', zh, re.S).group(1)


def test_a_report_without_a_rank_round_does_not_explain_points(app, world):
    from tests.reports.test_reports import counted

    counted(app, world)
    page = as_role(app, world, "staff").get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    assert 'data-key="rank-points"' not in page


def test_the_session_workbook_has_points_and_the_priority_order(app):
    world = announced_rank_round(app)
    response = as_role(app, world, "staff").get(f"/reports/sessions/{world.session_id}/report.xlsx")
    votes = [list(row) for row in load_workbook(io.BytesIO(response.data)).worksheets[1].iter_rows(values_only=True)]
    header = votes[0]
    points, priority, name = header.index("Points"), header.index("Priority"), header.index("Candidate project")
    by_name = {row[name]: (row[points], row[priority]) for row in votes[1:]}
    assert by_name == {"项目1": (15, 1), "项目2": (12, 2), "项目3": (6, None), "项目4": (1, None), "项目5": (3, None)}

    chinese = as_role(app, world, "staff")
    chinese.set_cookie("lang", "zh_Hans_CN")
    zh = load_workbook(io.BytesIO(chinese.get(f"/reports/sessions/{world.session_id}/report.xlsx").data)).worksheets[1]
    assert {"得分", "优先顺序"} <= {cell.value for cell in zh[1]}
