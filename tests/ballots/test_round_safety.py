"""Irreversible steps of a round ask first; a round opened by mistake is cancelled (while empty)
or declared void (by the presiding officer and a scrutineer); receipts are found however typed;
a waiting deputy's page reloads itself."""

import io
import re
from datetime import datetime

from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.ballots.helpers import (
    announce_round,
    as_deputy,
    as_role,
    cast,
    close_round,
    confirm_round,
    open_round,
    receipt_of,
    ticket_from,
)
from tests.conftest import build_world, post
from voting_app import audit
from voting_app.ballots import keys, service
from voting_app.ballots.models import BallotMarker, Candidate, Round, SealedBallot
from voting_app.db import db


def load(app, round_id) -> Round:
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        db.session.expunge(round_)
        return round_


def sealed_count(app, round_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == round_id))


def marker_count(app, round_id) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == round_id))


def actions(app, round_id) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(audit.AuditEntry.action).where(audit.AuditEntry.target == f"round:{round_id}").order_by(audit.AuditEntry.id)
            )
        )


# ---- confirmation steps ---------------------------------------------------------------


def test_opening_asks_first_and_says_what_will_happen(app, world):
    presiding = as_role(app, world, "presiding")
    detail = presiding.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert f'href="/ballots/rounds/{world.round_id}/open"' in detail
    assert f'action="/ballots/rounds/{world.round_id}/open"' not in detail  # no one-click form on the round page
    page = presiding.get(f"/ballots/rounds/{world.round_id}/open")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Open the round?" in text
    assert "4 candidate projects go on the ballot" in text and "can still be cancelled" in text
    assert f'method="post" action="/ballots/rounds/{world.round_id}/open"' in text
    assert load(app, world.round_id).state == "draft"  # GET never writes
    open_round(app, world)
    assert load(app, world.round_id).state == "open"


def test_closing_says_how_many_present_deputies_have_not_voted(app):
    with app.app_context():
        world = build_world(deputies=9, present=7)
    open_round(app, world)
    for index in range(3):
        assert cast(as_deputy(app, world, index), world.round_id, choices=world.candidate_ids[:1]).status_code == 302
    presiding = as_role(app, world, "presiding")
    text = presiding.get(f"/ballots/rounds/{world.round_id}/close").get_data(as_text=True)
    assert "7 deputies present, 4 of them have not voted yet." in text
    assert 'data-count="4"' in text
    assert "代表4" not in text and "代表5" not in text  # a number, never who
    assert load(app, world.round_id).state == "open"
    presiding.set_cookie("lang", "zh_CN")
    assert "出席代表7人，尚有4人未投票" in presiding.get(f"/ballots/rounds/{world.round_id}/close").get_data(as_text=True)
    close_round(app, world)
    assert load(app, world.round_id).state == "closed"
    assert presiding.get(f"/ballots/rounds/{world.round_id}/close").status_code == 302  # nothing left to confirm


def test_announcing_shows_the_result_it_will_publish_first(app, world):
    open_round(app, world)
    cast(as_deputy(app, world, 0), world.round_id, choices=world.candidate_ids[:2])
    close_round(app, world)
    confirm_round(app, world)
    text = as_role(app, world, "presiding").get(f"/ballots/rounds/{world.round_id}/announce").get_data(as_text=True)
    assert "Announce the result?" in text and "cannot be withdrawn" in text and 'class="results"' in text
    assert load(app, world.round_id).state == "confirmed"
    announce_round(app, world)
    assert load(app, world.round_id).state == "announced"


def test_removing_a_candidate_asks_first(app, world):
    staff = as_role(app, world, "staff")
    candidate = world.candidate_ids[1]
    url = f"/ballots/rounds/{world.round_id}/candidates/{candidate}/delete"
    text = staff.get(url).get_data(as_text=True)
    assert "Remove this candidate?" in text and "项目2" in text and "3 candidates remain." in text
    with app.app_context():
        assert db.session.get(Candidate, candidate) is not None
    assert post(staff, url).status_code == 302
    with app.app_context():
        assert db.session.get(Candidate, candidate) is None


# ---- cancelling an empty round ---------------------------------------------------------


