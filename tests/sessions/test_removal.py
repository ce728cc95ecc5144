"""Deleting a deputy entered by mistake deletes them from the whole term's registry and from
the roster of every session of the term, and the confirmation page says so. Assignments go
with them (groups, a convener's role, reception days to come, station, grid), audited; a
record of their work (a check-in, a roster that is part of the record, a supervision visit, a
proposal they entered, a reception day they served) keeps them, with a message that names it
and points to the end of term instead, and nothing is changed."""

import html
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.ballots.helpers import as_role
from tests.conftest import build_world, post
from tests.helpers import url
from voting_app.audit import AuditEntry
from voting_app.ballots.models import CLOSED, Round
from voting_app.clock import beijing_today
from voting_app.db import db
from voting_app.errors import ConflictError
from voting_app.registry import groups, stations
from voting_app.registry import service as registry
from voting_app.registry.group_rules import PROFESSIONAL
from voting_app.registry.models import DeputyGroup, GroupMembership, Grid, OfficeChange, ReceptionDuty, TermDeputy
from voting_app.registry.reception import add_months, regular_day
from voting_app.registry.roster import RosterRow
from voting_app.sessions import changes
from voting_app.sessions import service as sessions
from voting_app.sessions.models import CongressSession, Deputy

STATION = "樊城区米公联络站"


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def reception_months_away(months: int) -> date:
    """The regular reception day (the 15th) `months` months from this one (negative: before)."""
    today = beijing_today()
    return regular_day(*add_months(today.year, today.month, months), 15)


@pytest.fixture
def term_world(app):
    """The world before anyone checked in, and a second session of its term a month ahead:
    every deputy is on both rosters."""
    with app.app_context():
        world = build_world(present=0)
        congress = db.session.get(CongressSession, world.session_id)
        later = sessions.create_session("test", "第二次会议", "会堂", beijing_today() + timedelta(days=30), term=congress.term)
        db.session.commit()
        world.later_id = later.id
        return world


def first_deputy(world) -> Deputy:
    return db.session.get(Deputy, world.deputy_ids[0])


def later_row(world, person_id: int) -> Deputy:
    return db.session.scalar(select(Deputy).where(Deputy.session_id == world.later_id, Deputy.term_deputy_id == person_id))


def test_the_confirmation_page_says_the_deputy_leaves_the_whole_term(app, term_world):
    world = term_world
    staff = as_role(app, world, "staff")
    target = url(app, "sessions.deputy_remove", session_id=world.session_id, deputy_id=world.deputy_ids[0])
    page = text_of(staff.get(target))
    assert "Delete 代表1 from the term’s registry" in page
    assert "The deputy is deleted from the whole registry of 测试区人民代表大会" in page
    assert "not only from this session" in page
    sessions_listed = page.split('id="removal-sessions"')[1].split("</ul>")[0]
    assert "测试会议" in sessions_listed and "· this session" in sessions_listed
    assert f"第二次会议 ({(beijing_today() + timedelta(days=30)).isoformat()})" in sessions_listed
    assert "Delete from the term’s registry" in page

    done = post(staff, target)
    assert done.status_code == 302
    with app.app_context():
        person_id = db.session.scalar(select(Deputy.term_deputy_id).where(Deputy.id == world.deputy_ids[0]))
        assert person_id is None
        assert db.session.scalar(select(func.count()).select_from(Deputy).where(Deputy.session_id == world.later_id)) == 8
        assert db.session.scalar(select(func.count()).select_from(TermDeputy).where(TermDeputy.number == "001")) == 0


