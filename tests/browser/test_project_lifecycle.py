"""A livelihood project from a resident's phone to the public project page, in real
Chromium: a resident sends a proposal with a photo from a liaison station's form, staff
accept it as a candidate in the deputies' vote, the vote elects it, staff make it a
project, the department reports progress with a photo, a deputy records a supervision
visit, and anyone can follow all of it on the public project page and from the tracking
code, without ever seeing the proposer's phone number.

The vote itself (open, ballots, close, confirm, announce) is driven through the app with
the ballots test helpers; tests/browser/test_deputy_journey.py covers it in the browser.
The UI is in Chinese (the default), so selectors use ids, names, form actions and hrefs.
Public and resident pages are checked with axe-core; every context watches that no
request leaves 127.0.0.1.
"""

import io
from datetime import timedelta
from urllib.parse import urlsplit

from PIL import Image

from tests.ballots.helpers import announce_round, as_deputy, cast, close_round, confirm_round, open_round
from tests.browser.conftest import record_page_problems
from tests.images import jpeg_bytes

DEPARTMENT = "区交通运输局"
OFFICER = ("jtj-officer", "交通局 王科长", "road works 2026")  # username, display name, password
STAFF_PASSWORD = "correct horse battery"  # tests.conftest.make_user
STATION = "城关镇人大代表联络站"
TITLE = "城关镇东门老桥加固改造"
DESCRIPTION = "东门老桥桥面开裂，栏杆松动，学生每天上学都要经过，雨天很危险，建议尽快加固并加装路灯。"
LOCATION = "城关镇东门老桥"
CONTACT = "13800001234"
NOTE = "桥墩加固已完成，正在更换栏杆，预计下月铺设桥面。"
FINDINGS = "现场查看：新栏杆已安装一半，施工围挡齐全，但夜间照明不足。"
RECTIFICATION = "请在施工路段加装临时照明和警示灯。"
DESKTOP_FULL_HD = {"viewport": {"width": 1920, "height": 1080}}
# An <img>'s natural width once it has loaded (0 when it failed).
LOADED_WIDTH = """img => img.complete ? img.naturalWidth : new Promise(done => {
    img.addEventListener("load", () => done(img.naturalWidth));
    img.addEventListener("error", () => done(0));
})"""


class Watch:
    """Requests to hosts other than 127.0.0.1, script errors and CSP refusals, over every context."""

    def __init__(self):
        self.foreign: list[str] = []
        self.script_errors: list[str] = []

    def page(self, page_factory, kind: str, name: str, **options):
        page = page_factory(kind, **options)
        page.context.on("request", lambda request: self._request(name, request.url))
        page.on("pageerror", lambda error: self.script_errors.append(f"{name}: {error}"))
        page.on("console", lambda message: self._console(name, message))
        return page

    def _console(self, name: str, message) -> None:
        """A script, style or image the Content-Security-Policy blocked shows only here."""
        if message.type == "error" and "Content Security Policy" in message.text:
            self.script_errors.append(f"{name}: {message.text}")

    def _request(self, name: str, url: str) -> None:
        if not url.startswith(("data:", "about:", "blob:")) and urlsplit(url).hostname != "127.0.0.1":
            self.foreign.append(f"{name}: {url}")


class Axe:
    """axe-core, layout and <html lang> on a page. Every axe finding counts, minor ones too;
    they are gathered and asserted at the end, so one run reports them all."""

    def __init__(self):
        # Imported here: the browser fixture skips (or fails in CI) when it is missing.
        from axe_playwright_python.sync_playwright import Axe as AxeRunner

        self.runner = AxeRunner()
        self.checked: list[str] = []
        self.problems: list[str] = []

    def check(self, page, name: str) -> None:
        record_page_problems(page, name, self.runner.run(page), self.problems, self.problems)
        self.checked.append(name)

    def check_english(self, page, name: str) -> None:
        """`check` for a page read in English (`in_english`): its <html lang> is en, not zh-CN."""
        found: list[str] = []
        record_page_problems(page, name, self.runner.run(page), found, found)
        self.problems += [line for line in found if "<html lang>" not in line]
        if page.get_attribute("html", "lang") != "en":
            self.problems.append(f"[{name}] <html lang> is {page.get_attribute('html', 'lang')!r}, expected 'en'")
        self.checked.append(name)


