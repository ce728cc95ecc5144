"""Issue 14 review of the liaison stations: only a deputy in office and still at the station enters
on its reception day; leaving a station or office drops the duties still to come and keeps the
past ones; a deputy is added to a station by term and number (numbers repeat across congresses);
one number parser and one set of level words."""

from datetime import date

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.conftest import post, sign_in
from tests.ballots.helpers import as_role
from voting_app.audit import AuditEntry
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.proposals import reception as entry, service as proposals
from voting_app.proposals.models import Proposal
from voting_app.registry import service as registry, stations
from voting_app.registry.models import LiaisonStation, ReceptionDuty, Term, TermDeputy
from voting_app.registry.roster import RosterParse, RosterRow
from voting_app.registry.terms import ELECTED, RESIGNED, TOWN
from voting_app.sessions import service as sessions
from voting_app.sessions.models import Deputy
from voting_app.web import int_or_none

APRIL, MAY, JUNE, JULY = date(2026, 4, 15), date(2026, 5, 15), date(2026, 6, 15), date(2026, 7, 15)
ROW = entry.Row("修缮米公祠路面", "路面坑洼，雨天积水严重", "米公祠", "roads_transport")
ENTRY_FORM = {"rows": "1", "row-0-title": ROW.title, "row-0-description": ROW.description,
              "row-0-location": ROW.location, "row-0-theme": ROW.theme}


def person(world, index=0) -> TermDeputy:
    return db.session.get(Deputy, world.deputy_ids[index]).person


def station_with_duties(world, days=(APRIL, MAY, JUNE, JULY), name="樊城区米公联络站"):
    """A station with the world's first two deputies, the first on duty on each of `days`."""
    station = proposals.add_station("test", name)
    for index in (0, 1):
        stations.assign_station("test", person(world, index), station, APRIL)
    for day in days:
        stations.set_duty("test", station, day, [person(world).id])
    db.session.commit()
    return station.id


def duty_days(deputy_id: int) -> list[date]:
    return list(db.session.scalars(select(ReceptionDuty.scheduled_on).where(ReceptionDuty.term_deputy_id == deputy_id)
                                   .order_by(ReceptionDuty.scheduled_on)))


def deputy_client(app, world, index=0):
    client = app.test_client()
    with app.app_context():
        sign_in(client, world.credential(world.deputy_ids[index]))
    return client


@pytest.fixture
def today_is(monkeypatch):
    def set_today(day):
        for module in ("voting_app.stations.routes", "voting_app.terms.routes", "voting_app.sessions.routes"):
            monkeypatch.setattr(f"{module}.beijing_today", lambda: day)
    return set_today


# 1. In office and still at the station, on the day


def test_a_deputy_moved_away_on_the_reception_day_can_no_longer_enter_there(app, world, today_is):
    with app.app_context(), force_locale("en"):
        first = station_with_duties(world, days=(MAY,))
        other = proposals.add_station("test", "樊城区屏襄门联络站")
        assert stations.duty_on(person(world), MAY).station.id == first
        # Moved on the day itself: that day's roster row stays (it may have been served), the duty does not.
        assert stations.assign_station("test", person(world), other, MAY) == 0
        db.session.commit()
        assert duty_days(person(world).id) == [MAY]
        assert stations.duty_on(person(world), MAY) is None
        with pytest.raises(DomainError) as refused:
            entry.enter_reception_batch("test", person(world), [ROW], MAY)
        assert "no longer work at 樊城区米公联络站" in str(refused.value.message)
    today_is(MAY)
    client = deputy_client(app, world)
    page = client.get("/stations/reception").get_data(as_text=True)
    assert "You no longer work at 樊城区米公联络站" in page and 'name="row-0-title"' not in page
    refused = post(client, "/stations/reception", ENTRY_FORM)
    assert "You no longer work at 樊城区米公联络站" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_a_deputy_out_of_office_on_the_day_cannot_enter_and_sees_why(app, world, today_is):
    with app.app_context(), force_locale("en"):
        station_with_duties(world, days=(MAY,))
        leaver = person(world)
        # Recorded in the registry only, so the card still opens the page: the rule is the office, not the card.
        registry.record_office_change("test", leaver, RESIGNED, date(2026, 5, 10), "工作调动", MAY)
        db.session.commit()
        assert duty_days(leaver.id) == [MAY]  # the day was not after "today": kept
        assert stations.duty_on(leaver, date(2026, 5, 9)) is None  # no reception that day
        assert stations.duty_on(leaver, MAY) is None
        assert stations.next_duty(leaver, date(2026, 5, 1)) is None
        with pytest.raises(DomainError) as refused:
            entry.enter_reception_batch("test", leaver, [ROW], MAY)
        assert "You are not in office on 2026-05-15" in str(refused.value.message)
    today_is(MAY)
    client = deputy_client(app, world)
    page = client.get("/stations/reception").get_data(as_text=True)
    assert "You are not in office on 2026-05-15" in page
    assert "No duty is planned" not in page and "Your next duty" not in page
    post(client, "/stations/reception", ENTRY_FORM)
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0


