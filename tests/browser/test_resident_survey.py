"""A resident scans the QR code at the north end of the bridge and answers on a phone with
JavaScript off (as in the WeChat in-app browser): a first try without the required answer,
then a whole answer, the thank-you page, and the page saying they already answered. The
large-type switch is tried on the way. Staff then find the response in the results, with
the plotly chart drawn from /static/vendor/.

Every resident page is checked with axe-core, for horizontal overflow, for <html lang> and
for Chinese wording, and its size on the wire is measured; the problems are gathered and
reported together at the end. Selectors avoid UI wording: ids, names, values and classes.

axe-core cannot run in the JavaScript-disabled context: page.evaluate() still executes
there, but timers never fire, and axe.run() waits on setTimeout, so it never returns. So
each resident page is checked for accessibility in a second phone context with
JavaScript on, by serving it the very document the resident got, at the same URL (its
stylesheet comes from the live server). The pages have no scripts of their own, so they
render the same. A plain GET could not reproduce a POST result or a cookie-dependent page.
Overflow, language and size are measured on the resident's own JavaScript-off page.
"""

import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from sqlalchemy import func, select

from tests.browser.conftest import record_page_problems

WIRE_BUDGET = 30_000  # bytes: document plus everything it loads, for a first-time visitor
PROJECT_NAME = "农村公路桥梁新改建"
SURVEY_TITLE = "农村公路桥梁新改建满意度调查"
PLACEMENT_NAME = "桥北端"
COMMENT = "桥修好了，上学方便多了。希望桥头再加一盏路灯！"
CJK = re.compile(r"[\u4e00-\u9fff]")


@dataclass
class SurveySetup:
    survey_id: int
    placement_id: int
    short_url: str  # what the placement's QR code encodes
    staff_username: str
    satisfaction_id: int
    choice_id: int
    choice_key: str  # 明显改善
    rating_id: int
    text_id: int
    prompts: list


def set_up_survey(server) -> SurveySetup:
    """A project in operation, its survey from the satisfaction template, one placement."""
    from surveys import service
    from surveys.routes import short_url
    from tests.conftest import make_user
    from voting_app.db import db
    from voting_app.projects.models import Project
    from voting_app.projects.service import department_named

    with server.app.app_context():
        project = Project(
            name=PROJECT_NAME,
            summary="改建村道桥梁3座，新建1座，解决雨季出行难。",
            year=2026,
            department=department_named("县交通运输局"),
            stage="operating",
        )
        db.session.add(project)
        db.session.flush()
        survey = service.create_from_template("test", SURVEY_TITLE, project.id, "operating")
        placement = service.add_placement("test", survey, PLACEMENT_NAME)
        staff = make_user("staff")
        db.session.commit()
        by_kind = {question.kind: question for question in survey.questions}
        choice = by_kind["single"]
        setup = SurveySetup(
            survey_id=survey.id,
            placement_id=placement.id,
            short_url="",
            staff_username=staff.username,
            satisfaction_id=by_kind["satisfaction"].id,
            choice_id=choice.id,
            choice_key=next(o["key"] for o in choice.options if o["label"] == "明显改善"),
            rating_id=by_kind["rating"].id,
            text_id=by_kind["text"].id,
            prompts=[question.prompt for question in survey.questions],
        )
        code = placement.code
    # The URL the QR code carries, built as the app builds it for the poster and downloads.
    with server.app.test_request_context(base_url=server.base_url):
        setup.short_url = short_url(code)
    return setup


def stored(server, survey_id: int):
    """(number of responses, the answers of the last one as {question id: (value, text)}, last response)."""
    from surveys.models import Response
    from voting_app.db import db

    with server.app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Response).where(Response.survey_id == survey_id))
        last = db.session.scalars(select(Response).where(Response.survey_id == survey_id).order_by(Response.id.desc())).first()
        if last is None:
            return count, {}, None
        answers = {answer.question_id: (answer.value, answer.text) for answer in last.answers}
        return count, answers, {"placement_id": last.placement_id, "assisted": last.is_assisted, "flagged": last.is_flagged}


