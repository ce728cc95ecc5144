"""The delivery and proposal pages on the demo data, as staff, a department officer and the
public see them: every page passes axe, fits a phone without sideways scrolling, and draws
its timeline from the vendored plotly.js only."""

import re
from datetime import timedelta

import pytest

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, flashes, sign_in, submit

DESKTOP_FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


@pytest.mark.demo
def test_delivery_and_proposal_pages_on_the_demo(live_server, page_factory, screenshot):
    passwords, under_way, proposal, station = seeded(live_server)
    watch, axe = Watch(), Axe()

    staff = watch.page(page_factory, "desktop", "staff", **DESKTOP_FULL_HD)
    sign_in(staff, live_server, "staff", passwords["staff"])
    for path, name in (
        ("/projects/dashboard", "staff-dashboard"),
        ("/proposals/", "staff-proposals"),
        (f"/proposals/{proposal}", "staff-proposal-screening"),
        ("/proposals/counts", "staff-proposal-counts"),
        ("/proposals/stations", "staff-stations"),
        (f"/projects/{under_way}/schedule", "staff-schedule"),
    ):
        assert staff.goto(live_server.url(path)).status == 200, path
        screenshot(staff, name)
        axe.check(staff, name)
    staff.goto(live_server.url("/projects/dashboard"))
    figures = staff.locator("main dl.figures").inner_text()
    assert re.search(r"逾期未整改\s*\n?\s*[1-9]", figures) and re.search(r"逾期节点\s*\n?\s*[1-9]", figures), figures
    poster = staff.goto(live_server.url(f"/proposals/stations/{station}/poster"))
    assert poster.status == 200 and staff.locator("svg.qr").count() == 1
    screenshot(staff, "staff-station-poster")

    officer = watch.page(page_factory, "desktop", "officer")
    sign_in(officer, live_server, "dept-housing", passwords["dept-housing"])
    assert officer.goto(live_server.url("/projects/mine")).status == 200
    assert "城区易涝点整治（一期）" in officer.locator("main").inner_text()
    screenshot(officer, "officer-our-projects")
    axe.check(officer, "officer-our-projects")

    for kind, options in (("phone", {}), ("desktop", DESKTOP_FULL_HD)):
        public = watch.page(page_factory, kind, f"public {kind}", **options)
        assert public.goto(live_server.url("/projects/?year=all&stage=in_progress")).status == 200
        assert public.locator("main tbody tr").count() == 3  # the flood works, the alleys and the school programme
        screenshot(public, f"public-list-{kind}")
        axe.check(public, f"public-list-{kind}")
        assert public.goto(live_server.url(f"/projects/{under_way}?chart=timeline")).status == 200
        public.locator("#chart-timeline .main-svg").first.wait_for(state="attached")
        assert public.locator("#chart-timeline .bars path").count() >= 2  # planned and actual spans drawn
        assert public.locator("main .badge.warn").count() >= 2  # the late stage and the late milestone
        screenshot(public, f"public-under-way-project-{kind}")
        axe.check(public, f"public-under-way-project-{kind}")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)


DUPLICATE_IDS = """() => {
  const seen = {};
  for (const element of document.querySelectorAll('[id]')) seen[element.id] = (seen[element.id] || 0) + 1;
  return Object.keys(seen).filter((id) => seen[id] > 1);
}"""


