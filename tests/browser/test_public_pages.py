"""The public project page on a phone stays under 300 KB (thumbnails, no plotly until asked);
the long lists search and page without JavaScript; a merge is confirmed on its own page and
can be undone."""

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, flashes, sign_in, submit
from voting_app.db import db
from voting_app.proposals.models import Proposal

FIRST_VIEW_LIMIT = 300 * 1024


@pytest.mark.demo
def test_the_public_project_page_weighs_under_300_kb_on_a_phone(live_server, page_factory, screenshot):
    _, under_way, _, _ = seeded(live_server)
    watch, axe = Watch(), Axe()
    phone = watch.page(page_factory, "phone", "public phone")
    responses = []
    phone.on("response", lambda response: responses.append(response))
    assert phone.goto(live_server.url(f"/projects/{under_way}")).status == 200
    # Scroll through the page so every lazy photo loads too: the whole page counts, not only the top.
    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    phone.wait_for_load_state("networkidle")
    photos = phone.locator("main .photos img")
    assert photos.count() >= 2
    photos.last.evaluate("img => img.decode()")
    phone.wait_for_load_state("networkidle")
    weights = {}
    for response in responses:
        sizes = response.request.sizes()
        weights[response.url] = sizes["responseBodySize"] + sizes["responseHeadersSize"]
    total = sum(weights.values())
    listing = "\n".join(f"{size:>8} {url}" for url, size in sorted(weights.items(), key=lambda item: -item[1]))
    print(f"public project page on a phone: {total} bytes in {len(weights)} responses")
    assert total <= FIRST_VIEW_LIMIT, f"{total} bytes:\n{listing}"
    assert not any("plotly" in url or "charts.js" in url for url in weights), listing
    assert all(urlsplit(src).path.endswith("/thumbnail") for src in photos.evaluate_all("imgs => imgs.map(i => i.src)"))
    assert all(urlsplit(url).path.endswith("/thumbnail") for url in weights if "/photos/" in url), listing
    screenshot(phone, "public-project-phone")
    axe.check(phone, "public-project-phone")

    # A thumbnail opens the photo itself; the chart is one tap away.
    full = photos.first.evaluate("img => img.closest('a').href")
    assert not urlsplit(full).path.endswith("/thumbnail") and phone.request.get(full).status == 200
    with phone.expect_navigation():
        phone.get_by_role("link", name="以图表显示时间轴").click()
    phone.locator("#chart-timeline .main-svg").first.wait_for(state="attached")
    screenshot(phone, "public-project-phone-chart")
    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)


def _query(page) -> dict:
    return {key: values[0] for key, values in parse_qs(urlsplit(page.url).query).items()}


