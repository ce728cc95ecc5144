"""Residents' proposals: the public form and tracker, and staff screening (accept into a
draft round, merge duplicates, decline with a reason), with counts by station and theme."""

import io

import pytest
from sqlalchemy import func, select

from tests.ballots.helpers import as_role
from tests.conftest import dispose, make_test_app, post
from tests.images import jpeg_bytes
from tests.projects.test_projects import counted_round
from voting_app.ballots.models import Candidate
from voting_app.audit import AuditEntry
from voting_app.db import db
from voting_app.projects.models import Photo
from voting_app.proposals import reasons, service
from voting_app.proposals.models import DeclineReason, Proposal

FORM = {"title": "米公祠路段加装路灯", "description": "晚上路很黑，老人出门不安全，希望加装路灯。", "location": "米公祠东侧",
        "theme": "roads_transport", "contact": "13800001234"}


def a_station(app, name="米公街道代表联络站") -> str:
    with app.app_context():
        station = service.add_station("test", name, "米公街道")
        db.session.commit()
        return station.code


def propose(client, code, **fields):
    form = FORM | fields
    return post(client, f"/p/{code}", form, content_type="multipart/form-data")


def a_reason(app, label: str = "已列入计划或已有资金安排") -> int:
    """A reason from the common list (the migration seeds it; PostgreSQL tests start from empty tables)."""
    with app.app_context():
        reasons.add_common_reasons("test")
        db.session.commit()
        return db.session.scalar(select(DeclineReason.id).where(DeclineReason.label == label))


def tracking_code(response) -> str:
    return response.headers["Location"].split("code=")[1].split("&")[0]


def test_a_resident_proposes_and_follows_it_with_the_tracking_code(app):
    code = a_station(app)
    client = app.test_client()
    form = client.get(f"/p/{code}")
    assert form.status_code == 200 and "米公街道代表联络站" in form.get_data(as_text=True)
    sent = propose(client, code.lower(), photo=(io.BytesIO(jpeg_bytes(gps=True)), "road.jpg"))
    assert sent.status_code == 302
    tracking = tracking_code(sent)
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert f"{tracking[:5]}-{tracking[5:]}" in page and "Received, being screened" in page
    assert "13800001234" not in page
    typed = client.get(f"/p/track?code={tracking[:5].lower()}-{tracking[5:].lower()}")
    assert typed.status_code == 200 and "米公祠路段加装路灯" in typed.get_data(as_text=True)
    assert client.get("/p/track?code=AAAAA-BBBBB").status_code == 404
    with app.app_context():
        proposal = db.session.scalars(select(Proposal)).one()
        assert proposal.contact == "13800001234" and len(proposal.photos) == 1 and not proposal.photos[0].is_public
        token = proposal.photos[0].token
    # A resident's photo is for the screening staff only.
    assert client.get(f"/projects/photos/{token}").status_code == 404


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"title": "路"}, "4 to 200 characters"),
        ({"description": "太黑"}, "10 to 4,000 characters"),
        ({"theme": "weather"}, "Not a valid choice"),
        ({"photo": (io.BytesIO(b"%PDF-1.4 not a photo"), "scan.jpg")}, "JPEG, PNG or WebP"),
    ],
)
def test_bad_proposals_get_a_clear_error_and_nothing_is_stored(app, fields, message):
    code = a_station(app)
    response = propose(app.test_client(), code, **fields)
    body = response.get_data(as_text=True)
    assert response.status_code == 400 and message in body
    assert FORM["location"] in body  # what the resident wrote is kept
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 0
        assert db.session.scalar(select(func.count(Photo.id))) == 0


def test_a_stale_form_keeps_what_the_resident_wrote(app):
    code = a_station(app)
    response = app.test_client().post(f"/p/{code}", data=FORM | {"csrf_token": "stale"})
    assert response.status_code == 400 and "晚上路很黑" in response.get_data(as_text=True)
    assert "open too long" in response.get_data(as_text=True)


def test_unknown_station_is_not_found(app):
    assert app.test_client().get("/p/NOPE99").status_code == 404


