"""Duty records on the demo, in the browser: staff open the term's duty table (1920x1080 and a
phone), filter it by delegation, open a deputy who resigned between the sessions and one whose
supervision visits span them, and download the Excel export, which says what the page says.
Every page passes axe and fits the phone without sideways scrolling."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, sign_in, submit

WIDE = {"viewport": {"width": 1920, "height": 1080}}


@pytest.mark.demo
def test_duty_table_deputy_pages_and_export_on_the_demo(live_server, page_factory, screenshot):
    from voting_app import demo_duty
    from voting_app.db import db
    from voting_app.duty import service
    from voting_app.registry.models import Term, TermDeputy

    passwords, *_ = seeded(live_server)
    with live_server.app.app_context():
        term = db.session.scalar(select(Term).join(Term.congress).where(Term.number == 19))
        table = service.duty_table(term)
        # The deputy who resigned after the fifth session (demo_duty), not the one who resigns in 2027.
        leaver = next(row.person for row in table.rows if row.person.left_office_on == demo_duty.RESIGNED_ON)
        visitor = max(table.rows, key=lambda row: (row.figures["supervision_visits"], row.person.number)).person
        term_id, delegation = term.id, table.rows[-1].person.delegation
        in_delegation = [row.person.number for row in table.rows if row.person.delegation == delegation]
        assert db.session.get(TermDeputy, visitor.id) is not None
    watch, axe = Watch(), Axe()

    staff = watch.page(page_factory, "desktop", "staff", **WIDE)
    sign_in(staff, live_server, "staff", passwords["staff"])
    staff.goto(live_server.url("/duty/"))
    staff.get_by_role("link", name="樊城区第十九届人民代表大会").click()
    staff.wait_for_load_state()
    main = staff.locator("main").inner_text()
    assert "第五次会议" in main and "第六次会议" in main and "尚未开始签到" in main  # the seventh has no check-in yet
    rows = staff.locator("main table tbody tr")
    assert rows.count() == len(table.rows)
    first = table.rows[0]
    assert f"{first.attendance.attended} / {first.attendance.due}" in rows.first.inner_text()
    screenshot(staff, "table-1920")
    axe.check(staff, "table-1920")

    staff.select_option("select[name=delegation]", delegation)
    assert submit(staff, "form[role=search] button[type=submit]").status == 200
    assert staff.locator("main table tbody tr td:first-child").all_inner_texts() == in_delegation
    screenshot(staff, "table-filtered")
    axe.check(staff, "table-filtered")

    with staff.expect_download() as download:
        staff.locator("main form[method=post] button[type=submit]").click()
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    lines = list(book.worksheets[0].iter_rows(min_row=3, values_only=True))
    assert [line[0] for line in lines] == in_delegation
    assert "北京时间" in book.worksheets[0].cell(1, 1).value and "樊城区第十九届人民代表大会" in book.worksheets[0].cell(1, 1).value
    shown = staff.locator("main table tbody tr").first.locator("td").all_inner_texts()
    assert shown[4].replace(" ", "") == f"{lines[0][5]}/{lines[0][6]}"

    staff.goto(live_server.url(f"/duty/terms/{term_id}/deputies/{leaver.id}"))
    text = staff.locator("main").inner_text()
    assert "辞职" in text and "不在该次会议名册" in text and "应出席 1 次，实出席 1 次" in text
    screenshot(staff, "deputy-who-resigned-1920")
    axe.check(staff, "deputy-who-resigned-1920")

    phone = watch.page(page_factory, "phone", "staff-phone")
    sign_in(phone, live_server, "staff", passwords["staff"])
    phone.goto(live_server.url(f"/duty/terms/{term_id}?delegation={delegation}"))
    assert phone.locator("main table tbody tr").count() == len(in_delegation)
    screenshot(phone, "table-phone")
    axe.check(phone, "table-phone")
    phone.goto(live_server.url(f"/duty/terms/{term_id}/deputies/{visitor.id}"))
    visits = phone.locator("main h2:has-text('督办次数') + table tbody tr")
    assert visits.count() == 2
    screenshot(phone, "deputy-visits-phone")
    axe.check(phone, "deputy-visits-phone")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