@pytest.mark.demo
def test_departments_from_the_list_the_dashboard_filter_and_the_one_form_schedule(live_server, page_factory, screenshot):
    """Issue 13's delivery pages, at 1366x900 and on a 390x844 phone: a department added inline on
    the project form (warned about: no officer), then one chosen from the list; the dashboard's
    department column and filter (a plain GET form, also without JavaScript); every stage's dates
    saved by one button, all or nothing."""
    from voting_app.projects.schedule import beijing_today

    today = beijing_today()
    passwords, under_way, _, _ = seeded(live_server)
    watch, axe = Watch(), Axe()
    for kind in ("desktop", "phone"):
        staff = watch.page(page_factory, kind, f"staff {kind}")
        sign_in(staff, live_server, "staff", passwords["staff"])

        # The project form: a department not in the list is added inline.
        staff.goto(live_server.url("/projects/new"))
        staff.fill("#name", f"城区公厕改造（{kind}）")
        assert staff.locator("#department_id option", has_text="区城市管理执法局").count() == 1
        assert staff.locator("#department_id option", has_text="区教育局（无承办人员）").count() == 1
        staff.fill("#new_department", f"区城市管理局{kind}")
        staff.fill("#year", str(today.year + 1))
        screenshot(staff, f"project-form-inline-department-{kind}")
        axe.check(staff, f"project form ({kind})")
        assert submit(staff, "main form button[type=submit]").status == 200
        warning = staff.locator("main .flash-warn")
        assert f"区城市管理局{kind}没有承办人员" in warning.inner_text()
        assert f"{today.year + 1}年度" in staff.locator("main dl.figures").inner_text()
        screenshot(staff, f"project-no-officer-warning-{kind}")
        axe.check(staff, f"project without an officer ({kind})")

        # Choosing the department that has an officer clears the warning.
        project_path = staff.url.removeprefix(live_server.base_url)
        staff.goto(live_server.url(f"{project_path}/edit"))
        assert f"区城市管理局{kind}没有承办人员" in staff.locator("main form .flash-warn").inner_text()
        staff.select_option("#department_id", label="区城市管理执法局")
        assert submit(staff, "main form button[type=submit]").status == 200
        assert staff.locator("main .flash-warn").count() == 0
        assert "区城市管理执法局" in staff.locator("main p.meta").first.inner_text()

        # The dashboard: a department column, a warning for departments without an officer, a filter.
        staff.goto(live_server.url("/projects/dashboard"))
        assert "没有承办人员" in staff.locator("#unserved").inner_text()
        header = staff.locator("#late-milestones + .table-wrap thead").inner_text()
        assert "承办单位" in header
        screenshot(staff, f"dashboard-all-departments-{kind}")
        axe.check(staff, f"dashboard ({kind})")
        staff.select_option("main form.filters select[name=department]", label="区住房和城乡建设局")
        assert submit(staff, "main form.filters button[type=submit]").status == 200
        assert "department=" in staff.url
        assert "区住房和城乡建设局" in staff.locator("main h1").inner_text()
        shown = set(staff.locator("main .table-wrap tbody td:first-child a").all_inner_texts())
        assert shown == {"城区易涝点整治（一期）"}, shown  # the one housing project with something late
        screenshot(staff, f"dashboard-filtered-{kind}")
        axe.check(staff, f"dashboard filtered ({kind})")

        # The managed list says who serves each department.
        staff.goto(live_server.url("/projects/departments"))
        housing = staff.locator("main tbody tr", has_text="区住房和城乡建设局")
        assert "刘芳" in housing.inner_text()
        assert "无承办人员" in staff.locator("main tbody tr", has_text="区教育局").inner_text()
        screenshot(staff, f"departments-{kind}")
        axe.check(staff, f"departments ({kind})")

        # The schedule: one form, one button; a bad date in one stage stores nothing.
        staff.goto(live_server.url(f"/projects/{under_way}/schedule"))
        assert staff.locator("main form button", has_text="保存全部日期").count() == 1
        assert staff.evaluate(DUPLICATE_IDS) == []
        staff.fill("#operating-planned_start", (today + timedelta(days=30)).isoformat())
        staff.fill("#accepted-planned_start", (today + timedelta(days=90)).isoformat())
        staff.fill("#accepted-planned_end", (today + timedelta(days=60)).isoformat())
        assert submit(staff, "main form button:has-text('保存全部日期')").status == 400
        summary = staff.locator("main .flash-error").inner_text()
        assert "未保存任何日期" in summary and "验收 · 计划结束：阶段的结束日期不能早于开始日期。" in summary, summary
        assert staff.input_value("#operating-planned_start") == (today + timedelta(days=30)).isoformat()  # kept as typed
        assert staff.evaluate(DUPLICATE_IDS) == []
        screenshot(staff, f"schedule-one-form-refused-{kind}")
        axe.check(staff, f"schedule refused ({kind})")
        staff.fill("#accepted-planned_end", (today + timedelta(days=120)).isoformat())
        assert submit(staff, "main form button:has-text('保存全部日期')").status == 200
        assert len(flashes(staff, "success")) == 1
        assert staff.input_value("#operating-planned_start") == (today + timedelta(days=30)).isoformat()
        assert staff.input_value("#accepted-planned_end") == (today + timedelta(days=120)).isoformat()
        screenshot(staff, f"schedule-one-form-saved-{kind}")
        axe.check(staff, f"schedule saved ({kind})")

    # Without JavaScript the dashboard filter is the same plain form.
    plain = watch.page(page_factory, "phone", "staff without JavaScript", java_script_enabled=False)
    sign_in(plain, live_server, "staff", passwords["staff"])
    plain.goto(live_server.url("/projects/dashboard"))
    plain.select_option("main form.filters select[name=department]", label="区交通运输局")
    assert submit(plain, "main form.filters button[type=submit]").status == 200
    assert "区交通运输局" in plain.locator("main h1").inner_text()
    screenshot(plain, "dashboard-filtered-without-javascript-phone")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
