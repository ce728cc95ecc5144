"""Browser fixtures: a live server on a fresh database, headless Chromium through
Playwright, phone and desktop contexts, and full-page screenshots per step.

Everything under tests/browser is marked `browser`. Without /usr/bin/chromium, playwright or
axe-playwright-python the tests are skipped, or fail when CI == "true" (a CI run must not
pass by skipping its browser tests). Never run `playwright install`: the Debian Chromium
is launched directly.
"""

import importlib.util
import os
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import AUDIT_KEY, SECRET, build_world
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


@dataclass
class LiveServer:
    base_url: str
    app: object
    world: object
    usernames: dict  # user id -> username
    demo_shares: list = field(default_factory=list)  # filled by seeded(): the demo key's shares

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture
def live_server(db_url):
    from werkzeug.serving import WSGIRequestHandler, make_server

    class QuietHandler(WSGIRequestHandler):
        """Keep the access log out of test output; errors are still logged."""

        def log_request(self, code="-", size="-"):
            pass

    from voting_app.db import db

    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "AUDIT_KEY": AUDIT_KEY,
            "SQLALCHEMY_DATABASE_URI": db_url,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        # 3 of 9 present; quorum is 5: the desk check-in and the deputy's own check-in
        # in the journey are what bring the session to quorum.
        world = build_world(deputies=9, present=3, candidates=4, seats=2)
        ids = (world.staff_id, world.presiding_id, *world.scrutineer_ids)
        usernames = {user_id: world.user(user_id).username for user_id in ids}
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", app, world, usernames)
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
    """Load the demo into a live server; return its passwords, an under-way project, a proposal and a station."""
    from sqlalchemy import select

    from voting_app.db import db
    from voting_app.demo import seed
    from voting_app.projects.models import Project
    from voting_app.proposals.models import LiaisonStation, Proposal

    with server.app.app_context():
        sheet = seed()
        db.session.commit()
        under_way = db.session.scalar(select(Project.id).where(Project.stage == "in_progress").order_by(Project.id))
        proposal = db.session.scalar(select(Proposal.id).where(Proposal.status == "received").order_by(Proposal.id))
        station = db.session.scalar(select(LiaisonStation.id).order_by(LiaisonStation.id))
    passwords = dict(re.findall(r"^\s+(\S+)\s+password (\S+)$", sheet, re.M))
    server.demo_shares = re.findall(r"^\s+share \d: (.+)$", sheet, re.M)  # the demo session key's 2-of-3 shares
    # the sign-in sheet's voting cards: deputy number -> (card token, PIN)
    server.demo_cards = {number: (token, pin) for number, token, pin in re.findall(r"^\s+(\d+) .+?/c/(\S+)\s+PIN (\d+)$", sheet, re.M)}
    return passwords, under_way, proposal, station
