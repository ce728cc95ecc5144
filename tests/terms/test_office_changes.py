"""Changes in office reach the rosters of the term's sessions on or after their day, never an
earlier one; quorum follows; nothing changes while a round is open; an import into the term
reaches every session not yet voting; the same person across sessions keeps their records."""

from datetime import date

import pytest

from voting_app.ballots.models import CLOSED, OPEN, Round
from voting_app.db import db
from voting_app.errors import ConflictError
from voting_app.registry import service as registry
from voting_app.registry.roster import RosterParse, RosterRow
from voting_app.registry.terms import ELECTED, RESIGNED
from voting_app.sessions import service as sessions

TODAY = date(2027, 12, 1)


def term_with_sessions(*days, deputies: int = 6):
    """A term of its own congress (2027 to 2031), its deputies, and a session on each day."""
    congress = registry.create_congress("test", f"测试区人民代表大会{len(days)}{deputies}{id(days)}")
    term = registry.create_term("test", congress, 19, date(2027, 1, 1), date(2031, 12, 31))
    meetings = [
        sessions.create_session("test", f"第{number}次会议", "会堂", day, term=term, meeting_number=number)
        for number, day in enumerate(days, start=1)
    ]
    rows = tuple(RosterRow(i + 2, f"{i + 1:03d}", f"代表{i + 1}", "第一代表团", "") for i in range(deputies))
    sessions.import_into_term("test", term, RosterParse(rows, ()))
    db.session.flush()
    return term, meetings


def numbers(meeting) -> list[str]:
    db.session.refresh(meeting)
    return [row.number for row in meeting.roster if row.is_in_office]


def person(term, number):
    return next(p for p in term.deputies if p.number == number)


def with_round(meeting, state):
    """A round of the session in `state`: voting has begun once it left DRAFT."""
    round_ = Round(session_id=meeting.id, title="测试", method="choose_up_to", seats=1, threshold_base="roster",
                   mode="electronic", state=state)
    db.session.add(round_)
    db.session.flush()
    return round_


def test_a_resignation_reaches_later_sessions_but_not_earlier_ones(app):
    with app.app_context():
        term, (before, after) = term_with_sessions(date(2027, 1, 10), date(2027, 3, 1))
        sessions.record_office_change("test", person(term, "002"), RESIGNED, date(2027, 2, 1), "辞职", TODAY)
        db.session.commit()
        assert "002" in numbers(before)
        assert "002" not in numbers(after)
        assert sessions.presence(before.id).roster == 6 and sessions.presence(after.id).roster == 5


def test_leaving_on_a_sessions_day_takes_them_off_it(app):
    with app.app_context():
        term, (meeting,) = term_with_sessions(date(2027, 3, 1))
        sessions.record_office_change("test", person(term, "001"), RESIGNED, date(2027, 3, 1), "", TODAY)
        assert "001" not in numbers(meeting)


def test_a_session_whose_voting_has_begun_marks_the_leaver_and_quorum_follows(app):
    with app.app_context():
        term, (meeting,) = term_with_sessions(date(2027, 3, 1))
        for row in meeting.deputies[:4]:
            sessions.check_in(row, sessions.DESK)
        with_round(meeting, CLOSED)
        leaver = meeting.roster[0]
        assert sessions.presence(meeting.id).roster == 6 and sessions.presence(meeting.id).present == 4
        sessions.record_office_change("test", leaver.person, RESIGNED, date(2027, 3, 1), "", TODAY)
        db.session.commit()
        db.session.refresh(leaver)
        assert leaver in meeting.deputies and leaver.term_ended_on == date(2027, 3, 1)
        figures = sessions.presence(meeting.id)
        assert (figures.roster, figures.present, figures.quorum) == (5, 3, 3)


def test_nothing_changes_while_a_round_is_open(app):
    with app.app_context():
        term, (before, after) = term_with_sessions(date(2027, 1, 10), date(2027, 3, 1))
        with_round(after, OPEN)
        db.session.commit()
        with pytest.raises(ConflictError):
            sessions.record_office_change("test", person(term, "003"), RESIGNED, date(2027, 2, 1), "", TODAY)
        db.session.rollback()
        assert person(term, "003").left_office_on is None and "003" in numbers(after)
        with pytest.raises(ConflictError):
            sessions.add_elected_deputy("test", term, RosterRow(0, "099", "补选代表", "", ""), date(2027, 2, 1), TODAY)
        db.session.rollback()
        # An open round of an earlier session does not stand in the way.
        with_round(before, OPEN)
        db.session.execute(Round.__table__.update().where(Round.session_id == after.id).values(state=CLOSED))
        sessions.record_office_change("test", person(term, "003"), RESIGNED, date(2027, 2, 1), "", TODAY)


def test_a_by_election_adds_the_deputy_from_their_first_day(app):
    with app.app_context():
        term, (before, after) = term_with_sessions(date(2027, 1, 10), date(2027, 3, 1))
        elected = sessions.add_elected_deputy(
            "test", term, RosterRow(0, "007", "补选代表", "第一代表团", ""), date(2027, 2, 1), date(2027, 2, 1), "补选"
        )
        db.session.commit()
        assert [change.kind for change in elected.changes] == [ELECTED]
        assert "007" not in numbers(before) and "007" in numbers(after)
        assert sessions.presence(after.id).roster == 7


