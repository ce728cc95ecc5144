"""Liaison stations and reception days (issue 14, item 3): the reception-day rule, duty rosters, the
deputy on duty's bulk entry (all or nothing) and the counts per station per month."""

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from tests.ballots.helpers import as_role
from tests.conftest import post, sign_in
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.proposals import reception as entry, service as proposals
from voting_app.proposals.models import RECEPTION_DAY, Proposal
from voting_app.proposals.models import LiaisonStation as StationFromProposals
from voting_app.registry import stations
from voting_app.registry.models import LiaisonStation, ReceptionChange, TermDeputy
from voting_app.registry.reception import (Change, calendar_from, check_move, month_counts, next_reception,
                                           reception_of_month, reception_on, regular_day)
from voting_app.sessions.models import Deputy

DAY = date(2026, 5, 15)


# The rule, plain Python


def test_the_15th_by_default_and_a_short_month_receives_on_its_last_day():
    assert [r.on for r in calendar_from(date(2026, 1, 20), 3, 15)] == [date(2026, 1, 15), date(2026, 2, 15), date(2026, 3, 15)]
    assert regular_day(2026, 2, 31) == date(2026, 2, 28)
    assert regular_day(2028, 2, 30) == date(2028, 2, 29)
    assert reception_on(date(2026, 4, 30), 31).scheduled_on == date(2026, 4, 30)
    assert reception_on(date(2026, 4, 15), 15) is not None
    assert reception_on(date(2026, 4, 16), 15) is None
    with pytest.raises(ValueError):
        regular_day(2026, 1, 0)


def test_a_moved_day_is_held_on_its_new_date_only_and_a_cancelled_day_not_at_all():
    changes = [Change(date(2026, 5, 15), date(2026, 5, 18), "端午调休"), Change(date(2026, 6, 15), None, "防汛")]
    may = reception_of_month(2026, 5, 15, changes)
    assert (may.on, may.is_moved, may.reason) == (date(2026, 5, 18), True, "端午调休")
    assert reception_on(date(2026, 5, 15), 15, changes) is None
    assert reception_on(date(2026, 5, 18), 15, changes).scheduled_on == date(2026, 5, 15)
    june = reception_of_month(2026, 6, 15, changes)
    assert june.is_cancelled and reception_on(date(2026, 6, 15), 15, changes) is None
    assert next_reception(date(2026, 5, 16), 15, changes).on == date(2026, 5, 18)
    assert next_reception(date(2026, 5, 19), 15, changes).on == date(2026, 7, 15)
    # Moved across a month's end: still found from the new date's month.
    across = [Change(date(2026, 7, 31), date(2026, 8, 3), "周末")]
    assert reception_on(date(2026, 8, 3), 31, across).scheduled_on == date(2026, 7, 31)


def test_another_day_of_the_month_and_the_checks_on_a_change():
    assert [r.on.day for r in calendar_from(date(2026, 1, 1), 2, 10)] == [10, 10]
    assert check_move(DAY, None, " ") == "reason"
    assert check_move(DAY, DAY, "x") == "same"
    assert check_move(DAY, date(2026, 8, 1), "x") == "far"
    assert check_move(DAY, date(2026, 6, 1), "x") is None
    assert month_counts([(1, date(2026, 5, 15)), (1, date(2026, 5, 18)), (2, date(2026, 6, 15))]) == {
        1: {(2026, 5): 2}, 2: {(2026, 6): 1}}


# Stations in the registry, with deputies and duty


def station_with_duty(world, deputies=(0, 1), on_duty=(0,), name="樊城区米公联络站"):
    """A station with the world's first deputies (by roster row index) and some of them on duty on DAY."""
    station = proposals.add_station("test", name)
    people = [db.session.get(Deputy, world.deputy_ids[i]).person for i in deputies]
    for person in people:
        stations.assign_station("test", person, station, DAY)
    stations.set_duty("test", station, DAY, [people[i].id for i in on_duty])
    db.session.commit()
    return station.id, [p.id for p in people]


def test_the_station_model_lives_in_the_registry_and_keeps_its_old_import(app):
    assert StationFromProposals is LiaisonStation
    with app.app_context():
        station = proposals.add_station("test", "新站")
        assert station.reception_day == 15


