"""Issue 16, change control, on the demo: the flood-control project's department asks for a
deferral; staff record the standing committee's approval, and the deadline and the project's
status change, in the public history too; a second request the committee refuses leaves the
project as it was. On a phone (390x844) and at 1920x1080, axe-clean."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, sign_in, submit
from voting_app.clock import beijing_today
from voting_app.demo_delivery import UNDER_WAY_2026

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}
FLOOD = UNDER_WAY_2026[0][0]


def _flood(server):
    from voting_app.db import db
    from voting_app.projects.models import Project

    with server.app.app_context():
        project = db.session.scalars(select(Project).where(Project.name == FLOOD)).one()
        return project.id, project.plan_for("in_progress").planned_end, project.status


def live_server_session(server) -> int:
    """The district congress's next session (the demo's main session): it begins after today's decisions."""
    from voting_app.db import db
    from voting_app.sessions.models import CongressSession

    with server.app.app_context():
        return db.session.scalar(select(CongressSession.id).where(CongressSession.name == "樊城区第十九届人民代表大会第六次会议"))


def _decide(page, outcome: str, number: str, day) -> None:
    page.check(f"#decide input[value={outcome}]")
    page.fill("#meeting", "樊城区第十九届人大常委会第二十五次会议")
    page.fill("#decided_on", day.isoformat())
    page.fill("#decision_number", number)


@pytest.mark.demo
def test_a_department_asks_for_a_deferral_and_staff_record_the_committees_decisions(live_server, page_factory, screenshot):
    passwords, *_ = seeded(live_server)
    project_id, deadline, status = _flood(live_server)
    assert status == "active"
    new_deadline = deadline + timedelta(days=120)
    watch, axe = Watch(), Axe()

    officer = watch.page(page_factory, "phone", "officer")
    sign_in(officer, live_server, "dept-housing", passwords["dept-housing"])
    assert officer.goto(live_server.url(f"/projects/{project_id}")).status == 200
    assert officer.locator("#changes a[href$='/changes/new/defer']").count() == 1
    officer.locator("#changes a[href$='/changes/new/defer']").click()
    officer.fill("#reason", "清河口片区管网施工遇地下文物勘探，停工45天，申请将完成时限顺延四个月。")
    officer.fill("#deadline", (deadline - timedelta(days=1)).isoformat())
    refused = submit(officer, "main form button[type=submit]")
    assert refused.status == 400 and deadline.isoformat() in officer.locator("main .error").inner_text(), "a deferral moves it later"
    screenshot(officer, "officer-deferral-refused-phone")
    axe.check(officer, "officer-deferral-refused-phone")
    officer.fill("#deadline", new_deadline.isoformat())
    assert submit(officer, "main form button[type=submit]").status == 200
    assert officer.locator("#state").count() == 1 and officer.locator("#decide").count() == 0, "only staff decide"
    request_url = officer.url
    screenshot(officer, "officer-request-pending-phone")
    axe.check(officer, "officer-request-pending-phone")
    assert _flood(live_server)[1:] == (deadline, "active"), "nothing changes before the decision"

    today = beijing_today()
    for kind, options in (("phone", {}), ("desktop", FULL_HD)):
        staff = watch.page(page_factory, kind, f"staff {kind}", **options)
        sign_in(staff, live_server, "staff", passwords["staff"])
        assert staff.goto(request_url).status == 200
        screenshot(staff, f"staff-decision-form-{kind}")
        axe.check(staff, f"staff-decision-form-{kind}")
    _decide(staff, "approved", "樊人常决〔2026〕21号", today)
    assert submit(staff, "#decide button[type=submit]").status == 200
    assert _flood(live_server)[1:] == (new_deadline, "deferred")

    for kind, options in (("phone", {}), ("desktop", FULL_HD)):
        public = watch.page(page_factory, kind, f"public {kind}", **options)
        assert public.goto(live_server.url(f"/projects/{project_id}")).status == 200
        assert "樊人常决〔2026〕21号" in public.locator("#status").inner_text()
        assert public.locator("#changes").count() == 0, "requests are for staff and the department"
        story = public.locator("#story")
        story.locator("details", has_text="樊人常决〔2026〕21号").first.locator("summary").click()
        told = story.inner_text()
        assert "樊人常决〔2026〕21号" in told and new_deadline.isoformat() in told and "延期" in told
        story.locator("details[open]").first.scroll_into_view_if_needed()
        screenshot(public, f"public-deferred-{kind}")
        axe.check(public, f"public-deferred-{kind}")

    # A second request, refused: the project stays as the approved deferral left it.
    assert officer.goto(live_server.url(f"/projects/{project_id}/changes/new/terminate")).status == 200
    officer.fill("#reason", "片区纳入城市更新整体改造，申请终止本项目。")
    assert submit(officer, "main form button[type=submit]").status == 200
    staff.goto(officer.url)
    _decide(staff, "refused", "樊人常决〔2026〕22号", today)
    assert submit(staff, "#decide button[type=submit]").status == 200
    assert _flood(live_server)[1:] == (new_deadline, "deferred")
    assert staff.goto(officer.url).status == 200
    assert "樊人常决〔2026〕22号" in staff.locator("#decision").inner_text()
    screenshot(staff, "staff-refused-desktop")
    axe.check(staff, "staff-refused-desktop")

    # The next session's report lists both decisions (the demo's session begins after them).
    assert staff.goto(live_server.url(f"/reports/sessions/{live_server_session(live_server)}")).status == 200
    decided = staff.locator("#changes").inner_text()
    assert "樊人常决〔2026〕21号" in decided and "樊人常决〔2026〕22号" in decided and FLOOD in decided
    staff.locator("#changes").scroll_into_view_if_needed()
    screenshot(staff, "session-report-changes-desktop")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)


@pytest.mark.demo
def test_staff_propose_a_new_target_for_the_published_school_programme(live_server, page_factory, screenshot):
    """A published plan offers no direct 'add a target': staff propose it on the change request form."""
    from voting_app.db import db
    from voting_app.demo_delivery import SCHOOLS_2026
    from voting_app.projects.models import Project

    passwords, *_ = seeded(live_server)
    with live_server.app.app_context():
        project = db.session.scalars(select(Project).where(Project.name == SCHOOLS_2026[0])).one()
        project_id, item_id = project.id, project.sub_items[0].id
    watch, axe = Watch(), Axe()
    for kind, options in (("phone", {}), ("desktop", FULL_HD)):
        staff = watch.page(page_factory, kind, f"staff {kind}", **options)
        sign_in(staff, live_server, "staff", passwords["staff"])
        assert staff.goto(live_server.url(f"/projects/{project_id}/plan/{item_id}")).status == 200
        assert staff.locator("form[action$='/targets']").count() == 0
        staff.locator("main a[href$='/changes/new/edit']").first.click()
        staff.fill("#add_target-name", "新建食堂")
        staff.fill("#add_target-planned", "2")
        staff.fill("#add_target-unit", "个")
        staff.fill("#add_target-due_on", (beijing_today() + timedelta(days=90)).isoformat())
        staff.locator("#new-target").scroll_into_view_if_needed()
        screenshot(staff, f"staff-new-target-request-{kind}")
        axe.check(staff, f"staff-new-target-request-{kind}")
    staff.fill("#reason", "生源增加，学校需配建食堂。")
    assert submit(staff, "main form button[type=submit]").status == 200
    assert "新建食堂" in staff.locator("#proposed").inner_text()
    screenshot(staff, "staff-new-target-pending-desktop")
    axe.check(staff, "staff-new-target-pending-desktop")
    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
