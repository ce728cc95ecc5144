"""Browser fixtures: a live server on a fresh database, headless Chromium through
Playwright, phone and desktop contexts, and full-page screenshots per step.

Everything under tests/browser is marked `browser`. A test marked `demo` gets its live server on
the demo data (`seeded()` reads what it holds). Without /usr/bin/chromium, playwright or
axe-playwright-python the tests are skipped, or fail when CI == "true" (a CI run must not
pass by skipping its browser tests). Never run `playwright install`: the Debian Chromium
is launched directly.
"""

import importlib.util
import os
import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import AUDIT_KEY, PG_URL, SECRET, build_world, database_url, share_compiled_templates
from voting_app import create_app

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the environment
    sync_playwright = None

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-output" / "screenshots"

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
    "locale": "zh-CN",
}
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.browser)


def _missing_browser() -> str | None:
    if sync_playwright is None:
        return "the playwright package is not installed"
    if importlib.util.find_spec("axe_playwright_python") is None:
        return "the axe-playwright-python package is not installed"
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    return None


@pytest.fixture(scope="session")
def browser():
    problem = _missing_browser()
    if problem:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Browser tests cannot run: {problem}.")
        pytest.skip(f"Browser tests skipped: {problem}.")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass(frozen=True)
class Demo:
    """What the demo's sign-in sheet and rows tell a test: passwords by role, an under-way
    project, a received proposal and a liaison station, the session key's shares and the
    sheet's voting cards (deputy number -> (card token, PIN))."""

    passwords: dict
    under_way: int
    proposal: int
    station: int
    shares: list
    cards: dict


@dataclass
class LiveServer:
    base_url: str
    app: object
    world: object
    usernames: dict  # user id -> username
    demo: Demo | None = None  # a test marked `demo`: the demo data the server holds

    @property
    def demo_shares(self) -> list:
        return self.demo.shares

    @property
    def demo_cards(self) -> dict:
        return self.demo.cards

    def url(self, path: str) -> str:
        return self.base_url + path


def _live_app(db_url: str):
    return share_compiled_templates(create_app({"TESTING": True, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY,
                                                "SQLALCHEMY_DATABASE_URI": db_url, "RATELIMIT_ENABLED": False}))


def _live_world(app):
    """The live server's session; returns it with its accounts' usernames by user id."""
    with app.app_context():
        # 3 of 9 present; quorum is 5: the desk check-in and the deputy's own check-in
        # in the journey are what bring the session to quorum.
        world = build_world(deputies=9, present=3, candidates=4, seats=2)
        ids = (world.staff_id, world.presiding_id, *world.scrutineer_ids)
        return world, {user_id: world.user(user_id).username for user_id in ids}


def _load_demo(app) -> Demo:
    """Load the demo beside the live server's session, through the app's own seed."""
    from sqlalchemy import select

    from voting_app.db import db
    from voting_app.demo import seed
    from voting_app.projects.models import Project
    from voting_app.proposals.models import LiaisonStation, Proposal

    with app.app_context():
        sheet = seed()
        db.session.commit()
        under_way = db.session.scalar(select(Project.id).where(Project.stage == "in_progress").order_by(Project.id))
        proposal = db.session.scalar(select(Proposal.id).where(Proposal.status == "received").order_by(Proposal.id))
        station = db.session.scalar(select(LiaisonStation.id).order_by(LiaisonStation.id))
    return Demo(
        passwords=dict(re.findall(r"^\s+(\S+)\s+password (\S+)$", sheet, re.M)),
        under_way=under_way,
        proposal=proposal,
        station=station,
        shares=re.findall(r"^\s+share \d: (.+)$", sheet, re.M),  # the demo session key's 2-of-3 shares
        cards={number: (token, pin) for number, token, pin in re.findall(r"^\s+(\d+) .+?/c/(\S+)\s+PIN (\d+)$", sheet, re.M)},
    )


@dataclass(frozen=True)
class DemoDatabase:
    path: Path  # a SQLite file: the live server's session and the demo, seeded on `day`
    day: object
    world: object
    usernames: dict
    demo: Demo