def in_english(page, server):
    """The page's browser reads the site in English from now on (the header's language switch)."""
    page.context.add_cookies([{"name": "lang", "value": "en", "url": server.url("/")}])
    return page


def submit(page, selector: str):
    """Click a submit button and return the response the browser ends up on."""
    with page.expect_navigation() as navigation:
        page.locator(selector).click()
    return navigation.value


def sign_in(page, server, username: str, password: str) -> None:
    page.goto(server.url("/login"))
    page.fill("#username", username)
    page.fill("#password", password)
    assert submit(page, "main form button[type=submit]").status == 200
    assert page.locator("header form[action$='/logout']").count() == 1, f"{username} could not sign in"


def flashes(page, kind: str) -> list[str]:
    return page.locator(f"main .flash-{kind}").all_inner_texts()


def set_up(server):
    """A liaison station and a department officer's account; the live server's world has the
    session, roster, cards, draft round and the other accounts."""
    from voting_app.auth.service import create_user
    from voting_app.db import db
    from voting_app.projects.service import department_named
    from voting_app.proposals.service import add_station

    with server.app.app_context():
        station = add_station("test", STATION, "城关镇人民路1号")
        create_user(OFFICER[0], OFFICER[1], "department_officer", OFFICER[2], department=department_named(DEPARTMENT))
        db.session.commit()
        return station.code


def proposal_behind(server, tracking_code: str) -> tuple[int, int | None, str]:
    """(proposal id, its candidate id, its contact) as stored."""
    from voting_app.proposals.service import find_by_tracking_code

    with server.app.app_context():
        proposal = find_by_tracking_code(tracking_code)
        assert proposal is not None, tracking_code
        return proposal.id, proposal.candidate_id, proposal.contact


def vote_it_through(server, candidate_id: int) -> None:
    """Six of nine deputies present vote for the proposal's candidate and 项目1 (two seats);
    the presiding officer closes, a scrutineer who did not close confirms, the presiding
    officer announces."""
    from voting_app.ballots.models import Round
    from voting_app.ballots.service import count_round
    from voting_app.db import db
    from voting_app.sessions.models import Deputy
    from voting_app.sessions.service import DESK, check_in

    app, world = server.app, server.world
    with app.app_context():
        for deputy_id in world.deputy_ids[3:6]:  # build_world checked in the first three
            check_in(db.session.get(Deputy, deputy_id), DESK)
        db.session.commit()
    open_round(app, world)
    for index in range(6):
        response = cast(as_deputy(app, world, index), world.round_id, choices=[candidate_id, world.candidate_ids[0]])
        assert response.status_code == 302, response.get_data(as_text=True)
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        assert round_.state == "announced", round_.state
        assert set(count_round(round_).elected) == {candidate_id, world.candidate_ids[0]}


