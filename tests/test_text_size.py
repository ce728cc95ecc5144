"""Large type is one setting for the whole site: the switch in the staff and deputy pages and
the residents' own switch set the same cookie, and every page then carries the `large` class
that sizes text, radios and checkboxes (the sizes are measured in tests/browser)."""

import re

from tests.ballots.helpers import as_deputy, open_round
from tests.surveys.helpers import build_survey


def body_class(response) -> str:
    return re.search(r'<body class="([^"]*)"', response.get_data(as_text=True)).group(1)


def test_the_switch_remembers_large_type_and_goes_back_to_the_page(app, world):
    deputy = as_deputy(app, world)
    assert "large" not in body_class(deputy.get("/ballots/")).split()
    assert 'href="/text-size?size=large&amp;next=/ballots/?"' in deputy.get("/ballots/").get_data(as_text=True)
    switched = deputy.get("/text-size?size=large&next=/ballots/")
    assert switched.status_code == 302 and switched.headers["Location"] == "/ballots/"
    assert "text=large" in switched.headers["Set-Cookie"] and "HttpOnly" in switched.headers["Set-Cookie"]
    assert "large" in body_class(deputy.get("/ballots/")).split()
    open_round(app, world)
    ballot = deputy.get(f"/ballots/rounds/{world.round_id}/ballot")
    assert ballot.status_code == 200 and body_class(ballot) == "phone large"
    deputy.get("/text-size?size=normal&next=/ballots/")
    assert "large" not in body_class(deputy.get("/ballots/")).split()


def test_the_resident_pages_and_the_rest_share_the_setting(app):
    built = build_survey(app)
    client = app.test_client()
    client.get(f"/s/{built.short_code}?text=large")  # the residents' own switch
    assert "large" in body_class(client.get("/login")).split()
    client.get("/text-size?size=normal&next=/")
    assert body_class(client.get(f"/s/{built.short_code}")) == ""


def test_the_switch_refuses_a_foreign_next_and_an_unknown_size(app):
    client = app.test_client()
    response = client.get("/text-size?size=huge&next=https://example.com/")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Set-Cookie" not in response.headers
