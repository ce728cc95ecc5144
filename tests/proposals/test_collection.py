"""Collection as practice runs it (issue 14, item 6): each year's collection window, which the
public form follows, and the reserve (储备库) that carries good proposals into next year's screening."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from tests.ballots.helpers import as_role
from tests.conftest import post
from tests.projects.test_projects import counted_round
from tests.proposals.test_proposals import FORM, a_station, propose, submitted
from voting_app.audit import AuditEntry
from voting_app.ballots import service as ballots
from voting_app.ballots.models import Candidate, Round
from voting_app.db import db
from voting_app.projects.schedule import beijing_today
from voting_app.proposals.models import Proposal
from voting_app.proposals.window import Window, collection_on, is_short


def test_the_window_rule_open_inside_closed_outside_and_open_when_none_is_set():
    this_year = Window(2026, date(2026, 7, 1), date(2026, 8, 31))
    next_year = Window(2027, date(2027, 7, 1), date(2027, 7, 20))
    assert collection_on([], date(2026, 1, 1)).is_open  # as before windows existed
    assert collection_on([this_year], date(2026, 7, 1)).current == this_year  # both ends count
    assert collection_on([this_year], date(2026, 8, 31)).is_open
    closed = collection_on([this_year, next_year], date(2026, 9, 1))
    assert not closed.is_open and closed.next == next_year
    assert collection_on([this_year], date(2026, 12, 1)).next is None
    assert this_year.days == 62 and not is_short(this_year) and is_short(next_year)


def a_window(staff, opens: date, closes: date, year: int | None = None):
    return post(staff, "/proposals/windows", {"year": year or opens.year, "opens_on": opens.isoformat(),
                                              "closes_on": closes.isoformat()}, follow_redirects=True)


def test_staff_set_a_window_and_a_short_one_warns_and_is_audited(app, world):
    staff = as_role(app, world, "staff")
    today = beijing_today()
    short = a_window(staff, today, today + timedelta(days=19))
    body = short.get_data(as_text=True)
    assert short.status_code == 200 and "shorter than 30 days (20 days)" in body
    longer = a_window(staff, today - timedelta(days=10), today + timedelta(days=40)).get_data(as_text=True)
    assert "shorter than 30 days" not in longer and "The proposal form is open today." in longer
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "collection.window")).all()
        assert len(entries) == 2


@pytest.mark.parametrize("opens, closes, message", [
    (date(2026, 9, 1), date(2026, 8, 1), "cannot close before it opens"),
    (date(2027, 7, 1), date(2027, 8, 1), "include days of the year"),
])
def test_a_bad_window_is_refused_with_a_clear_error(app, world, opens, closes, message):
    staff = as_role(app, world, "staff")
    response = a_window(staff, opens, closes, year=2026)
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_windows_of_two_years_may_not_overlap(app, world):
    staff = as_role(app, world, "staff")
    a_window(staff, date(2026, 7, 1), date(2026, 8, 31))
    response = a_window(staff, date(2026, 8, 1), date(2027, 1, 31), year=2027)
    assert response.status_code == 409 and "overlaps the window of 2026" in response.get_data(as_text=True)


def test_the_public_form_shows_the_window_and_outside_it_refuses_and_names_the_next(app, world):
    code = a_station(app)
    staff = as_role(app, world, "staff")
    today = beijing_today()
    a_window(staff, today - timedelta(days=5), today + timedelta(days=30))
    resident = app.test_client()
    page = resident.get(f"/p/{code}").get_data(as_text=True)
    assert f"Collection period: {(today - timedelta(days=5)).isoformat()} to" in page and 'name="title"' in page
    assert propose(resident, code).status_code == 302

    year = today.year + 1
    a_window(staff, date(year, 7, 1), date(year, 8, 31), year=year)
    a_window(staff, today - timedelta(days=60), today - timedelta(days=31), year=today.year)
    closed = resident.get(f"/p/{code}").get_data(as_text=True)
    assert "Collection is closed" in closed and f"{year}-07-01 to {year}-08-31" in closed and 'name="title"' not in closed
    refused = propose(resident, code, title="关门之后再提的建议")
    assert refused.status_code == 409 and "Collection is closed" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 1


def test_with_no_window_the_form_stays_open(app):
    code = a_station(app)
    page = app.test_client().get(f"/p/{code}").get_data(as_text=True)
    assert 'name="title"' in page and "Collection period" not in page
    assert propose(app.test_client(), code).status_code == 302


def test_a_received_proposal_goes_to_the_reserve_and_is_accepted_next_year(app, world):
    code = a_station(app)
    proposal_id, tracking = submitted(app, code)
    staff = as_role(app, world, "staff")
    refused = post(staff, f"/proposals/{proposal_id}/reserve", {"note": "好"})
    assert refused.status_code == 400
    kept = post(staff, f"/proposals/{proposal_id}/reserve", {"note": "很好，今年未选入"}, follow_redirects=True)
    assert "Kept in the reserve" in kept.get_data(as_text=True)
    tracker = app.test_client().get(f"/p/track?code={tracking}").get_data(as_text=True)
    assert "kept in the reserve" in tracker and "很好，今年未选入" not in tracker  # the note is for staff
    submitted(app, code, title="另一条普通建议")
    listed = staff.get("/proposals/?reserve=1").get_data(as_text=True)
    assert FORM["title"] in listed and "另一条普通建议" not in listed and "From the reserve" in listed
    assert "另一条普通建议" in staff.get("/proposals/").get_data(as_text=True)
    accepted = post(staff, f"/proposals/{proposal_id}/accept", {"round_id": world.round_id, "new_department": "区住建局"})
    assert accepted.status_code == 302
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == "accepted" and proposal.candidate_id and proposal.reserved_at is not None
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "proposal.reserve")) is not None
    assert "From the reserve" in staff.get("/proposals/?reserve=1").get_data(as_text=True)


def test_an_accepted_proposal_goes_to_the_reserve_only_once_the_vote_did_not_elect_it(app, world):
    code = a_station(app)
    proposal_id, tracking = submitted(app, code)
    staff = as_role(app, world, "staff")
    post(staff, f"/proposals/{proposal_id}/accept", {"round_id": world.round_id, "new_department": "区住建局"})
    early = post(staff, f"/proposals/{proposal_id}/reserve", {"note": "还在票决中"}, follow_redirects=True)
    assert "Only a received proposal" in early.get_data(as_text=True)
    counted_round(app, world)  # the first two candidates are elected; the proposal's is not
    assert "reserve-heading" in staff.get(f"/proposals/{proposal_id}").get_data(as_text=True)
    kept = post(staff, f"/proposals/{proposal_id}/reserve", {"note": "票数不足，明年再议"})
    assert kept.status_code == 302
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        assert proposal.status == "reserved" and proposal.candidate_id is None
        # Next year's vote in preparation takes it like any received proposal.
        next_round = ballots.create_round("test", db.session.get(Round, world.round_id).session, "明年票决", "choose_up_to", 2, "roster", "electronic")
        db.session.commit()
        next_round_id = next_round.id
    assert post(staff, f"/proposals/{proposal_id}/accept", {"round_id": next_round_id, "new_department": "区住建局"}).status_code == 302
    with app.app_context():
        assert db.session.get(Candidate, db.session.get(Proposal, proposal_id).candidate_id).round_id == next_round_id


def test_an_elected_proposal_cannot_go_to_the_reserve(app, world):
    code = a_station(app)
    proposal_id, _ = submitted(app, code)
    staff = as_role(app, world, "staff")
    post(staff, f"/proposals/{proposal_id}/accept", {"round_id": world.round_id, "new_department": "区住建局"})
    with app.app_context():
        candidate = db.session.get(Candidate, db.session.get(Proposal, proposal_id).candidate_id)
        first = db.session.get(Candidate, world.candidate_ids[0])
        first.position, candidate.position = candidate.position, first.position
        world.candidate_ids[0] = candidate.id
        db.session.commit()
    counted_round(app, world)
    assert "reserve-heading" not in staff.get(f"/proposals/{proposal_id}").get_data(as_text=True)
    refused = post(staff, f"/proposals/{proposal_id}/reserve", {"note": "不应进入储备库"}, follow_redirects=True)
    assert "Only a received proposal" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "accepted"


def test_the_window_rule_is_plain_python():
    import ast
    from pathlib import Path

    import voting_app.proposals.window as window

    tree = ast.parse(Path(window.__file__).read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"dataclasses", "datetime"}
