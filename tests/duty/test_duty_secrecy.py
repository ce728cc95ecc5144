"""Never a word of how anyone voted: no page and no export joins a deputy to a ballot.

A round is voted (some deputies cast, others checked in and did not), counted and announced; then
every route the permission table walker knows is opened by every account role, every export is
opened, and nothing that names a deputy carries a receipt or a candidate's name. The duty pages of
a deputy who voted and of one who did not are the same but for who they are; and the SQL the duty
pages and exports issue never reads a ballot table."""

import io
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import event

from tests.ballots.helpers import announce_round, as_deputy, as_role, cast, close_round, confirm_round, open_round, receipt_of
from tests.conftest import build_world, csrf_token, post, sign_in
from tests.test_layers import imports
from tests.test_permissions import department_officer, grid_worker, routes, url_arguments

ROOT = Path(__file__).resolve().parents[2]
DEPUTY_NAME = re.compile(r"代表[1-9](?![0-9])")
VOTERS = (0, 1, 2, 3)  # deputies 4..8 checked in and did not vote


def ballot_tables() -> set[str]:
    """Every table of the ballots package: rounds, candidates, ballots, markers, sealed ballots, paper entries, cards, keys."""
    from voting_app.ballots import models

    return {value.__tablename__ for value in vars(models).values()
            if isinstance(value, type) and getattr(value, "__module__", "") == models.__name__ and hasattr(value, "__tablename__")}


def text_of(response) -> str:
    """A page as text, or a workbook's every cell."""
    if response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet":
        book = load_workbook(io.BytesIO(response.data))
        return "\n".join(str(cell) for sheet in book.worksheets for line in sheet.iter_rows(values_only=True)
                         for cell in line if cell is not None)
    if response.mimetype.startswith(("text/", "application/json")):
        return response.get_data(as_text=True)
    return ""


@pytest.fixture
def voted(app):
    """A round voted by deputies 1-4 (of 9, all checked in), counted and announced; their receipts."""
    with app.app_context():
        world = build_world()
    open_round(app, world)
    receipts = []
    for index in VOTERS:
        client = as_deputy(app, world, index)
        assert cast(client, world.round_id, choices=world.candidate_ids[index % 2: index % 2 + 2]).status_code == 302
        receipts.append(receipt_of(client, world.round_id))
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    return world, receipts


def test_no_page_or_export_that_names_a_deputy_carries_ballot_content(app, voted):
    world, receipts = voted
    with app.app_context():
        arguments = url_arguments(world)
        from voting_app.ballots.models import Candidate
        from voting_app.db import db

        candidates = [db.session.get(Candidate, cid).name for cid in world.candidate_ids]
        principals = [world.user(world.staff_id), world.user(world.presiding_id), world.user(world.scrutineer_ids[0]),
                      grid_worker(), department_officer(None)]
        clients = []
        for principal in principals:
            clients.append(app.test_client())
            sign_in(clients[-1], principal)
        db.session.commit()
    voters = {f"代表{index + 1}" for index in VOTERS}
    others = {f"代表{index + 1}" for index in range(9)} - voters
    seen_naming = set()
    for client in clients:
        for rule, method in routes(app):
            if method != "GET" or rule.endpoint in ("auth.logout", "auth.login_code", "main.language", "main.text_size"):
                continue
            with app.test_request_context():
                from flask import url_for

                url = url_for(rule.endpoint, **{k: v for k, v in arguments.items() if k in rule.arguments})
            response = client.get(url)
            page = text_of(response)
            if not DEPUTY_NAME.search(page):
                continue
            seen_naming.add(rule.endpoint)
            assert not [r for r in receipts if r in page], f"{url} names a deputy and shows a receipt"
            # The audit log names deputies (desk check-ins, group members) and candidates (a round's
            # set-up) as separate staff actions; what would tie the two, a receipt or a list of
            # exactly the voters, is checked on it like everywhere else.
            if rule.endpoint != "audit.audit_log":
                assert not [c for c in candidates if c in page], f"{url} names a deputy and shows a candidate"
            named = set(DEPUTY_NAME.findall(page))
            assert named not in (voters, others), f"{url} names exactly those who did (or did not) vote"
    # The duty export with contacts (a POST) too.
    client = as_role(app, world, "staff")
    response = post(client, f"/duty/terms/{arguments['term_id']}/duty.xlsx", {"include_contacts": "y"})
    page = text_of(response)
    assert DEPUTY_NAME.search(page) and not [r for r in receipts if r in page] and not [c for c in candidates if c in page]
    assert {"duty.duty_table", "duty.deputy_duty", "duty.duty_export", "sessions.roster"} <= seen_naming


