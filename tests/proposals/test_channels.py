"""Collection as practice runs it (issue 14, item 6), continued: the channel every proposal came
through, the managed list of decline reasons, and the public collection summary."""

import csv
import io
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select

from tests.ballots.helpers import as_role
from tests.conftest import ROOT, post
from tests.projects.test_projects import counted_round
from tests.proposals.test_collection import a_window
from tests.proposals.test_proposals import FORM, a_reason, a_station, propose, submitted, tracking_code
from voting_app.audit import AuditEntry
from voting_app.ballots.models import Candidate
from voting_app.db import db
from voting_app.projects.schedule import beijing_today
from voting_app.proposals import reasons
from voting_app.proposals.models import DeclineReason, LiaisonStation, Proposal
from voting_app.proposals.summary import Fact, breakdown, tally


def test_the_summary_rule_statuses_add_up_and_rows_add_up_to_the_totals():
    facts = [
        Fact("received", keys={"channel": "online", "station": None}),
        Fact("accepted", is_elected=True, keys={"channel": "station_qr", "station": 1}),
        Fact("accepted", keys={"channel": "station_qr", "station": 2}),
        Fact("declined", reasons=(1, 2), keys={"channel": "deputy", "station": 1}),
        Fact("declined", keys={"channel": "online", "station": None}),  # declined before the list: unclassified
        Fact("merged", keys={"channel": "station_qr", "station": 1}),
        Fact("reserved", keys={"channel": "courtyard", "station": 2}),
    ]
    total = tally(facts)
    assert total.received == 7 == sum(total.by_status.values())
    assert (total.status("accepted"), total.elected, total.status("declined")) == (2, 1, 2)
    assert total.by_reason == {1: 1, 2: 1, None: 1}
    by_channel = breakdown(facts, "channel", ["station_qr", "reception_day", "online"])
    assert [key for key, _ in by_channel.rows] == ["station_qr", "reception_day", "online", "deputy", "courtyard"]
    assert dict(by_channel.rows)["reception_day"].received == 0  # every channel asked for shows, zeros included
    by_station = breakdown(facts, "station", [1, 2])
    assert [key for key, _ in by_station.rows] == [1, 2, None]  # no station last
    for table in (by_channel, by_station):
        assert sum(row.received for _, row in table.rows) == table.total.received == 7
        assert sum(row.elected for _, row in table.rows) == 1
        for status in ("received", "accepted", "merged", "declined", "reserved"):
            assert sum(row.status(status) for _, row in table.rows) == total.status(status)
    empty = tally([])
    assert empty.received == 0 and breakdown([], "channel").rows == ()