def test_duty_only_among_the_stations_deputies_and_only_on_a_reception_day(app, world):
    with app.app_context():
        station_id, people = station_with_duty(world)
        station = db.session.get(LiaisonStation, station_id)
        outsider = db.session.get(Deputy, world.deputy_ids[5]).person
        with pytest.raises(DomainError):
            stations.set_duty("test", station, DAY, [outsider.id])
        with pytest.raises(DomainError):
            stations.set_duty("test", station, date(2026, 5, 16), [people[0]])
        with pytest.raises(DomainError):
            stations.change_reception("test", station, DAY, date(2026, 5, 18), "  ")
        assert stations.duty_on(db.session.get(TermDeputy, people[0]), DAY).station.id == station_id
        assert stations.duty_on(db.session.get(TermDeputy, people[1]), DAY) is None
        # Moving the day moves the duty with it; cancelling it leaves no duty.
        stations.change_reception("test", station, DAY, date(2026, 5, 18), "端午调休")
        assert stations.duty_on(db.session.get(TermDeputy, people[0]), DAY) is None
        assert stations.duty_on(db.session.get(TermDeputy, people[0]), date(2026, 5, 18)) is not None
        stations.change_reception("test", station, DAY, None, "防汛")
        assert db.session.scalar(select(func.count(ReceptionChange.id))) == 1
        assert stations.duty_on(db.session.get(TermDeputy, people[0]), date(2026, 5, 18)) is None
        assert stations.next_duty(db.session.get(TermDeputy, people[0]), date(2026, 5, 1)) is None
        stations.restore_reception("test", station, DAY)
        assert stations.next_duty(db.session.get(TermDeputy, people[0]), date(2026, 5, 1)).reception.on == DAY


def test_a_deputy_belongs_to_one_station(app, world):
    with app.app_context():
        first, people = station_with_duty(world)
        second = proposals.add_station("test", "樊城区屏襄门联络站")
        stations.assign_station("test", db.session.get(TermDeputy, people[0]), second, DAY)
        db.session.commit()
        assert [d.id for d in db.session.get(LiaisonStation, first).deputies] == [people[1]]
        assert [d.id for d in second.deputies] == [people[0]]


# The deputy on duty's bulk entry


ROWS = {"rows": "3",
        "row-0-title": "修缮米公祠路面", "row-0-description": "路面坑洼，雨天积水严重", "row-0-location": "米公祠", "row-0-theme": "roads_transport",
        "row-1-title": "增设老年食堂", "row-1-description": "社区老人多，吃饭不方便", "row-1-location": "", "row-1-theme": "elderly_childcare",
        "row-2-title": "", "row-2-description": "", "row-2-location": "", "row-2-theme": ""}


def deputy_client(app, world, index):
    client = app.test_client()
    with app.app_context():
        sign_in(client, world.credential(world.deputy_ids[index]))
    return client


@pytest.fixture
def on_the_15th(monkeypatch):
    monkeypatch.setattr("voting_app.stations.routes.beijing_today", lambda: DAY)