@pytest.fixture
def limited_app(db_url):
    app = make_test_app(db_url, PROXY_COUNT=1, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                        PROPOSAL_SUBMIT_LIMIT="2 per minute")
    yield app
    dispose(app)


def test_proposals_from_one_network_address_are_rate_limited_and_a_refused_one_stores_nothing(limited_app):
    app = limited_app
    code = a_station(app)

    def from_address(address):
        return post(app.test_client(), f"/p/{code}", FORM, content_type="multipart/form-data", headers={"X-Forwarded-For": address})

    assert [from_address("198.51.100.60").status_code for _ in range(3)] == [302, 302, 429]
    refused = from_address("198.51.100.60")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    assert from_address("198.51.100.61").status_code == 302, "another address is counted apart"
    with app.app_context():
        assert db.session.scalar(select(func.count(Proposal.id))) == 3


def submitted(app, code, **fields) -> tuple[int, str]:
    response = propose(app.test_client(), code, **fields)
    with app.app_context():
        proposal = db.session.scalar(select(Proposal).where(Proposal.tracking_code == tracking_code(response)))
        return proposal.id, proposal.tracking_code


def test_accepted_proposal_becomes_a_candidate_passes_and_the_tracker_links_the_project(app, world):
    code = a_station(app)
    proposal_id, tracking = submitted(app, code)
    staff = as_role(app, world, "staff")
    detail = staff.get(f"/proposals/{proposal_id}").get_data(as_text=True)
    assert "13800001234" in detail  # staff see the private contact
    accepted = post(staff, f"/proposals/{proposal_id}/accept",
                    {"round_id": world.round_id, "new_department": "区住建局", "investment": "120", "planned_completion": "2026-10-31"})
    assert accepted.status_code == 302
    assert "区住建局" in staff.get("/projects/departments").get_data(as_text=True)  # now on the managed list
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        candidate = db.session.get(Candidate, proposal.candidate_id)
        assert proposal.status == "accepted" and candidate.round_id == world.round_id
        assert (candidate.name, candidate.department, str(candidate.investment)) == ("米公祠路段加装路灯", "区住建局", "120.00")
        # The proposal takes the first candidate's place so that it is elected.
        first = db.session.get(Candidate, world.candidate_ids[0])
        first.position, candidate.position = candidate.position, first.position
        world.candidate_ids[0], candidate_id = candidate.id, candidate.id
        db.session.commit()
    again = post(staff, f"/proposals/{proposal_id}/decline", {"reasons": a_reason(app)}, follow_redirects=True)
    assert "screened already" in again.get_data(as_text=True)
    counted_round(app, world)
    made = post(staff, f"/projects/from-candidate/{candidate_id}", {"year": "2026"})
    assert made.status_code == 302
    project_path = made.headers["Location"]
    tracker = app.test_client().get(f"/p/track?code={tracking}").get_data(as_text=True)
    assert project_path.split("localhost")[-1] in tracker
    project_page = app.test_client().get(project_path).get_data(as_text=True)
    assert "米公街道代表联络站" in project_page and "13800001234" not in project_page
    assert FORM["location"] in project_page  # the place the resident named travels with it
    assert tracking not in project_page  # the tracking code is the resident's own
    with app.app_context():
        project = db.session.scalars(select(Candidate.project_id).where(Candidate.id == candidate_id)).one()
        assert db.session.get(Candidate, candidate_id).planned_completion is not None and project


