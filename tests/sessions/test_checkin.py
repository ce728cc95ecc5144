"""Check-in: the staff desk (search, button, card scan), presence and quorum, and the
rotating venue code a deputy scans with their own phone."""

import html
import re
import time

import pytest
from sqlalchemy import select

from tests.conftest import build_world, post, sign_in
from tests.helpers import new_client, signed_in, url
from voting_app.sessions import checkin_code
from voting_app.sessions.presence import Presence

SECRET = "a-secret"


def deputy_state(app, deputy_id):
    from voting_app.db import db
    from voting_app.sessions.models import Deputy

    with app.app_context():
        deputy = db.session.get(Deputy, deputy_id)
        return deputy.checked_in_at, deputy.checkin_method


def present_count(app, session_id):
    from voting_app.db import db
    from voting_app.sessions import service

    with app.app_context():
        figures = service.presence(session_id)
        db.session.rollback()
        return figures.present


def flashes(client, response):
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    return [html.unescape(m) for m in re.findall(r'<p class="flash flash-\w+"[^>]*>(.*?)</p>', page, re.DOTALL)]


@pytest.fixture
def desk_world(app):
    """A session of four deputies, nobody checked in yet, each with a card."""
    from voting_app.ballots.credentials import issue_missing_cards
    from voting_app.db import db
    from voting_app.sessions import service
    from voting_app.registry.roster import RosterParse, RosterRow

    with app.app_context():
        congress = service.create_session("test", "测试会议")
        rows = (
            RosterRow(2, "001", "张三", "城区代表团", ""),
            RosterRow(3, "002", "李四", "城区代表团", ""),
            RosterRow(4, "003", "王五", "农村代表团", ""),
            RosterRow(5, "004", "张小明", "农村代表团", ""),
        )
        service.import_roster("test", congress, RosterParse(rows, ()))
        db.session.refresh(congress)
        cards = {card.deputy.number: (card.deputy.id, card.token) for card in issue_missing_cards("test", congress)}
        db.session.commit()
        return congress.id, cards


# ---- the desk ----------------------------------------------------------------------


SEARCHES = [
    ("张", [("001", "张三"), ("004", "张小明")]),
    ("小明", [("004", "张小明")]),
    ("003", [("003", "王五")]),
    ("农村代表团", [("003", "王五"), ("004", "张小明")]),
    ("城区", [("001", "张三"), ("002", "李四")]),
    ("00", []),  # numbers match whole, so a fragment finds nobody
    ("赵", []),
    # a typed % or _ is a character, not a wildcard
    ("%", []),
    ("_", []),
    ("张%明", []),
]


def test_desk_search_by_name_number_or_delegation(app, desk_world):
    session_id, _ = desk_world
    staff = signed_in(app, "staff")
    for query, expected in SEARCHES:
        response = staff.get(url(app, "sessions.checkin_desk", session_id=session_id, q=query))
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert re.findall(r"<li><span>(\S+) (\S+) <small>", page) == expected, query
        if not expected:
            assert f"No deputy matches “{html.escape(query)}”." in page, query


def test_desk_search_ignores_letter_case_on_every_database(app):
    from voting_app.db import db
    from voting_app.sessions import service
    from voting_app.registry.roster import RosterParse, RosterRow

    with app.app_context():
        congress = service.create_session("test", "Test session")
        rows = (RosterRow(2, "A1", "Zhang San", "Urban", ""), RosterRow(3, "A2", "Li Si", "Rural", ""))
        service.import_roster("test", congress, RosterParse(rows, ()))
        db.session.commit()
        session_id = congress.id
    staff = signed_in(app, "staff")
    for query, expected in (("zhang", [("A1", "Zhang")]), ("RURAL", [("A2", "Li")]), ("A1", [("A1", "Zhang")])):
        page = staff.get(url(app, "sessions.checkin_desk", session_id=session_id, q=query)).get_data(as_text=True)
        assert re.findall(r"<li><span>(\S+) (\S+) ", page) == expected, query


