"""The deputies' satisfaction assessment (满意度测评): the same ballot engine, cards,
secrecy, receipts, board and audit, rating delivered projects."""

import json

from sqlalchemy import select

from tests.ballots.helpers import announce_round, as_deputy, as_role, close_round, confirm_round, open_round, ticket_from
from tests.conftest import build_world, post
from voting_app.ballots.models import Candidate, Round
from voting_app.db import db
from voting_app.projects.models import Project
from voting_app.projects.service import department_named
from voting_app.verify import main as verify_main


def assessment_world(app):
    with app.app_context():
        world = build_world(deputies=9, candidates=0)
        projects = [
            Project(name=name, year=2026, department=department_named("区交通运输局"), stage="operating")
            for name in ("农村公路桥梁新改建", "“一号公路”亮化工程", "市百货站小区文化长廊改造")
        ]
        db.session.add_all(projects)
        round_ = db.session.get(Round, world.round_id)
        round_.method, round_.title, round_.satisfaction_bar = "satisfaction", "满意度测评", 60
        db.session.commit()
        return world, [p.id for p in projects]


def rate(client, round_id, ratings: dict[int, str]):
    data = {"ticket": ticket_from(client, round_id)} | {f"rate-{cid}": value for cid, value in ratings.items()}
    return post(client, f"/ballots/rounds/{round_id}/ballot/cast", data)


def test_deputies_rate_delivered_projects_and_the_project_page_shows_it(app, tmp_path, capsys):
    world, project_ids = assessment_world(app)
    staff = as_role(app, world, "staff")
    for project_id in project_ids:
        assert post(staff, f"/ballots/rounds/{world.round_id}/candidates/project", {"project_id": str(project_id)}).status_code == 302
    again = post(staff, f"/ballots/rounds/{world.round_id}/candidates/project", {"project_id": str(project_ids[0])}, follow_redirects=True)
    assert "already on the ballot" in again.get_data(as_text=True)
    with app.app_context():
        candidates = {c.project_id: c.id for c in db.session.scalars(select(Candidate).where(Candidate.round_id == world.round_id))}
    bridge, lights, corridor = (candidates[p] for p in project_ids)
    open_round(app, world)
    with app.app_context():
        assert db.session.get(Round, world.round_id).seats == 3

    form = as_deputy(app, world, 0).get(f"/ballots/rounds/{world.round_id}/ballot").get_data(as_text=True)
    assert f'name="rate-{bridge}" value="satisfied"' in form and "Not rated" in form
    ballots = [
        {bridge: "satisfied", lights: "satisfied", corridor: "dissatisfied"},
        {bridge: "satisfied", lights: "mostly_satisfied", corridor: "dissatisfied"},
        {bridge: "mostly_satisfied", lights: "dissatisfied", corridor: "mostly_satisfied"},
        {bridge: "satisfied", corridor: "dissatisfied"},
        {bridge: "satisfied", lights: "dissatisfied", corridor: "satisfied"},
    ]
    for index, ratings in enumerate(ballots):
        assert rate(as_deputy(app, world, index), world.round_id, ratings).status_code == 302
    crafted = rate(as_deputy(app, world, 5), world.round_id, {bridge: "satisfied", 99999: "satisfied"})
    assert crafted.status_code == 400
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)

    board = app.test_client().get(f"/ballots/rounds/{world.round_id}/board.json").get_json()
    assert board["round"]["method"] == "satisfaction" and board["round"]["satisfaction_bar"] == 60
    board_file = tmp_path / "board.json"
    board_file.write_text(json.dumps(board))
    assert verify_main([str(board_file), "--json"]) == 0
    recount = json.loads(capsys.readouterr().out)
    assert recount["ratings"][str(bridge)] == {"satisfied": 4, "mostly_satisfied": 1, "dissatisfied": 0}
    assert recount["ratings"][str(lights)] == {"satisfied": 1, "mostly_satisfied": 1, "dissatisfied": 2}
    # lights: 2 of 4 = 50% and corridor: 2 of 5 = 40% are below the 60% bar.
    assert recount["passed"] == [bridge]

    page = app.test_client().get(f"/projects/{project_ids[2]}").get_data(as_text=True)
    assert "Deputies’ assessment" in page and "40.0%" in page and "rectification" in page
    results = app.test_client().get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True)
    assert "100.0%" in results and "Meets the bar" in results
