"""On a 390x844 phone: a deputy switches on large type from the page header and gets radios
and checkboxes big enough to see and tap on the ballot form (for / against / abstain, and
choose up to N); a resident does the same on the survey form. Then staff give a survey
question its English text in the survey editor, and a resident whose interface is English
reads the questions in English (the Chinese where none was written).

Selectors avoid UI wording: ids, names, values, hrefs and form actions."""

from sqlalchemy import select

from tests.browser.conftest import record_page_problems
from tests.browser.test_deputy_journey import WAITING_PAGE_AXE, sign_in, submit
from tests.conftest import adopt

MIN_TAP_BOX = 28  # px: the smallest radio or checkbox large type may show


def box(page, selector: str) -> float:
    """The smaller side of the first matching element's box, in CSS pixels."""
    rect = page.locator(selector).first.bounding_box()
    return min(rect["width"], rect["height"])


class Checks:
    """axe-core, overflow and <html lang> per page; an English page is expected to say lang="en"."""

    def __init__(self):
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.problems: list[str] = []
        self.notes: list[str] = []

    def check(self, page, name: str, english: bool = False, waiting_page: bool = False) -> None:
        """waiting_page: a deputy's waiting page, whose meta refresh is required (WeChat hides reload)."""
        problems: list[str] = []
        results = self.axe.run(page, options=WAITING_PAGE_AXE) if waiting_page else self.axe.run(page)
        record_page_problems(page, name, results, problems, self.notes)
        if english:
            assert page.get_attribute("html", "lang") == "en", name
            problems = [line for line in problems if "<html lang> is 'en'" not in line]
        self.problems += problems


def ready_to_vote(server) -> tuple[int, int]:
    """Every deputy present, the world's choose-up-to round open and a for/against round beside it."""
    from voting_app.ballots import service as ballots
    from voting_app.ballots.models import Round
    from voting_app.db import db
    from voting_app.sessions import service as sessions
    from voting_app.sessions.models import Deputy

    with server.app.app_context():
        for deputy_id in server.world.deputy_ids:
            deputy = db.session.get(Deputy, deputy_id)
            if not deputy.is_present:
                sessions.check_in(deputy, sessions.DESK)
        choose = db.session.get(Round, server.world.round_id)
        marks = ballots.create_round("test", choose.session, "逐项表决", "for_against", 2, "roster", "electronic")
        for name in ("农村公路桥梁新改建", "“一号公路”亮化工程"):
            ballots.add_candidate("test", marks, name)
        ballots.open_round("test", choose)
        adopt(marks)
        ballots.open_round("test", marks)
        db.session.commit()
        return choose.id, marks.id


def survey_with_a_multiple_choice(server):
    """The satisfaction template plus a staff-written multiple-choice question with no English."""
    from surveys import service
    from tests.conftest import make_user
    from voting_app.db import db

    with server.app.app_context():
        survey = service.create_from_template("test", "农村公路桥梁新改建满意度调查", None, None)
        service.add_question("test", survey, "multiple", "您常在什么时间过桥？", False, ["早上", "中午", "晚上"])
        staff = make_user("staff")
        db.session.commit()
        return survey.id, survey.short_code, staff.username, [question.id for question in survey.questions]


def test_large_type_radios_on_the_ballot_and_the_survey(live_server, page_factory, screenshot):
    server, world = live_server, live_server.world
    checks = Checks()
    choose_id, marks_id = ready_to_vote(server)

    # The deputy signs in with the card, then switches on large type from the header.
    token, pin = world.cards[world.deputy_ids[0]]
    phone = page_factory("phone")
    phone.goto(server.url(f"/c/{token}"))
    phone.fill("#pin", pin)
    assert submit(phone, "main form button[type=submit]").status == 200
    phone.goto(server.url(f"/ballots/rounds/{marks_id}/ballot"))
    normal = box(phone, "input[type=radio]")
    phone.goto(server.url("/ballots/"))
    with phone.expect_navigation():
        phone.locator("header nav a[href^='/text-size?size=large']").click()
    assert phone.url.endswith("/ballots/")
    assert "large" in phone.get_attribute("body", "class").split()
    screenshot(phone, "deputy-home-large")
    checks.check(phone, "deputy home, large type", waiting_page=True)

    phone.goto(server.url(f"/ballots/rounds/{marks_id}/ballot"))
    radio = box(phone, "input[type=radio]")
    assert radio >= MIN_TAP_BOX and radio > normal, (normal, radio)
    screenshot(phone, "ballot-for-against-large")
    checks.check(phone, "for/against ballot, large type")
    phone.goto(server.url(f"/ballots/rounds/{choose_id}/ballot"))
    assert box(phone, "input[type=checkbox]") >= MIN_TAP_BOX
    phone.locator("input[name=choice]").first.check()
    screenshot(phone, "ballot-choose-large")
    checks.check(phone, "choose-up-to ballot, large type")

    # A resident turns on large type on the survey form (the residents' own switch).
    survey_id, short_code, staff_username, question_ids = survey_with_a_multiple_choice(server)
    resident = page_factory("phone")
    resident.goto(server.url(f"/s/{short_code}"))
    normal = box(resident, "input[type=radio]")
    with resident.expect_navigation():
        resident.locator("header nav a[href*='text=large']").click()
    radio, checkbox = box(resident, "input[type=radio]"), box(resident, "input[type=checkbox]")
    assert radio >= MIN_TAP_BOX and checkbox >= MIN_TAP_BOX and radio > normal, (normal, radio, checkbox)
    resident.locator(f"input[name=q{question_ids[0]}][value=satisfied]").check()
    resident.locator(f"input[name=q{question_ids[-1]}]").first.check()
    screenshot(resident, "survey-large")
    checks.check(resident, "survey form, large type")

    assert checks.problems == [], "\n".join(checks.problems)