def test_the_summary_rule_imports_neither_flask_nor_sqlalchemy():
    script = (
        "import sys\n"
        "import voting_app.proposals.summary\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_babel', 'sqlalchemy'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_each_path_stores_its_channel_and_the_list_filters_by_it(app, world):
    code = a_station(app)
    qr_id, _ = submitted(app, code)
    resident = app.test_client()
    online_page = resident.get("/p/online").get_data(as_text=True)
    assert "Online collection" in online_page and 'name="title"' in online_page
    sent = post(resident, "/p/online", FORM | {"title": "网上提的建议：加装路灯"}, content_type="multipart/form-data")
    assert sent.status_code == 302
    online_code = tracking_code(sent)
    staff = as_role(app, world, "staff")
    assert staff.get("/proposals/new").status_code == 200
    with app.app_context():
        station_id = db.session.scalar(select(LiaisonStation.id))
    entered = post(staff, "/proposals/new", FORM | {"title": "院坝会上群众提的建议", "channel": "courtyard", "station_id": "0"},
                   content_type="multipart/form-data")
    assert entered.status_code == 302
    # A reception day happens at a station: without one, a clear error and nothing stored.
    refused = post(staff, "/proposals/new", FORM | {"title": "接待日建议", "channel": "reception_day", "station_id": "0"},
                   content_type="multipart/form-data")
    assert refused.status_code == 400 and "this channel is at a station" in refused.get_data(as_text=True)
    reception = post(staff, "/proposals/new", FORM | {"title": "接待日群众的建议", "channel": "reception_day",
                                                      "station_id": str(station_id)}, content_type="multipart/form-data")
    assert reception.status_code == 302
    bad = post(staff, "/proposals/new", FORM | {"channel": "carrier_pigeon"}, content_type="multipart/form-data")
    assert bad.status_code == 400
    with app.app_context():
        rows = {p.title: (p.channel, p.station_id) for p in db.session.scalars(select(Proposal))}
        assert rows == {FORM["title"]: ("station_qr", station_id), "网上提的建议：加装路灯": ("online", None),
                        "院坝会上群众提的建议": ("courtyard", None), "接待日群众的建议": ("reception_day", station_id)}
        entries = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("proposal.%"))).all()
        assert sorted(entries) == ["proposal.enter", "proposal.enter", "proposal.submit", "proposal.submit"]
    courtyard = staff.get("/proposals/?channel=courtyard").get_data(as_text=True)
    assert "院坝会上群众提的建议" in courtyard and FORM["title"] not in courtyard
    assert "网上提的建议" in staff.get("/proposals/?channel=online").get_data(as_text=True)
    assert staff.get(f"/proposals/{qr_id}").get_data(as_text=True).count("Liaison station QR code") >= 1
    tracker = resident.get(f"/p/track?code={online_code}").get_data(as_text=True)
    assert "Online" in tracker and "13800001234" not in tracker
    counts = staff.get("/proposals/counts").get_data(as_text=True)
    assert "Courtyard meeting" in counts and "No station" in counts


def test_the_online_form_follows_the_collection_window(app, world):
    staff = as_role(app, world, "staff")
    today = beijing_today()
    a_window(staff, today - timedelta(days=40), today - timedelta(days=5))
    resident = app.test_client()
    page = resident.get("/p/online").get_data(as_text=True)
    assert "Collection is closed" in page and 'name="title"' not in page
    assert post(resident, "/p/online", FORM, content_type="multipart/form-data").status_code == 409
    with app.app_context():
        assert db.session.scalar(select(Proposal.id)) is None


def test_declining_needs_a_reason_from_the_list_and_the_proposer_reads_it(app, world):
    code = a_station(app)
    proposal_id, tracking = submitted(app, code)
    staff = as_role(app, world, "staff")
    debt = a_reason(app, "将新增政府债务")
    form = staff.get(f"/proposals/{proposal_id}").get_data(as_text=True)
    assert "Adds government debt" not in form or "将新增政府债务" in form  # labels are the Chinese wording on the form
    no_reason = post(staff, f"/proposals/{proposal_id}/decline", {"explanation": "投资太大"})
    assert no_reason.status_code == 400 and "Choose at least one reason" in no_reason.get_data(as_text=True)
    assert post(staff, f"/proposals/{proposal_id}/decline", {"reasons": "999999"}).status_code == 400
    with app.app_context():
        assert db.session.get(Proposal, proposal_id).status == "received"
    done = post(staff, f"/proposals/{proposal_id}/decline", {"reasons": [debt, a_reason(app, "不属于区级事权")]})
    assert done.status_code == 302
    tracker = app.test_client().get(f"/p/track?code={tracking}").get_data(as_text=True)
    assert "Adds government debt" in tracker and "Outside the district" in tracker
    chinese = app.test_client()
    chinese.set_cookie("lang", "zh_CN")
    assert "将新增政府债务" in chinese.get(f"/p/track?code={tracking}").get_data(as_text=True)