def test_a_round_opened_by_mistake_is_cancelled_back_to_preparation_and_leaves_nothing(app, world):
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    stale_ticket = ticket_from(deputy, world.round_id)  # a ballot page already on a phone
    presiding = as_role(app, world, "presiding")
    text = presiding.get(f"/ballots/rounds/{world.round_id}/cancel").get_data(as_text=True)
    assert "No ballot has been cast" in text
    assert post(presiding, f"/ballots/rounds/{world.round_id}/cancel").status_code == 302
    round_ = load(app, world.round_id)
    assert (round_.state, round_.opened_at, round_.key_id, round_.seal_key) == ("draft", None, None, None)
    assert marker_count(app, world.round_id) == 0 and sealed_count(app, world.round_id) == 0
    assert actions(app, world.round_id)[-1] == "round.cancel"
    assert len(as_role(app, world, "staff").get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)) > 0

    open_round(app, world)
    refused = cast(deputy, world.round_id, choices=world.candidate_ids[:1], ticket=stale_ticket)
    assert refused.status_code == 409 and "before the round was restarted" in refused.get_data(as_text=True)
    assert marker_count(app, world.round_id) == 0
    assert cast(deputy, world.round_id, choices=world.candidate_ids[:1]).status_code == 302


def test_a_round_with_a_ballot_cannot_be_cancelled(app, world):
    open_round(app, world)
    cast(as_deputy(app, world, 0), world.round_id, choices=world.candidate_ids[:1])
    presiding = as_role(app, world, "presiding")
    assert "cannot be cancelled" in presiding.get(f"/ballots/rounds/{world.round_id}/cancel").get_data(as_text=True)
    page = post(presiding, f"/ballots/rounds/{world.round_id}/cancel", follow_redirects=True).get_data(as_text=True)
    assert "cannot be cancelled" in page
    assert load(app, world.round_id).state == "open" and marker_count(app, world.round_id) == 1


# ---- declaring a round void ------------------------------------------------------------


def test_void_takes_the_presiding_officer_and_a_scrutineer_and_its_ballots_never_count(app, world):
    open_round(app, world)
    for index in range(3):
        cast(as_deputy(app, world, index), world.round_id, choices=world.candidate_ids[:2])
    late = as_deputy(app, world, 5)
    late_ticket = ticket_from(late, world.round_id)  # on a phone when the request is made
    presiding = as_role(app, world, "presiding")
    url = f"/ballots/rounds/{world.round_id}/void"
    text = presiding.get(url).get_data(as_text=True)
    assert "Voting stops now" in text and "The 3 ballots returned stay sealed" in text
    empty = post(presiding, url, {"reason": "   "})
    assert empty.status_code == 400 and "Give the reason" in empty.get_data(as_text=True)
    assert load(app, world.round_id).state == "open"
    assert as_role(app, world, "staff").get(url).status_code == 403
    assert post(presiding, url, {"reason": "候选项目名单有误"}).status_code == 302

    round_ = load(app, world.round_id)
    assert round_.state == "closed" and round_.is_void_requested and round_.is_sealed
    assert cast(late, world.round_id, choices=world.candidate_ids[:1], ticket=late_ticket).status_code == 409
    # While a scrutineer decides, the ballots stay sealed and nothing is counted.
    unseal = post(as_role(app, world, "scrutineer"), f"/ballots/rounds/{world.round_id}/unseal", {"share": list(world.shares[:2])})
    assert unseal.status_code == 409 and "stay sealed" in unseal.get_data(as_text=True)
    assert post(presiding, f"/ballots/rounds/{world.round_id}/void/answer").status_code == 403
    answer = as_role(app, world, "scrutineer").get(f"/ballots/rounds/{world.round_id}/void/answer").get_data(as_text=True)
    assert "候选项目名单有误" in answer
    assert post(as_role(app, world, "scrutineer"), f"/ballots/rounds/{world.round_id}/void/answer", {"decision": "confirm"}).status_code == 302

    round_ = load(app, world.round_id)
    assert round_.state == "void" and round_.void_reason == "候选项目名单有误"
    assert sealed_count(app, world.round_id) == 3 and round_.unsealed_at is None  # still sealed, never opened
    assert actions(app, world.round_id)[-3:] == ["round.close", "round.void_request", "round.void"]
    with app.app_context():
        assert keys.rounds_holding_sealed_ballots(world.session_id) == []  # a new key may be made
        try:
            service.count_round(db.session.get(Round, world.round_id))
            raise AssertionError("a void round was counted")
        except service.ConflictError:
            pass

    board = app.test_client().get(f"/ballots/rounds/{world.round_id}/board")
    assert board.status_code == 200 and "候选项目名单有误" in board.get_data(as_text=True)
    assert app.test_client().get(f"/ballots/rounds/{world.round_id}/board.json").status_code == 404
    report = as_role(app, world, "staff").get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    assert "Rounds declared void" in report and "候选项目名单有误" in report
    workbook = load_workbook(io.BytesIO(as_role(app, world, "staff").get(f"/reports/sessions/{world.session_id}/report.xlsx").data))
    void_sheet = [[cell.value for cell in row] for row in workbook["Rounds declared void"].iter_rows()]
    assert void_sheet[0][-2:] == ["Reason", "Ballots returned, not counted"]
    assert void_sheet[1][0] == "测试票决" and void_sheet[1][4:] == ["候选项目名单有误", 3] and isinstance(void_sheet[1][1], datetime)
    assert "测试票决" not in [row[0].value for row in workbook["Votes per candidate"].iter_rows(min_row=2)]  # never counted

    staff = as_role(app, world, "staff")
    assert post(staff, f"/ballots/rounds/{world.round_id}/follow-up").status_code == 302
    with app.app_context():
        follow = db.session.scalar(select(Round).where(Round.parent_id == world.round_id))
        assert follow.state == "draft" and [c.name for c in follow.candidates] == ["项目1", "项目2", "项目3", "项目4"]