def test_survey_questions_in_english_from_the_editor_to_the_resident(live_server, page_factory, screenshot):
    server = live_server
    checks = Checks()
    survey_id, short_code, staff_username, question_ids = survey_with_a_multiple_choice(server)

    staff = page_factory("desktop")
    staff.goto(server.url("/login"))
    staff.fill("#username", staff_username)
    staff.fill("#password", "correct horse battery")
    assert submit(staff, "main form button[type=submit]").status == 200
    staff.goto(server.url(f"/surveys/{survey_id}"))
    nested = staff.evaluate("() => document.querySelectorAll('span form, p form, a form, label form').length")
    assert nested == 0
    screenshot(staff, "editor")
    checks.check(staff, "survey editor")

    # The staff-written question gets its English text and options.
    multiple = question_ids[-1]
    with staff.expect_navigation():
        staff.locator(f"main a[href$='/questions/{multiple}/english']").click()
    assert staff.input_value("#prompt_en") == ""
    staff.fill("#prompt_en", "When do you usually cross the bridge?")
    staff.fill("#options_en", "Morning\nNoon")
    assert submit(staff, "main form button[type=submit]").status == 200
    assert staff.locator("main .flash-error").count() == 1  # two lines for three options: nothing saved
    screenshot(staff, "english-text-mismatch")
    checks.check(staff, "English text form with an error")
    staff.fill("#options_en", "Morning\nNoon\nEvening")
    assert submit(staff, "main form button[type=submit]").status == 200
    assert staff.url.endswith(f"/surveys/{survey_id}")
    assert "When do you usually cross the bridge?" in staff.locator("main ol.questions").inner_text()
    screenshot(staff, "editor-with-english")

    # A resident with an English interface: every question in English; the Chinese page is untouched.
    resident = page_factory("phone")
    resident.goto(server.url(f"/s/{short_code}"))
    chinese = resident.locator("main form").inner_text()
    assert "您对这个项目总体满意吗？" in chinese and "When do you" not in chinese
    with resident.expect_navigation():
        resident.locator("header nav a[lang=en]").click()
    legends = resident.locator("main fieldset legend").all_inner_texts()
    assert legends[0].startswith("1. Overall, are you satisfied with this project?")
    assert legends[1].startswith("2. What has the project changed in your daily life?")
    assert legends[-1].startswith("5. When do you usually cross the bridge?")
    english = resident.locator("main form").inner_text()
    assert "Clearly better" in english and "Evening" in english
    assert all(word not in english for word in ("您对这个项目", "明显改善", "晚上"))
    screenshot(resident, "resident-survey-english")
    checks.check(resident, "resident survey in English", english=True)

    # Cleared, the English text falls back to the Chinese for English readers.
    staff.goto(server.url(f"/surveys/{survey_id}/questions/{multiple}/english"))
    staff.fill("#prompt_en", "")
    staff.fill("#options_en", "")
    assert submit(staff, "main form button[type=submit]").status == 200
    resident.reload()
    assert resident.locator("main fieldset legend").last.inner_text().startswith("5. 您常在什么时间过桥？")
    assert "晚上" in resident.locator("main form").inner_text()
    screenshot(resident, "resident-survey-english-fallback")

    with server.app.app_context():
        from voting_app.audit import AuditEntry
        from voting_app.db import db

        actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action == "survey.question_translate")).all()
    assert len(actions) == 2
    assert checks.problems == [], "\n".join(checks.problems)
