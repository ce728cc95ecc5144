"""The date rules, without an app: overdue means past due and unfinished, judged in Beijing."""

from datetime import date, datetime, timezone

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


def test_plan_problems():
    assert schedule.plan_problems(date(2026, 5, 1), date(2026, 4, 1), None, None, DAY) == [schedule.END_BEFORE_START]
    assert schedule.plan_problems(None, None, date(2026, 5, 1), date(2026, 4, 1), DAY) == [schedule.END_BEFORE_START]
    assert schedule.plan_problems(None, None, date(2026, 7, 1), None, DAY) == [schedule.ACTUAL_IN_FUTURE]
    assert schedule.plan_problems(None, None, None, date(2026, 5, 1), DAY) == [schedule.END_WITHOUT_START]
    assert schedule.plan_problems(date(2026, 1, 1), date(2026, 12, 31), date(2026, 1, 5), DAY, DAY) == []


@given(st.dates(), st.dates(), st.booleans())
def test_finished_work_is_never_overdue_and_future_dues_never_are(due, today, finished):
    overdue = schedule.is_overdue(due, finished, today)
    assert overdue == (not finished and due < today)
