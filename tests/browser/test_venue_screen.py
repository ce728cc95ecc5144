"""The venue screen at 1920x1080 on the demo session: presiding staff walk the slides with the
keyboard, a phone remote switches to a round while it is being voted, the screen follows by
itself within two seconds and shows turnout only, keeps its last state while the network is
down, says the count awaits announcement once the scrutineers confirm it, then shows the
announcement and the chart, and marks the results announced once the presiding officer does."""

import secrets
import re

import pytest
from sqlalchemy import select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, sign_in

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}
FOLLOW_MS = 2000  # the screen must follow a change within two seconds


def demo_session_and_trial_round(server) -> tuple[int, int, str, list[str]]:
    from voting_app.ballots.models import Round

    with server.app.app_context():
        from voting_app.db import db

        trial = db.session.scalar(select(Round).where(Round.method == "for_against", Round.state == "draft"))
        return trial.session_id, trial.id, trial.title, [candidate.name for candidate in trial.candidates]


def in_app(server, action):
    with server.app.app_context():
        from voting_app.db import db

        outcome = action(db)
        db.session.commit()
        return outcome


def cast_for_first(server, round_id: int, how_many: int) -> None:
    """Present deputies who have not voted yet vote "for" the first candidate, "against" the rest."""

    def cast(db):
        from voting_app.ballots import service as ballots
        from voting_app.ballots.models import Round

        round_ = db.session.get(Round, round_id)
        marks = {c.id: ("for" if index == 0 else "against") for index, c in enumerate(round_.candidates)}
        voters = [d for d in round_.session.deputies if d.is_present and not ballots.has_voted(round_id, d.id)]
        for deputy in voters[:how_many]:
            ballots.cast_ballot(deputy, round_, marks, ballots.new_receipt(), secrets.token_hex(16))

    in_app(server, cast)


def position(screen) -> tuple[int, int]:
    shown, total = screen.locator(".slide-foot span").nth(1).inner_text().split("/")
    return int(shown), int(total)


def press(screen, key: str, expect_key: str | None = None) -> str:
    before = screen.locator("section.slide").get_attribute("data-key")
    screen.keyboard.press(key)
    screen.wait_for_function("k => document.querySelector('section.slide').dataset.key !== k", arg=before, timeout=FOLLOW_MS)
    now = screen.locator("section.slide").get_attribute("data-key")
    assert expect_key is None or now == expect_key, (now, expect_key)
    return now