def test_the_deputy_on_duty_enters_several_proposals_at_once(app, world, on_the_15th):
    with app.app_context():
        station_id, people = station_with_duty(world)
    client = deputy_client(app, world, 0)
    page = client.get("/stations/reception")
    assert page.status_code == 200 and "Reception-day entry" in page.get_data(as_text=True)
    assert 'name="row-2-title"' in page.get_data(as_text=True)
    response = post(client, "/stations/reception", ROWS, follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        stored = db.session.scalars(select(Proposal).order_by(Proposal.id)).all()
        assert [p.title for p in stored] == ["修缮米公祠路面", "增设老年食堂"]
        assert {(p.channel, p.station_id, p.entered_by_deputy_id) for p in stored} == {(RECEPTION_DAY, station_id, people[0])}
        assert all(p.entered_at is not None for p in stored)
        code = stored[0].tracking_code
    assert proposals.tracking_code_shown(code) in response.get_data(as_text=True)
    # Staff see the deputy's name; the public tracking page says only that a deputy entered it.
    staff = as_role(app, world, "staff")
    with app.app_context():
        detail = staff.get(f"/proposals/{stored[0].id}").get_data(as_text=True)
    assert "Entered by a deputy on a reception day" in detail and "代表1" in detail
    tracked = app.test_client().get(f"/p/track?code={code}").get_data(as_text=True)
    assert "Entered by a deputy on a reception day" in tracked and "代表1" not in tracked


def test_one_bad_row_rejects_the_whole_batch(app, world, on_the_15th):
    with app.app_context():
        station_with_duty(world)
    client = deputy_client(app, world, 0)
    bad = dict(ROWS, **{"row-1-description": "太短", "row-1-theme": ""})
    response = post(client, "/stations/reception", bad)
    text = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was stored" in text and "Describe the proposal in at least 10 characters." in text
    assert "修缮米公祠路面" in text  # the good row is kept on the page to send again
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0
    assert post(client, "/stations/reception", {"rows": "3"}).status_code == 400  # all blank
    more = post(client, "/stations/reception", dict(ROWS, more="1"))
    assert more.status_code == 200 and 'name="row-5-title"' in more.get_data(as_text=True)
    assert "修缮米公祠路面" in more.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_only_the_deputy_on_duty_that_day_at_that_station_may_enter(app, world, monkeypatch):
    with app.app_context():
        station_with_duty(world)
    monkeypatch.setattr("voting_app.stations.routes.beijing_today", lambda: DAY)
    off_duty = deputy_client(app, world, 1)  # the station's deputy, not on duty
    page = off_duty.get("/stations/reception").get_data(as_text=True)
    assert "You are not on duty" in page
    post(off_duty, "/stations/reception", ROWS)
    on_duty = deputy_client(app, world, 0)
    monkeypatch.setattr("voting_app.stations.routes.beijing_today", lambda: date(2026, 5, 16))
    page = on_duty.get("/stations/reception").get_data(as_text=True)
    assert "Your next duty: 2026-06-15" not in page and "No duty is planned" in page
    post(on_duty, "/stations/reception", ROWS)
    monkeypatch.setattr("voting_app.stations.routes.beijing_today", lambda: date(2026, 5, 10))
    assert "Your next duty: 2026-05-15" in on_duty.get("/stations/reception").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0
        with pytest.raises(DomainError):
            entry.enter_reception_batch("test", db.session.get(Deputy, world.deputy_ids[1]).person,
                                        [entry.Row("修缮路面", "路面坑洼，雨天积水", "", "other")], DAY)


# Staff pages


def test_staff_move_a_day_set_duty_and_the_counts_add_up(app, world, on_the_15th):
    with app.app_context():
        station_id, people = station_with_duty(world)
        other = proposals.add_station("test", "樊城区屏襄门联络站")
        for station, created, n in ((station_id, datetime(2026, 5, 15, 2), 3), (station_id, datetime(2026, 6, 15, 2), 2),
                                    (other.id, datetime(2026, 5, 15, 2), 4)):
            for i in range(n):
                proposal = proposals.submit_proposal(db.session.get(LiaisonStation, station), f"接待日建议{i}号",
                                                     "一位选民当面提出的建议", "", "other", "", [], channel=RECEPTION_DAY,
                                                     entered_by="test")
                proposal.created_at = created
        proposals.submit_proposal(other, "扫码提交的建议", "不是接待日的建议内容", "", "other", "", [])
        db.session.commit()
        counts = entry.reception_counts(2026)
        assert counts == {station_id: {(2026, 5): 3, (2026, 6): 2}, other.id: {(2026, 5): 4}}
        facts = proposals.summary_facts(2026)
        by_reception = {}
        for fact in facts:
            by_reception[fact.keys["reception_station"]] = by_reception.get(fact.keys["reception_station"], 0) + 1
        assert by_reception == {station_id: 5, other.id: 4, None: 1}
    staff = as_role(app, world, "staff")
    table = staff.get("/stations/counts?year=2026").get_data(as_text=True)
    assert ">9<" in table and ">7<" in table  # the total, and May's column
    assert staff.get("/stations/").status_code == 200
    detail = staff.get(f"/stations/{station_id}").get_data(as_text=True)
    assert "Reception calendar" in detail and "代表1" in detail
    assert staff.get(f"/stations/{station_id}/day?on=2026-05-16").status_code == 404
    assert staff.get(f"/stations/{station_id}/day?on=2026-05-15").status_code == 200
    refused = post(staff, f"/stations/{station_id}/day/change?on=2026-05-15", {"action": "move", "moved_to": "2026-05-18"})
    assert refused.status_code == 400 and "Give the reason" in refused.get_data(as_text=True)
    moved = post(staff, f"/stations/{station_id}/day/change?on=2026-05-15",
                 {"action": "move", "moved_to": "2026-05-18", "reason": "端午调休"})
    assert moved.status_code == 302
    post(staff, f"/stations/{station_id}/day/duty?on=2026-05-15", {"deputies": [str(people[1])]})
    post(staff, f"/stations/{station_id}/reception-day", {"reception_day": "20"})
    with app.app_context():
        station = db.session.get(LiaisonStation, station_id)
        assert station.reception_day == 20
        assert [d.id for d in stations.duty_of(station, DAY)] == [people[1]]
    assert post(staff, f"/stations/{station_id}/reception-day", {"reception_day": "32"}).status_code == 400
    post(staff, f"/stations/{station_id}/deputies", {"number": "009"})
    with app.app_context():
        assert len(db.session.get(LiaisonStation, station_id).deputies) == 3
