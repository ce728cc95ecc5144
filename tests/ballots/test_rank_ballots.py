"""Priority ballots (method "rank") end to end: staff create the round, deputies number the
candidates on a phone without JavaScript, the count shows votes, points and the priority
order, paper ballots are keyed twice, and nothing about a ballot leaks through its size."""

import ast
import io
import json
import re
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.ballots.helpers import (
    announce_round,
    as_deputy,
    as_role,
    close_round,
    confirm_round,
    open_round,
    receipt_of,
    sealed_contents,
    ticket_from,
)
from tests.conftest import build_world, post
from voting_app.ballots import sealing, service
from voting_app.ballots.models import CLOSED, PAPER, Ballot, BallotMarker, Round
from voting_app.ballots.numbering import GAP, OUT_OF_RANGE, REPEATED, TOO_MANY, NumberingError, paper_order, priority_order
from voting_app.db import db
from voting_app.sessions.models import CongressSession
from voting_app.verify import main as verify_main

ROOT = Path(__file__).resolve().parents[2]


def rank_world(app, **changes):
    with app.app_context():
        return build_world(**{"candidates": 5, "seats": 3, "method": "rank", **changes})


def numbers_form(numbers: dict) -> dict:
    """The ballot form as posted: one select per candidate, empty where not numbered."""
    return {f"rank-{cid}": str(number) for cid, number in numbers.items()}


def review(client, round_id, numbers, ticket=None):
    data = {"ticket": ticket or ticket_from(client, round_id), **numbers_form(numbers)}
    return post(client, f"/ballots/rounds/{round_id}/ballot/confirm", data)


def cast_numbers(client, round_id, numbers, ticket=None):
    data = {"ticket": ticket or ticket_from(client, round_id), **numbers_form(numbers)}
    return post(client, f"/ballots/rounds/{round_id}/ballot/cast", data)


def stored(app, world):
    with app.app_context():
        markers = db.session.scalar(select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == world.round_id))
    return [choices for _receipt, choices in sealed_contents(app, world)], markers


def selected_numbers(page: str) -> dict[int, int]:
    """What each select on the page shows as chosen."""
    found = {}
    for cid, body in re.findall(r'<select id="rank-(\d+)" name="rank-\d+">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="(\d+)" selected>', body)
        if chosen:
            found[int(cid)] = int(chosen.group(1))
    return found


# --- the numbers a deputy gives, read as an order (pure) ----------------------------------


@pytest.mark.parametrize(
    "numbers, reason, details",
    [
        ({1: 1, 2: 2, 3: 3, 4: 4}, TOO_MANY, {"count": 4}),
        ({1: 1, 2: 5}, OUT_OF_RANGE, {"number": 5}),
        ({1: 0}, OUT_OF_RANGE, {"number": 0}),
        ({1: 1, 2: 1}, REPEATED, {"number": 1}),
        ({1: 2, 2: 2, 3: 3}, REPEATED, {"number": 2}),
        ({1: 1, 2: 3}, GAP, {"number": 2}),
        ({1: 2}, GAP, {"number": 1}),
    ],
)
def test_numbers_that_give_no_order_are_named(numbers, reason, details):
    with pytest.raises(NumberingError) as problem:
        priority_order(numbers, 3)
    assert (problem.value.reason, problem.value.details) == (reason, details)


def test_numbers_read_as_the_priority_order():
    assert priority_order({7: 2, 3: 1, 9: 3}, 3) == [3, 7, 9]
    assert priority_order({}, 3) == []


def test_on_paper_the_written_order_counts_unless_the_ballot_lists_more_than_n_or_repeats_a_number():
    """The count's rule: a ballot listing more than N is void; a number given to two candidates
    leaves no order. A skipped number or one above N keeps the order written."""
    assert paper_order({7: 4, 3: 1, 9: 2}, 5) == [3, 9, 7]  # 1, 2, 4
    assert paper_order({7: 12, 3: 1, 9: 2}, 3) == [3, 9, 7]  # 1, 2, 12 for 3 places
    assert paper_order({7: 6}, 5) == [7]
    assert paper_order({7: 1, 3: 1}, 5) is None
    assert paper_order({1: 1, 2: 2, 3: 3, 4: 4}, 3) is None  # four listed for three places
    assert paper_order({1: 1, 2: 2, 3: 3, 4: 9}, 3) is None
    assert paper_order({7: 0}, 5) is None
    assert paper_order({}, 5) == []