def test_assignments_go_with_the_deputy_and_the_audit_names_them(app, term_world):
    world = term_world
    with app.app_context():
        person = first_deputy(world).person
        place = groups.create_group("test", person.term, "米公街道代表小组")
        groups.add_member("test", place, person)
        groups.update_group("test", place, place.name, place.kind, "", person)  # the convener
        trade = groups.create_group("test", person.term, "教育专业小组", PROFESSIONAL)
        groups.add_member("test", trade, person)
        groups.add_member("test", trade, db.session.get(Deputy, world.deputy_ids[1]).person)
        from voting_app.proposals import service as proposals

        station = proposals.add_station("test", STATION)
        stations.assign_station("test", person, station, beijing_today())
        ahead, cancelled = reception_months_away(2), reception_months_away(-2)
        stations.set_duty("test", station, ahead, [person.id])
        stations.set_duty("test", station, cancelled, [person.id])
        stations.change_reception("test", station, cancelled, None, "暴雨")  # never held: an assignment only
        grid = Grid(code="C01", name="米公网格中心", level=1)
        db.session.add(grid)
        db.session.flush()
        registry.set_deputy_grid("test", person, grid)
        db.session.commit()
        person_id, place_id, trade_id, station_id = person.id, place.id, trade.id, station.id

    staff = as_role(app, world, "staff")
    target = url(app, "sessions.deputy_remove", session_id=world.session_id, deputy_id=world.deputy_ids[0])
    page = text_of(staff.get(target))
    assert "They leave these deputy groups: 教育专业小组、米公街道代表小组." in page
    assert "These groups are left without a convener: 米公街道代表小组." in page
    assert f"Their reception duties still to come are taken off the stations’ duty rosters: {STATION} {cancelled.isoformat()}、{STATION} {ahead.isoformat()}" in page
    assert f"They no longer work at {STATION}." in page and "They are no longer linked to grid C01." in page

    assert post(staff, target).status_code == 302
    with app.app_context():
        assert db.session.get(TermDeputy, person_id) is None
        assert db.session.scalars(select(GroupMembership.term_deputy_id).where(GroupMembership.group_id == trade_id)).all() != []
        assert db.session.scalar(select(func.count()).select_from(GroupMembership).where(GroupMembership.term_deputy_id == person_id)) == 0
        place = db.session.get(DeputyGroup, place_id)
        assert place is not None and place.convener_id is None
        assert db.session.scalar(select(func.count()).select_from(ReceptionDuty).where(ReceptionDuty.station_id == station_id)) == 0
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "deputy.remove")).all()
        details = entry.details
        assert details["groups"] == ["教育专业小组", "米公街道代表小组"] and details["convened"] == ["米公街道代表小组"]
        assert details["duties"] == [f"{STATION} {cancelled.isoformat()}", f"{STATION} {ahead.isoformat()}"]
        assert (details["station"], details["grid"], details["number"]) == (STATION, "C01", "001")
        assert sorted(details["sessions"]) == sorted([world.session_id, world.later_id])


def test_a_by_election_entered_by_mistake_is_deleted_with_its_office_change(app, term_world):
    world = term_world
    with app.app_context():
        term = db.session.get(CongressSession, world.session_id).term
        today = beijing_today()
        person = sessions.add_elected_deputy("test", term, RosterRow(0, "099", "误录代表", "", ""), today, today)
        db.session.commit()
        row = later_row(world, person.id)
        assert row is not None
        changes.remove_deputy("test", row, today)
        db.session.commit()
        assert db.session.get(TermDeputy, person.id) is None
        assert db.session.scalar(select(func.count()).select_from(OfficeChange).where(OfficeChange.term_deputy_id == person.id)) == 0


def proposal_entered(world, person):
    from voting_app.proposals.models import Proposal

    db.session.add(Proposal(tracking_code="TESTREMOVE01", title="修缮米公祠路面", description="路面破损", theme="交通",
                            entered_by_deputy_id=person.id))
    return "1 resident proposal(s) they entered"


def supervision_visit(world, person):
    from voting_app.projects import delivery
    from voting_app.projects.models import Project

    project = Project(name="农村公路桥梁新改建", year=2026, stage="in_progress")
    db.session.add(project)
    db.session.flush()
    day = beijing_today()
    delivery.record_supervision("test", later_row(world, person.id), project, day, "护栏缺失", "", None, [], today=day)
    return "1 supervision visit(s) they recorded"