def test_desk_search_ignores_every_kind_of_space_and_lists_numbers_as_numbers(app):
    from voting_app.db import db
    from voting_app.sessions import service
    from voting_app.registry.roster import RosterParse, RosterRow

    with app.app_context():
        congress = service.create_session("test", "测试会议")
        rows = (
            RosterRow(2, "10", "唐\u3000军", "城区代表团", ""),
            RosterRow(3, "2", "唐\u00a0军", "城区代表团", ""),
            RosterRow(4, "101", "唐\u2009军", "农村代表团", ""),
            RosterRow(5, "11", "唐军", "农村 代表团", ""),
            RosterRow(6, "001", "唐　小军", "农村代表团", ""),
        )
        service.import_roster("test", congress, RosterParse(rows, ()))
        db.session.commit()
        session_id = congress.id
    staff = signed_in(app, "staff")
    everyone = [("2", "唐\u00a0军"), ("10", "唐\u3000军"), ("11", "唐军"), ("101", "唐\u2009军")]
    for query, expected in (
        ("唐军", everyone),
        ("唐 军", everyone),
        ("唐\u3000军", everyone),
        ("唐", [("001", "唐　小军")] + everyone),
        ("农村代表团", [("001", "唐　小军"), ("11", "唐军"), ("101", "唐\u2009军")]),
        ("1", [("001", "唐　小军")]),
    ):
        page = staff.get(url(app, "sessions.checkin_desk", session_id=session_id, q=query)).get_data(as_text=True)
        found = re.findall(r"<li><span>(\S+) (.+?) <small>", page)
        assert [(number, html.unescape(name)) for number, name in found] == expected, query


def test_desk_search_stays_inside_the_session(app, desk_world):
    session_id, _ = desk_world
    with app.app_context():
        other = build_world(deputies=3)  # 代表1..3 in another session
    staff = signed_in(app, "staff")
    page = staff.get(url(app, "sessions.checkin_desk", session_id=session_id, q="代表")).get_data(as_text=True)
    assert "代表1" not in page  # the other session's 代表1..3 are not listed
    # every deputy here matches through the delegation (城区代表团, 农村代表团)
    assert re.findall(r"<li><span>(\S+) (\S+) <small>", page) == [("001", "张三"), ("002", "李四"), ("003", "王五"), ("004", "张小明")]
    assert other.session_id != session_id


def test_desk_button_checks_in_once_and_twice_is_harmless(app, desk_world):
    from voting_app.audit import AuditEntry
    from voting_app.db import db

    session_id, cards = desk_world
    deputy_id = cards["002"][0]
    staff = signed_in(app, "staff")
    button = url(app, "sessions.checkin_deputy", session_id=session_id, deputy_id=deputy_id, q="李")

    response = post(staff, button)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/sessions/{session_id}/checkin?q=%E6%9D%8E")
    assert flashes(staff, response) == ["李四 (002) checked in."]
    checked_in_at, method = deputy_state(app, deputy_id)
    assert checked_in_at is not None and method == "desk"
    assert present_count(app, session_id) == 1

    again = post(staff, button)
    assert flashes(staff, again) == ["李四 was already checked in."]
    assert deputy_state(app, deputy_id) == (checked_in_at, "desk")
    assert present_count(app, session_id) == 1
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "checkin.desk")).all()
        assert [(e.target, e.details["name"]) for e in entries] == [(f"deputy:{deputy_id}", "李四")]
        assert entries[0].actor.startswith("user:")

    page = staff.get(url(app, "sessions.checkin_desk", session_id=session_id, q="李")).get_data(as_text=True)
    assert "Check in 李四" not in page  # the button is gone once present