def test_duplicates_merge_and_declines_carry_a_reason_the_proposer_reads(app, world):
    code = a_station(app)
    first_id, first_code = submitted(app, code)
    second_id, second_code = submitted(app, code, title="米公祠那段路装路灯吧")
    third_id, third_code = submitted(app, code, title="米公祠路灯太少")
    staff = as_role(app, world, "staff")
    assert post(staff, f"/proposals/{third_id}/merge", {"into": second_code}).status_code == 302
    # Merging the second into the first brings the third along, so chains stay one step long.
    assert post(staff, f"/proposals/{second_id}/merge", {"into": first_code.lower()}).status_code == 302
    self_merge = post(staff, f"/proposals/{first_id}/merge", {"into": first_code}, follow_redirects=True)
    assert "into itself" in self_merge.get_data(as_text=True)
    with app.app_context():
        third = db.session.get(Proposal, third_id)
        assert third.merged_into_id == first_id and service.supporters(db.session.get(Proposal, first_id)) == 3
    tracker = app.test_client().get(f"/p/track?code={third_code}").get_data(as_text=True)
    assert "Merged with a similar proposal" in tracker and "米公祠路段加装路灯" in tracker
    assert post(staff, f"/proposals/{first_id}/decline", {"explanation": "该路段已列入市政2027年计划"}).status_code == 400
    assert post(staff, f"/proposals/{first_id}/decline", {"reasons": a_reason(app),
                                                          "explanation": "该路段已列入市政2027年计划"}).status_code == 302
    tracker = app.test_client().get(f"/p/track?code={first_code}").get_data(as_text=True)
    assert "Not taken up" in tracker and "该路段已列入市政2027年计划" in tracker and "Already planned or funded" in tracker


def test_counts_by_station_and_theme(app, world):
    north, south = a_station(app, "北站"), a_station(app, "南站")
    submitted(app, north)
    submitted(app, north, theme="education")
    declined_id, _ = submitted(app, south, theme="education")
    staff = as_role(app, world, "staff")
    post(staff, f"/proposals/{declined_id}/decline", {"reasons": a_reason(app, "不属于民生领域")})
    with app.app_context():
        by_station = {row.key.name: row.by_status for row in service.counts_by_station()}
        by_theme = {row.key: row.total for row in service.counts_by_theme()}
    assert by_station == {"北站": {"received": 2}, "南站": {"declined": 1}}
    assert by_theme["education"] == 2 and by_theme["roads_transport"] == 1 and by_theme["health"] == 0
    page = staff.get("/proposals/counts").get_data(as_text=True)
    assert "北站" in page and "Education" in page


def test_station_posters_carry_the_form_address(app, world):
    staff = as_role(app, world, "staff")
    assert post(staff, "/proposals/stations", {"name": "屏襄门联络站", "address": "屏襄门社区"}).status_code == 302
    assert post(staff, "/proposals/stations", {"name": "屏襄门联络站"}).status_code == 409
    with app.app_context():
        station = service.station_by_code(db.session.scalars(select(service.LiaisonStation.code)).one())
        station_id, code = station.id, station.code
    poster = staff.get(f"/proposals/stations/{station_id}/poster").get_data(as_text=True)
    assert f"/p/{code}" in poster and "<svg" in poster


def test_screening_offers_same_theme_proposals_to_merge_into(app, world):
    north, south = a_station(app, "北站"), a_station(app, "南站")
    first_id, first_code = submitted(app, north)
    submitted(app, south, title="学校门口加护栏", theme="education")
    other_id, _ = submitted(app, south)
    staff = as_role(app, world, "staff")
    page = staff.get(f"/proposals/{other_id}").get_data(as_text=True)
    assert f"/proposals/{other_id}/merge?into={first_code}" in page and "学校门口加护栏" not in page
    confirm = staff.get(f"/proposals/{other_id}/merge?into={first_code}")
    assert confirm.status_code == 200 and "What will happen" in confirm.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Proposal, other_id).status == "received"  # the page changes nothing
    assert post(staff, f"/proposals/{other_id}/merge", {"into": first_code}).status_code == 302
    with app.app_context():
        assert db.session.get(Proposal, other_id).merged_into_id == first_id