def test_a_retired_reason_is_not_offered_but_stays_on_old_proposals_and_one_in_use_is_never_deleted(app, world):
    code = a_station(app)
    first_id, first_code = submitted(app, code)
    second_id, _ = submitted(app, code, title="另一条建议加装路灯")
    staff = as_role(app, world, "staff")
    debt = a_reason(app, "将新增政府债务")
    assert post(staff, f"/proposals/{first_id}/decline", {"reasons": debt}).status_code == 302
    assert post(staff, f"/proposals/{debt}/retire".replace("/proposals/", "/proposals/reasons/")).status_code == 302
    detail = staff.get(f"/proposals/{second_id}").get_data(as_text=True)
    assert f'value="{debt}"' not in detail
    refused = post(staff, f"/proposals/{second_id}/decline", {"reasons": debt})
    assert refused.status_code == 400
    assert "Adds government debt" in app.test_client().get(f"/p/track?code={first_code}").get_data(as_text=True)
    # In use: the confirmation page says so and offers no button; the POST refuses too.
    confirm = staff.get(f"/proposals/reasons/{debt}/delete").get_data(as_text=True)
    assert "cannot be deleted" in confirm and 'action="/proposals/reasons/' not in confirm
    assert "cannot be deleted" in post(staff, f"/proposals/reasons/{debt}/delete", follow_redirects=True).get_data(as_text=True)
    added = post(staff, "/proposals/reasons", {"label": "已由上级部门统筹安排", "label_en": "Arranged by a higher level"},
                 follow_redirects=True)
    assert added.status_code == 200 and "已由上级部门统筹安排" in added.get_data(as_text=True)
    assert post(staff, "/proposals/reasons", {"label": "已由上级部门统筹安排"}).status_code == 409
    with app.app_context():
        new = db.session.scalar(select(DeclineReason).where(DeclineReason.label == "已由上级部门统筹安排"))
        new_id, last = new.id, new.position
    post(staff, f"/proposals/reasons/{new_id}/move", {"step": "up"})
    assert post(staff, f"/proposals/reasons/{new_id}", {"label": "已由上级统筹安排", "label_en": ""}).status_code == 302
    unused = staff.get(f"/proposals/reasons/{new_id}/delete").get_data(as_text=True)
    assert f'action="/proposals/reasons/{new_id}/delete"' in unused
    with app.app_context():
        moved = db.session.get(DeclineReason, new_id)
        assert moved.position == last - 1 and moved.label == "已由上级统筹安排"
        assert not db.session.get(DeclineReason, debt).is_active and reasons.uses(db.session.get(DeclineReason, debt)) == 1
    assert post(staff, f"/proposals/reasons/{new_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(DeclineReason, new_id) is None and db.session.get(DeclineReason, debt) is not None
        actions = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("decline_reason.%"))))
        assert {"decline_reason.retire", "decline_reason.add", "decline_reason.move", "decline_reason.rename",
                "decline_reason.delete"} <= actions


def test_old_declines_show_as_unclassified(app, world):
    code = a_station(app)
    proposal_id, tracking = submitted(app, code)
    with app.app_context():
        proposal = db.session.get(Proposal, proposal_id)
        proposal.status, proposal.decline_reason = "declined", "已由市里统一安排"  # as the upgrade leaves one
        db.session.commit()
    tracker = app.test_client().get(f"/p/track?code={tracking}").get_data(as_text=True)
    assert "Unclassified" in tracker and "已由市里统一安排" in tracker
    summary = app.test_client().get("/proposals/summary").get_data(as_text=True)
    assert "Unclassified" in summary


def _elected_proposal(app, world, staff, code) -> int:
    """A proposal accepted into the world's round, in the first candidate's place so that it is elected."""
    proposal_id, _ = submitted(app, code, title="米公祠路段加装太阳能路灯")
    assert post(staff, f"/proposals/{proposal_id}/accept", {"round_id": world.round_id, "new_department": "区住建局"}).status_code == 302
    with app.app_context():
        candidate = db.session.get(Candidate, db.session.get(Proposal, proposal_id).candidate_id)
        first = db.session.get(Candidate, world.candidate_ids[0])
        first.position, candidate.position = candidate.position, first.position
        world.candidate_ids[0] = candidate.id
        db.session.commit()
    return proposal_id