class ResidentChecks:
    """Watches the resident context's network and checks each resident page."""

    def __init__(self, page, axe_page, base_url: str):
        # Imported here: the browser fixture skips (or fails in CI) when it is missing.
        from axe_playwright_python.sync_playwright import Axe

        self.axe = Axe()
        self.axe_page = axe_page  # same phone, JavaScript on
        self.bodies: dict[str, tuple[int, bytes]] = {}  # url -> (status, body) of its latest response
        self.base_url = base_url
        self.problems: list[str] = []
        self.notes: list[str] = []  # minor and moderate axe findings: printed, not failed
        self.checked: list[str] = []
        self.sizes: dict[str, int] = {}  # url -> body bytes of its latest response
        self.wire: dict[str, int] = {}  # page name -> bytes on the wire for a first visit
        self.foreign: list[str] = []
        page.context.on("request", self._request)
        page.context.on("requestfinished", self._finished)

    def _request(self, request) -> None:
        if request.url.startswith(("data:", "about:")):
            return
        if urlsplit(request.url).hostname != "127.0.0.1":
            self.foreign.append(request.url)

    def _finished(self, request) -> None:
        """Read each body as it arrives: it is gone once the page navigates away."""
        response = request.response()
        if response is None or 300 <= response.status < 400:
            return  # a redirect has no body; the page it leads to is counted
        body = response.body()
        self.sizes[response.url] = len(body)
        self.bodies[response.url] = (response.status, body)

    def check(self, page, name: str) -> None:
        self.checked.append(name)
        # Size: the document and every resource it references (a cached stylesheet still
        # counts: a resident scanning for the first time downloads it).
        resources = {page.url.split("#")[0]}
        for selector, attribute in (("link[href]", "href"), ("script[src]", "src"), ("img[src]", "src")):
            for element in page.locator(selector).all():
                resources.add(urljoin(page.url, element.get_attribute(attribute)))
        missing = [url for url in resources if url not in self.sizes]
        if missing:
            self.problems.append(f"[{name}] resources never loaded: {missing}")
        total = sum(self.sizes.get(url, 0) for url in resources)
        self.wire[name] = total
        if total >= WIRE_BUDGET:
            detail = ", ".join(f"{urlsplit(url).path}={self.sizes.get(url)}" for url in sorted(resources))
            self.problems.append(f"[{name}] {total} bytes on the wire, budget {WIRE_BUDGET}: {detail}")
        # No JavaScript of its own.
        if page.locator("script:not([type='application/json']):not([type='application/ld+json'])").count():
            self.problems.append(f"[{name}] the resident page carries a <script>")
        # Accessibility, on the same document in the JavaScript-on context.
        results = self._axe(page.url.split("#")[0])
        replayed = (self.axe_page.title(), self.axe_page.get_attribute("body", "class"), self.axe_page.locator("main").inner_text())
        if replayed != (page.title(), page.get_attribute("body", "class"), page.locator("main").inner_text()):
            self.problems.append(f"[{name}] the page axe checked differs from the resident's page")
        # Accessibility findings, then layout and language on the resident's own page.
        record_page_problems(page, name, results, self.problems, self.notes)

    def _axe(self, url: str):
        status, body = self.bodies[url]

        def replay(route):
            route.fulfill(status=status, body=body, headers={"content-type": "text/html; charset=utf-8"})

        def matches(candidate: str) -> bool:
            return candidate == url

        self.axe_page.route(matches, replay)
        try:
            self.axe_page.goto(url)
        finally:
            self.axe_page.unroute(matches, replay)
        return self.axe.run(self.axe_page)

    def chinese(self, name: str, what: str, text: str) -> None:
        """Chinese is the default: UI wording must not fall back to the English msgid."""
        if not CJK.search(text or ""):
            self.problems.append(f"[{name}] {what} is not in Chinese: {text.strip()!r}")


def submit(page, selector: str):
    with page.expect_navigation() as navigation:
        page.locator(selector).click()
    return navigation.value


def body_font_px(page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))


