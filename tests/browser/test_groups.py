"""Deputy groups in real Chromium with the Chinese UI: staff open the term's groups, filter them
by kind, open a group, add a deputy found by the search, paste numbers with a bad line (an error
per line, nothing added), correct them, and remove a member after a confirmation page; a
deputy signs in with the session card on a phone and finds the group's project at the top of
the supervision list. Phone (390x844) and 1920x1080, checked with axe-core."""

from tests.browser.test_project_lifecycle import STAFF_PASSWORD, Axe, Watch, sign_in, submit

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}


def set_up(server) -> dict:
    """Two groups of the world's term; the first (deputies 001-003) supervises one project."""
    from voting_app.db import db
    from voting_app.projects import service as projects
    from voting_app.projects.schedule import beijing_today
    from voting_app.registry import groups
    from voting_app.registry.group_rules import PROFESSIONAL
    from voting_app.sessions.models import CongressSession

    with server.app.app_context():
        term = db.session.get(CongressSession, server.world.session_id).term
        place = groups.create_group("test", term, "米公街道第一代表小组", note="每月第一个周二活动")
        groups.add_members_by_numbers("test", place, "001\n002\n003")
        groups.update_group("test", place, place.name, place.kind, place.note, place.members_in_roster_order[0])
        teaching = groups.create_group("test", term, "教育专业代表小组", PROFESSIONAL)
        groups.add_members_by_numbers("test", teaching, "004")
        year = beijing_today().year
        ours = projects.create_project("test", "staff", name="市百货站小区文化长廊改造", year=year, location="米公街道",
                                       department="米公街道办事处", supervision_group=place)
        projects.create_project("test", "staff", name="城区停车位增设", year=year, department="区住房和城乡建设局")
        db.session.commit()
        return {"place": place.id, "teaching": teaching.id, "project": ours.id}