def test_an_import_into_the_term_reaches_every_session_not_yet_voting(app):
    with app.app_context():
        term, (voted, first, second) = term_with_sessions(date(2027, 1, 10), date(2027, 3, 1), date(2028, 3, 1))
        with_round(voted, CLOSED)
        rows = (RosterRow(2, "050", "新代表", "第二代表团", "", "", "13800000000"),)
        summary = sessions.import_into_term("test", term, RosterParse(rows, (), frozenset({"number", "name"})))
        db.session.commit()
        assert (summary.added, summary.updated) == (1, 0)
        assert "050" not in numbers(voted)
        assert "050" in numbers(first) and "050" in numbers(second)
        # The same file again changes nothing.
        again = sessions.import_into_term("test", term, RosterParse(rows, (), frozenset({"number", "name"})))
        assert (again.added, again.updated, again.unchanged) == (0, 0, 1)
        assert person(term, "050").contact == "13800000000"


def test_a_deputy_is_one_person_across_sessions_and_their_supervision_follows(app):
    from voting_app.projects import delivery
    from voting_app.projects.models import Project
    from voting_app.projects.service import department_named

    with app.app_context():
        term, (first, second) = term_with_sessions(date(2027, 1, 10), date(2028, 1, 10))
        row_first = next(row for row in first.deputies if row.number == "004")
        row_second = next(row for row in second.deputies if row.number == "004")
        assert row_first.id != row_second.id and row_first.term_deputy_id == row_second.term_deputy_id
        project = Project(name="桥梁", year=2027, department=department_named("区交通运输局"), stage="in_progress")
        db.session.add(project)
        db.session.flush()
        record = delivery.record_supervision("test", row_first, project, date(2027, 5, 1), "护栏缺失", "", None, [],
                                             today=date(2027, 5, 1))
        assert [r.id for r in delivery.records_of_deputy(row_second)] == [record.id]


def test_the_session_roster_end_of_term_records_its_kind(app):
    with app.app_context():
        term, (meeting,) = term_with_sessions(date(2027, 3, 1))
        with_round(meeting, CLOSED)
        row = meeting.roster[1]
        sessions.end_term("test", row, date(2027, 3, 2), "因病去世", TODAY, "deceased")
        assert row.person.left_reason == "deceased" and row.person.changes[-1].kind == "deceased"
        assert row.term_ended_on == date(2027, 3, 2)


def test_a_round_opens_only_with_a_quorum_of_the_deputies_in_office(app):
    from voting_app.ballots import service as ballots
    from voting_app.errors import DomainError

    with app.app_context():
        term, (meeting,) = term_with_sessions(date(2027, 3, 1), deputies=4)
        for row in meeting.roster[:3]:
            sessions.check_in(row, sessions.DESK)
        round_ = ballots.create_round("test", meeting, "测试票决", "choose_up_to", 1, "roster", "paper")
        ballots.add_candidate("test", round_, "项目甲")
        ballots.add_candidate("test", round_, "项目乙")
        for number in ("001", "002"):
            sessions.record_office_change("test", person(term, number), RESIGNED, date(2027, 3, 1), "", TODAY)
        figures = sessions.presence(meeting.id)
        assert (figures.roster, figures.present, figures.has_quorum) == (2, 1, False)
        with pytest.raises(DomainError):  # no quorum
            ballots.open_round("test", round_)
        assert round_.state == "draft"


def test_a_by_election_recorded_after_a_sessions_day_leaves_its_roster_as_held(app):
    """A past session's roster is history: a deputy elected before its day but recorded after it
    is not added to it (the sessions still to come take them)."""
    with app.app_context():
        term, (held, coming) = term_with_sessions(date(2027, 3, 1), date(2028, 3, 1))
        sessions.add_elected_deputy("test", term, RosterRow(0, "007", "补选代表", "", ""), date(2027, 2, 1), TODAY)
        db.session.commit()
        assert "007" not in numbers(held) and "007" in numbers(coming)


def registry_leaver(day_left=date(2027, 4, 1)):
    """A session held 2027-03-01 and voted, and 002 recorded as deceased on the term's pages on
    `day_left`: the session's roster still has them in office, as on its day."""
    term, (meeting,) = term_with_sessions(date(2027, 3, 1))
    with_round(meeting, CLOSED)
    sessions.record_office_change("test", person(term, "002"), "deceased", day_left, "因病去世", TODAY)
    db.session.commit()
    row = next(row for row in meeting.deputies if row.number == "002")
    assert row.is_in_office
    return term, row


def test_the_end_of_term_on_a_roster_takes_the_registrys_day_and_kind(app):
    from voting_app.audit import AuditEntry

    with app.app_context():
        term, row = registry_leaver()
        sessions.end_term("test", row, date(2027, 4, 1), "因病去世", TODAY, "other")
        db.session.commit()
        assert (row.term_ended_on, row.term_end_reason) == (date(2027, 4, 1), "因病去世")
        assert [change.kind for change in row.person.changes] == ["deceased"]  # not asked again, not recorded twice
        entry = db.session.query(AuditEntry).filter_by(action="deputy.term_end").one()
        assert (entry.details["ended_on"], entry.details["kind"]) == ("2027-04-01", "deceased")


def test_the_end_of_term_on_a_roster_refuses_another_day_than_the_registrys(app):
    from voting_app.audit import AuditEntry
    from voting_app.sessions.changes import TermEndError

    with app.app_context():
        term, row = registry_leaver()
        with pytest.raises(TermEndError) as refused:
            sessions.end_term("test", row, date(2027, 3, 15), "因病去世", TODAY, "deceased")
        db.session.rollback()
        assert refused.value.field == "ended_on"
        assert str(refused.value.message).startswith("届次名册记载代表2已于2027-04-01离任")
        db.session.refresh(row)
        assert row.is_in_office and row.person.left_office_on == date(2027, 4, 1)
        assert db.session.query(AuditEntry).filter_by(action="deputy.term_end").count() == 0
