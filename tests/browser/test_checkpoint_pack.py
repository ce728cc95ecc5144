"""A checkpoint's report pack on the demo, in the browser: staff open the year's supervision
checkpoints from the delivery dashboard, open the mid-year pack of the street lighting (which
an ad-hoc group supervises), print it on A4, download it as Excel, and download every project's
pack of the year-end checkpoint in one workbook; the project's supervision-group page reads on
a phone; a deputy of the group, with a voting card, opens the year-end pack from the supervision
list. Every page passes axe, without JavaScript errors or foreign requests."""

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from tests.browser.conftest import SCREENSHOTS, seeded
from tests.browser.test_project_lifecycle import Axe, Watch, in_english, sign_in, submit

WIDE = {"viewport": {"width": 1920, "height": 1080}}
A4_POINTS = (595.28, 841.89)


@pytest.mark.demo
def test_staff_open_a_checkpoint_its_pack_and_the_excel_files(live_server, page_factory, screenshot):
    from voting_app.clock import beijing_today
    from voting_app.db import db
    from voting_app.demo_delivery import CHECKPOINT_MONTHS, last_friday
    from voting_app.demo_groups import AD_HOC_GROUP
    from voting_app.projects.models import Project
    from voting_app.registry.models import DeputyGroup

    passwords, *_ = seeded(live_server)
    today = beijing_today()
    year = today.year  # the demo's delivery year, whose checkpoints it seeds
    day = {kind: last_friday(year, month) for kind, month in CHECKPOINT_MONTHS.items()}
    as_of = {kind: min(held, today).isoformat() for kind, held in day.items()}
    with live_server.app.app_context():
        group = db.session.scalar(select(DeputyGroup).where(DeputyGroup.name == AD_HOC_GROUP))
        lighting = db.session.scalar(select(Project).where(Project.supervision_group_id == group.id))
        lighting_id, lighting_name = lighting.id, lighting.name
        year_projects = db.session.scalars(select(Project.name).where(Project.year == year).order_by(Project.id)).all()
        members = [membership.deputy.name for membership in group.memberships]
        numbers = {membership.deputy.number for membership in group.memberships}
    watch, axe = Watch(), Axe()

    staff = in_english(watch.page(page_factory, "desktop", "staff", **WIDE), live_server)
    sign_in(staff, live_server, "staff", passwords["staff"])
    staff.goto(live_server.url("/projects/dashboard"))
    staff.get_by_role("link", name="Supervision checkpoints and report packs").click()
    staff.wait_for_load_state()
    if f"year={year}" not in staff.url:
        staff.goto(live_server.url(f"/reports/checkpoints?year={year}"))
    main = staff.locator("main").inner_text()
    for heading in (f"Plan (年初问计划) · {day['plan']}", f"Progress (年中问进度) · {day['progress']}", f"Effect (年底问效果) · {day['effect']}"):
        assert heading in main
    assert main.count("Set by staff") == 3 and AD_HOC_GROUP in main
    assert staff.locator("main section table tbody tr").count() == 3 * len(year_projects)
    screenshot(staff, "checkpoints-1920")
    axe.check_english(staff, "checkpoints-1920")

    progress = staff.locator("section[aria-labelledby=checkpoint-progress]")
    progress.get_by_role("link", name=f"A4 pack · {lighting_name} · Progress (年中问进度)").click()
    staff.wait_for_load_state()
    assert staff.url.endswith(f"/reports/checkpoints/{year}/progress/projects/{lighting_id}")
    assert staff.locator("script").count() == 0
    pack = staff.locator("main").inner_text()
    assert f"As of {as_of['progress']}" in pack and AD_HOC_GROUP in pack and all(name in pack for name in members)
    for heading in ("Plan and targets: planned and actual", "Milestones", "Spending", "Supervision findings",
                    "Open rectifications", "Satisfaction so far"):
        assert staff.get_by_role("heading", name=heading).count() == 1, heading
    screenshot(staff, "pack-screen")
    axe.check_english(staff, "pack-screen")
    staff.emulate_media(media="print")
    screenshot(staff, "pack-print")
    data = staff.pdf(format="A4", print_background=True, prefer_css_page_size=True)
    (SCREENSHOTS / "test_staff_open_a_checkpoint_its_pack_and_the_excel_files" / "pack.pdf").write_bytes(data)
    reader = PdfReader(io.BytesIO(data))
    assert 1 <= len(reader.pages) <= 4
    for page in reader.pages:
        assert abs(float(page.mediabox.width) - A4_POINTS[0]) < 2 and abs(float(page.mediabox.height) - A4_POINTS[1]) < 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert as_of["progress"] in text and "Download as Excel" not in text, "the screen-only bar does not print"
    staff.emulate_media(media="screen")

    with staff.expect_download() as download:
        staff.get_by_role("link", name="Download as Excel").click()
    assert download.value.suggested_filename == f"pack-{year}-progress-project-{lighting_id}.xlsx"
    book = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert book.sheetnames == ["Pack", "Plan and targets", "Milestones", "Spending", "Supervision findings",
                               "Open rectifications", "Satisfaction"]
    summary = [cell.value for cell in book["Pack"][2]]
    assert summary[0] == lighting_name and summary[1] == "Progress (年中问进度)" and summary[6] == AD_HOC_GROUP
    assert summary[3].date().isoformat() == as_of["progress"]

    staff.goto(live_server.url(f"/reports/checkpoints?year={year}"))
    with staff.expect_download() as download:
        staff.locator("section[aria-labelledby=checkpoint-effect]").get_by_role(
            "link", name="Every project’s pack in one Excel file").click()
    every = load_workbook(io.BytesIO(open(download.value.path(), "rb").read()))
    assert [row[0] for row in every["Pack"].iter_rows(min_row=2, values_only=True)] == year_projects

    phone = in_english(watch.page(page_factory, "phone", "staff-phone"), live_server)
    sign_in(phone, live_server, "staff", passwords["staff"])
    phone.goto(live_server.url(f"/projects/{lighting_id}/supervisors"))
    assert AD_HOC_GROUP in phone.locator("main").inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone, "supervision-group-phone")
    axe.check_english(phone, "supervision-group-phone")
    phone.goto(live_server.url(f"/reports/checkpoints?year={year}"))
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone, "checkpoints-phone")
    axe.check_english(phone, "checkpoints-phone")

    # A deputy of the ad-hoc group, with the sign-in sheet's card, finds the packs in the supervision list.
    number, (token, pin) = next((number, card) for number, card in live_server.demo_cards.items() if number in numbers)
    deputy = in_english(watch.page(page_factory, "phone", "deputy"), live_server)
    deputy.goto(live_server.url(f"/c/{token}"))
    deputy.fill("#pin", pin)
    assert submit(deputy, "main form button[type=submit]").status == 200
    deputy.goto(live_server.url("/projects/supervision"))
    mine = deputy.locator("ul[aria-labelledby=my-group-projects]")
    assert lighting_name in mine.inner_text() and "Report packs:" in mine.inner_text()
    screenshot(deputy, "deputy-supervision-list")
    axe.check_english(deputy, "deputy-supervision-list")
    mine.get_by_role("link", name=f"Effect (年底问效果) · {lighting_name}").click()
    deputy.wait_for_load_state()
    assert f"As of {as_of['effect']}" in deputy.locator("main").inner_text()
    assert deputy.get_by_role("link", name=f"Checkpoints {year}").count() == 0, "the staff page is not offered to a deputy"
    screenshot(deputy, "deputy-pack-phone")
    axe.check_english(deputy, "deputy-pack-phone")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