def test_a_deputy_not_yet_in_office_is_not_on_duty_and_cannot_be_put_on_a_roster(app, world):
    with app.app_context(), force_locale("en"):
        station_id = station_with_duties(world, days=(APRIL,))
        late = person(world, 1)
        late.took_office_on = date(2026, 6, 1)
        station = db.session.get(LiaisonStation, station_id)
        assert [d.id for d in stations.duty_choices(station, MAY)] == [person(world).id]
        with pytest.raises(DomainError) as refused:
            stations.set_duty("test", station, MAY, [late.id])
        assert "not in office on 2026-05-15" in str(refused.value.message)
        stations.set_duty("test", station, JUNE, [late.id])
        assert stations.duty_on(late, JUNE).station.id == station_id
        assert stations.next_duty(late, MAY).reception.on == JUNE


# 2. Leaving a station or office drops the duties still to come


def test_moving_to_another_station_drops_the_duties_still_to_come_and_audits_them(app, world):
    with app.app_context():
        first = station_with_duties(world)
        station = db.session.get(LiaisonStation, first)
        # June's day is held early, on 29 May: still to come on 20 May. May's day moved to 14 May: held already.
        stations.change_reception("test", station, JUNE, date(2026, 5, 29), "端午调休")
        stations.change_reception("test", station, MAY, date(2026, 5, 14), "会场占用")
        other = proposals.add_station("test", "樊城区屏襄门联络站")
        assert stations.assign_station("test", person(world), other, date(2026, 5, 20)) == 2
        db.session.commit()
        assert duty_days(person(world).id) == [APRIL, MAY]
        logged = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "station.duties_dropped")).all()
        assert [entry.target for entry in logged] == [f"term_deputy:{person(world).id}"]
        assert logged[0].details == {"duties": [[first, "2026-06-15"], [first, "2026-07-15"]]}
        # Assigning to the station they already work at drops nothing.
        stations.set_duty("test", other, date(2026, 8, 15), [person(world).id])
        assert stations.assign_station("test", person(world), other, date(2026, 5, 20)) == 0
        assert duty_days(person(world).id) == [APRIL, MAY, date(2026, 8, 15)]


def test_removing_a_deputy_from_the_station_page_says_how_many_duties_were_dropped(app, world, today_is):
    with app.app_context():
        station_id = station_with_duties(world)
        deputy_id = person(world).id
    today_is(date(2026, 5, 20))
    staff = as_role(app, world, "staff")
    done = post(staff, f"/stations/{station_id}/deputies/remove", {"term_deputy_id": str(deputy_id)}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "2 coming reception duties of 代表1 were taken off the stations’ rosters" in text
    with app.app_context():
        assert duty_days(deputy_id) == [APRIL, MAY]
        assert db.session.get(TermDeputy, deputy_id).station_id is None
    # The other deputy had no duty: no word about duties.
    with app.app_context():
        other_id = person(world, 1).id
    quiet = post(staff, f"/stations/{station_id}/deputies/remove", {"term_deputy_id": str(other_id)}, follow_redirects=True)
    assert "no longer works at this station" in quiet.get_data(as_text=True)
    assert "coming reception duties" not in quiet.get_data(as_text=True)


def test_leaving_office_drops_the_duties_still_to_come_on_every_path(app, world, today_is):
    with app.app_context():
        station_with_duties(world)
        station_id = person(world).station_id
        recorded = registry.record_office_change("test", person(world), RESIGNED, date(2026, 5, 1), "辞职", date(2026, 5, 20))
        assert recorded.duties_dropped == 2 and recorded.change.kind == RESIGNED
        assert duty_days(person(world).id) == [APRIL, MAY]
        # Out of office, out of the station's deputies; the move is on the audit log.
        assert person(world).station_id is None
        assert [p.id for p in db.session.get(LiaisonStation, station_id).deputies] == [person(world, 1).id]
        assert db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "station.deputy", AuditEntry.target == f"term_deputy:{person(world).id}")) == 2
        # A by-election's change drops nothing.
        late = person(world, 1)
        late.took_office_on = None
        stations.set_duty("test", db.session.get(LiaisonStation, late.station_id), JULY, [late.id])
        assert registry.record_office_change("test", late, ELECTED, date(2026, 5, 1), "", date(2026, 5, 20)).duties_dropped == 0
        assert duty_days(late.id) == [JULY]
        # From a session's roster (代表资格终止): the same rule, the count comes back to the page.
        third = person(world, 2)
        stations.assign_station("test", third, db.session.get(LiaisonStation, late.station_id), APRIL)
        stations.set_duty("test", db.session.get(LiaisonStation, late.station_id), JUNE, [late.id, third.id])
        db.session.commit()
        row = db.session.get(Deputy, world.deputy_ids[2])
        assert sessions.end_term("test", row, date(2026, 5, 20), "迁出本区", date(2026, 5, 20), RESIGNED) == 1
        assert duty_days(third.id) == []