def reception_served(world, person):
    from voting_app.proposals import service as proposals

    station = proposals.add_station("test", STATION)
    stations.assign_station("test", person, station, beijing_today())
    served = reception_months_away(-1)
    stations.set_duty("test", station, served, [person.id])
    return f"their reception duty at {STATION} on {served.isoformat()}"


def checked_in_elsewhere(world, person):
    sessions.check_in(later_row(world, person.id), sessions.DESK)
    return "their check-in at “第二次会议”"


def voting_begun_elsewhere(world, person):
    db.session.add(Round(session_id=world.later_id, title="测试", method="choose_up_to", seats=1,
                         threshold_base="roster", mode="electronic", state=CLOSED))
    return "the roster of “第二次会议”, where voting has begun"


def someone_else_checked_in_elsewhere(world, person):
    other = db.session.get(Deputy, world.deputy_ids[1]).person
    sessions.check_in(later_row(world, other.id), sessions.DESK)
    return "the roster of “第二次会议”, where deputies have checked in"


def on_a_past_sessions_roster(world, person):
    held = beijing_today() - timedelta(days=20)
    sessions.create_session("test", "已举行的会议", "会堂", held, term=person.term)
    return f"the roster of “已举行的会议”, held on {held.isoformat()}"


@pytest.mark.parametrize("record", [proposal_entered, supervision_visit, reception_served, checked_in_elsewhere,
                                    voting_begun_elsewhere, someone_else_checked_in_elsewhere, on_a_past_sessions_roster])
def test_a_record_of_their_work_keeps_the_deputy_and_nothing_changes(app, term_world, record):
    world = term_world
    with app.app_context():
        person = first_deputy(world).person
        group = groups.create_group("test", person.term, "米公街道代表小组")
        groups.add_member("test", group, person)
        named = record(world, person)
        db.session.commit()
        person_id = person.id
        with pytest.raises(ConflictError) as refused:
            changes.remove_deputy("test", first_deputy(world), beijing_today())
        message = str(refused.value.message)
        db.session.rollback()
    # outside a request the message reads in the default language, Chinese
    assert message.endswith("记有代表1的名字，不能将其从本届代表名册中删除。请改为登记其代表资格终止。")

    staff = as_role(app, world, "staff")
    target = url(app, "sessions.deputy_remove", session_id=world.session_id, deputy_id=world.deputy_ids[0])
    page = text_of(staff.get(target))
    assert f"代表1 cannot be deleted from the term's registry because of {named}. Record the end of the deputy's term instead." in page
    assert "Record the end of term…" in page and "Delete from the term’s registry</button>" not in page
    refused = post(staff, target)
    assert named in text_of(staff.get(refused.headers["Location"]))
    with app.app_context():
        assert db.session.get(TermDeputy, person_id) is not None
        assert db.session.get(Deputy, world.deputy_ids[0]) is not None and later_row(world, person_id) is not None
        assert db.session.scalar(select(func.count()).select_from(GroupMembership).where(GroupMembership.term_deputy_id == person_id)) == 1
        assert db.session.scalars(select(AuditEntry).where(AuditEntry.action == "deputy.remove")).all() == []


def test_the_refusal_reads_in_chinese(app, term_world):
    world = term_world
    with app.app_context():
        person = first_deputy(world).person
        proposal_entered(world, person)
        checked_in_elsewhere(world, person)
        db.session.commit()
    staff = as_role(app, world, "staff")
    staff.get("/language/zh_CN")
    page = text_of(staff.get(url(app, "sessions.deputy_remove", session_id=world.session_id, deputy_id=world.deputy_ids[0])))
    assert "其在“第二次会议”的签到和其录入的1件群众意见建议记有代表1的名字，不能将其从本届代表名册中删除。请改为登记其代表资格终止。" in page
