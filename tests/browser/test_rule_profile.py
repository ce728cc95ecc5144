"""Staff keep a congress's 票决办法 in real Chromium, in Chinese: the rules in plain words, a
wrong edit refused beside each setting, a saved version, the export, an import with its
preview of what changes, and the round page showing the rules it was created with; then on a
phone without JavaScript, the edit form saves a version."""

import json

from tests.browser.test_project_lifecycle import Axe, Watch, in_english, sign_in, submit

PASSWORD = "correct horse battery"
WIDE = {"viewport": {"width": 1920, "height": 1080}}


def congress_of(server) -> int:
    from voting_app.db import db
    from voting_app.sessions.models import CongressSession

    with server.app.app_context():
        return db.session.get(CongressSession, server.world.session_id).term.congress_id


def test_the_rule_profile_from_edit_to_import(live_server, page_factory, screenshot):
    congress_id = congress_of(live_server)
    rules_url = live_server.url(f"/terms/congresses/{congress_id}/rules")
    watch, axe = Watch(), Axe()
    staff = watch.page(page_factory, "desktop", "staff", **WIDE)
    sign_in(staff, live_server, live_server.usernames[live_server.world.staff_id], PASSWORD)

    staff.goto(live_server.url("/terms/"))
    staff.locator("main a", has_text="票决办法").click()
    staff.wait_for_load_state()
    assert staff.url == rules_url
    assert "出席代表超过应到代表的二分之一" in staff.locator("#rules-in-force").inner_text()
    screenshot(staff, "rules-defaults")
    axe.check(staff, "rules-defaults")

    staff.locator("main a", has_text="修改办法").click()
    staff.wait_for_load_state()
    staff.fill("#quorum_fraction", "3/2")
    staff.fill("#extra_percent", "百分之二十")
    staff.uncheck("input[name=methods][value=choose_up_to]")
    staff.uncheck("input[name=methods][value=for_against]")
    staff.uncheck("input[name=methods][value=satisfaction]")
    staff.uncheck("input[name=methods][value=rank]")
    assert submit(staff, "main form button.primary").status == 400
    assert "未保存任何内容" in staff.locator("main .flash-error").inner_text()
    assert staff.locator("main p.error").count() == 3
    screenshot(staff, "rules-edit-errors")
    axe.check(staff, "rules-edit-errors")

    staff.fill("#quorum_fraction", "2/3")
    staff.select_option("#quorum_rule", "at_least")
    staff.fill("#extra_percent", "20")
    staff.check("input[name=methods][value=choose_up_to]")
    staff.check("input[name=methods][value=rank]")
    staff.select_option("#grading", "tiers")
    staff.fill("#note", "主任会议通过")
    assert submit(staff, "main form button.primary").status == 200
    assert staff.url == rules_url
    assert "第1版" in staff.locator("#rules-version").inner_text()
    assert "不少于应到代表的三分之二" in staff.locator("#rules-in-force").inner_text()
    assert "主任会议通过" in staff.locator("#rules-history").inner_text()
    screenshot(staff, "rules-version-1")
    axe.check(staff, "rules-version-1")

    # The same profile in English, at 1920x1080 and on a phone.
    for device, options in (("desktop", WIDE), ("phone", {})):
        english = in_english(watch.page(page_factory, device, f"staff-en-{device}", **options), live_server)
        sign_in(english, live_server, live_server.usernames[live_server.world.staff_id], PASSWORD)
        english.goto(rules_url)
        in_force = english.locator("#rules-in-force").inner_text()
        assert "At least 2/3 of the roster present" in in_force and "Three grades on the base" in in_force
        assert "Number up to N candidates by priority" in in_force and "Version 1" in english.locator("#rules-version").inner_text()
        axe.check_english(english, f"rules-version-1 in English, {device}")
        screenshot(english, f"rules-version-1-en-{device}")

    with staff.expect_download() as download:
        staff.locator("main a", has_text="导出为文件").click()
    exported = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert exported["quorum"] == {"rule": "at_least", "fraction": "2/3"} and exported["methods"] == ["choose_up_to", "rank"]

    exported["pass_base"] = "voters"
    exported["margin"]["extra_percent"] = 50
    staff.locator("main a", has_text="导入文件").click()
    staff.wait_for_load_state()
    staff.set_input_files("main input[type=file]", files=[{"name": "办法.json", "mimeType": "application/json",
                                                          "buffer": json.dumps(exported, ensure_ascii=False).encode()}])
    assert submit(staff, "main form[enctype] button[type=submit]").status == 200
    changes = staff.locator("#import-changes").inner_text()
    assert "通过的计算基数" in changes and "最低差额" in changes and "法定人数" not in changes
    screenshot(staff, "rules-import-preview")
    axe.check(staff, "rules-import-preview")
    staff.fill("#note", "按新修订的实施办法")
    assert submit(staff, "main form:not([enctype]) button[type=submit]").status == 200
    assert "第2版" in staff.locator("#rules-version").inner_text()

    staff.goto(live_server.url(f"/ballots/rounds/{live_server.world.round_id}"))
    assert "默认规则" in staff.locator("#round-rules-source").inner_text()
    assert "出席代表超过应到代表的二分之一" in staff.locator("#round-rules").inner_text()
    screenshot(staff, "round-rules")
    axe.check(staff, "round-rules")

    phone = watch.page(page_factory, "phone", "phone-no-js", java_script_enabled=False)
    sign_in(phone, live_server, live_server.usernames[live_server.world.staff_id], PASSWORD)
    phone.goto(rules_url)
    screenshot(phone, "phone-rules")
    phone.goto(rules_url + "/edit")
    phone.select_option("#shortfall", "none")
    phone.fill("#note", "不再另行票决")
    screenshot(phone, "phone-rules-edit")
    assert submit(phone, "main form button.primary").status == 200
    assert "第3版" in phone.locator("#rules-version").inner_text()
    assert "不另行票决" in phone.locator("#rules-in-force").inner_text()
    phone_js = watch.page(page_factory, "phone", "phone")
    sign_in(phone_js, live_server, live_server.usernames[live_server.world.staff_id], PASSWORD)
    phone_js.goto(rules_url + "/edit")
    axe.check(phone_js, "phone-rules-edit")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
