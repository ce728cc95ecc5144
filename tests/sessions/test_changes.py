"""Taking things back: undoing a desk check-in, removing a deputy or a session while nothing
is voted, a deputy's end of term once something is, and the confirmation page before a card
is reissued. Each step is audited; each irreversible one has a page that says what happens."""

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from tests.ballots.helpers import as_deputy, as_role, cast, close_round, open_round
from tests.conftest import post
from tests.helpers import url


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def audit_actions(app, action: str) -> list[dict]:
    from voting_app.audit import AuditEntry
    from voting_app.db import db

    with app.app_context():
        return [e.details | {"target": e.target} for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == action))]


def presence_of(app, session_id):
    from voting_app.db import db
    from voting_app.sessions import service

    with app.app_context():
        figures = service.presence(session_id)
        db.session.rollback()
        return figures


def deputy_row(app, deputy_id):
    from voting_app.db import db
    from voting_app.sessions.models import Deputy

    with app.app_context():
        deputy = db.session.get(Deputy, deputy_id)
        if deputy is None:
            return None
        db.session.expunge(deputy)
        return deputy


def card_works(app, world, deputy_id) -> bool:
    token, pin = world.cards[deputy_id]
    client = app.test_client()
    return post(client, f"/c/{token}", {"pin": pin}).status_code == 302


# ---- undoing a desk check-in -----------------------------------------------------------


def test_the_desk_undoes_a_check_in_and_the_audit_log_says_who(app, world):
    staff = as_role(app, world, "staff")
    deputy_id = world.deputy_ids[-1]  # the latest check-in heads the desk's list
    desk = text_of(staff.get(url(app, "sessions.checkin_desk", session_id=world.session_id)))
    assert "Recently checked in" in desk and "Undo check-in of 代表9" in desk

    response = post(staff, url(app, "sessions.checkin_undo", session_id=world.session_id, deputy_id=deputy_id))
    assert response.status_code == 302
    assert "Check-in of 代表9 (009) undone." in text_of(staff.get(response.headers["Location"]))
    assert deputy_row(app, deputy_id).checked_in_at is None
    assert presence_of(app, world.session_id).present == 8
    [entry] = audit_actions(app, "checkin.undo")
    assert entry["target"] == f"deputy:{deputy_id}" and entry["name"] == "代表9" and entry["method"] == "desk"

    again = post(staff, url(app, "sessions.checkin_undo", session_id=world.session_id, deputy_id=deputy_id))
    assert "代表9 was not checked in." in text_of(staff.get(again.headers["Location"]))
    assert len(audit_actions(app, "checkin.undo")) == 1
    # and the desk checks the deputy in again with one click
    post(staff, url(app, "sessions.checkin_deputy", session_id=world.session_id, deputy_id=deputy_id))
    assert presence_of(app, world.session_id).present == 9


def test_undo_needs_the_csrf_token_and_the_desk_role(app, world):
    deputy_id = world.deputy_ids[0]
    target = url(app, "sessions.checkin_undo", session_id=world.session_id, deputy_id=deputy_id)
    assert as_role(app, world, "staff").post(target).status_code == 400  # no CSRF token
    assert post(as_role(app, world, "presiding"), target).status_code == 403
    assert deputy_row(app, deputy_id).checked_in_at is not None


def test_undo_is_refused_once_the_deputy_voted_in_an_open_round_and_allowed_after_close(app, world):
    """Every ballot returned must have been issued to a deputy present: un-checking a voter
    would make more ballots returned than issued, which voids the whole round."""
    open_round(app, world)
    assert cast(as_deputy(app, world, 0), world.round_id, choices=[world.candidate_ids[0]]).status_code == 302
    staff = as_role(app, world, "staff")
    voter, waiting = world.deputy_ids[0], world.deputy_ids[1]

    refused = post(staff, url(app, "sessions.checkin_undo", session_id=world.session_id, deputy_id=voter))
    page = text_of(staff.get(refused.headers["Location"]))
    assert "代表1 has already voted in the open round “测试票决”, so the check-in stays" in page
    assert deputy_row(app, voter).checked_in_at is not None
    assert audit_actions(app, "checkin.undo") == []

    # a present deputy who has not voted yet may still be taken back: they were not issued a ballot
    post(staff, url(app, "sessions.checkin_undo", session_id=world.session_id, deputy_id=waiting))
    assert deputy_row(app, waiting).checked_in_at is None
    close_round(app, world)
    post(staff, url(app, "sessions.checkin_undo", session_id=world.session_id, deputy_id=voter))
    assert deputy_row(app, voter).checked_in_at is None


# ---- removing a deputy or a session while nothing is voted -----------------------------


@pytest.fixture
def unattended(app):
    """The world before anyone checked in: its roster still follows the term's registry."""
    from tests.conftest import build_world

    with app.app_context():
        return build_world(present=0)