def test_resident_survey(live_server, page_factory, screenshot):
    server = live_server
    setup = set_up_survey(server)
    assert setup.short_url.startswith(server.base_url + "/s/"), setup.short_url
    sat, choice, rating, text = setup.satisfaction_id, setup.choice_id, setup.rating_id, setup.text_id

    # ---- the resident, on a phone with JavaScript off --------------------------------------
    phone = page_factory("phone", java_script_enabled=False)
    resident = ResidentChecks(phone, page_factory("phone"), server.base_url)
    probe = phone.context.new_page()  # a page's own scripts do not run in this context
    probe.set_content("<title>t</title><script>document.title = 'ran'</script>")
    assert probe.title() == "t"
    probe.close()

    # a. Scan: the survey form, in Chinese.
    response = phone.goto(setup.short_url)
    assert response.status == 200
    assert phone.get_attribute("html", "lang") == "zh-CN"
    assert phone.locator("main h1").inner_text().strip() == SURVEY_TITLE
    assert PROJECT_NAME in phone.locator("main .project").inner_text()
    legends = [legend.strip() for legend in phone.locator("main form fieldset legend").all_inner_texts()]
    assert len(legends) == 4, legends
    for legend, prompt in zip(legends, setup.prompts):
        assert prompt in legend, (legend, prompt)
    for prompt in setup.prompts:
        assert phone.get_by_text(prompt, exact=False).first.is_visible()
    satisfaction_labels = [t.strip() for t in phone.locator(f"main label.opt:has(input[name=q{sat}])").all_inner_texts()]
    assert len(satisfaction_labels) == 3, satisfaction_labels
    if satisfaction_labels != ["满意", "基本满意", "不满意"]:
        resident.problems.append(f"[survey form] the satisfaction choices read {satisfaction_labels}, expected ['满意', '基本满意', '不满意']")
    resident.chinese("survey form", "the submit button", phone.locator("main form button[type=submit]").inner_text())
    resident.chinese("survey form", "the large-type switch", phone.locator("header nav a[href*='text=large']").inner_text())
    screenshot(phone, "resident-survey-form")
    resident.check(phone, "survey form")
    normal_px = body_font_px(phone)

    # b. The large-type switch, and back.
    assert submit(phone, "header nav a[href*='text=large']").status == 200
    assert "large" in (phone.get_attribute("body", "class") or "").split()
    large_px = body_font_px(phone)
    assert large_px > normal_px, (normal_px, large_px)
    legend_px = phone.evaluate(f"parseFloat(getComputedStyle(document.querySelector('input[name=q{sat}]').closest('fieldset').querySelector('legend')).fontSize)")
    assert legend_px >= large_px
    widths = phone.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["scroll"] <= widths["inner"], widths
    screenshot(phone, "resident-survey-large-type")
    resident.check(phone, "large type")
    assert submit(phone, "header nav a[href*='text=normal']").status == 200
    assert "large" not in (phone.get_attribute("body", "class") or "").split()
    assert body_font_px(phone) == normal_px

    # c. Submit without the required answer: the error sits at the question, nothing is stored.
    phone.fill(f"#q{text}-text", COMMENT)
    response = submit(phone, "main form button[type=submit]")
    assert response.status == 400
    assert phone.locator("main .note-error[role=alert]").count() == 1
    bad = phone.locator("main fieldset.q.bad")
    assert bad.count() == 1
    assert bad.locator(f"input[name=q{sat}]").count() == 3  # the satisfaction question, and only it
    assert bad.get_attribute("aria-describedby") == f"q{sat}-error"
    error = bad.locator(f"#q{sat}-error")
    assert error.is_visible()
    resident.chinese("form with errors", "the error at the question", error.inner_text())
    resident.chinese("form with errors", "the error summary", phone.locator("main .note-error[role=alert]").inner_text())
    legend_box, error_box = bad.locator("legend").bounding_box(), error.bounding_box()
    assert 0 <= error_box["y"] - (legend_box["y"] + legend_box["height"]) < 60, (legend_box, error_box)
    assert phone.input_value(f"#q{text}-text") == COMMENT  # what was typed is kept
    assert stored(server, setup.survey_id)[0] == 0
    screenshot(phone, "resident-form-with-error")
    resident.check(phone, "form with errors")

    # d. Answer whole: 满意, a choice, a rating, the comment.
    phone.check(f"input[name=q{sat}][value='satisfied']")
    phone.check(f"input[name=q{choice}][value='{setup.choice_key}']")
    phone.check(f"input[name=q{rating}][value='4']")
    assert phone.input_value(f"#q{text}-text") == COMMENT
    screenshot(phone, "resident-form-answered")
    response = submit(phone, "main form button[type=submit]")
    assert response.status == 200
    assert phone.url == setup.short_url + "/thanks"
    assert phone.get_attribute("html", "lang") == "zh-CN"
    assert SURVEY_TITLE in phone.locator("main .note-ok[role=status]").inner_text()
    resident.chinese("thank-you", "the heading", phone.locator("main h1").inner_text())
    count, answers, last = stored(server, setup.survey_id)
    assert count == 1
    assert last == {"placement_id": setup.placement_id, "assisted": False, "flagged": False}
    assert answers == {
        sat: ("satisfied", None),
        choice: (setup.choice_key, None),
        rating: ("4", None),
        text: (None, COMMENT),
    }, answers
    screenshot(phone, "resident-thank-you")
    resident.check(phone, "thank-you")

    # e. Scanning again on the same phone.
    response = phone.goto(setup.short_url)
    assert response.status == 200
    already = phone.locator("main .note-ok[role=status]")
    assert already.count() == 1
    resident.chinese("already answered", "the notice", already.inner_text())
    assert phone.locator("main form[method=post]").count() == 0
    assert stored(server, setup.survey_id)[0] == 1
    screenshot(phone, "resident-already-answered")
    resident.check(phone, "already answered")

    # ---- staff read the results on a desktop, JavaScript on -------------------------------
    staff = page_factory("desktop")
    script_errors: list[str] = []
    staff.on("pageerror", lambda error: script_errors.append(str(error)))
    staff.on("console", lambda m: script_errors.append(m.text) if m.type == "error" and "Content Security Policy" in m.text else None)
    staff_foreign: list[str] = []
    staff.context.on(
        "request",
        lambda request: staff_foreign.append(request.url)
        if not request.url.startswith(("data:", "about:", "blob:")) and urlsplit(request.url).hostname != "127.0.0.1"
        else None,
    )
    vendor_responses = []
    staff.on("response", lambda r: vendor_responses.append((r.url, r.status)) if "/vendor/" in r.url else None)

    staff.goto(server.url("/login"))
    staff.fill("#username", setup.staff_username)
    staff.fill("#password", "correct horse battery")
    assert submit(staff, "main form button[type=submit]").status == 200
    assert staff.locator("header form[action$='/logout']").count() == 1, "sign-in failed"

    assert staff.goto(server.url(f"/surveys/{setup.survey_id}/results")).status == 200
    assert staff.locator("main dd[data-key=responses]").inner_text().strip() == "1"
    figures = {
        dt.strip(): dd.strip()
        for dt, dd in zip(staff.locator("main dl.figures dt").all_inner_texts(), staff.locator("main dl.figures dd").all_inner_texts())
    }
    rate_text = staff.locator("main dl.figures div:nth-child(2) dd").inner_text()
    assert "100.0%" in rate_text and "n=1" in rate_text, figures
    rows = staff.locator("main section:has(#chart-placement) table tbody tr")
    assert rows.count() == 1
    assert rows.locator("th").inner_text().strip() == PLACEMENT_NAME
    numbers = [cell.strip() for cell in rows.locator("td.num").all_inner_texts()]
    assert numbers == ["1", "0", "0", "100.0%"], numbers  # satisfied, mostly, dissatisfied, rate
    assert "n=1" in rows.locator("td").last.inner_text()
    staff.locator("#chart-placement .main-svg").first.wait_for(state="attached")
    assert staff.locator("#chart-placement .main-svg").count() >= 1
    assert any(status == 200 and urlsplit(url).path.startswith("/assets/vendor/plotly") for url, status in vendor_responses), vendor_responses
    screenshot(staff, "staff-results")

    # ---- everything found on the way --------------------------------------------------------
    print("Bytes on the wire per resident page:", resident.wire)
    print("\n".join(["Non-blocking axe findings:", *resident.notes] if resident.notes else ["No other axe findings."]))
    assert len(resident.checked) == 5
    problems = list(resident.problems)
    if resident.foreign:
        problems.append(f"resident pages requested other hosts: {resident.foreign}")
    if staff_foreign:
        problems.append(f"the results page requested other hosts: {staff_foreign}")
    if script_errors:
        problems.append(f"script errors on the results page: {script_errors}")
    assert not problems, "\n".join(["Resident pages at 390x844, JavaScript off:", *problems])