def test_a_merge_is_confirmed_on_its_own_page_and_can_be_undone_with_its_followers(app, world):
    code = a_station(app)
    first_id, first_code = submitted(app, code)
    second_id, second_code = submitted(app, code, title="米公祠那段路装路灯吧")
    third_id, third_code = submitted(app, code, title="米公祠路灯太少")
    staff = as_role(app, world, "staff")
    assert post(staff, f"/proposals/{third_id}/merge", {"into": second_code}).status_code == 302

    confirm = staff.get(f"/proposals/{second_id}/merge?into={first_code.lower()}")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "1 proposal merged into it earlier moves along with it." in page and "counts 3 residents" in page
    assert f'name="into" value="{first_code}"' in page and "csrf_token" in page
    unknown = staff.get(f"/proposals/{second_id}/merge?into=AAAAA-BBBBB")
    assert unknown.status_code == 400 and "No proposal has this tracking code." in unknown.get_data(as_text=True)
    itself = staff.get(f"/proposals/{second_id}/merge?into={second_code}", follow_redirects=True)
    assert "into itself" in itself.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Proposal, second_id).status == "received"

    assert post(staff, f"/proposals/{second_id}/merge", {"into": first_code}).status_code == 302
    merged_page = staff.get(f"/proposals/{second_id}").get_data(as_text=True)
    assert f"/proposals/{second_id}/unmerge" in merged_page
    with app.app_context():
        assert db.session.get(Proposal, third_id).merged_into_id == first_id
        assert service.supporters(db.session.get(Proposal, first_id)) == 3

    undone = post(staff, f"/proposals/{second_id}/unmerge", follow_redirects=True)
    assert "Merge undone" in undone.get_data(as_text=True) and "1 merged into it came back" in undone.get_data(as_text=True)
    with app.app_context():
        second, third = db.session.get(Proposal, second_id), db.session.get(Proposal, third_id)
        assert (second.status, second.merged_into_id, second.screened_at, second.screened_by_name) == ("received", None, None, "")
        assert third.merged_into_id == second_id and third.status == "merged"
        assert service.supporters(db.session.get(Proposal, first_id)) == 1 and service.supporters(second) == 2
        entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "proposal.unmerge")).one()
        assert entry.target == f"proposal:{second_id}" and entry.details == {"was_into": first_id, "came_back": [third_id]}
    tracker = app.test_client().get(f"/p/track?code={third_code}").get_data(as_text=True)
    assert "米公祠那段路装路灯吧" in tracker
    again = post(staff, f"/proposals/{second_id}/unmerge", follow_redirects=True)
    assert "nothing to undo" in again.get_data(as_text=True)
    # Undoing the follower's own merge leaves it open, standing alone.
    post(staff, f"/proposals/{third_id}/unmerge")
    with app.app_context():
        assert db.session.get(Proposal, third_id).status == "received"
        assert service.supporters(db.session.get(Proposal, second_id)) == 1


def test_the_screening_list_searches_and_pages_keeping_the_query(app, world):
    north, south = a_station(app, "北站"), a_station(app, "南站")
    with app.app_context():
        stations = {station.code: station for station in db.session.scalars(select(service.LiaisonStation))}
        for number in range(25):
            service.submit_proposal(stations[north], f"路灯第{number}号加装", "晚上路很黑，希望加装路灯。", "", "roads_transport", "", [])
        for number in range(3):
            service.submit_proposal(stations[south], f"学校护栏{number}", "学校门口车多，希望加装护栏。", "", "education", "", [])
        code = db.session.scalars(select(Proposal.tracking_code).where(Proposal.title == "学校护栏1")).one()
        db.session.commit()
    staff = as_role(app, world, "staff")
    first = staff.get("/proposals/").get_data(as_text=True)
    assert "28 in all" in first and first.count("/proposals/") > 20 and 'aria-label="Pages"' in first
    assert 'href="/proposals/?page=2"' in first and 'aria-current="page"' in first
    searched = staff.get("/proposals/?q=路灯　加装&status=received").get_data(as_text=True)
    assert "25 in all" in searched and "学校护栏" not in searched
    assert "q=%E8%B7%AF%E7%81%AF" in searched and "page=2" in searched and "status=received" in searched
    second = staff.get("/proposals/?q=路灯&page=2").get_data(as_text=True)
    assert "25 in all" in second and "page 2 of 2" in second and second.count("路灯第") == 5
    assert "路灯第0号加装" in second  # oldest last
    beyond = staff.get("/proposals/?q=路灯&page=99").get_data(as_text=True)
    assert "page 2 of 2" in beyond
    by_code = staff.get(f"/proposals/?q={code[:5].lower()}-{code[5:]}").get_data(as_text=True)
    assert "1 in all" in by_code and "学校护栏1" in by_code
    nothing = staff.get("/proposals/?q=100%25").get_data(as_text=True)
    assert "0 in all" in nothing and "No proposal matches." in nothing