def test_removing_a_deputy_asks_first_then_deletes_them_and_their_card(app, unattended):
    world = unattended
    staff = as_role(app, world, "staff")
    deputy_id = world.deputy_ids[8]
    roster = text_of(staff.get(url(app, "sessions.roster", session_id=world.session_id)))
    assert "Remove…" in roster and "End of term…" not in roster

    target = url(app, "sessions.deputy_remove", session_id=world.session_id, deputy_id=deputy_id)
    confirm = staff.get(target)
    assert confirm.status_code == 200
    page = text_of(confirm)
    assert "The deputy is deleted from the whole registry of" in page
    assert "The deputy’s voting cards stop working." in page
    assert deputy_row(app, deputy_id) is not None  # GET changed nothing

    assert staff.post(target).status_code == 400  # no CSRF token: nothing removed
    assert deputy_row(app, deputy_id) is not None
    done = post(staff, target)
    assert done.status_code == 302
    assert "代表9 (009) deleted from the term's registry and from the roster of every session of the term." in text_of(
        staff.get(done.headers["Location"])
    )
    assert deputy_row(app, deputy_id) is None
    assert presence_of(app, world.session_id).roster == 8
    assert not card_works(app, world, deputy_id)
    [entry] = audit_actions(app, "deputy.remove")
    assert (entry["number"], entry["name"]) == ("009", "代表9")


def test_deleting_a_session_asks_first_then_takes_its_roster_cards_and_draft_rounds(app, unattended):
    from voting_app.ballots.models import Credential, Round
    from voting_app.db import db
    from voting_app.sessions.models import CongressSession, Deputy

    world = unattended
    staff = as_role(app, world, "staff")
    assert "Delete…" in text_of(staff.get(url(app, "sessions.session_detail", session_id=world.session_id)))
    target = url(app, "sessions.session_delete", session_id=world.session_id)
    page = text_of(staff.get(target))
    assert "its roster of 9 deputies and their voting cards, which stop working" in page
    assert "This cannot be undone." in page

    done = post(staff, target)
    assert done.headers["Location"].endswith(url(app, "sessions.session_list"))
    assert "Session “测试会议” deleted." in text_of(staff.get(done.headers["Location"]))
    with app.app_context():
        assert db.session.get(CongressSession, world.session_id) is None
        assert db.session.scalars(select(Deputy).where(Deputy.session_id == world.session_id)).all() == []
        assert db.session.get(Round, world.round_id) is None
        assert db.session.scalars(select(Credential).where(Credential.deputy_id.in_(world.deputy_ids))).all() == []
    [entry] = audit_actions(app, "session.delete")
    assert entry["name"] == "测试会议" and entry["deputies"] == 9
    assert staff.get(target).status_code == 404


def test_once_a_round_opened_nothing_is_deleted(app, world):
    from voting_app.db import db
    from voting_app.sessions.models import CongressSession

    open_round(app, world)
    staff = as_role(app, world, "staff")
    detail = text_of(staff.get(url(app, "sessions.session_detail", session_id=world.session_id)))
    assert "Delete…" not in detail
    page = text_of(staff.get(url(app, "sessions.session_delete", session_id=world.session_id)))
    assert "Voting has begun in this session: it is part of the record and cannot be deleted." in page
    refused = post(staff, url(app, "sessions.session_delete", session_id=world.session_id))
    assert "cannot be deleted" in text_of(staff.get(refused.headers["Location"]))
    with app.app_context():
        assert db.session.get(CongressSession, world.session_id) is not None

    # removing a deputy now leads to recording the end of their term instead
    remove = url(app, "sessions.deputy_remove", session_id=world.session_id, deputy_id=world.deputy_ids[0])
    assert staff.get(remove).headers["Location"].endswith(
        url(app, "sessions.deputy_term_end", session_id=world.session_id, deputy_id=world.deputy_ids[0])
    )
    post(staff, remove)
    assert deputy_row(app, world.deputy_ids[0]) is not None
    assert audit_actions(app, "deputy.remove") == [] and audit_actions(app, "session.delete") == []


# ---- the end of a deputy's term once voting has begun ----------------------------------


