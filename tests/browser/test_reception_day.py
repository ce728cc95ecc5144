"""Liaison stations in the browser on the demo: staff see the 25 stations, a station's deputies,
calendar and duty roster (1920x1080); the deputy on duty today enters visitors' proposals in bulk on
a phone without JavaScript: a bad row stores nothing and is marked, "more rows" adds rows, and the
corrected batch is stored with tracking codes for the visitors."""

import pytest
from sqlalchemy import func, select

from tests.browser.conftest import seeded
from tests.browser.test_project_lifecycle import Axe, Watch, flashes, sign_in, submit

WIDE = {"viewport": {"width": 1920, "height": 1080}}


@pytest.mark.demo
def test_station_pages_and_reception_day_entry_on_a_phone(live_server, page_factory, screenshot):
    from voting_app.db import db
    from voting_app.proposals.models import RECEPTION_DAY, Proposal
    from voting_app.sessions.models import Deputy

    passwords, _, _, _ = seeded(live_server)
    from voting_app.sessions.models import CongressSession

    with live_server.app.app_context():
        session = db.session.scalar(select(CongressSession).where(CongressSession.name == "樊城区第十九届人民代表大会第六次会议"))
        first = db.session.scalar(select(Deputy).where(Deputy.session_id == session.id).order_by(Deputy.number))
        home = first.person.station
        station_id, station_name, name = home.id, home.name, first.person.name
        before = db.session.scalar(select(func.count(Proposal.id)).where(Proposal.channel == RECEPTION_DAY))
    token, pin = _known_card(live_server, first.id)
    watch, axe = Watch(), Axe()

    staff = watch.page(page_factory, "desktop", "staff", **WIDE)
    sign_in(staff, live_server, "staff", passwords["staff"])
    assert staff.goto(live_server.url("/stations/")).status == 200
    assert staff.locator("main tbody tr").count() == 25
    screenshot(staff, "staff-stations-1920")
    axe.check(staff, "staff-stations-1920")
    assert staff.goto(live_server.url(f"/stations/{station_id}")).status == 200
    text = staff.locator("main").inner_text()
    assert "接待日历" in text and name in text
    screenshot(staff, "staff-station-1920")
    axe.check(staff, "staff-station-1920")
    staff.locator("main table a", has_text="排班、调整或取消").first.click()
    staff.wait_for_load_state()
    screenshot(staff, "staff-reception-day-1920")
    axe.check(staff, "staff-reception-day-1920")

    # Scripts on: axe needs them (it hangs on a page without); the entry form itself is plain HTML
    # posts, "more rows" included, and needs none.
    phone = watch.page(page_factory, "phone", "deputy")
    phone.goto(live_server.url(f"/c/{token}"))
    phone.fill("#pin", pin)
    assert submit(phone, "main form button[type=submit]").status == 200
    assert phone.goto(live_server.url("/stations/reception")).status == 200
    assert "接待日录入" in phone.locator("main h1").inner_text() and station_name in phone.locator("main").inner_text()
    screenshot(phone, "phone-entry-empty")
    axe.check(phone, "phone-entry-empty")

    phone.fill("#row-0-title", "修缮小区道路")
    phone.fill("#row-0-description", "小区主干道坑洼积水，老人出行不便。")
    phone.select_option("#row-0-theme", "roads_transport")
    phone.fill("#row-1-title", "增设路灯")
    phone.fill("#row-1-description", "太短")
    assert submit(phone, "main form button.primary").status == 400
    main = phone.locator("main").inner_text()
    assert "全部未保存" in main and "修缮小区道路" in phone.input_value("#row-0-title")
    assert phone.locator("#row-1.has-error").count() == 1
    screenshot(phone, "phone-entry-bad-row")
    axe.check(phone, "phone-entry-bad-row")

    assert submit(phone, "main form button[name=more]").status == 200
    assert phone.locator("#row-5-title").count() == 1 and phone.input_value("#row-1-title") == "增设路灯"
    phone.fill("#row-1-description", "巷子里晚上没有灯，希望增设路灯。")
    phone.select_option("#row-1-theme", "roads_transport")
    phone.fill("#row-4-title", "社区老年食堂")
    phone.fill("#row-4-description", "独居老人吃饭难，希望开办老年食堂。")
    phone.select_option("#row-4-theme", "elderly_childcare")
    assert submit(phone, "main form button.primary").status == 200
    stored = flashes(phone, "success")
    assert stored and "3" in stored[0]
    screenshot(phone, "phone-entry-stored")
    axe.check(phone, "phone-entry-stored")
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id)).where(Proposal.channel == RECEPTION_DAY)) == before + 3

    assert staff.goto(live_server.url("/stations/counts")).status == 200
    screenshot(staff, "staff-counts-1920")
    axe.check(staff, "staff-counts-1920")
    assert staff.goto(live_server.url("/stations/")).status == 200
    screenshot(staff, "staff-stations-after-1920")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)


def _known_card(server, deputy_id: int) -> tuple[str, str]:
    """The demo keeps only the card's hashes: give the first deputy's card a token and PIN the test knows."""
    from voting_app.auth.service import hash_pin, token_digest
    from voting_app.ballots.credentials import active_credential
    from voting_app.db import db

    token, pin = "reception-day-test-card-0001", "246810"
    with server.app.app_context():
        credential = active_credential(deputy_id)
        credential.token_hash, credential.pin_hash = token_digest(token), hash_pin(pin)
        db.session.commit()
    return token, pin
