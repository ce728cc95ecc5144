"""Staff import a roster from the Excel sheet an office keeps (numbers formatted 000, a 代表组
column, a phone column, a footer), check the preview, import, and find "唐　军" at the desk by
typing "唐军". Desktop, 1366x900."""

import io
import re

from openpyxl import Workbook

from tests.browser.test_project_lifecycle import Axe, Watch, sign_in, submit

PASSWORD = "correct horse battery"


def office_sheet() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["樊城区第十九届人民代表大会代表名册"])
    sheet.append(["序号", "代表证号", "姓  名", "代表组", "手机号码", "工作单位及职务", "备注"])
    people = [
        (1, "张三", "城区代表组", "樊城区某街道办事处主任"),
        (2, "李四", "城区代表组", "汉江街道"),
        (10, "唐\u3000军", "农村代表组", "太平店镇党委书记"),
        (11, "王五", "农村代表组", "牛首镇"),
        (101, "赵六", "农村代表组", "柿铺街道"),
    ]
    for index, (number, name, group, unit) in enumerate(people, start=1):
        sheet.append([index, number, name, group, "13800000000", unit, ""])
        sheet.cell(row=sheet.max_row, column=2).number_format = "000"
    sheet.append(["制表：人大常委会办公室", None, None, None, None, "审核：王主任"])
    sheet.append([None, None, None, None, None, None, "2026年1月5日"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def earlier_roster(server) -> int:
    """A session whose roster came from an older file where 张三 was saved as number 1."""
    from voting_app.db import db
    from voting_app.sessions import service
    from voting_app.registry.roster import RosterParse, RosterRow

    with server.app.app_context():
        congress = service.create_session("test", "樊城区第十九届人民代表大会第六次会议", "区会堂")
        service.import_roster("test", congress, RosterParse((RosterRow(2, "1", "张三", "城区代表组", ""),), ()))
        db.session.commit()
        return congress.id


def test_import_preview_then_desk_search_ignoring_spaces(live_server, page_factory, screenshot):
    session_id = earlier_roster(live_server)
    watch, axe = Watch(), Axe()
    staff = watch.page(page_factory, "desktop", "staff")
    sign_in(staff, live_server, live_server.usernames[live_server.world.staff_id], PASSWORD)

    assert staff.goto(live_server.url(f"/sessions/{session_id}/roster/import")).status == 200
    staff.set_input_files(
        "main input[type=file]",
        files=[{"name": "代表名册.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "buffer": office_sheet()}],
    )
    assert submit(staff, "main form[enctype] button[type=submit]").status == 200

    main = staff.locator("main")
    assert "此文件将新增5名代表，更新0名，0名不变。" in main.inner_text()
    ignored = staff.locator("#ignored-columns li").all_inner_texts()
    # 手机号码 is kept now: the deputy's contact, for the committee's staff.
    assert ignored == ["序号：名册不保存此项。", "备注：名册不保存此项。"] or [
        re.sub(r"\s+", "", text) for text in ignored
    ] == ["序号:名册不保存此项。", "备注:名册不保存此项。"]
    skipped = [re.sub(r"\s+", " ", row) for row in staff.locator("#skipped-rows tbody tr").all_inner_texts()]
    assert skipped == ["8 制表：人大常委会办公室 审核：王主任", "9 2026年1月5日"]
    clashes = staff.locator("#number-clashes tbody tr").all_inner_texts()
    assert len(clashes) == 1 and "001" in clashes[0] and "张三" in clashes[0] and "名册中代表证号1" in clashes[0]
    screenshot(staff, "import-preview")
    axe.check(staff, "import-preview")

    assert submit(staff, "main form:not([enctype]) button[type=submit]").status == 200
    assert staff.url.endswith(f"/sessions/{session_id}/roster")
    assert "代表名册已导入：新增5名，更新0名，未变0名。" in staff.locator("main .flash-success").inner_text()
    numbers = staff.locator("main table tbody tr td:first-child").all_inner_texts()
    assert numbers == ["001", "1", "002", "010", "011", "101"]
    assert staff.locator("main table tbody tr", has_text="010").locator("td").nth(1).inner_text() == "唐\u3000军"
    screenshot(staff, "roster-after-import")
    axe.check(staff, "roster-after-import")

    assert staff.goto(live_server.url(f"/sessions/{session_id}/checkin")).status == 200
    staff.fill("#q", "唐军")
    assert submit(staff, "main form[role=search] button[type=submit]").status == 200
    results = staff.locator("main ul.list li")
    assert results.count() == 1
    assert "010 唐\u3000军" in results.first.inner_text()
    assert staff.locator("main ul.list button", has_text="签到").count() == 1
    screenshot(staff, "desk-search-tang-jun")
    axe.check(staff, "desk-search-tang-jun")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