def _in_a_grid(proposal_id: int) -> int:
    """Put the proposal in a grid (centre → unit grid → grid); the centre's id. In an app context."""
    from voting_app.registry.models import Grid

    centre = Grid(code="C1", name="米公网格中心", level=1)
    db.session.add(centre)
    db.session.flush()
    centre.centre_id = centre.id
    unit = Grid(code="C1U1", name="米公第一单元网格", level=2, parent_id=centre.id, centre_id=centre.id)
    db.session.add(unit)
    db.session.flush()
    unit.unit_id = unit.id
    grid = Grid(code="C1U1G1", name="米公第一网格", level=3, parent_id=unit.id, centre_id=centre.id, unit_id=unit.id)
    db.session.add(grid)
    db.session.flush()
    db.session.get(Proposal, proposal_id).grid_id = grid.id
    db.session.commit()
    return centre.id


def test_the_public_summary_adds_up_names_nobody_and_downloads(app, world):
    code = a_station(app)
    staff = as_role(app, world, "staff")
    accepted_other, _ = submitted(app, code, title="学校门口加装护栏", theme="education")
    elected = _elected_proposal(app, world, staff, code)
    declined, _ = submitted(app, code, title="修一座新的办公楼", contact="wx_secret_contact")
    merged, _ = submitted(app, code, title="米公祠那段装路灯")
    online = post(app.test_client(), "/p/online", FORM | {"contact": "13912345678"}, content_type="multipart/form-data")
    assert online.status_code == 302
    post(staff, f"/proposals/{declined}/decline", {"reasons": a_reason(app, "属于楼堂馆所建设")})
    with app.app_context():
        into = db.session.get(Proposal, elected).tracking_code
    post(staff, f"/proposals/{merged}/merge", {"into": into})
    post(staff, f"/proposals/{accepted_other}/reserve", {"note": "今年资金不足，明年再议"})
    counted_round(app, world)

    anonymous = app.test_client()
    page = anonymous.get(f"/proposals/summary?year={beijing_today().year}")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    for private in ("13800001234", "13912345678", "wx_secret_contact", FORM["title"], "修一座新的办公楼"):
        assert private not in body  # no contact and no proposal text: counts only
    with app.app_context():
        from voting_app.proposals import service

        facts = service.summary_facts(beijing_today().year)
        total = tally(facts)
        assert total.received == 5 == sum(total.by_status.values())
        assert (total.status("accepted"), total.elected, total.status("declined"), total.status("merged"),
                total.status("reserved"), total.status("received")) == (1, 1, 1, 1, 1, 1)
        by_channel = breakdown(facts, "channel")
        assert dict(by_channel.rows)["online"].received == 1 and dict(by_channel.rows)["station_qr"].received == 4
        centre_id = _in_a_grid(declined)
        by_centre = breakdown(service.summary_facts(beijing_today().year), "grid")
        assert dict(by_centre.rows)[centre_id].received == 1 and by_centre.total.received == 5
        assert service.summary_facts(beijing_today().year - 5) == []
    assert "Elected by the deputies" in body and "An office building" in body
    with app.app_context():
        reasons.add_reason("test", "=HYPERLINK(\"http://x\")")  # staff wording never runs as a formula in Excel
        db.session.commit()
    download = anonymous.get(f"/proposals/summary.csv?year={beijing_today().year}")
    assert "'=HYPERLINK" in download.get_data(as_text=True)
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    header, totals = rows[0], [row for row in rows if row[1] == "Total"]
    assert header[:3] == ["Breakdown", "Row", "Proposals received"] and len(totals) == 4  # channel, station, grid centre, reception days
    assert all(row[2] == "5" for row in totals)
    assert not any(secret in download.get_data(as_text=True) for secret in ("13800001234", "wx_secret_contact"))
    chinese = app.test_client()
    chinese.set_cookie("lang", "zh_CN")
    assert "联络站二维码" in chinese.get("/proposals/summary").get_data(as_text=True)
