"""A session's roster stops following the term's registry once it is part of the record: once
voting has begun, once anyone checked in, or once the session's day has passed. From then on
nobody is added or removed and names and units stay as they were; a deputy who leaves office
is still marked with the day. The session's term and day stay too, and a session with a
check-in is not deleted."""

from datetime import timedelta

import pytest

from tests.ballots.helpers import as_role
from tests.conftest import build_world, fresh_term, post
from tests.helpers import url
from voting_app.clock import beijing_today
from voting_app.db import db
from voting_app.errors import ConflictError
from voting_app.registry.models import TermDeputy
from voting_app.registry.roster import RosterParse, RosterRow
from voting_app.registry.terms import RESIGNED
from voting_app.sessions import changes
from voting_app.sessions import service as sessions

COLUMNS = frozenset({"number", "name", "delegation", "unit"})


def rows(*pairs):
    return RosterParse(tuple(RosterRow(i + 2, number, name, "第一代表团", "某单位") for i, (number, name) in enumerate(pairs)), (), COLUMNS)


FIRST = rows(("001", "甄士隐"), ("002", "贾雨村"), ("003", "林如海"))
# 002 renamed, 050 new: what a later import of the term's list brings.
LATER = rows(("001", "甄士隐"), ("002", "贾化"), ("003", "林如海"), ("050", "王熙凤"))


def term_with(*days):
    """A term of its own, a session on each day (None: undated), then its deputies imported."""
    term = fresh_term()
    meetings = [
        sessions.create_session("test", f"第{number}次会议", "会堂", day, term=term, meeting_number=number)
        for number, day in enumerate(days, start=1)
    ]
    sessions.import_into_term("test", term, FIRST)
    db.session.commit()
    return term, meetings


def names(meeting) -> dict[str, str]:
    db.session.refresh(meeting)
    return {row.number: row.name for row in meeting.deputies}


def person(term, number):
    return next(p for p in term.deputies if p.number == number)


def test_an_import_reaches_the_sessions_to_come_and_leaves_a_past_sessions_roster_as_it_was(app):
    with app.app_context():
        today = beijing_today()
        term, (past, coming) = term_with(today - timedelta(days=30), today + timedelta(days=30))
        assert names(past) == names(coming) == {"001": "甄士隐", "002": "贾雨村", "003": "林如海"}
        assert changes.roster_freeze(past) == changes.DAY_PASSED and changes.roster_freeze(coming) is None

        sessions.import_into_term("test", term, LATER)
        db.session.commit()
        assert names(past) == {"001": "甄士隐", "002": "贾雨村", "003": "林如海"}  # history: as it was held
        assert names(coming) == {"001": "甄士隐", "002": "贾化", "003": "林如海", "050": "王熙凤"}


def test_a_leaver_stays_on_a_past_sessions_roster_marked_with_the_day(app):
    with app.app_context():
        today = beijing_today()
        held = today - timedelta(days=30)
        term, (past,) = term_with(held)
        sessions.record_office_change("test", person(term, "003"), RESIGNED, held, "调离本区", today)
        db.session.commit()
        row = next(row for row in past.deputies if row.number == "003")
        assert (row.term_ended_on, row.is_in_office) == (held, False)
        assert sessions.presence(past.id).roster == 2


def test_a_session_entered_after_its_day_still_takes_its_roster_once(app):
    with app.app_context():
        term = fresh_term()
        sessions.import_into_term("test", term, FIRST)
        late = sessions.create_session("test", "补录的会议", "会堂", beijing_today() - timedelta(days=90), term=term)
        db.session.commit()
        assert set(names(late)) == {"001", "002", "003"}


def test_a_check_in_freezes_the_roster_before_any_vote(app):
    with app.app_context():
        term, (meeting,) = term_with(None)
        first = next(row for row in meeting.deputies if row.number == "001")
        sessions.check_in(first, sessions.DESK)
        assert changes.roster_freeze(meeting) == changes.CHECKED_IN and not changes.has_voting_begun(meeting.id)

        sessions.import_into_term("test", term, LATER)
        sessions.record_office_change("test", person(term, "003"), RESIGNED, beijing_today(), "", beijing_today())
        db.session.commit()
        assert names(meeting) == {"001": "甄士隐", "002": "贾雨村", "003": "林如海"}
        leaver = next(row for row in meeting.deputies if row.number == "003")
        assert leaver.term_ended_on == beijing_today()
        figures = sessions.presence(meeting.id)
        assert (figures.roster, figures.present) == (2, 1)