def test_desk_button_without_csrf_changes_nothing(app, desk_world):
    session_id, cards = desk_world
    staff = signed_in(app, "staff")
    response = staff.post(url(app, "sessions.checkin_deputy", session_id=session_id, deputy_id=cards["001"][0]))
    assert response.status_code == 400
    assert deputy_state(app, cards["001"][0]) == (None, None)


def test_desk_button_for_a_deputy_of_another_session_is_404(app, desk_world):
    session_id, _ = desk_world
    with app.app_context():
        other = build_world(deputies=3, present=0)
    staff = signed_in(app, "staff")
    response = post(staff, url(app, "sessions.checkin_deputy", session_id=session_id, deputy_id=other.deputy_ids[0]))
    assert response.status_code == 404
    assert deputy_state(app, other.deputy_ids[0]) == (None, None)


@pytest.mark.parametrize("scanned", ["http://localhost/c/{token}", "{token}", "  https://vote.example.cn/c/{token}/ \n"])
def test_card_scan_accepts_the_card_url_or_the_bare_token(app, desk_world, scanned):
    session_id, cards = desk_world
    deputy_id, token = cards["003"]
    staff = signed_in(app, "staff")
    response = post(staff, url(app, "sessions.checkin_card", session_id=session_id), {"card": scanned.format(token=token)})
    assert flashes(staff, response) == ["王五 (003) checked in."]
    assert deputy_state(app, deputy_id)[1] == "desk"
    assert present_count(app, session_id) == 1


def test_card_scan_refuses_a_revoked_card_and_unknown_codes(app, desk_world):
    from voting_app.ballots.credentials import (
        active_credential,
        issue_card,
        revoke_card,
    )
    from voting_app.db import db
    from voting_app.sessions.models import Deputy

    session_id, cards = desk_world
    revoked_id, revoked_token = cards["001"]
    replaced_id, replaced_token = cards["002"]
    with app.app_context():
        revoke_card("test", active_credential(revoked_id))
        new_token = issue_card("test", db.session.get(Deputy, replaced_id)).token
        db.session.commit()
    staff = signed_in(app, "staff")
    scan = url(app, "sessions.checkin_card", session_id=session_id)

    for code in (revoked_token, f"http://localhost/c/{replaced_token}", "not-a-card", "http://localhost/c/"):
        response = post(staff, scan, {"card": code})
        assert flashes(staff, response) == ["No valid card of this session matches that code."], code
    assert deputy_state(app, revoked_id) == (None, None)
    assert present_count(app, session_id) == 0

    response = post(staff, scan, {"card": new_token})
    assert flashes(staff, response) == ["李四 (002) checked in."]


def test_card_scan_refuses_a_card_of_another_session(app, desk_world):
    session_id, _ = desk_world
    with app.app_context():
        other = build_world(deputies=3, present=0)
    token = other.cards[other.deputy_ids[0]][0]
    staff = signed_in(app, "staff")
    response = post(staff, url(app, "sessions.checkin_card", session_id=session_id), {"card": token})
    assert flashes(staff, response) == ["No valid card of this session matches that code."]
    assert deputy_state(app, other.deputy_ids[0]) == (None, None)


# ---- presence and quorum -----------------------------------------------------------


@pytest.mark.parametrize(
    ("present", "expected"),
    [
        (5, {"roster": 9, "present": 5, "absent": 4, "quorum": 5, "has_quorum": True}),
        (4, {"roster": 9, "present": 4, "absent": 5, "quorum": 5, "has_quorum": False}),
        (9, {"roster": 9, "present": 9, "absent": 0, "quorum": 5, "has_quorum": True}),
        (0, {"roster": 9, "present": 0, "absent": 9, "quorum": 5, "has_quorum": False}),
    ],
)
def test_presence_json_counts_the_roster_and_quorum_means_more_than_half(app, present, expected):
    with app.app_context():
        world = build_world(deputies=9, present=present)
    presiding = signed_in(app, "presiding")
    response = presiding.get(url(app, "sessions.presence_json", session_id=world.session_id))
    assert response.status_code == 200
    assert response.get_json() == expected


