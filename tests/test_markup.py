"""Markup every page shares: ids are unique on a page (a label, a skip link or an
aria-describedby that points at an id finds the one element meant), whatever number of
forms the page carries, and every form of the app renders its CSRF token without an id."""

from collections import Counter
from html.parser import HTMLParser

import pytest

from tests.conftest import build_world, sign_in
from tests.test_permissions import department_officer, routes, url_arguments
from voting_app.permissions import ANONYMOUS, DEPARTMENT_OFFICER, DEPUTY, PRESIDING, SCRUTINEER, STAFF, allowed_roles


class _Ids(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: Counter = Counter()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name == "id" and value is not None:
                self.ids[value] += 1


class _SignedIn:
    """What sign_in needs of a principal, kept outside the app context that loaded it."""

    def __init__(self, principal_id: str):
        self.principal_id = principal_id

    def get_id(self) -> str:
        return self.principal_id


def duplicate_ids(page: str) -> dict[str, int]:
    parser = _Ids()
    parser.feed(page)
    return {key: count for key, count in parser.ids.items() if count > 1}


def test_the_parser_finds_duplicates():
    assert duplicate_ids('<form><input id="csrf_token"></form><form><input id="csrf_token"><p id="x"></form>') == {"csrf_token": 2}


def test_the_card_page_has_one_form_per_deputy_and_no_duplicate_id(app):
    """The page vnu flagged: 60 `csrf_token` ids, one per button."""
    with app.app_context():
        world = build_world(deputies=20)
        staff = world.user(world.staff_id)
    client = app.test_client()
    sign_in(client, staff)
    page = client.get(f"/sessions/{world.session_id}/cards").get_data(as_text=True)
    assert page.count('name="csrf_token"') > 20
    assert duplicate_ids(page) == {}


def test_every_form_class_derives_from_the_one_base():
    """A form that bypassed voting_app.forms.Form would bring the duplicate ids back."""
    from flask_wtf import FlaskForm

    from voting_app import create_app
    from voting_app.forms import Form

    create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": "sqlite://"})  # imports every area's forms
    stray = []
    pending = list(FlaskForm.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if not issubclass(cls, Form):
            stray.append(f"{cls.__module__}.{cls.__qualname__}")
    assert stray == []


@pytest.mark.parametrize("round_state", ("draft", "open", "closed"))
@pytest.mark.parametrize("role", (ANONYMOUS, STAFF, PRESIDING, SCRUTINEER, DEPARTMENT_OFFICER, DEPUTY))
def test_no_page_repeats_an_id(app, role, round_state):
    """Every page a role can GET, on a session with a roster, cards, a round (in preparation,
    open, or closed, so each state's confirmation pages are walked) and delivery data."""
    with app.app_context():
        world = build_world()
        arguments = url_arguments(world)
        from voting_app.ballots import service as ballots
        from voting_app.ballots.models import Round
        from voting_app.db import db
        from voting_app.projects.models import Project

        if round_state != "draft":
            ballots.open_round("test", db.session.get(Round, world.round_id))
        if round_state == "closed":
            ballots.close_round(world.user(world.presiding_id), db.session.get(Round, world.round_id))

        principal = {
            DEPARTMENT_OFFICER: department_officer(db.session.get(Project, arguments["project_id"]).department_id)
            if role == DEPARTMENT_OFFICER
            else None,
            STAFF: world.user(world.staff_id),
            PRESIDING: world.user(world.presiding_id),
            SCRUTINEER: world.user(world.scrutineer_ids[0]),
            DEPUTY: world.credential(world.deputy_ids[0]),
        }.get(role)
        principal = _SignedIn(principal.get_id()) if principal is not None else None
        db.session.commit()
    problems, pages = [], 0
    for rule, method in routes(app):
        if method != "GET" or role not in allowed_roles(rule.endpoint) or rule.endpoint in ("auth.logout", "static", "assets.vendor"):
            continue
        client = app.test_client()
        if principal is not None:
            sign_in(client, principal)
        with app.test_request_context():
            from flask import url_for

            values = {**arguments, "code": "en"}
            url = url_for(rule.endpoint, **{k: v for k, v in values.items() if k in rule.arguments})
        response = client.get(url)
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        pages += 1
        duplicates = duplicate_ids(response.get_data(as_text=True))
        if duplicates:
            problems.append(f"{url}: {duplicates}")
    assert pages > 3
    assert problems == []
