"""Staff keep the term's registry: the congresses and terms, the term page with its sessions and
deputies, an import into the term with level and contact columns, and a resignation recorded
through its confirmation page, on a 1920x1080 desktop and on a phone without JavaScript."""

import io
import re

from openpyxl import Workbook

from tests.browser.test_project_lifecycle import Axe, Watch, sign_in, submit

PASSWORD = "correct horse battery"
WIDE = {"viewport": {"width": 1920, "height": 1080}}


def registry_sheet() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["代表证号", "姓名", "代表团", "工作单位及职务", "代表层级", "联系电话", "性别"])
    sheet.append(["010", "唐　军", "农村代表团", "太平店镇党委书记", "区", "13800000010", "男"])
    sheet.append(["011", "王红梅", "城区代表团", "米公街道", "市", "13800000011", "女"])
    sheet.append(["001", "代表1", "第一代表团", "", "区级", "13800000001", "女"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def term_of(server) -> int:
    from voting_app.db import db
    from voting_app.sessions.models import CongressSession

    with server.app.app_context():
        return db.session.get(CongressSession, server.world.session_id).term_id


def test_term_page_import_and_a_change_in_office(live_server, page_factory, screenshot):
    from voting_app.clock import beijing_today

    term_id = term_of(live_server)
    watch, axe = Watch(), Axe()
    staff = watch.page(page_factory, "desktop", "staff", **WIDE)
    sign_in(staff, live_server, live_server.usernames[live_server.world.staff_id], PASSWORD)

    assert staff.goto(live_server.url("/terms/")).status == 200
    assert staff.locator("header nav a", has_text="届次").count() == 1
    screenshot(staff, "terms-list")
    axe.check(staff, "terms-list")

    assert staff.goto(live_server.url(f"/terms/{term_id}")).status == 200
    assert staff.locator("#term-sessions tbody tr").count() == 1
    assert staff.locator("#registry tbody tr").count() == 9
    screenshot(staff, "term-page")
    axe.check(staff, "term-page")

    staff.locator("main a", has_text="导入或更新本届代表").click()
    staff.wait_for_load_state()
    assert "代表名册" in staff.locator("#import-target").inner_text()
    staff.set_input_files(
        "main input[type=file]",
        files=[{"name": "本届代表.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "buffer": registry_sheet()}],
    )
    assert submit(staff, "main form[enctype] button[type=submit]").status == 200
    assert "此文件将新增2名代表，更新1名，0名不变。" in staff.locator("main").inner_text()
    assert [re.sub(r"\s+", "", text) for text in staff.locator("#ignored-columns li").all_inner_texts()][0].startswith("性别")
    screenshot(staff, "term-import-preview")
    axe.check(staff, "term-import-preview")
    assert submit(staff, "main form:not([enctype]) button[type=submit]").status == 200
    assert staff.url.endswith(f"/terms/{term_id}")
    assert "代表名册已导入：新增2名，更新1名，未变0名。" in staff.locator("main .flash-success").inner_text()
    assert staff.locator("#registry tbody tr").count() == 11
    assert "13800000010" not in staff.locator("main").inner_text()  # contacts on the deputy's own page only

    staff.goto(live_server.url(f"/terms/{term_id}?q=唐军"))
    rows = staff.locator("#registry tbody tr")
    assert rows.count() == 1
    rows.locator("a").click()
    staff.wait_for_load_state()
    assert "13800000010" in staff.locator("#deputy-contact").inner_text()
    deputy_url = staff.url
    screenshot(staff, "deputy-page")
    axe.check(staff, "deputy-page")

    staff.locator("main a", has_text="登记代表资格变动").click()
    staff.wait_for_load_state()
    staff.select_option("#kind", "resigned")
    staff.fill("#effective_on", beijing_today().isoformat())
    staff.fill("#note", "因工作调动辞去代表职务")
    assert submit(staff, "main form button.primary").status == 200
    assert "确认" in staff.locator("h2#what-happens").inner_text() and "辞职" in staff.locator("h2#what-happens").inner_text()
    screenshot(staff, "office-change-confirm")
    axe.check(staff, "office-change-confirm")
    assert submit(staff, "main form button.primary").status == 200
    assert staff.url == deputy_url
    assert "辞职" in staff.locator("#office-history").inner_text()
    screenshot(staff, "deputy-after-change")
    axe.check(staff, "deputy-after-change")

    # On a phone: the term page (axe needs JavaScript), then without JavaScript a by-election
    # through its confirmation page.
    phone = watch.page(page_factory, "phone", "phone")
    sign_in(phone, live_server, live_server.usernames[live_server.world.staff_id], PASSWORD)
    assert phone.goto(live_server.url(f"/terms/{term_id}?status=left")).status == 200
    assert phone.locator("#registry tbody tr").count() == 1
    screenshot(phone, "phone-term-page")
    axe.check(phone, "phone-term-page")
    phone.goto(live_server.url(f"/terms/{term_id}/elected"))
    axe.check(phone, "phone-elected-form")
    phone = watch.page(page_factory, "phone", "phone-no-js", java_script_enabled=False)
    sign_in(phone, live_server, live_server.usernames[live_server.world.staff_id], PASSWORD)
    phone.goto(live_server.url(f"/terms/{term_id}/elected"))
    phone.fill("#number", "012")
    phone.fill("#name", "钟文华")
    phone.fill("#delegation", "农村代表团")
    phone.fill("#took_office_on", beijing_today().isoformat())
    screenshot(phone, "phone-elected-form")
    assert submit(phone, "main form button.primary").status == 200
    screenshot(phone, "phone-elected-confirm")
    assert submit(phone, "main form button.primary").status == 200
    assert "补选" in phone.locator("#office-history").inner_text()

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
