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


def open_round(app, world):
    response = post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/open")
    assert response.status_code == 302


def close_round(app, world, issued=None):
    data = {} if issued is None else {"issued": str(issued)}
    response = post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/close", data)
    assert response.status_code == 302


def confirm_round(app, world):
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