@pytest.mark.parametrize(
    ("roster", "present", "quorum", "has_quorum"),
    [(10, 5, 6, False), (10, 6, 6, True), (1, 1, 1, True), (2, 1, 2, False), (0, 0, 1, False)],
)
def test_exactly_half_is_not_a_quorum(roster, present, quorum, has_quorum):
    figures = Presence(roster=roster, present=present)
    assert (figures.quorum, figures.has_quorum) == (quorum, has_quorum)


def test_a_round_cannot_open_without_quorum_and_the_page_says_why(app):
    from voting_app.ballots.models import Round
    from voting_app.db import db

    with app.app_context():
        world = build_world(deputies=9, present=4)
        absent_id = world.deputy_ids[-1]
    presiding = new_client(app)
    with app.app_context():
        sign_in(presiding, world.user(world.presiding_id))
    open_url = url(app, "ballots.round_open", round_id=world.round_id)

    response = post(presiding, open_url)
    assert response.status_code == 302
    assert flashes(presiding, response) == [
        "No quorum: 4 of 9 deputies are present; at least 5 are needed."
    ]
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "draft"

    post(signed_in(app, "staff"), url(app, "sessions.checkin_deputy", session_id=world.session_id, deputy_id=absent_id))
    response = post(presiding, open_url)
    assert flashes(presiding, response) == []
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "open"


# ---- the rotating venue code -------------------------------------------------------


def test_the_venue_code_changes_every_period_and_differs_per_session():
    period = 60
    now = 1_700_000_000.0
    codes = [checkin_code.current_code(SECRET, 1, now + i * period, period) for i in range(5)]
    assert len(set(codes)) == 5
    assert all(re.fullmatch(r"[A-Z2-7]{8}", code) for code in codes)
    assert checkin_code.seconds_left(now, period) == 40
    assert checkin_code.current_code(SECRET, 1, now + 39, period) == codes[0]  # same period, same code
    assert checkin_code.current_code(SECRET, 2, now, period) != codes[0]
    assert checkin_code.current_code("another-secret", 1, now, period) != codes[0]


def test_the_venue_code_accepts_this_period_and_the_previous_one_only():
    period = 60
    index = 28_333_333
    now = index * period + 30.0
    code = lambda i: checkin_code.code_for(SECRET, 7, i)
    assert checkin_code.is_valid_code(SECRET, 7, code(index), now, period)
    assert checkin_code.is_valid_code(SECRET, 7, code(index - 1), now, period)  # scanned at the turn
    assert not checkin_code.is_valid_code(SECRET, 7, code(index - 2), now, period)
    assert not checkin_code.is_valid_code(SECRET, 7, code(index - 10), now, period)
    assert not checkin_code.is_valid_code(SECRET, 7, code(index + 1), now, period)  # not yet shown
    assert not checkin_code.is_valid_code(SECRET, 8, code(index), now, period)  # another session's screen
    assert not checkin_code.is_valid_code(SECRET, 7, "AAAAAAAA", now, period)
    assert not checkin_code.is_valid_code(SECRET, 7, "", now, period)
    assert checkin_code.is_valid_code(SECRET, 7, f"  {code(index).lower()} ", now, period)  # typed by hand


def test_seconds_left_counts_down_to_the_next_code():
    assert checkin_code.seconds_left(600.0, 60) == 60
    assert checkin_code.seconds_left(601.5, 60) == 58
    assert checkin_code.seconds_left(659.9, 60) == 0


@pytest.fixture
def venue(app):
    """A session of nine deputies, nobody present yet, and a client signed in with the first deputy's card."""
    with app.app_context():
        world = build_world(deputies=9, present=0)
        deputy_id = world.deputy_ids[0]
        client = new_client(app)
        sign_in(client, world.credential(deputy_id))
    return world, deputy_id, client