def test_a_proposal_becomes_a_project_the_public_can_follow(live_server, page_factory, screenshot, tmp_path):
    from voting_app.projects.schedule import beijing_today

    server, world = live_server, live_server.world
    watch, axe = Watch(), Axe()
    today = beijing_today()
    station_code = set_up(server)
    photo = tmp_path / "bridge.jpg"
    photo.write_bytes(jpeg_bytes(gps=True))
    assert Image.open(photo).getexif(), "the test photo should carry EXIF (camera and GPS)"

    # 1. A resident sends the proposal from the station's form on a phone.
    resident = watch.page(page_factory, "phone", "resident")
    assert resident.goto(server.url(f"/p/{station_code}")).status == 200
    assert STATION in resident.locator("main .project").inner_text()
    screenshot(resident, "resident-proposal-form")
    axe.check(resident, "proposal form")
    resident.fill("#title", TITLE)
    resident.fill("#description", DESCRIPTION)
    resident.fill("#location", LOCATION)
    resident.select_option("#theme", "roads_transport")
    resident.set_input_files("#photo", str(photo))
    resident.fill("#contact", CONTACT)
    assert submit(resident, "main form button[type=submit]").status == 200
    tracking = resident.locator("main .tracking").inner_text().strip()
    assert len(tracking.replace("-", "")) == 10, tracking
    assert "new=1" in resident.url and TITLE in resident.locator("main dl.status").inner_text()
    assert CONTACT not in resident.content()
    screenshot(resident, "resident-tracking-code")
    axe.check(resident, "tracking page")
    proposal_id, candidate_id, contact = proposal_behind(server, tracking)
    assert (candidate_id, contact) == (None, CONTACT)

    # 2. Staff find it among the proposals and accept it into the draft round.
    staff = watch.page(page_factory, "desktop", "staff", **DESKTOP_FULL_HD)
    sign_in(staff, server, server.usernames[world.staff_id], STAFF_PASSWORD)
    staff.goto(server.url("/proposals/"))
    with staff.expect_navigation():
        staff.locator(f"main a[href$='/proposals/{proposal_id}']").click()
    assert staff.locator("main h1").inner_text().strip() == TITLE
    assert staff.locator("main .photos img").count() == 1  # the staff see the resident's photo
    accept = f"main form[action$='/proposals/{proposal_id}/accept']"
    staff.select_option(f"{accept} #round_id", str(world.round_id))
    staff.fill(f"{accept} #new_department", DEPARTMENT)
    staff.fill(f"{accept} #investment", "120")
    staff.fill(f"{accept} #planned_completion", (today + timedelta(days=180)).isoformat())
    screenshot(staff, "staff-accept-proposal")
    assert submit(staff, f"{accept} button[type=submit]").status == 200
    assert flashes(staff, "error") == [] and len(flashes(staff, "success")) == 1
    _, candidate_id, _ = proposal_behind(server, tracking)
    assert candidate_id is not None

    # 3. The deputies' vote elects it.
    vote_it_through(server, candidate_id)

    # 4. Staff make the elected candidate a project from the round page.
    staff.goto(server.url(f"/ballots/rounds/{world.round_id}"))
    make_project = f"main form[action$='/projects/from-candidate/{candidate_id}'] button[type=submit]"
    assert staff.locator(make_project).count() == 1
    screenshot(staff, "staff-round-announced")
    assert submit(staff, make_project).status == 200
    project_path = urlsplit(staff.url).path  # /projects/<id>
    assert project_path.removeprefix("/projects/").isdigit(), staff.url
    assert staff.locator("main h1").inner_text().strip() == TITLE
    assert len(flashes(staff, "success")) == 1 and DEPARTMENT in staff.locator("main p.meta").first.inner_text()
    screenshot(staff, "staff-project-made")

    # 5. The department reports progress with the photo.
    officer = watch.page(page_factory, "desktop", "officer", **DESKTOP_FULL_HD)
    sign_in(officer, server, OFFICER[0], OFFICER[2])
    officer.goto(server.url(project_path))
    with officer.expect_navigation():
        officer.locator(f"main a[href$='{project_path}/notes/new']").click()
    officer.fill("#body", NOTE)
    officer.fill("#progress_percent", "40")
    officer.set_input_files("#photos", str(photo))
    screenshot(officer, "officer-progress-form")
    assert submit(officer, "main form button[type=submit]").status == 200
    assert urlsplit(officer.url).path == project_path and flashes(officer, "error") == []
    note = officer.locator("main article.note-card", has_text=NOTE)
    assert note.count() == 1
    assert OFFICER[1] in note.inner_text() and "40%" in note.inner_text()
    note_photo = note.locator("img")
    assert note_photo.count() == 1
    photo_src = note_photo.get_attribute("src")
    assert photo_src.startswith("/projects/photos/"), photo_src
    screenshot(officer, "officer-note-published")

    # 6. A deputy signs in with the voting card on a phone and records a supervision visit.
    supervisor = world.deputy_ids[6]  # 代表7: did not vote, supervises
    token, pin = world.cards[supervisor]
    deputy = watch.page(page_factory, "phone", "deputy")
    deputy.goto(server.url(f"/c/{token}"))
    deputy.fill("#pin", pin)
    assert submit(deputy, "main form button[type=submit]").status == 200
    assert "代表7" in deputy.locator("main h1").inner_text()
    deputy.goto(server.url(project_path))
    with deputy.expect_navigation():
        deputy.locator(f"main a[href$='{project_path}/supervision/new']").click()
    assert deputy.input_value("#visited_on") == today.isoformat()  # offered as the default
    deputy.fill("#findings", FINDINGS)
    deputy.fill("#rectification", RECTIFICATION)
    deputy.fill("#rectification_due", (today + timedelta(days=14)).isoformat())
    screenshot(deputy, "deputy-supervision-form")
    assert submit(deputy, "main form button[type=submit]").status == 200
    assert urlsplit(deputy.url).path == project_path and flashes(deputy, "error") == [], deputy.url
    assert len(flashes(deputy, "success")) == 1

    # 7. Anyone follows it, on a phone and on a desktop, without signing in.
    for kind, options in (("phone", {}), ("desktop", DESKTOP_FULL_HD)):
        public = watch.page(page_factory, kind, f"public {kind}", **options)
        assert public.goto(server.url(project_path + "?chart=timeline")).status == 200  # the chart is drawn on request
        main = public.locator("main")
        assert public.locator("header form[action$='/logout']").count() == 0
        assert main.locator("h1").inner_text().strip() == TITLE
        assert STATION in main.inner_text()  # "proposed by residents at" names the station
        assert tracking not in main.inner_text()  # the resident's tracking code stays private
        assert NOTE in main.locator("article.note-card", has_text=NOTE).inner_text()
        visit = main.locator("article.note-card[id^='supervision-']")
        assert visit.count() == 1
        assert FINDINGS in visit.inner_text() and RECTIFICATION in visit.inner_text() and "代表7" in visit.inner_text()
        assert main.locator("dl.figures").inner_text().count("40%") == 1
        assert main.locator("#timeline").is_visible()
        main.locator("#chart-timeline .main-svg").first.wait_for(state="attached")
        shown_photo = main.locator(f"img[src='{photo_src}']")
        assert shown_photo.count() == 1
        shown_photo.scroll_into_view_if_needed()  # it loads lazily
        assert shown_photo.evaluate(LOADED_WIDTH) > 0, "the progress photo did not load"
        assert CONTACT not in public.content()
        screenshot(public, f"public-project-{kind}")
        axe.check(public, f"public project page ({kind})")

    # The published photo and its thumbnail are JPEGs with the camera and location data removed.
    photo_href = public.locator(f"main a:has(img[src='{photo_src}'])").get_attribute("href")
    for src in (photo_src, photo_href):
        image = public.request.get(server.url(src))
        assert image.status == 200 and image.headers["content-type"] == "image/jpeg"
        published = Image.open(io.BytesIO(image.body()))
        assert published.format == "JPEG"
        assert dict(published.getexif()) == {}, dict(published.getexif())

    # The resident's tracking page now leads to the project, still without the contact.
    resident.goto(server.url(f"/p/track?code={tracking}"))
    follow = resident.locator(f"main dl.status a[href$='{project_path}']")
    assert follow.count() == 1
    assert CONTACT not in resident.content()
    screenshot(resident, "resident-tracking-follow-project")
    axe.check(resident, "tracking page with the project")
    with resident.expect_navigation():
        follow.click()
    assert urlsplit(resident.url).path == project_path

    # 8. Nothing left 127.0.0.1, no page threw, and axe found nothing.
    assert len(axe.checked) == 5
    assert axe.problems == [], "\n".join(axe.problems)
    assert watch.foreign == [], watch.foreign
    assert watch.script_errors == [], watch.script_errors