def test_the_office_change_pages_say_how_many_duties_go(app, world, today_is):
    with app.app_context():
        station_with_duties(world)
        deputy = person(world)
        term_id, person_id = deputy.term_id, deputy.id
    today_is(date(2026, 5, 20))
    staff = as_role(app, world, "staff")
    url = f"/terms/{term_id}/deputies/{person_id}/change"
    form = {"kind": RESIGNED, "effective_on": "2026-05-18", "note": "工作调动"}
    confirm = post(staff, url, form).get_data(as_text=True)
    assert "2 coming reception duties of 代表1 will be taken off the stations’ rosters" in confirm
    done = post(staff, url, dict(form, confirmed="yes"), follow_redirects=True).get_data(as_text=True)
    assert "2 coming reception duties of 代表1 were taken off the stations’ rosters" in done
    with app.app_context():
        assert duty_days(person_id) == [APRIL, MAY]


# 3. A deputy named by term and number


def town_term_with_001():
    """A township congress whose deputy 001 is another person than the district's 001."""
    congress = registry.create_congress("test", "牛首镇人民代表大会", TOWN)
    registry.create_term("test", congress, 1)
    term = registry.create_term("test", congress, 2)
    registry.import_term_deputies("test", term, RosterParse((RosterRow(2, "001", "镇代表甲", "牛首镇", ""),), ()))
    return term


def test_each_congress_offers_its_newest_term_the_districts_first(app, world):
    with app.app_context():
        town = town_term_with_001()
        district = db.session.get(Deputy, world.deputy_ids[0]).person.term
        assert [t.id for t in registry.newest_terms()] == [district.id, town.id]
        assert registry.deputy_by_number(town, " 001 ").name == "镇代表甲"
        assert registry.deputy_by_number(district, "001").name == "代表1"
        assert registry.deputy_by_number(town, "002") is None


def test_adding_a_deputy_looks_the_number_up_in_the_chosen_term_only(app, world):
    with app.app_context():
        station = proposals.add_station("test", "樊城区米公联络站")
        town = town_term_with_001()
        db.session.commit()
        station_id, town_id = station.id, town.id
        district_id = person(world).term_id
    staff = as_role(app, world, "staff")
    page = staff.get(f"/stations/{station_id}").get_data(as_text=True)
    assert f'<option selected value="{district_id}">' in page and "牛首镇第二届人民代表大会" in page
    assert "牛首镇第一届" not in page
    assert post(staff, f"/stations/{station_id}/deputies", {"term_id": str(town_id), "number": "001"}).status_code == 302
    with app.app_context():
        assert [d.name for d in db.session.get(LiaisonStation, station_id).deputies] == ["镇代表甲"]
    missing = post(staff, f"/stations/{station_id}/deputies", {"term_id": str(town_id), "number": "002"})
    assert missing.status_code == 400
    assert "牛首镇第二届人民代表大会 has no deputy numbered 002." in missing.get_data(as_text=True)
    staff.set_cookie("lang", "zh_CN")
    chinese = post(staff, f"/stations/{station_id}/deputies", {"term_id": str(town_id), "number": "002"})
    assert "牛首镇第二届人民代表大会没有编号为002的代表" in chinese.get_data(as_text=True)
    assert post(staff, f"/stations/{station_id}/deputies", {"term_id": "999999", "number": "001"}).status_code == 400
    assert post(staff, f"/stations/{station_id}/deputies", {"term_id": str(district_id), "number": "001"}).status_code == 302
    with app.app_context():
        assert sorted(d.name for d in db.session.get(LiaisonStation, station_id).deputies) == ["代表1", "镇代表甲"]
        assert db.session.scalar(select(func.count(Term.id))) >= 3


# 4. One number parser, one set of level words


def test_one_parser_reads_numbers_from_links_and_forms():
    assert [int_or_none(value) for value in ("7", "0", "007", "999999999")] == [7, 0, 7, 999999999]
    for bad in ("", None, " 7", "+7", "-1", "1_0", "²", "１２", "1.5", "1000000000", "10" * 20):
        assert int_or_none(bad) is None, bad


def test_the_level_of_a_station_deputy_in_the_registrys_words(app, world):
    with app.app_context():
        station = proposals.add_station("test", "樊城区米公联络站")
        deputy = person(world)
        deputy.level = TOWN
        stations.assign_station("test", deputy, station, APRIL)
        db.session.commit()
        station_id = station.id
    staff = as_role(app, world, "staff")
    page = staff.get(f"/stations/{station_id}").get_data(as_text=True)
    assert "<td>Township</td>" in page
    staff.set_cookie("lang", "zh_CN")
    assert "<td>乡镇</td>" in staff.get(f"/stations/{station_id}").get_data(as_text=True)


def test_a_removal_naming_no_deputy_of_the_station_answers_404(app, world):
    with app.app_context():
        station_id = station_with_duties(world, days=())
        other = proposals.add_station("test", "樊城区屏襄门联络站")
        stranger = person(world, 5)
        stations.assign_station("test", stranger, other, APRIL)
        db.session.commit()
        stranger_id = stranger.id
    staff = as_role(app, world, "staff")
    for value in ("abc", "0", "1_0", "+1", "99999999999", str(stranger_id)):
        assert post(staff, f"/stations/{station_id}/deputies/remove", {"term_deputy_id": value}).status_code == 404, value