def venue_code(app, session_id, periods_ago=0):
    period = app.config["CHECKIN_CODE_PERIOD"]
    now = time.time()
    if periods_ago == 0:
        return checkin_code.current_code(app.config["SECRET_KEY"], session_id, now, period)
    return checkin_code.code_for(app.config["SECRET_KEY"], session_id, checkin_code.period_index(now, period) - periods_ago)


def test_a_deputy_checks_in_with_the_code_on_the_venue_screen(app, venue):
    world, deputy_id, deputy = venue
    response = post(deputy, url(app, "sessions.checkin_self", session_id=world.session_id), {"code": venue_code(app, world.session_id)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(app, "ballots.deputy_home"))
    assert flashes(deputy, response) == ["You are checked in."]
    checked_in_at, method = deputy_state(app, deputy_id)
    assert checked_in_at is not None and method == "venue_code"
    assert present_count(app, world.session_id) == 1

    again = post(deputy, url(app, "sessions.checkin_self", session_id=world.session_id), {"code": venue_code(app, world.session_id)})
    assert flashes(deputy, again) == ["You were already checked in."]
    assert deputy_state(app, deputy_id) == (checked_in_at, "venue_code")


def test_the_screen_link_opens_a_form_already_filled_in(app, venue):
    world, deputy_id, deputy = venue
    screen = signed_in(app, "presiding").get(url(app, "sessions.checkin_screen_json", session_id=world.session_id)).get_json()
    assert screen["url"].startswith(f"http://localhost/sessions/{world.session_id}/checkin/venue?code=")
    assert (screen["roster"], screen["present"], screen["quorum"]) == (9, 0, 5)
    assert "<svg" in screen["qr"]
    page = deputy.get(screen["url"]).get_data(as_text=True)
    assert f'value="{screen["code"]}"' in page
    response = post(deputy, screen["url"], {"code": screen["code"]})
    assert response.status_code == 302
    assert deputy_state(app, deputy_id)[1] == "venue_code"


def test_the_previous_periods_code_still_checks_in(app, venue):
    world, deputy_id, deputy = venue
    post(deputy, url(app, "sessions.checkin_self", session_id=world.session_id), {"code": venue_code(app, world.session_id, 1)})
    assert deputy_state(app, deputy_id)[1] == "venue_code"


def test_an_expired_or_wrong_code_is_refused_and_leaves_the_deputy_absent(app, venue):
    world, deputy_id, deputy = venue
    refused = {
        "two periods old": venue_code(app, world.session_id, 2),
        "typed wrong": "WRONGCOD",
        "another session's screen": venue_code(app, world.session_id + 1),
    }
    for case, code in refused.items():
        response = post(deputy, url(app, "sessions.checkin_self", session_id=world.session_id), {"code": code})
        assert response.status_code == 200, case
        assert "This code has expired or is wrong. Scan the code on the screen again." in response.get_data(as_text=True), case
        assert deputy_state(app, deputy_id) == (None, None), case
    assert present_count(app, world.session_id) == 0


def test_a_deputy_of_another_session_gets_403(app, venue):
    world, _, _ = venue
    with app.app_context():
        other = build_world(deputies=3, present=0)
        stranger = new_client(app)
        sign_in(stranger, other.credential(other.deputy_ids[0]))
    checkin_url = url(app, "sessions.checkin_self", session_id=world.session_id)
    assert stranger.get(checkin_url).status_code == 403
    response = post(stranger, checkin_url, {"code": venue_code(app, world.session_id)})
    assert response.status_code == 403
    assert deputy_state(app, other.deputy_ids[0]) == (None, None)
    assert present_count(app, world.session_id) == 0


def test_staff_cannot_use_the_deputies_check_in_page(app, venue):
    world, _, _ = venue
    staff = signed_in(app, "staff")
    response = post(staff, url(app, "sessions.checkin_self", session_id=world.session_id), {"code": venue_code(app, world.session_id)})
    assert response.status_code == 403