def test_the_end_of_a_term_keeps_the_deputy_on_the_roster_and_out_of_later_quorums(app, world):
    from voting_app.ballots.models import Round
    from voting_app.db import db

    open_round(app, world)
    close_round(app, world)
    staff = as_role(app, world, "staff")
    deputy_id = world.deputy_ids[0]
    assert "End of term…" in text_of(staff.get(url(app, "sessions.roster", session_id=world.session_id)))
    target = url(app, "sessions.deputy_term_end", session_id=world.session_id, deputy_id=deputy_id)
    form = text_of(staff.get(target))
    assert "nobody is deleted" in form and "Rounds already voted keep their figures" in form

    ended_on = date.today() - timedelta(days=1)
    done = post(staff, target, {"ended_on": ended_on.isoformat(), "reason": "辞职"})
    assert done.status_code == 302, text_of(done)
    roster = text_of(staff.get(done.headers["Location"]))
    assert f"The term of 代表1 ended on {ended_on.isoformat()}: recorded on the roster." in roster
    assert f"Term ended {ended_on.isoformat()}" in roster and "辞职" in roster and "代表1" in roster

    deputy = deputy_row(app, deputy_id)
    assert (deputy.term_ended_on, deputy.term_end_reason, deputy.is_present) == (ended_on, "辞职", False)
    figures = presence_of(app, world.session_id)
    assert (figures.roster, figures.present, figures.quorum) == (8, 8, 5)
    with app.app_context():
        past = db.session.get(Round, world.round_id)
        assert (past.roster_count, past.present_count) == (9, 9)  # the closed round is untouched
        from voting_app.ballots.service import deputies_not_voted, turnout

        # Out of office is out of "present" and of "not voted yet" alike: the close page never says 8 present, 9 not voted.
        now = turnout(past)
        assert (now.present, now.not_voted) == (8, 8) and deputy_id not in [d.id for d in deputies_not_voted(past)]
    assert not card_works(app, world, deputy_id)
    [entry] = audit_actions(app, "deputy.term_end")
    assert (entry["ended_on"], entry["reason"]) == (ended_on.isoformat(), "辞职")

    # the desk cannot check them in again, and the page says why
    refused = post(staff, url(app, "sessions.checkin_deputy", session_id=world.session_id, deputy_id=deputy_id))
    assert "The term of 代表1 has ended: they cannot check in." in text_of(staff.get(refused.headers["Location"]))
    # no card for them any more: not with the others, not one of their own
    reissue = url(app, "sessions.credential_reissue", session_id=world.session_id, deputy_id=deputy_id)
    assert "The term of 代表1 has ended: no card is issued." in text_of(staff.get(reissue))
    refused = post(staff, reissue, {"sheet": "after-term"})
    assert "no card is issued" in text_of(staff.get(refused.headers["Location"]))
    post(staff, url(app, "sessions.credential_revoke", session_id=world.session_id, deputy_id=world.deputy_ids[1]))
    sheet = post(staff, url(app, "sessions.credential_issue_all", session_id=world.session_id), {"sheet": "all"})
    assert sheet.get_data(as_text=True).count('class="card"') == 1  # 代表2's new card, none for 代表1
    twice = post(staff, target, {"ended_on": ended_on.isoformat(), "reason": "again"})
    assert twice.status_code == 200 and "The term ended on" in text_of(twice)


def test_the_end_of_a_term_is_refused_while_a_round_is_open_or_with_bad_input(app, world):
    open_round(app, world)
    staff = as_role(app, world, "staff")
    target = url(app, "sessions.deputy_term_end", session_id=world.session_id, deputy_id=world.deputy_ids[0])
    cases = [
        ({"ended_on": date.today().isoformat(), "reason": "辞职"}, "A round is open: record the change after it is closed"),
        ({"ended_on": (date.today() + timedelta(days=3)).isoformat(), "reason": "辞职"}, "cannot be in the future"),
        ({"ended_on": date.today().isoformat(), "reason": "  "}, "Give the reason the term ended."),
        ({"ended_on": "", "reason": "辞职"}, "Give the date the term ended."),
        ({"ended_on": date.today().isoformat(), "reason": "长" * 201}, "Field cannot be longer than 200 characters."),
    ]
    for data, message in cases:
        response = post(staff, target, data)
        assert response.status_code == 400 and message in text_of(response), (data, message)
    assert deputy_row(app, world.deputy_ids[0]).is_in_office
    assert audit_actions(app, "deputy.term_end") == []


# ---- a card is reissued only after a page that says what happens -----------------------


def test_reissue_shows_what_will_happen_before_anything_changes(app, world):
    staff = as_role(app, world, "staff")
    deputy_id = world.deputy_ids[0]
    cards = staff.get(url(app, "sessions.credential_list", session_id=world.session_id)).get_data(as_text=True)
    target = url(app, "sessions.credential_reissue", session_id=world.session_id, deputy_id=deputy_id)
    assert f'href="{target}"' in cards  # a link to the confirmation page, not a button that reissues

    page = staff.get(target)
    assert page.status_code == 200
    body = text_of(page)
    assert "The card the deputy holds now stops working at once:" in body
    assert "Reissue and print the new card" in body
    assert card_works(app, world, deputy_id)  # the GET changed nothing
    assert audit_actions(app, "credential.reissue") == []

    printed = post(staff, target, {"sheet": "confirm-1"})
    assert printed.status_code == 200 and "PIN" in printed.get_data(as_text=True)
    assert not card_works(app, world, deputy_id)
    assert len(audit_actions(app, "credential.reissue")) == 1