def _normalised(page: str, deputy) -> str:
    """The page without who it is about and without clock times (check-ins a moment apart)."""
    page = page.replace(deputy.name, "NAME").replace(f"/deputies/{deputy.term_deputy_id}", "/deputies/ID")
    page = re.sub(r"<td>0\d\d</td>", "<td>NUMBER</td>", page)
    page = re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d(\.\d+)?)?", "TIME", page)
    return re.sub(r'name="csrf_token" type="hidden" value="[^"]+"', "", page)


def test_a_voter_and_a_non_voter_have_the_same_duty_page(app, voted):
    world, _ = voted
    from voting_app.db import db
    from voting_app.sessions.models import Deputy

    with app.app_context():
        voter, other = (db.session.get(Deputy, world.deputy_ids[i]) for i in (VOTERS[0], 6))
        term_id = voter.session.term_id
        people = [(voter.term_deputy_id, voter.name, voter.number), (other.term_deputy_id, other.name, other.number)]
    client = as_role(app, world, "staff")
    pages = []
    for person_id, name, number in people:
        page = client.get(f"/duty/terms/{term_id}/deputies/{person_id}").get_data(as_text=True)
        assert name in page
        pages.append(_normalised(page, type("D", (), {"name": name, "term_deputy_id": person_id})).replace(f"<td>{number}</td>", "<td>NUMBER</td>"))
    assert pages[0] == pages[1]
    book = load_workbook(io.BytesIO(client.get(f"/duty/terms/{term_id}/duty.xlsx").data))
    lines = {line[1]: line[2:] for line in book["Duty records"].iter_rows(min_row=3, values_only=True)}
    assert lines[people[0][1]] == lines[people[1][1]]


def test_the_duty_pages_and_exports_never_read_a_ballot_table(app, voted):
    world, _ = voted
    from voting_app.db import db
    from voting_app.sessions.models import Deputy

    with app.app_context():
        deputy = db.session.get(Deputy, world.deputy_ids[0])
        term_id, person_id = deputy.session.term_id, deputy.term_deputy_id
        engine = db.engine
    client = as_role(app, world, "staff")
    token = csrf_token(client)
    statements = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        assert client.get("/duty/").status_code == 200
        assert client.get(f"/duty/terms/{term_id}").status_code == 200
        assert client.get(f"/duty/terms/{term_id}?delegation=第一代表团").status_code == 200
        assert client.get(f"/duty/terms/{term_id}/deputies/{person_id}").status_code == 200
        assert client.get(f"/duty/terms/{term_id}/duty.xlsx").status_code == 200
        response = client.post(f"/duty/terms/{term_id}/duty.xlsx", data={"csrf_token": token, "include_contacts": "y"})
        assert response.status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert any("term_deputies" in statement for statement in statements)
    forbidden = re.compile(r"\b(" + "|".join(sorted(ballot_tables())) + r")\b", re.IGNORECASE)
    touching = [statement for statement in statements if forbidden.search(statement)]
    assert touching == []
    assert {"ballots", "ballot_markers", "sealed_ballots", "paper_entries", "rounds", "candidates"} <= ballot_tables()


def test_the_duty_code_imports_nothing_of_the_ballots():
    graph = imports()
    duty_modules = [name for name in graph if name.startswith("voting_app.duty") or name == "voting_app.registry.duty"]
    assert "voting_app.duty.service" in duty_modules and "voting_app.registry.duty" in duty_modules
    assert [(module, name) for module in duty_modules for name in graph[module] if name.startswith("voting_app.ballots")] == []
    templates = "".join(path.read_text(encoding="utf-8") for path in (ROOT / "templates" / "duty").glob("*.html"))
    assert not re.search(r"ballot|round|receipt|candidate", templates, re.IGNORECASE)
