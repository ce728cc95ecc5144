"""Issue 16, one timeline from proposal to rating, on the demo: the public page of last year's
culture corridor tells its story in one ordered list (the residents' proposals and their stations,
the fifth session's vote, plan, stages, milestones, supervision, the residents' survey under the bar,
its reassessment and the deputies' assessment), on a phone and at 1920x1080, with and without
JavaScript; the folded history opens without a script and the full history is a page of its own."""

import pytest
from sqlalchemy import select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch
from voting_app.demo_delivery import ROUND_2026

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}
CORRIDOR = "市百货站小区文化长廊改造"


def _corridor(server) -> int:
    from voting_app.db import db
    from voting_app.projects.models import Project

    with server.app.app_context():
        return db.session.scalars(select(Project.id).where(Project.name == CORRIDOR, Project.year == 2026)).one()


@pytest.mark.demo
def test_the_public_reads_a_projects_whole_story_in_order(live_server, page_factory, screenshot):
    seeded(live_server)
    project_id = _corridor(live_server)
    watch, axe = Watch(), Axe()
    for kind, options in (("phone", {}), ("desktop", FULL_HD), ("phone", {"java_script_enabled": False})):
        name = f"{kind}{'-no-js' if options.get('java_script_enabled') is False else ''}"
        public = watch.page(page_factory, kind, name, **options)
        assert public.goto(live_server.url(f"/projects/{project_id}#story")).status == 200
        timeline = public.locator("#story ol.story")
        entries = timeline.locator(":scope > li")
        assert 15 <= entries.count() <= 30
        days = timeline.locator(":scope > li > .story-when time").evaluate_all("times => times.map(t => t.dateTime)")
        assert days == sorted(days) and len(days) == entries.count(), "one date per entry, in order"
        text = timeline.inner_text()
        for words in ("米公街道人大代表联络站", "东风社区人大代表联络站", ROUND_2026, "完成施工招标", "长廊照明不足",
                      "已增设座椅8张", "群众满意度调查（首次）", "群众满意度调查", "2026年度民生实事项目满意度测评"):
            assert words in text, f"{name}: {words}"
        order = [text.index(words) for words in ("米公街道人大代表联络站", ROUND_2026, "完成施工招标", "群众满意度调查（首次）",
                                                   "长廊照明不足", "2026年度民生实事项目满意度测评")]
        assert order == sorted(order), f"{name}: the story reads from the proposals to the assessment"
        assert entries.filter(has=public.locator(".badge.warn")).count() >= 2, "both ratings under the bar say rectification"
        folded = timeline.locator("details").first
        assert not folded.locator("ul").is_visible()
        folded.locator("summary").click()
        assert folded.locator("ul li").count() > 1, f"{name}: a folded group opens without a script"
        public.locator("#story").scroll_into_view_if_needed()
        screenshot(public, f"story-{name}")
        if options.get("java_script_enabled") is not False:  # axe-core runs in the page's own scripts
            axe.check(public, f"story-{name}")
        width = public.evaluate("document.documentElement.scrollWidth")
        assert width <= public.viewport_size["width"], f"{name}: the page scrolls sideways ({width}px)"

    history = watch.page(page_factory, "phone", "history")
    assert history.goto(live_server.url(f"/projects/{project_id}")).status == 200
    history.locator("#story a[href$='/history']").last.click()
    history.wait_for_url(f"**/projects/{project_id}/history")
    assert history.locator("main table tbody tr").count() > 10
    screenshot(history, "history-phone")
    axe.check(history, "history-phone")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
