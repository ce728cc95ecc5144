"""The date rules, without an app: overdue means past due and unfinished, judged in Beijing."""

from datetime import date, datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voting_app.projects import schedule

DAY = date(2026, 6, 15)


def test_due_today_is_not_yet_overdue_and_due_yesterday_is():
    assert not schedule.is_overdue(DAY, False, today=DAY)
    assert schedule.is_overdue(date(2026, 6, 14), False, today=DAY)
    assert not schedule.is_overdue(date(2026, 6, 14), True, today=DAY)
    assert not schedule.is_overdue(None, False, today=DAY)


def test_beijing_has_moved_to_the_next_day_before_utc():
    assert schedule.beijing_today(datetime(2026, 6, 14, 16, 30, tzinfo=timezone.utc)) == DAY
    assert schedule.beijing_today(datetime(2026, 6, 14, 15, 59, tzinfo=timezone.utc)) == date(2026, 6, 14)


def test_a_rectification_is_overdue_until_settled_even_when_answered():
    past = date(2026, 6, 1)
    assert schedule.rectification_is_overdue(past, asked=True, settled=None, today=DAY)
    assert schedule.rectification_is_overdue(past, asked=True, settled=False, today=DAY)
    assert not schedule.rectification_is_overdue(past, asked=True, settled=True, today=DAY)
    assert not schedule.rectification_is_overdue(None, asked=False, settled=None, today=DAY)


def test_plan_problems_name_the_field_they_are_about():
    problem = schedule.PlanProblem
    assert schedule.plan_problems(date(2026, 5, 1), date(2026, 4, 1), None, None, DAY) == [problem(schedule.END_BEFORE_START, "planned_end")]
    assert schedule.plan_problems(None, None, date(2026, 5, 1), date(2026, 4, 1), DAY) == [problem(schedule.END_BEFORE_START, "actual_end")]
    assert schedule.plan_problems(None, None, date(2026, 7, 1), None, DAY) == [problem(schedule.ACTUAL_IN_FUTURE, "actual_start")]
    assert schedule.plan_problems(None, None, None, date(2026, 5, 1), DAY) == [problem(schedule.END_WITHOUT_START, "actual_end")]
    assert schedule.plan_problems(date(2026, 1, 1), date(2026, 12, 31), date(2026, 1, 5), DAY, DAY) == []
    both = schedule.plan_problems(date(2026, 5, 1), date(2026, 4, 1), date(2026, 7, 1), date(2026, 7, 2), DAY)
    assert both == [problem(schedule.END_BEFORE_START, "planned_end"), problem(schedule.ACTUAL_IN_FUTURE, "actual_start"),
                    problem(schedule.ACTUAL_IN_FUTURE, "actual_end")]


@pytest.mark.parametrize(("title", "year"), [
    ("2029年度樊城区民生实事项目票决", 2029),
    ("樊城区２０２９年度民生实事项目票决", 2029),  # full-width digits
    ("2029 年民生实事", 2029),
    ("第十九届人大第六次会议票决", None),
    ("12345年度", None),
    ("1850年度", None),
    ("", None),
])
def test_the_year_a_rounds_title_states(title, year):
    assert schedule.stated_year(title) == year


def test_a_date_long_before_the_projects_year_is_refused_a_year_before_is_not():
    assert schedule.is_long_before_year(date(2027, 12, 31), 2029)
    assert not schedule.is_long_before_year(date(2028, 1, 1), 2029)
    assert not schedule.is_long_before_year(date(2030, 1, 1), 2029)


@given(st.dates(), st.dates(), st.booleans())
def test_finished_work_is_never_overdue_and_future_dues_never_are(due, today, finished):
    overdue = schedule.is_overdue(due, finished, today)
    assert overdue == (not finished and due < today)


def test_the_timeline_draws_planned_and_actual_spans_and_marks_late_milestones_red():
    from voting_app.projects.models import Milestone, Project, StagePlan
    from voting_app.projects.timeline import LATE_COLOUR, timeline_figure

    labels = {"stages": {"approved": "立项", "in_progress": "实施"}, "planned": "计划", "actual": "实际",
              "milestones": "节点", "milestone_row": "节点"}
    project = Project(name="桥", year=2026)
    project.stage_plans = [
        StagePlan(stage="approved", planned_start=date(2026, 1, 1), planned_end=date(2026, 1, 31),
                  actual_start=date(2026, 1, 3), actual_end=date(2026, 2, 5)),
        StagePlan(stage="in_progress", planned_end=date(2026, 9, 30)),
    ]
    project.milestones = [Milestone(name="招标", planned_on=date(2026, 2, 1), done_on=date(2026, 2, 3)),
                          Milestone(name="完工", planned_on=date(2026, 6, 1))]
    figure = timeline_figure(project, labels, today=DAY)
    traces = {trace["name"] + trace["type"]: trace for trace in figure["data"]}
    planned, actual = traces["计划bar"], traces["实际bar"]
    assert planned["base"] == ("2026-01-01",) or list(planned["base"]) == ["2026-01-01"]
    assert list(planned["x"]) == [31 * 86_400_000] and list(actual["x"]) == [34 * 86_400_000]
    assert list(traces["计划scatter"]["x"]) == ["2026-09-30"]
    colours = list(traces["节点scatter"]["marker"]["color"])
    assert colours[1] == LATE_COLOUR and colours[0] != LATE_COLOUR
    assert timeline_figure(Project(name="空", year=2026, stage_plans=[], milestones=[]), labels, today=DAY) is None
