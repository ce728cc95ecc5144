"""The session report's chart geometry and the page-number sentence: pure rules, no Flask."""

import subprocess
import sys
from pathlib import Path

from voting_app.ballots.counting import CHOOSE_UP_TO, SATISFACTION, RoundRules, count
from voting_app.reports import chart
from voting_app.reports.paging import counter_content


def rules(method=CHOOSE_UP_TO, roster=20, issued=15, seats=2, candidates=(1, 2, 3, 4), bar=60):
    return RoundRules(method=method, seats=seats, threshold_base="roster", roster=roster, present=issued, issued=issued,
                      candidate_ids=candidates, satisfaction_bar=bar)


ROOT = Path(__file__).resolve().parents[2]
NAMES = {1: "农村公路桥梁新改建", 2: "路灯", 3: "文化长廊", 4: "停车位"}


def test_the_pass_line_sits_at_the_votes_needed_and_bars_reaching_it_have_passed():
    result = count(rules(), [[1, 2]] * 12 + [[3]] * 3)  # 12, 12, 3, 0 of a roster of 20
    drawn = chart.round_chart(result, NAMES)
    assert drawn.line_value == 11 and drawn.axis_max == 20  # more than half of 20
    assert [(bar.name, bar.value, bar.outcome) for bar in drawn.bars] == [
        ("农村公路桥梁新改建", 12, chart.ELECTED), ("路灯", 12, chart.ELECTED), ("文化长廊", 3, chart.NOT_PASSED), ("停车位", 0, chart.NOT_PASSED)]
    assert drawn.reaching == 2
    first = drawn.bars[0]
    assert first.length == round(drawn.plot_width * 12 / 20, 1) and drawn.bars[3].length == 0
    assert drawn.line_x == round(drawn.plot_left + drawn.plot_width * 11 / 20, 1)
    assert drawn.plot_left + first.length > drawn.line_x > drawn.plot_left + drawn.bars[2].length
    assert [tick.value for tick in drawn.ticks] == [0, 5, 10, 15, 20]
    assert drawn.height == drawn.axis_y + chart.BOTTOM and drawn.bars[1].y > first.y


def test_a_tie_for_the_last_seat_and_a_pass_without_a_seat_are_told_apart():
    tie = count(rules(roster=10, issued=10, candidates=(1, 2, 3)), [[1, 2]] * 4 + [[1, 3]] * 4 + [[2, 3]] * 2)  # 8, 6, 6
    assert [(bar.value, bar.outcome) for bar in chart.round_chart(tie, NAMES).bars] == [
        (8, chart.ELECTED), (6, chart.RUNOFF), (6, chart.RUNOFF)]
    no_seat = count(rules(roster=12, issued=12, candidates=(1, 2, 3)), [[1, 2]] * 5 + [[1, 3]] * 4 + [[2, 3]] * 3)  # 9, 8, 7
    drawn = chart.round_chart(no_seat, NAMES)
    assert [bar.outcome for bar in drawn.bars] == [chart.ELECTED, chart.ELECTED, chart.PASSED] and drawn.reaching == 3


def test_an_assessment_in_tiers_draws_satisfied_then_mostly_votes_against_half_the_roster():
    tiers = RoundRules(method=SATISFACTION, seats=1, threshold_base="roster", roster=20, present=15, issued=15,
                       candidate_ids=(1, 2, 3), grading="tiers")
    result = count(tiers, [*[{1: "satisfied", 2: "mostly_satisfied"}] * 11, *[{1: "mostly_satisfied", 2: "satisfied"}] * 2,
                           *[{1: "dissatisfied", 2: "satisfied"}] * 2])
    # 1: 11 satisfied of a roster of 20 (more than half: 11) -> satisfied; 2: 4 + 11 -> mostly
    # satisfied; 3: never rated, and graded dissatisfied all the same.
    drawn = chart.round_chart(result, NAMES)
    assert drawn.is_tiers and drawn.line_value == 11 and drawn.axis_max == 20
    by_name = {bar.name: bar for bar in drawn.bars}
    bridge, lights, corridor = by_name["农村公路桥梁新改建"], by_name["路灯"], by_name["文化长廊"]
    assert (bridge.outcome, bridge.value_text, lights.outcome, lights.value_text) == ("satisfied", "11 + 2", "mostly_satisfied", "4 + 11")
    assert (corridor.outcome, corridor.length, corridor.first_length) == ("dissatisfied", 0, 0)
    assert bridge.first_length == round(drawn.plot_width * 11 / 20, 1) and bridge.length == round(drawn.plot_width * 13 / 20, 1)
    assert drawn.plot_left + bridge.first_length >= drawn.line_x > drawn.plot_left + lights.first_length
    assert drawn.reaching == 2


