"""The presiding officer switches a round to paper while deputies press "cast" at the same
moment, on a server with several worker processes: a phone ballot lands before the switch
(and is counted among the phone voters the switch recorded) or is refused, never after it."""

import re
import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from tests.conftest import build_world
from tests.servers import gunicorn_server
from voting_app import audit
from voting_app.ballots import service
from voting_app.ballots.models import PAPER, BallotMarker, Round, SealedBallot
from voting_app.db import db

pytestmark = pytest.mark.slow
SECRET = "failover-concurrency-secret"
DEPUTIES = 12
SWITCH_AFTER = 0.05


def form_fields(html: str) -> dict:
    return dict(re.findall(r'name="(csrf_token|ticket)" (?:type="hidden" )?value="([^"]+)"', html)) | dict(
        re.findall(r'<input id="csrf_token" name="(csrf_token)" type="hidden" value="([^"]+)"', html)
    )


def phone_with_ballot_page(base: str, world, deputy_id: int) -> tuple[requests.Session, dict]:
    token, pin = world.cards[deputy_id]
    phone = requests.Session()
    card_page = phone.get(f"{base}/c/{token}").text
    signed_in = phone.post(f"{base}/c/{token}", data={"csrf_token": form_fields(card_page)["csrf_token"], "pin": pin}, allow_redirects=False)
    assert signed_in.status_code == 302, signed_in.text
    return phone, form_fields(phone.get(f"{base}/ballots/rounds/{world.round_id}/ballot").text)


def test_no_phone_ballot_lands_after_the_switch_to_paper(app, db_url):
    with app.app_context():
        world = build_world(deputies=DEPUTIES, candidates=4, seats=2)
        service.open_round("test", db.session.get(Round, world.round_id))
        db.session.commit()
    with gunicorn_server(db_url, SECRET, workers=4) as base:
        phones = [phone_with_ballot_page(base, world, deputy_id) for deputy_id in world.deputy_ids]
        barrier = threading.Barrier(len(phones) + 1)
        outcomes: list[int] = []
        lock = threading.Lock()

        def cast(phone, fields, delay):
            barrier.wait()
            time.sleep(delay)  # spread over the moment of the switch, so some land before it and some after
            response = phone.post(
                f"{base}/ballots/rounds/{world.round_id}/ballot/cast",
                data={**fields, "choice": [str(world.candidate_ids[0])]},
                allow_redirects=False,
                timeout=60,
            )
            with lock:
                outcomes.append(response.status_code)

        def switch():
            with app.app_context():
                barrier.wait()
                time.sleep(SWITCH_AFTER)
                service.switch_to_paper(world.user(world.presiding_id), db.session.get(Round, world.round_id), "表决系统故障")
                db.session.commit()

        threads = [threading.Thread(target=cast, args=(*phone, i * 0.01)) for i, phone in enumerate(phones)] + [threading.Thread(target=switch)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert set(outcomes) <= {302, 409} and len(outcomes) == DEPUTIES
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        assert round_.mode == PAPER
        entry = db.session.scalars(select(audit.AuditEntry).where(audit.AuditEntry.action == "round.paper")).one()
        sealed = db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == round_.id))
        markers = db.session.scalar(select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == round_.id))
        accepted = outcomes.count(302)
        assert accepted == sealed == markers == entry.details["phone_voters"], "a phone ballot landed after the switch"
        assert entry.details["to_issue"] == DEPUTIES - accepted