def test_the_numbering_rule_imports_no_web_framework_or_database():
    tree = ast.parse((ROOT / "voting_app/ballots/numbering.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not {name for name in imported if name and name.split(".")[0] in ("flask", "flask_babel", "sqlalchemy", "voting_app")}


# --- staff prepare the round --------------------------------------------------------------


def test_staff_create_a_rank_round_from_the_form(app, world):
    staff = as_role(app, world, "staff")
    form = staff.get(f"/ballots/sessions/{world.session_id}/rounds/new").get_data(as_text=True)
    assert '<option value="rank">Number up to N candidates by priority (1 most urgent)</option>' in form
    data = {"title": "2027年镇级民生实事项目排序票决", "method": "rank", "seats": "2", "threshold_base": "roster",
            "mode": "electronic", "satisfaction_bar": "60"}
    created = post(staff, f"/ballots/sessions/{world.session_id}/rounds/new", data)
    assert created.status_code == 302
    with app.app_context():
        round_ = db.session.scalars(select(Round).where(Round.title == data["title"])).one()
        assert (round_.method, round_.seats) == ("rank", 2)
    detail = staff.get(created.headers["Location"]).get_data(as_text=True)
    assert "Priority ballot: number up to 2 by priority" in detail


def test_the_form_label_is_chinese_by_default(app, world):
    staff = as_role(app, world, "staff")
    staff.set_cookie("lang", "zh_Hans_CN")
    form = staff.get(f"/ballots/sessions/{world.session_id}/rounds/new").get_data(as_text=True)
    assert "按轻重缓急排序票决" in form


def test_a_rank_round_with_more_places_than_candidates_does_not_open(app):
    world = rank_world(app, candidates=2, seats=3)
    page = post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/open", follow_redirects=True)
    assert "There are more seats than candidates." in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "draft"


# --- a deputy numbers the candidates ------------------------------------------------------


def test_the_ballot_offers_a_number_select_per_candidate_and_works_without_script(app):
    world = rank_world(app)
    open_round(app, world)
    page = as_deputy(app, world).get(f"/ballots/rounds/{world.round_id}/ballot").get_data(as_text=True)
    start = page.index(f'<form method="post" action="/ballots/rounds/{world.round_id}/ballot/confirm"')
    form = page[start:page.index("</form>", start)]
    assert "<script" not in form and "onclick" not in form and "onchange" not in form
    for cid in world.candidate_ids:
        select_html = re.search(rf'<select id="rank-{cid}" name="rank-{cid}">(.*?)</select>', form, re.S).group(1)
        assert re.findall(r'<option value="(\d*)"', select_html) == ["", "1", "2", "3"]
        assert f'<label for="rank-{cid}">' in form


def test_a_valid_ballot_is_confirmed_in_order_and_sealed_as_the_ordered_list(app):
    world = rank_world(app)
    open_round(app, world)
    a, b, c, d, e = world.candidate_ids
    deputy = as_deputy(app, world)
    ticket = ticket_from(deputy, world.round_id)
    confirm = review(deputy, world.round_id, {d: 1, a: 2, c: 3, b: ""}, ticket)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "You numbered 3 of at most 3, in this order of priority:" in page
    listed = re.search(r'<ol class="chosen">(.*?)</ol>', page, re.S).group(1)
    assert re.findall(r"<li>(.*?)</li>", listed) == ["项目4", "项目1", "项目3"]
    hidden = re.findall(r'<input type="hidden" name="rank-(\d+)" value="(\d+)">', page)
    assert hidden[:3] == [(str(d), "1"), (str(a), "2"), (str(c), "3")]
    assert cast_numbers(deputy, world.round_id, {d: 1, a: 2, c: 3}, ticket).status_code == 302
    assert stored(app, world) == ([[d, a, c]], 1)
    assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", receipt_of(deputy, world.round_id))


def test_going_back_from_the_confirm_page_keeps_the_numbers(app):
    world = rank_world(app)
    open_round(app, world)
    a, b, c, _, _ = world.candidate_ids
    deputy = as_deputy(app, world)
    ticket = ticket_from(deputy, world.round_id)
    back = post(deputy, f"/ballots/rounds/{world.round_id}/ballot", {"ticket": ticket, **numbers_form({c: 1, a: 2})})
    assert selected_numbers(back.get_data(as_text=True)) == {c: 1, a: 2}


@pytest.mark.parametrize(
    "kind, message",
    [
        ("repeated", "You gave the number 1 to more than one project: each number goes to one project only."),
        ("gap", "The number 2 is missing: number the projects 1, 2, 3 and so on, without skipping."),
        ("too_many", "You numbered 4 projects; number at most 3."),
        ("out_of_range", "Use only the numbers 1 to 3."),
    ],
)
def test_a_bad_numbering_is_refused_plainly_keeps_the_marks_and_stores_nothing(app, kind, message):
    world = rank_world(app)
    open_round(app, world)
    a, b, c, d, _ = world.candidate_ids
    numbers = {
        "repeated": {a: 1, b: 1, c: 2},
        "gap": {a: 1, c: 3},
        "too_many": {a: 1, b: 2, c: 3, d: 3},
        "out_of_range": {a: 1, b: 7},
    }[kind]
    deputy = as_deputy(app, world)
    ticket = ticket_from(deputy, world.round_id)
    refused = review(deputy, world.round_id, numbers, ticket)
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert message in page
    kept = selected_numbers(page)
    assert {cid: n for cid, n in numbers.items() if n <= 3} == kept, "the deputy's numbers are kept"
    if kind == "repeated":
        assert page.count("This number is given twice") == 2
    forced = cast_numbers(deputy, world.round_id, numbers, ticket)
    assert forced.status_code == 400 and message in forced.get_data(as_text=True)
    assert stored(app, world) == ([], 0)


def test_the_chinese_errors_say_what_to_correct(app):
    world = rank_world(app)
    open_round(app, world)
    a, b, c, _, _ = world.candidate_ids
    deputy = as_deputy(app, world)
    deputy.set_cookie("lang", "zh_Hans_CN")
    repeated = review(deputy, world.round_id, {a: 2, b: 2, c: 1}).get_data(as_text=True)
    assert "序号 2 给了不止一个项目" in repeated and "此序号重复" in repeated
    gap = review(deputy, world.round_id, {a: 1, b: 3}).get_data(as_text=True)
    assert "缺少序号 2" in gap


@pytest.mark.parametrize("value", ["x", "1.5", "-1", "12345"])
def test_crafted_numbers_are_refused_and_store_nothing(app, value):
    world = rank_world(app)
    open_round(app, world)
    a = world.candidate_ids[0]
    deputy = as_deputy(app, world)
    data = {"ticket": ticket_from(deputy, world.round_id), f"rank-{a}": value}
    assert post(deputy, f"/ballots/rounds/{world.round_id}/ballot/cast", data).status_code == 400
    assert stored(app, world) == ([], 0)


def test_numbers_for_an_unknown_candidate_or_twice_for_one_are_refused(app):
    world = rank_world(app)
    open_round(app, world)
    a = world.candidate_ids[0]
    deputy = as_deputy(app, world)
    ticket = ticket_from(deputy, world.round_id)
    assert post(deputy, f"/ballots/rounds/{world.round_id}/ballot/cast", {"ticket": ticket, "rank-999999": "1"}).status_code == 400
    assert post(deputy, f"/ballots/rounds/{world.round_id}/ballot/cast", {"ticket": ticket, f"rank-{a}": ["1", "2"]}).status_code == 400
    assert post(deputy, f"/ballots/rounds/{world.round_id}/ballot/cast", {"ticket": ticket, "choice": [str(a)]}).status_code == 302
    assert stored(app, world) == ([[]], 1), "a choose-up-to field is no number: the ballot is blank"


def test_a_blank_ballot_is_confirmed_as_blank_then_valid(app):
    world = rank_world(app)
    open_round(app, world)
    deputy = as_deputy(app, world)
    ticket = ticket_from(deputy, world.round_id)
    page = review(deputy, world.round_id, {}, ticket).get_data(as_text=True)
    assert "You numbered no project: this is a blank ballot. It is valid and counts as returned." in page
    assert cast_numbers(deputy, world.round_id, {}, ticket).status_code == 302
    assert stored(app, world) == ([[]], 1)


def test_every_ballot_page_of_a_rank_round_has_one_size_whatever_was_numbered(app):
    """An access log or an eavesdropper sees the size of each page: it must not tell what the
    deputy numbered, how many, or which mistake was refused."""
    world = rank_world(app)
    open_round(app, world)
    a, b, c, d, e = world.candidate_ids
    sizes = set()
    for index, numbers in enumerate(
        ({}, {a: 1}, {e: 1, d: 2, c: 3}, {a: 1, b: 1, c: 1, d: 1, e: 1}, {a: 1, b: 3}, {a: 1, b: 2, c: 3, d: 3})
    ):
        deputy = as_deputy(app, world, index)
        ticket = ticket_from(deputy, world.round_id)
        sizes.add(len(deputy.get(f"/ballots/rounds/{world.round_id}/ballot").data))
        sizes.add(len(review(deputy, world.round_id, numbers, ticket).data))
        back = post(deputy, f"/ballots/rounds/{world.round_id}/ballot", {"ticket": ticket, **numbers_form(numbers)})
        sizes.add(len(back.data))
    assert len(sizes) == 1, sizes


def test_every_rank_ballot_seals_to_one_size_the_size_of_a_list_ballot(app):
    """Sealed ballots of a round are padded to one block; for a ranked ballot that is the block
    of a list of every candidate, whatever number of them a ballot lists and in any order."""
    world = rank_world(app, candidates=12, seats=6)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        block = service.seal_block(round_)
        round_.method = "choose_up_to"
        listed = service.seal_block(round_)
        round_.method = "for_against"
        marked = service.seal_block(round_)
        db.session.rollback()
    assert block == listed < marked
    ceremony = sealing.hold_ceremony(2, 3)
    ids = world.candidate_ids
    ballots = [[], ids[:1], ids[-1:], ids[:3], list(reversed(ids)), ids]
    lengths = {len(sealing.seal(ceremony.public_key, world.round_id, service.new_receipt(), b, block)) for b in ballots}
    assert len(lengths) == 1


# --- the count, the board and the recount -------------------------------------------------


def cast_all(app, world, ballots):
    for index, numbers in enumerate(ballots):
        assert cast_numbers(as_deputy(app, world, index), world.round_id, numbers).status_code == 302


def recount(board: dict) -> dict:
    out = io.StringIO()
    stdin, sys.stdin = sys.stdin, io.StringIO(json.dumps(board))
    try:
        with redirect_stdout(out):
            assert verify_main(["-", "--json"]) == 0
    finally:
        sys.stdin = stdin
    return json.loads(out.getvalue())


def test_the_live_count_equals_the_recount_of_the_published_board(app):
    world = rank_world(app)
    a, b, c, d, e = world.candidate_ids
    open_round(app, world)
    cast_all(app, world, [
        {a: 1, b: 2, c: 3}, {b: 1, a: 2}, {a: 1, c: 2, b: 3}, {c: 1, a: 2, b: 3}, {b: 1, a: 2, d: 3},
        {a: 1}, {}, {e: 1, b: 2},
    ])
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    public = app.test_client()
    board = public.get(f"/ballots/rounds/{world.round_id}/board.json").get_json()
    with app.app_context():
        live = service.count_round(db.session.get(Round, world.round_id)).to_json()
    assert recount(board) == live
    # a and b have 6 votes each (more than half of the roster of 9); a has 3+2+3+2+2+3 = 15
    # points, b 2+3+1+1+3+2 = 12, so a comes first.
    assert live["votes"] == {str(a): 6, str(b): 6, str(c): 3, str(d): 1, str(e): 1}
    assert live["points"][str(a)] == 15 and live["points"][str(b)] == 12
    assert live["priority"] == [a, b] and live["elected"] == sorted([a, b]) and live["shortfall"] == 1

    results = public.get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True)
    row_pattern = re.compile(r"<tr class=\"(?:elected)?\">\s*<td>(\d+)</td>\s*<td>(.*?)</td>\s*<td class=\"num\">(\d+)</td>\s*"
                             r"<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d*)</td>")
    rows = row_pattern.findall(results)
    assert rows[:3] == [("1", "项目1", "6", "15", "1"), ("1", "项目2", "6", "12", "2"), ("3", "项目3", "3", "6", "")]
    assert "Votes and points per candidate; the passed candidates in priority order" in results
    board_page = public.get(f"/ballots/rounds/{world.round_id}/board").get_data(as_text=True)
    assert "1. 项目3; 2. 项目1; 3. 项目2" in board_page, "each ballot shows its order"
    assert row_pattern.findall(board_page)[:2] == rows[:2], "the board shows what its ballots count to"


def test_the_venue_screen_shows_points_and_priority(app):
    world = rank_world(app, seats=2)
    a, b, c, _, _ = world.candidate_ids
    open_round(app, world)
    cast_all(app, world, [{b: 1, a: 2}] * 3 + [{a: 1, b: 2}] * 2 + [{c: 1}])
    close_round(app, world)
    confirm_round(app, world)
    presiding = as_role(app, world, "presiding")
    assert post(presiding, f"/screen/{world.session_id}/go", {"to": f"round-{world.round_id}-result"}).status_code == 302
    slide = presiding.get(f"/screen/{world.session_id}/slide").get_data(as_text=True)
    assert "Points" in slide and "Priority" in slide
    # a and b have 5 votes each, more than half of the roster of 9; b has 3*2 + 2*1 = 8 points, a 7.
    rows = re.findall(r"<td>(\d+)</td>\s*<td>(项目\d)</td>\s*<td class=\"num\">(\d+)</td>\s*<td class=\"num\">(\d+)</td>\s*"
                      r"<td class=\"num\">(\d*)</td>", slide)
    assert rows[:2] == [("1", "项目2", "5", "8", "1"), ("1", "项目1", "5", "7", "2")]


def test_a_tie_at_the_cut_goes_to_a_rank_runoff_among_exactly_the_tied_whatever_the_points(app):
    world = rank_world(app, candidates=3, seats=2)
    a, b, c = world.candidate_ids
    open_round(app, world)
    cast_all(app, world, [{a: 1, b: 2}] * 4 + [{a: 1, c: 2}] * 4 + [{b: 1, c: 2}])
    close_round(app, world)
    confirm_round(app, world)  # confirming a count with a tie at the cut prepares the runoff
    with app.app_context():
        result = service.count_round(db.session.get(Round, world.round_id))
        follow = db.session.scalars(select(Round).where(Round.parent_id == world.round_id)).one()
        runoff = (follow.kind, follow.method, follow.seats, sorted(c_.source_id for c_ in follow.candidates))
    # b and c have 5 votes each, more than half of the roster of 9; b has more points (6 to 5),
    # but points order the priority list, they never settle a seat.
    assert dict(result.votes) == {a: 8, b: 5, c: 5} and dict(result.points) == {a: 16, b: 6, c: 5}
    assert result.elected == (a,) and result.runoff.candidates == (b, c) and result.priority == (a, b, c)
    assert runoff == ("runoff", "rank", 1, [b, c])
    page = as_role(app, world, "staff").get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert "2 candidates are tied for the last 1 seat(s): a runoff among them decides." in page


# --- paper ballots, keyed twice -----------------------------------------------------------


def key_numbers(client, round_id, numbers=None, spoiled=False, copies=1):
    data = {**numbers_form(numbers or {}), "copies": str(copies)}
    if spoiled:
        data["spoiled"] = "1"
    return post(client, f"/ballots/rounds/{round_id}/paper/add", data)


def submit(client, round_id, action="submit"):
    return post(client, f"/ballots/rounds/{round_id}/paper/submit", {"action": action}, follow_redirects=True)


def paper_rank_world(app, issued=9):
    world = rank_world(app, mode="paper")
    open_round(app, world)
    close_round(app, world, issued=issued)
    return world


def test_two_agreeing_keyings_of_ranked_paper_ballots_become_the_count(app):
    world = paper_rank_world(app)
    a, b, c, d, e = world.candidate_ids
    first, second = as_role(app, world, "scrutineer", 0), as_role(app, world, "scrutineer", 1)
    page = first.get(f"/ballots/rounds/{world.round_id}/paper").get_data(as_text=True)
    options = re.search(rf'<select id="rank-{a}" name="rank-{a}">(.*?)</select>', page, re.S).group(1)
    assert re.findall(r'<option value="(\d*)"', options) == ["", "1", "2", "3", "4", "5"], "any number written can be keyed"
    batch = [
        ({a: 1, b: 2, c: 3}, 2),
        ({b: 1, a: 2}, 1),
        ({c: 1, a: 3}, 1),  # 2 skipped: read as c, a
        ({a: 1, b: 1}, 1),  # a number twice: void
        ({a: 1, e: 5}, 1),  # a number above N, two listed: read as a, e
        ({}, 1),  # blank: valid
    ]
    for client, order in ((first, batch), (second, list(reversed(batch)))):
        for numbers, copies in order:
            assert key_numbers(client, world.round_id, numbers, copies=copies).status_code == 302
        key_numbers(client, world.round_id, spoiled=True)
    listing = first.get(f"/ballots/rounds/{world.round_id}/paper").get_data(as_text=True)
    assert "1. 项目3; 2. 项目1</td>" in listing and "1. 项目1; 2. 项目5</td>" in listing
    assert listing.count("void (spoiled paper ballot)") == 2  # the repeated number and the spoiled one
    assert "Waiting for the second scrutineer" in submit(first, world.round_id).get_data(as_text=True)
    assert "Both entries agree" in submit(second, world.round_id).get_data(as_text=True)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        result = service.count_round(round_)
        kept = sorted(db.session.scalars(select(Ballot.choices).where(Ballot.round_id == world.round_id)), key=json.dumps)
    assert (result.returned, result.valid, result.void) == (8, 6, 2)
    assert kept.count(None) == 2 and [c, a] in kept and [a, e] in kept and kept.count([a, b, c]) == 2
    assert dict(result.votes) == {a: 5, b: 3, c: 3, d: 0, e: 1}
    assert dict(result.points) == {a: 3 + 3 + 2 + 2 + 3, b: 2 + 2 + 3, c: 1 + 1 + 3, d: 0, e: 2}


def test_keyings_that_differ_only_in_order_disagree(app):
    world = paper_rank_world(app)
    a, b, _, _, _ = world.candidate_ids
    first, second = as_role(app, world, "scrutineer", 0), as_role(app, world, "scrutineer", 1)
    key_numbers(first, world.round_id, {a: 1, b: 2})
    key_numbers(second, world.round_id, {b: 1, a: 2})
    submit(first, world.round_id)
    assert "The two entries disagree (1 and 1 ballots differ)" in submit(second, world.round_id).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Ballot).where(Ballot.round_id == world.round_id)).all() == []
    submit(second, world.round_id, "withdraw")
    post(second, f"/ballots/rounds/{world.round_id}/paper/0/remove")
    key_numbers(second, world.round_id, {a: 1, b: 2})
    assert "Both entries agree" in submit(second, world.round_id).get_data(as_text=True)
    with app.app_context():
        assert db.session.scalars(select(Ballot.choices).where(Ballot.round_id == world.round_id)).all() == [[a, b]]