def test_staff_manage_groups_and_a_deputy_sees_the_groups_project_first(live_server, page_factory, screenshot):
    server, watch, axe = live_server, Watch(), Axe()
    ids = set_up(server)
    staff = watch.page(page_factory, "desktop", "staff", **FULL_HD)
    sign_in(staff, server, server.usernames[server.world.staff_id], STAFF_PASSWORD)

    staff.goto(server.url("/groups/"))
    assert staff.locator("main h1").inner_text() == "代表小组"
    rows = staff.locator("main tbody tr")
    assert rows.count() == 2
    assert "米公街道第一代表小组" in rows.nth(0).inner_text() and "地域小组" in rows.nth(0).inner_text()
    screenshot(staff, "groups-list-1920")
    axe.check(staff, "groups list (1920)")
    staff.select_option("select[name=kind]", "professional")
    submit(staff, "main form.filters button[type=submit]")
    assert staff.locator("main tbody tr").count() == 1 and "教育专业代表小组" in staff.locator("main tbody").inner_text()

    # A group's page: members in roster order, a deputy found by the search and added.
    staff.goto(server.url(f"/groups/{ids['place']}"))
    assert staff.locator("main tbody tr td:first-child").all_inner_texts() == ["001", "002", "003"]
    assert "召集人" in staff.locator("main tbody tr").nth(0).inner_text()
    staff.fill("input[name=q]", "代表5")
    submit(staff, "form[role=search] button[type=submit]")
    submit(staff, f"form[action$='/groups/{ids['place']}/members'] button[type=submit]")
    assert staff.locator("main .flash-success").count() == 1
    assert staff.locator("main tbody tr td:first-child").all_inner_texts() == ["001", "002", "003", "005"]

    # Pasted numbers with a bad line: each bad line named, nothing added.
    staff.fill("#numbers", "006\n999\n7 代表7")
    response = submit(staff, "#bulk button[type=submit]")
    assert response.status == 400
    problems = staff.locator("#bulk-problems tbody tr").all_inner_texts()
    assert len(problems) == 1 and problems[0].startswith("2\t999")
    assert staff.locator("main tbody tr td:first-child").first.inner_text() == "001"
    assert staff.locator("#members-heading + .table-wrap tbody tr").count() == 4
    screenshot(staff, "group-bulk-error-1920")
    axe.check(staff, "group page with bulk errors (1920)")
    staff.fill("#numbers", "006\n7 代表7")
    submit(staff, "#bulk button[type=submit]")
    assert staff.locator("#members-heading + .table-wrap tbody tr").count() == 6
    screenshot(staff, "group-page-1920")

    # Removing a member: a confirmation page first.
    staff.locator("main tbody tr", has_text="代表6").locator("a[href*='/remove']").click()
    staff.wait_for_load_state()
    assert "将代表6移出" in staff.locator("main h1").inner_text()
    screenshot(staff, "member-remove-confirm-1920")
    axe.check(staff, "member removal confirmation")
    submit(staff, "main form.actions button[type=submit]")
    assert staff.locator("#members-heading + .table-wrap tbody tr").count() == 5

    # Deleting the group is refused while it supervises the project.
    staff.goto(server.url(f"/groups/{ids['place']}/delete"))
    assert "市百货站小区文化长廊改造" in staff.locator("main .flash-error").inner_text()
    assert staff.locator("main form.actions").count() == 0

    # The project's page shows the group and its members.
    staff.goto(server.url(f"/projects/{ids['project']}"))
    assert "米公街道第一代表小组" in staff.locator("#supervision-group").inner_text()
    assert "代表1、代表2、代表3、代表5、代表7" in staff.locator("#supervision-group").inner_text()

    # The staff pages on a phone.
    phone_staff = watch.page(page_factory, "phone", "staff-phone")
    sign_in(phone_staff, server, server.usernames[server.world.staff_id], STAFF_PASSWORD)
    phone_staff.goto(server.url("/groups/"))
    screenshot(phone_staff, "groups-list-phone")
    axe.check(phone_staff, "groups list (phone)")
    phone_staff.goto(server.url(f"/groups/{ids['place']}"))
    screenshot(phone_staff, "group-page-phone")
    axe.check(phone_staff, "group page (phone)")

    # A member signs in with the session card: the group's project comes first.
    token, pin = server.world.cards[server.world.deputy_ids[0]]
    deputy = watch.page(page_factory, "phone", "deputy")
    deputy.goto(server.url(f"/c/{token}"))
    deputy.fill("#pin", pin)
    assert submit(deputy, "main form button[type=submit]").status == 200
    deputy.goto(server.url("/projects/supervision"))
    mine = deputy.locator("ul[aria-labelledby=my-group-projects] li").all_inner_texts()
    assert len(mine) == 1 and "市百货站小区文化长廊改造" in mine[0] and "米公街道第一代表小组" in mine[0]
    others = deputy.locator("ul[aria-labelledby=other-projects]").inner_text()
    assert "城区停车位增设" in others and "文化长廊" not in others
    assert deputy.locator("#my-group-projects").inner_text() == "本小组督办项目"
    screenshot(deputy, "deputy-supervision-phone")
    axe.check(deputy, "deputy supervision list (phone)")

    # A deputy of another group does not find it at the top.
    token, pin = server.world.cards[server.world.deputy_ids[3]]
    other = watch.page(page_factory, "phone", "other-deputy")
    other.goto(server.url(f"/c/{token}"))
    other.fill("#pin", pin)
    submit(other, "main form button[type=submit]")
    other.goto(server.url("/projects/supervision"))
    assert "您所在的小组暂无督办项目。" in other.locator("ul[aria-labelledby=my-group-projects]").inner_text()
    assert "文化长廊" in other.locator("ul[aria-labelledby=other-projects]").inner_text()
    desk = watch.page(page_factory, "desktop", "deputy-desktop", **FULL_HD)
    token, pin = server.world.cards[server.world.deputy_ids[1]]
    desk.goto(server.url(f"/c/{token}"))
    desk.fill("#pin", pin)
    submit(desk, "main form button[type=submit]")
    desk.goto(server.url("/projects/supervision"))
    screenshot(desk, "deputy-supervision-1920")
    axe.check(desk, "deputy supervision list (1920)")

    assert axe.problems == [], "\n".join(axe.problems)
    assert watch.foreign == [] and watch.script_errors == [], watch.foreign + watch.script_errors