def test_a_scrutineer_may_decline_and_the_round_is_counted_as_usual(app, world):
    open_round(app, world)
    cast(as_deputy(app, world, 0), world.round_id, choices=world.candidate_ids[:1])
    close_round(app, world)
    presiding = as_role(app, world, "presiding")
    assert post(presiding, f"/ballots/rounds/{world.round_id}/void", {"reason": "误操作"}).status_code == 302
    scrutineer = as_role(app, world, "scrutineer")
    assert post(scrutineer, f"/ballots/rounds/{world.round_id}/void/answer", {"decision": "decline"}).status_code == 302
    round_ = load(app, world.round_id)
    assert round_.state == "closed" and not round_.is_void_requested and round_.void_reason is None
    assert actions(app, world.round_id)[-1] == "round.void_decline"
    confirm_round(app, world)
    assert load(app, world.round_id).state == "confirmed"


def test_the_void_request_is_answered_by_someone_else(app, world):
    """Roles keep the two steps apart; the service also refuses the asker, whatever the role."""
    open_round(app, world)
    cast(as_deputy(app, world, 0), world.round_id, choices=world.candidate_ids[:1])
    with app.app_context():
        from voting_app.auth.models import User

        round_ = db.session.get(Round, world.round_id)
        scrutineer = db.session.get(User, world.scrutineer_ids[0])
        presiding = db.session.get(User, world.presiding_id)
        service.request_void(presiding, round_, "误操作")
        round_.void_requested_by_id = scrutineer.id
        try:
            service.confirm_void(scrutineer, round_)
            raise AssertionError("the asker confirmed their own request")
        except service.DomainError as error:
            assert error.message._args[0] == "The request must be answered by someone other than the person who made it."
        db.session.rollback()


# ---- receipts typed back ------------------------------------------------------------------


def test_a_receipt_is_found_in_lower_case_with_spaces_or_without_dashes(app, world):
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    cast(deputy, world.round_id, choices=world.candidate_ids[:1])
    receipt = receipt_of(deputy, world.round_id)
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    public = app.test_client()
    for typed in (receipt.lower(), receipt.replace("-", " "), receipt.replace("-", ""), f"  {receipt.lower().replace('-', '')[:8]} {receipt[10:]} "):
        page = public.get(f"/ballots/rounds/{world.round_id}/board", query_string={"receipt": typed}).get_data(as_text=True)
        assert "Found" in page and f"Found: {receipt}" in page, typed
    assert service.receipt_as_typed("abcd efgh-jkmn pqrs") == "ABCD-EFGH-JKMN-PQRS"
    missing = public.get(f"/ballots/rounds/{world.round_id}/board", query_string={"receipt": "zzzz"}).get_data(as_text=True)
    assert "No ballot with receipt ZZZZ" in missing


# ---- the deputy's waiting page ------------------------------------------------------------


def test_the_waiting_page_reloads_itself_and_announces_a_new_round(app, world):
    deputy = as_deputy(app, world, 0)
    home = deputy.get("/ballots/").get_data(as_text=True)
    assert re.search(r'<meta http-equiv="refresh" content="1[0-5]">', home)
    assert "round-notice" not in home
    still = deputy.get("/ballots/?refresh=off").get_data(as_text=True)  # for whom the reloading is in the way
    assert 'http-equiv="refresh"' not in still and 'href="/ballots/"' in still
    open_round(app, world)
    home = deputy.get("/ballots/").get_data(as_text=True)
    notice = re.search(r'<section class="round-notice".*?</section>', home, re.S).group(0)
    assert "Voting has started" in notice and "测试票决" in notice
    assert f'href="/ballots/rounds/{world.round_id}/ballot"' in notice
    ballot = deputy.get(f"/ballots/rounds/{world.round_id}/ballot").get_data(as_text=True)
    assert 'http-equiv="refresh"' not in ballot  # the ballot form never reloads: it would lose the choices
