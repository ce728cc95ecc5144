"""One deputy fires 50 ballots at once, from two devices, at a server with several worker
processes: exactly one ballot counts, and retries of it get its receipt back."""

import re
import threading

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import build_world
from tests.servers import gunicorn_server
from tests.ballots.helpers import sealed_contents
from voting_app.ballots.models import BallotMarker
from voting_app.ballots.service import open_round
from voting_app.ballots.models import Round
from voting_app.db import db

pytestmark = pytest.mark.slow
SECRET = "concurrency-test-secret"


@pytest.fixture
def server(app, db_url, tmp_path):
    with app.app_context():
        world = build_world(deputies=5, candidates=4, seats=2)
        open_round("test", db.session.get(Round, world.round_id))
        db.session.commit()
    with gunicorn_server(db_url, SECRET, workers=4) as base:
        yield base, world


def form_fields(html: str) -> dict:
    return dict(re.findall(r'name="(csrf_token|ticket)" (?:type="hidden" )?value="([^"]+)"', html)) | dict(
        re.findall(r'<input id="csrf_token" name="(csrf_token)" type="hidden" value="([^"]+)"', html)
    )


def test_fifty_simultaneous_ballots_from_one_deputy_store_exactly_one(app, server):
    base, world = server
    deputy_id = world.deputy_ids[0]
    token, pin = world.cards[deputy_id]
    device = requests.Session()
    card_page = device.get(f"{base}/c/{token}").text
    signed_in = device.post(f"{base}/c/{token}", data={"csrf_token": form_fields(card_page)["csrf_token"], "pin": pin}, allow_redirects=False)
    assert signed_in.status_code == 302, signed_in.text
    first_page = form_fields(device.get(f"{base}/ballots/rounds/{world.round_id}/ballot").text)
    second_page = form_fields(device.get(f"{base}/ballots/rounds/{world.round_id}/ballot").text)
    assert first_page["ticket"] != second_page["ticket"]
    a, b, c, _ = world.candidate_ids
    submissions = [(first_page, [a, b]) if i % 2 == 0 else (second_page, [c]) for i in range(50)]
    barrier = threading.Barrier(len(submissions))
    outcomes: list[tuple[str, int]] = []
    lock = threading.Lock()

    def fire(fields, choices):
        session = requests.Session()
        session.cookies.update(device.cookies)
        barrier.wait()
        response = session.post(
            f"{base}/ballots/rounds/{world.round_id}/ballot/cast",
            data={"csrf_token": fields["csrf_token"], "ticket": fields["ticket"], "choice": [str(x) for x in choices]},
            allow_redirects=False,
            timeout=60,
        )
        with lock:
            outcomes.append((fields["ticket"], response.status_code))

    threads = [threading.Thread(target=fire, args=submission) for submission in submissions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ballots = [choices for _receipt, choices in sealed_contents(app, world)]
    with app.app_context():
        markers = db.session.scalar(
            select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == world.round_id)
        )
    assert markers == 1 and len(ballots) == 1
    codes = sorted({code for _, code in outcomes})
    assert set(codes) <= {302, 409}, codes
    accepted_tickets = {ticket for ticket, code in outcomes if code == 302}
    assert len(accepted_tickets) == 1, "only one device's ballot may be accepted (retries of it repeat the receipt)"
    winner = accepted_tickets.pop()
    assert all(code == 302 for ticket, code in outcomes if ticket == winner)
    assert all(code == 409 for ticket, code in outcomes if ticket != winner)
    assert ballots[0] == ([a, b] if winner == first_page["ticket"] else [c])