@pytest.mark.demo
def test_the_venue_screen_walks_the_demo_session(live_server, page_factory, screenshot):
    passwords, *_ = seeded(live_server)
    session_id, trial_id, trial_title, trial_names = demo_session_and_trial_round(live_server)
    watch, axe = Watch(), Axe()

    screen = watch.page(page_factory, "desktop", "screen", **FULL_HD)
    sign_in(screen, live_server, "presiding", passwords["presiding"])
    assert screen.goto(live_server.url(f"/screen/{session_id}")).status == 200
    assert screen.locator("section.slide").get_attribute("data-key") == "title"
    screenshot(screen, "01-title")
    axe.check(screen, "title slide")

    # Walk every slide with the keyboard, as a presentation clicker would.
    seen = ["title"]
    while position(screen)[0] < position(screen)[1]:
        key = press(screen, "PageDown")
        seen.append(key)
        if key.endswith("-chart") or key == "satisfaction":
            screen.locator(".chart .main-svg").first.wait_for(state="attached")
        fits = screen.evaluate("() => { const s = document.querySelector('section.slide'); return s.scrollHeight <= window.innerHeight; }")
        assert fits, f"slide {key} runs past the bottom of the screen"
        screenshot(screen, key)
        if key in ("presence", "projects", "satisfaction") or key.endswith("-result"):
            axe.check(screen, f"slide {key}")
    assert seen[:2] == ["title", "presence"] and seen[-2:] == ["projects", "satisfaction"]
    assert any(key.endswith("-chart") for key in seen) and f"round-{trial_id}-live" not in seen
    assert press(screen, "ArrowLeft") == "projects"

    # The trial round opens and deputies vote; the remote on a phone puts it on the screen.
    def open_trial(db):
        from voting_app.auth.models import User
        from voting_app.ballots import service as ballots
        from voting_app.ballots.models import Round

        presiding = db.session.scalar(select(User).where(User.username == "presiding"))
        ballots.open_round(presiding.get_id(), db.session.get(Round, trial_id))

    in_app(live_server, open_trial)
    cast_for_first(live_server, trial_id, 7)
    remote = watch.page(page_factory, "phone", "remote")
    sign_in(remote, live_server, "presiding", passwords["presiding"])
    assert remote.goto(live_server.url(f"/screen/{session_id}/remote")).status == 200
    labels = remote.locator("ol.slide-list button").all_inner_texts()
    assert labels[0].startswith("标题页：") and "票决名称" not in labels[0], labels
    assert f"{trial_title}：投票进度" in labels and not any(label.endswith("：") for label in labels), labels
    screenshot(remote, "remote")
    axe.check(remote, "remote")
    screen.evaluate("window.__notReloaded = true")
    with remote.expect_navigation():
        remote.locator(f"form:has(input[name=to][value='round-{trial_id}-live']) button").click()
    screen.wait_for_selector(f"section.slide[data-key='round-{trial_id}-live']", timeout=FOLLOW_MS)
    figures = screen.locator("main .big-figures").inner_text()
    assert re.search(r"\b7\b", figures), figures

    def no_partial_result():
        page = screen.content()
        for name in trial_names:
            assert name not in page, f"{name} is on the screen while the round is open"
        assert screen.locator("main table, main .chart, main .plotly-figure").count() == 0

    no_partial_result()
    screenshot(screen, "round-open-turnout")

    # More ballots: the count follows without a reload, still without a partial result.
    cast_for_first(live_server, trial_id, 3)
    screen.wait_for_function("() => /\\b10\\b/.test(document.querySelector('main .big-figures').innerText)", timeout=FOLLOW_MS)
    assert screen.evaluate("window.__notReloaded") is True
    no_partial_result()

    # The network drops: the last state stays, with a small marker; it clears on reconnecting.
    screen.context.set_offline(True)
    screen.wait_for_selector("body.offline", timeout=4000)
    assert "10" in screen.locator("main .big-figures").inner_text()
    screenshot(screen, "offline-marker")
    screen.context.set_offline(False)
    screen.wait_for_selector("body:not(.offline)", timeout=4000)

    # Closed and confirmed by a scrutineer: the announcement and the chart follow the turnout.
    def close_and_confirm(db):
        from voting_app.auth.models import User
        from voting_app.ballots import service as ballots
        from voting_app.ballots.models import Round

        round_ = db.session.get(Round, trial_id)
        scrutineer = db.session.scalar(select(User).where(User.username == "scrutineer1"))
        ballots.close_round(db.session.scalar(select(User).where(User.username == "presiding")), round_)
        ballots.unseal_round(scrutineer, round_, live_server.demo_shares[:2])
        ballots.confirm_round(scrutineer, round_)

    in_app(live_server, close_and_confirm)
    # The turnout slide now says the count is confirmed and awaits announcement, never "being confirmed".
    screen.wait_for_function("() => document.querySelector('main .verdict').innerText.includes('结果待公布')", timeout=FOLLOW_MS)
    assert "监票人正在确认" not in screen.locator("main").inner_text()
    screenshot(screen, "round-confirmed-ready")
    axe.check(screen, "confirmed, awaiting announcement")
    press(screen, "ArrowRight", f"round-{trial_id}-result")
    announcement = screen.locator("main").inner_text()
    assert trial_names[0] in announcement and "10" in announcement
    assert screen.locator("main h1 .round-status").inner_text() == "监票人已确认计票结果"
    screenshot(screen, "round-announcement")
    axe.check(screen, "announcement")
    press(screen, "ArrowRight", f"round-{trial_id}-chart")
    screen.locator(".chart .main-svg").first.wait_for(state="attached")
    assert screen.locator(".chart .bars path, .chart .bars .point").count() >= len(trial_names)
    screenshot(screen, "round-chart")

    # The presiding officer announces: the result slide says so, and the turnout slide is gone.
    def announce(db):
        from voting_app.auth.models import User
        from voting_app.ballots import service as ballots
        from voting_app.ballots.models import Round

        ballots.announce_round(db.session.scalar(select(User).where(User.username == "presiding")), db.session.get(Round, trial_id))

    in_app(live_server, announce)
    press(screen, "ArrowLeft", f"round-{trial_id}-result")
    screen.wait_for_function("() => document.querySelector('main h1 .round-status').innerText === '结果已公布'", timeout=FOLLOW_MS)
    assert press(screen, "ArrowLeft") != f"round-{trial_id}-live"
    press(screen, "ArrowRight", f"round-{trial_id}-result")
    screenshot(screen, "round-announced")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