@pytest.mark.demo
def test_the_lists_search_and_page_on_a_phone(live_server, page_factory, screenshot):
    passwords, _, _, _ = seeded(live_server)
    watch, axe = Watch(), Axe()

    public = watch.page(page_factory, "phone", "public list")
    public.goto(live_server.url("/projects/?year=all"))
    public.fill("main input[name=q]", "易涝")
    submit(public, "main form.filters button[type=submit]")
    assert _query(public)["q"] == "易涝"
    status = public.locator("main p.meta[role=status]").inner_text()
    assert status.startswith("共") and "条" in status
    names = public.locator("main tbody tr td:first-child").all_inner_texts()
    assert "城区易涝点整治（一期）" in names and "背街小巷改造（2026批）" not in names, names
    assert status.startswith(f"共{len(names)}条")
    # On a phone each project reads as a block, each figure labelled by its column (no squeezed table).
    cells = public.locator("main tbody tr:first-child td")
    assert cells.evaluate_all("tds => tds.map(td => getComputedStyle(td).display)") == ["block"] * 6
    assert public.locator("main tbody tr:first-child td[data-label='阶段']").count() == 1
    assert public.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(public, "public-projects-search-phone")
    axe.check(public, "public-projects-search-phone")

    staff = watch.page(page_factory, "phone", "staff list")
    sign_in(staff, live_server, "staff", passwords["staff"])
    with live_server.app.app_context():
        proposals = db.session.scalar(select(func.count(Proposal.id)))
    assert proposals > 60
    staff.goto(live_server.url("/proposals/"))
    pages = -(-proposals // 20)
    assert staff.locator("main p.meta[role=status]").inner_text() == f"共{proposals}条 · 第1页，共{pages}页"
    assert staff.locator("main tbody tr").count() == 20
    nav = staff.get_by_role("navigation", name="分页")
    assert nav.locator("a[aria-current=page]").inner_text() == "1"
    screenshot(staff, "staff-proposals-page-1-phone")
    axe.check(staff, "staff-proposals-page-1-phone")
    staff.fill("main input[name=q]", "樊城区")
    staff.select_option("main select[name=status]", "received")
    submit(staff, "main form.filters button[type=submit]")
    searched = staff.locator("main p.meta[role=status]").inner_text()
    with staff.expect_navigation():
        staff.get_by_role("navigation", name="分页").get_by_role("link", name="下一页").click()
    assert {"q": "樊城区", "status": "received", "page": "2"}.items() <= _query(staff).items()
    assert staff.locator("main p.meta[role=status]").inner_text().split(" · ")[0] == searched.split(" · ")[0]
    assert staff.get_by_role("navigation", name="分页").locator("a[aria-current=page]").inner_text() == "2"
    assert staff.locator("main input[name=q]").input_value() == "樊城区"
    screenshot(staff, "staff-proposals-search-page-2-phone")
    axe.check(staff, "staff-proposals-search-page-2-phone")

    # Without JavaScript the same links work: they are plain links and a GET form.
    no_js = watch.page(page_factory, "phone", "no-js list", java_script_enabled=False)
    sign_in(no_js, live_server, "staff", passwords["staff"])
    no_js.goto(live_server.url(f"/proposals/?page={pages}"))
    assert no_js.locator("main tbody tr").count() == proposals - 20 * (pages - 1)  # the last page holds the rest
    with no_js.expect_navigation():
        no_js.get_by_role("link", name="上一页").click()
    assert _query(no_js)["page"] == str(pages - 1) and no_js.locator("main tbody tr").count() == 20
    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)


@pytest.mark.demo
def test_a_merge_is_confirmed_on_a_page_and_undone_on_a_desktop(live_server, page_factory, screenshot):
    passwords, _, proposal, _ = seeded(live_server)
    watch, axe = Watch(), Axe()
    staff = watch.page(page_factory, "desktop", "staff")
    sign_in(staff, live_server, "staff", passwords["staff"])
    staff.goto(live_server.url(f"/proposals/{proposal}"))
    title = staff.locator("main h1").inner_text()
    with staff.expect_navigation():
        staff.locator("#merge-heading + p + ul a.button").first.click()
    assert urlsplit(staff.url).path == f"/proposals/{proposal}/merge"
    assert staff.locator("main h1").inner_text() == "确认合并此条建议？"
    assert staff.get_by_role("heading", name="将会发生什么").count() == 1
    assert title in staff.locator("#from-heading + p").inner_text()
    into_title = staff.locator("#into-heading + p strong").inner_text()
    screenshot(staff, "merge-confirm-desktop")
    axe.check(staff, "merge-confirm-desktop")

    # Cancel changes nothing.
    with staff.expect_navigation():
        staff.get_by_role("link", name="取消").click()
    assert staff.locator("#accept-heading").count() == 1

    staff.goto(live_server.url(f"/proposals/{proposal}/merge?" + urlsplit(staff.locator("#merge-heading + p + ul a.button").first.get_attribute("href")).query))
    assert submit(staff, "main form.actions button[type=submit]").status == 200
    assert flashes(staff, "success") and "可在下方撤销" in flashes(staff, "success")[0]
    assert into_title in staff.locator("main dl.details").inner_text()
    screenshot(staff, "merged-with-undo-desktop")
    axe.check(staff, "merged-with-undo-desktop")

    assert submit(staff, "#unmerge-heading ~ form button[type=submit]").status == 200
    assert "已撤销合并" in flashes(staff, "success")[0]
    assert staff.locator("main h1").inner_text() == title and staff.locator("#accept-heading").count() == 1
    screenshot(staff, "merge-undone-desktop")
    axe.check(staff, "merge-undone-desktop")
    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