@pytest.fixture(scope="session")
def demo_databases(tmp_path_factory, migrated_template):
    """Seeding the demo takes about 8 s, and a score of tests start on it: on SQLite each test
    process seeds it once a day (the demo's dates follow today's) and every such test starts
    on a copy of that file, holding what seeding in the test would have given it."""
    made: dict = {}

    def for_today() -> DemoDatabase:
        from voting_app.clock import beijing_today
        from voting_app.db import db

        day = beijing_today()
        if day not in made:
            url = database_url(tmp_path_factory.mktemp("demo"), migrated_template)
            app = _live_app(url)
            world, usernames = _live_world(app)
            demo = _load_demo(app)
            with app.app_context():
                db.engine.dispose()  # the last connection out folds the WAL into the file
            path = Path(url.removeprefix("sqlite:///"))
            assert not Path(f"{path}-wal").exists(), "the demo's WAL was not folded into its file"
            made[day] = DemoDatabase(path, day, world, usernames, demo)
        return made[day]

    return for_today


@pytest.fixture
def live_server(request, db_url):
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        """Keep the access log out of test output; errors are still logged."""

        def log_request(self, code="-", size="-"):
            pass

    from voting_app.db import db

    demo = None
    if request.node.get_closest_marker("demo") and not PG_URL:
        copied = request.getfixturevalue("demo_databases")()
        shutil.copy(copied.path, db_url.removeprefix("sqlite:///"))  # over the fresh database, not opened yet
        app = _live_app(db_url)
        world, usernames, demo = copied.world, copied.usernames, copied.demo
    else:
        app = _live_app(db_url)
        world, usernames = _live_world(app)
        if request.node.get_closest_marker("demo"):
            demo = _load_demo(app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, world, usernames, demo)
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def page_factory(browser):
    """new_page("phone" | "desktop", **options) -> a page in its own context (own cookies).

    Options are passed on to browser.new_context, e.g. java_script_enabled=False."""
    contexts = []

    def new_page(kind: str = "desktop", **options):
        context = browser.new_context(**{**(PHONE if kind == "phone" else DESKTOP), **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context.new_page()

    yield new_page
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request):
    """screenshot(page, "step") saves test-output/screenshots/<test>/<NN>-<step>.png."""
    folder = SCREENSHOTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    counter = {"n": 0}

    def take(page, step: str) -> Path:
        counter["n"] += 1
        slug = re.sub(r"[^\w.-]+", "_", step)
        path = folder / f"{counter['n']:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


BLOCKING_IMPACTS = ("serious", "critical")  # axe-core impacts that fail a test; minor and moderate are noted


def record_page_problems(page, name: str, axe_results, problems: list[str], notes: list[str]) -> None:
    """Add the axe-core violations in `axe_results` (blocking ones to `problems`, the others to
    `notes`), then any horizontal overflow of `page` and an <html lang> other than zh-CN to
    `problems`. Each line starts with [name]."""
    for violation in axe_results.response["violations"]:
        targets = "; ".join(", ".join(node["target"]) for node in violation["nodes"])
        line = f"[{name}] axe {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}> on {targets}"
        (problems if violation["impact"] in BLOCKING_IMPACTS else notes).append(line)
    # Layout and language.
    widths = page.evaluate("({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    limit = min(widths["inner"], page.viewport_size["width"])
    if widths["scroll"] > limit:
        problems.append(f"[{name}] horizontal overflow: scrollWidth {widths['scroll']} > {limit}")
    lang = page.get_attribute("html", "lang")
    if lang != "zh-CN":
        problems.append(f"[{name}] <html lang> is {lang!r}, expected 'zh-CN'")


def seeded(server) -> tuple[dict, int, int, int]:
    """The demo the server of a test marked `demo` holds: its passwords, an under-way project,
    a proposal and a station."""
    assert server.demo is not None, "mark the test @pytest.mark.demo to start its live server on the demo"
    return server.demo.passwords, server.demo.under_way, server.demo.proposal, server.demo.station