def test_a_satisfaction_round_draws_rates_against_the_bar_with_the_counts_own_rounding():
    result = count(rules(method=SATISFACTION, seats=1, roster=20, issued=15, candidates=(1, 2, 3), bar=60), [
        *[{1: "satisfied", 2: "dissatisfied"}] * 5, *[{1: "mostly_satisfied", 2: "satisfied"}] * 4,
        *[{1: "dissatisfied", 2: "dissatisfied"}] * 1])  # 1: 9 of 10; 2: 4 of 10; 3: never rated
    drawn = chart.round_chart(result, NAMES, satisfaction_bar=60)
    assert drawn.is_satisfaction and drawn.axis_max == 100 and drawn.line_value == 60
    by_name = {bar.name: bar for bar in drawn.bars}
    assert (by_name["农村公路桥梁新改建"].outcome, by_name["农村公路桥梁新改建"].value_text) == (chart.MEETS_BAR, "90.0%")
    assert (by_name["路灯"].outcome, by_name["路灯"].value_text) == (chart.BELOW_BAR, "40.0%")
    assert (by_name["文化长廊"].outcome, by_name["文化长廊"].value_text, by_name["文化长廊"].length) == (chart.NOT_RATED, "", 0)
    assert drawn.reaching == 1 and drawn.line_x == round(drawn.plot_left + drawn.plot_width * 0.6, 1)
    assert [tick.value for tick in drawn.ticks] == [0, 20, 40, 60, 80, 100]
    unrounded = count(rules(method=SATISFACTION, seats=1, roster=3000, issued=2501, candidates=(1,), bar=60),
                      [{1: "satisfied"}] * 1499 + [{1: "dissatisfied"}] * 1001)  # 59.96%: under the bar
    assert chart.round_chart(unrounded, NAMES, 60).bars[0].value_text == "59.9%"


def test_a_void_round_has_no_chart():
    assert chart.round_chart(count(rules(issued=2), [[1], [2], [3]]), NAMES) is None


def test_the_axis_ends_at_the_base_and_long_names_are_shortened_to_fit():
    result = count(rules(roster=240, issued=200, candidates=(1,)), [[1]] * 200)
    drawn = chart.round_chart(result, {1: "城区学校“护学岗”与交通安全设施建设及周边道路综合整治提升工程"})
    assert [tick.value for tick in drawn.ticks] == [0, 50, 100, 150, 200, 240] and drawn.line_value == 121
    label = drawn.bars[0].label
    assert label.endswith("…") and chart.text_width(label) <= chart.LABEL_WIDTH
    assert drawn.bars[0].name.startswith(label[:-1])
    assert chart.shorten("路灯", chart.LABEL_WIDTH) == "路灯"
    assert drawn.line_label_anchor == "start"
    assert chart.round_chart(count(rules(roster=2, issued=2, candidates=(1,)), [[1], [1]]), NAMES).line_label_anchor == "end"


def test_the_page_number_sentence_becomes_css_content_that_cannot_break_out():
    assert counter_content("第 {page} 页，共 {pages} 页") == '"第 " counter(page) " 页，共 " counter(pages) " 页"'
    assert counter_content("Page {page} of {pages}") == '"Page " counter(page) " of " counter(pages)'
    assert counter_content('x"}</style><script>') == '"x\\22 }\\3c /style\\3e \\3c script\\3e "'
    assert counter_content("") == '""'


def test_the_chart_and_paging_rules_import_no_flask_and_no_sqlalchemy():
    code = (
        "import sys; import voting_app.reports.chart, voting_app.reports.paging; "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_babel', 'flask_sqlalchemy', 'sqlalchemy', 'werkzeug', 'jinja2', 'markupsafe')); "
        "print(','.join(bad) or 'clean')"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "clean"
