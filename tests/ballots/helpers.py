"""Steps of a round as users take them, for the ballots tests."""

import re

from tests.conftest import post, sign_in


def as_role(app, world, role: str, index: int = 0):
    """A test client signed in as the world's account of that role."""
    client = app.test_client()
    with app.app_context():
        user_id = {
            "staff": world.staff_id,
            "presiding": world.presiding_id,
            "scrutineer": world.scrutineer_ids[index],
        }[role]
        sign_in(client, world.user(user_id))
    return client


def as_deputy(app, world, deputy_index: int = 0):
    client = app.test_client()
    with app.app_context():
        sign_in(client, world.credential(world.deputy_ids[deputy_index]))
    return client


def adopt_as_it_stands(app, world, round_id=None) -> None:
    """The staff record that the presidium adopted the round's 票决办法 as the round now stands,
    unless a record already covers it (rounds a test makes or changes after the world)."""
    response = post(as_role(app, world, "staff"), f"/documents/rounds/{round_id or world.round_id}/adoption",
                    {"adopted_on": "2026-01-01", "adopted_by": "大会主席团"}) if _needs_adopting(app, round_id or world.round_id) else None
    assert response is None or response.status_code == 302


def _needs_adopting(app, round_id: int) -> bool:
    from voting_app.ballots.models import DRAFT, Round
    from voting_app.db import db
    from voting_app.documents import adoption

    with app.app_context():
        round_ = db.session.get(Round, round_id)
        return round_.state == DRAFT and adoption.adoption_state(round_) in (adoption.MISSING, adoption.STALE)


def open_round(app, world):
    """The presiding officer opens the round, its 票决办法 adopted first as the rules ask."""
    adopt_as_it_stands(app, world)
    response = post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/open")
    assert response.status_code == 302


def close_round(app, world, issued=None):
    data = {} if issued is None else {"issued": str(issued)}
    response = post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/close", data)
    assert response.status_code == 302


def unseal_round(app, world, round_id=None, shares=(0, 1)):
    """Two scrutineers' shares at the desk open the round's sealed ballots."""
    round_id = round_id or world.round_id
    data = {"share": [world.shares[i] for i in shares]}
    response = post(as_role(app, world, "scrutineer"), f"/ballots/rounds/{round_id}/unseal", data)
    assert response.status_code == 302, response.get_data(as_text=True)


def confirm_round(app, world):
    """As at the desk: the shares open the sealed ballots (electronic rounds), then a scrutineer confirms."""
    with app.app_context():
        from voting_app.ballots.models import Round
        from voting_app.db import db

        sealed = db.session.get(Round, world.round_id).is_sealed
    if sealed:
        unseal_round(app, world)
    assert post(as_role(app, world, "scrutineer"), f"/ballots/rounds/{world.round_id}/confirm").status_code == 302


def announce_round(app, world):
    assert post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/announce").status_code == 302


def ticket_from(client, round_id: int) -> str:
    page = client.get(f"/ballots/rounds/{round_id}/ballot")
    assert page.status_code == 200, page.get_data(as_text=True)
    return re.search(r'name="ticket" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def cast(client, round_id: int, choices=None, marks=None, ticket=None):
    """Submit a ballot as the confirm page does; returns the response."""
    data = {"ticket": ticket or ticket_from(client, round_id)}
    if choices is not None:
        data["choice"] = [str(c) for c in choices]
    for candidate_id, mark in (marks or {}).items():
        data[f"mark-{candidate_id}"] = mark
    return post(client, f"/ballots/rounds/{round_id}/ballot/cast", data)


def receipt_of(client, round_id: int) -> str:
    page = client.get(f"/ballots/rounds/{round_id}/receipt").get_data(as_text=True)
    return re.search(r'data-receipt="([^"]+)"', page).group(1)


def sealed_contents(app, world=None, round_id=None) -> list:
    """What the sealed ballots in the database say, opened in memory with two of the shares
    (the database is left as it is): a list of (receipt, choices)."""
    from sqlalchemy import select

    from tests.conftest import KEY_SHARES
    from voting_app.ballots import sealing, service
    from voting_app.ballots.models import Round, SealedBallot
    from voting_app.db import db

    with app.app_context():
        round_ = db.session.get(Round, round_id or world.round_id)
        if round_.seal_key is None:
            return []
        shares = KEY_SHARES[round_.session_id][:2]
        key = sealing.rebuild_key([sealing.describe_share(s) for s in shares], round_.seal_key)
        blobs = db.session.scalars(select(SealedBallot.sealed).where(SealedBallot.round_id == round_.id)).all()
        return [sealing.unseal(key, blob, round_.id, service.seal_block(round_)) for blob in blobs]