@st.composite
def keyed_rounds(draw):
    """A paper rank round: its places and candidates, the numbers written on each ballot (any
    number from 0 to one past the candidates, so repeats, gaps and numbers above N all occur),
    and the figures it closed with."""
    candidates = draw(st.integers(1, 6))
    seats = draw(st.integers(1, candidates))
    numbers = st.dictionaries(st.integers(0, candidates - 1), st.integers(0, candidates + 1), max_size=candidates)
    ballots = draw(st.lists(st.one_of(numbers, st.none()), max_size=12))
    roster = draw(st.integers(1, 20))
    return candidates, seats, draw(st.sampled_from(["roster", "voters"])), roster, draw(st.integers(0, 14)), ballots


def naive_paper_reading(numbers, ids, seats):
    """The paper rule read plainly: void when more than N are numbered, a number repeats or one
    is below 1, else the candidates sorted by their numbers."""
    if numbers is None:
        return None
    given = list(numbers.values())
    if len(given) > seats or len(set(given)) != len(given) or any(n < 1 for n in given):
        return None
    return [ids[i] for i, _ in sorted(numbers.items(), key=lambda item: item[1])]


def test_keyed_paper_ballots_count_live_exactly_as_the_recount_of_the_board(app):
    """Property: whatever two scrutineers key alike from ranked paper ballots, the count the
    server makes equals the verifier's recount of the published board."""
    with app.app_context():
        world = build_world(deputies=3, candidates=1, seats=1, with_key=False)
        congress = db.session.get(CongressSession, world.session_id)
        scrutineers = [world.user(uid) for uid in world.scrutineer_ids]

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(keyed_rounds())
        def check(spec):
            candidates, seats, base, roster, issued, ballots = spec
            round_ = service.create_round("test", congress, "排序", "rank", seats, base, PAPER)
            ids = [service.add_candidate("test", round_, f"候选{i}").id for i in range(candidates)]
            round_.state = CLOSED
            round_.roster_count, round_.present_count, round_.issued_count = roster, roster, issued
            db.session.flush()
            for scrutineer in scrutineers:
                for numbers in ballots:
                    keyed = None if numbers is None else {ids[i]: n for i, n in numbers.items()}
                    service.add_paper_ballot(round_, scrutineer, keyed)
                comparison = service.submit_paper_entry(round_, scrutineer)
            assert comparison.agree
            expected = sorted((json.dumps(naive_paper_reading(n, ids, seats)) for n in ballots))
            kept = db.session.scalars(select(Ballot.choices).where(Ballot.round_id == round_.id))
            assert sorted(json.dumps(choices) for choices in kept) == expected
            live = service.count_round(round_).to_json()
            assert recount(service.round_board(round_)) == live
            assert live["returned"] == len(ballots)
            db.session.rollback()

        check()