def test_a_checked_in_row_is_not_removable(app):
    with app.app_context():
        term, (meeting,) = term_with(None)
        row = meeting.roster[0]
        assert changes.is_removable(row)
        sessions.check_in(row, sessions.DESK)
        assert not changes.is_removable(row)


def test_the_term_and_day_stay_once_the_roster_is_part_of_the_record(app):
    with app.app_context():
        today = beijing_today()
        term, (past, coming, checked) = term_with(today - timedelta(days=30), today + timedelta(days=30), None)
        sessions.check_in(checked.roster[0], sessions.DESK)
        db.session.commit()
        for meeting, why in ((past, "本次会议的会期已过"), (checked, "本次会议已有代表签到")):
            with pytest.raises(ConflictError) as refused:
                sessions.update_session("test", meeting, meeting.name, "", today + timedelta(days=60), term)
            message = str(refused.value.message)  # outside a request: the default language, Chinese
            assert message.startswith(why) and message.endswith("其名册已成为记录的一部分。其届次和开幕日期保持不变。")
            db.session.rollback()
        # the name and venue may still be put right
        sessions.update_session("test", past, "第一次会议（更正）", "新会堂", past.starts_on, term)
        db.session.commit()
        assert (past.name, past.venue) == ("第一次会议（更正）", "新会堂")

        # a session whose roster still follows the registry follows its new day, even a past one:
        # 003 left 40 days ago, so a session moved to 60 days ago has them again
        sessions.record_office_change("test", person(term, "003"), RESIGNED, today - timedelta(days=40), "", today)
        assert "003" not in names(coming)
        sessions.update_session("test", coming, coming.name, "", today - timedelta(days=60), term)
        assert "003" in names(coming)


def test_pages_offer_the_end_of_term_once_anyone_checked_in_and_refuse_to_delete_the_session(app):
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        world = build_world(present=1)
    staff = as_role(app, world, "staff")
    roster = staff.get(url(app, "sessions.roster", session_id=world.session_id)).get_data(as_text=True)
    assert "Remove…" not in roster and "End of term…" in roster
    absent = world.deputy_ids[5]
    remove = url(app, "sessions.deputy_remove", session_id=world.session_id, deputy_id=absent)
    term_end = url(app, "sessions.deputy_term_end", session_id=world.session_id, deputy_id=absent)
    assert staff.get(remove).headers["Location"].endswith(term_end)
    post(staff, remove)
    form = staff.get(term_end).get_data(as_text=True)
    assert "Deputies have checked in to this session, so its roster is part of the record." in form

    detail = staff.get(url(app, "sessions.session_detail", session_id=world.session_id)).get_data(as_text=True)
    assert "Delete…" not in detail
    target = url(app, "sessions.session_delete", session_id=world.session_id)
    message = "Deputies have checked in to this session: their attendance is part of the record"
    assert message in staff.get(target).get_data(as_text=True)
    refused = post(staff, target)
    assert message in staff.get(refused.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(CongressSession, world.session_id) is not None
        assert len(db.session.get(CongressSession, world.session_id).deputies) == 9


def test_a_past_session_nobody_attended_may_still_be_deleted(app):
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        term, (past,) = term_with(beijing_today() - timedelta(days=30))
        assert changes.roster_freeze(past) == changes.DAY_PASSED
        changes.delete_session("test", past)
        db.session.commit()
        assert db.session.query(CongressSession).filter_by(term_id=term.id).count() == 0


def test_the_confirmation_of_a_change_in_office_marks_the_sessions_that_keep_their_roster(app):
    from tests.conftest import make_user, sign_in

    client = app.test_client()
    with app.app_context():
        today = beijing_today()
        term, _ = term_with(today - timedelta(days=30), today + timedelta(days=30))
        staff = make_user("staff")
        db.session.commit()
        sign_in(client, staff)
        term_id, person_id = term.id, person(term, "002").id
    target = url(app, "terms.office_change", term_id=term_id, person_id=person_id)
    page = post(client, target, {"kind": "resigned", "effective_on": (today - timedelta(days=40)).isoformat(), "note": ""})
    text = page.get_data(as_text=True)
    assert text.count("roster part of the record") == 1
    assert "第一次会议" in text.split("roster part of the record")[0]  # the past one, listed first
    with app.app_context():
        assert db.session.get(TermDeputy, person_id).left_office_on is None  # the confirmation stored nothing
