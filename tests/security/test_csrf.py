"""Cross-site request forgery: every POST route, as a role allowed to use it, refuses a post
that lacks the token of this very session, and the database is left exactly as it was.

Three forgeries: (a) no token at all; (b) a genuine token, but from another signed-in
user's session (an attacker's own page token, embedded in a form on their site); (c) a
genuine token of this same browser from before it signed out and in again (Flask-WTF keeps
the raw token in the session, which sign-in and sign-out must clear).

Clients sign in through the real forms (password, or card and PIN) once per role; every
route is then walked with each forgery. The answer is 400 with the CSRF message, or, for
the routes that check the token themselves to keep what a resident typed (csrf-exempt in
the global guard), their own stale-page answer, also 400.
"""

import hashlib
import re
from dataclasses import dataclass

import pytest
from flask import url_for
from sqlalchemy import inspect, text

from tests.conftest import build_world, make_user
from tests.test_permissions import department_officer, url_arguments
from voting_app.db import db
from voting_app.extensions import csrf
from voting_app.permissions import (
    ANONYMOUS,
    DEPARTMENT_OFFICER,
    DEPUTY,
    GRID_WORKER,
    PRESIDING,
    SCRUTINEER,
    STAFF,
    allowed_roles,
)

PASSWORD = "correct horse battery"
CSRF_REFUSED = "The form has expired or was not sent from this site."
# Routes exempt from the global check answer a stale token with their own page, keeping the
# resident's input. A newly exempted route must be added here, with its message.
STALE_PAGE = {
    "surveys.respond_submit": "This page was open too long, so your answers could not be sent.",
    "proposals.propose_submit": "This page was open too long, so your proposal could not be sent.",
    "proposals.propose_online_submit": "This page was open too long, so your proposal could not be sent.",
}
# The account role each route is tried as: the first allowed one in this order.
ROLE_ORDER = (STAFF, PRESIDING, SCRUTINEER, DEPARTMENT_OFFICER, GRID_WORKER, DEPUTY)
TOKEN_FIELD = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


# ---- signing in for real -------------------------------------------------------------


def page_token(response) -> str:
    """The token a form on this page carries, as a browser would post it back."""
    found = TOKEN_FIELD.search(response.get_data(as_text=True))
    assert found, f"no csrf_token on the page ({response.status_code})"
    return found.group(1)


def session_raw_token(client) -> str | None:
    with client.session_transaction() as session:
        return session.get("csrf_token")


def sign_in_with_password(client, username: str) -> None:
    token = page_token(client.get("/login"))
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and "/login" not in response.headers["Location"], f"sign-in of {username} failed"


def sign_in_with_card(client, card_token: str, pin: str) -> None:
    token = page_token(client.get(f"/c/{card_token}"))
    response = client.post(f"/c/{card_token}", data={"pin": pin, "csrf_token": token})
    assert response.status_code == 302 and "/ballots/" in response.headers["Location"], "card sign-in failed"


def signed_in_token(client) -> str:
    """The token of this signed-in session, from the sign-out button every page carries."""
    return page_token(client.get("/", follow_redirects=True))


@dataclass
class Visitor:
    """A browser signed in as one role: its current token, and (c) the token it had before
    it last signed out and in again."""

    role: str
    client: object
    token: str
    old_token: str | None


def visitor(app, role: str, sign_in) -> Visitor:
    """Sign in, read the page's token, sign out with it (so it was a good token), sign in
    again: the session, and its raw token, must be new."""
    client = app.test_client()
    sign_in(client)
    old_token, old_raw = signed_in_token(client), session_raw_token(client)
    assert client.post("/logout", data={"csrf_token": old_token}).status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" not in session, "sign-out with the page's own token must work"
    sign_in(client)
    token = signed_in_token(client)
    assert session_raw_token(client) not in (None, old_raw), "sign-in must start a session with a new CSRF token"
    return Visitor(role, client, token, old_token)


def anonymous_visitor(app) -> Visitor:
    client = app.test_client()
    return Visitor(ANONYMOUS, client, page_token(client.get("/login")), None)


@pytest.fixture
def stage(app):
    """A world with something real behind every route, and a signed-in browser per role,
    plus an intruder: another staff account whose own tokens are used in forgery (b)."""
    with app.app_context():
        world = build_world()
        arguments = url_arguments(world)
        from voting_app.projects.models import Project

        officer = department_officer(db.session.get(Project, arguments["project_id"]).department_id)
        worker, intruder = make_user(GRID_WORKER), make_user(STAFF)
        db.session.commit()
        usernames = {
            STAFF: world.user(world.staff_id).username,
            PRESIDING: world.user(world.presiding_id).username,
            SCRUTINEER: world.user(world.scrutineer_ids[0]).username,
            DEPARTMENT_OFFICER: officer.username,
            GRID_WORKER: worker.username,
        }
        intruder_name = intruder.username
    card_token, pin = world.cards[world.deputy_ids[0]]
    visitors = {role: visitor(app, role, lambda c, name=name: sign_in_with_password(c, name)) for role, name in usernames.items()}
    visitors[DEPUTY] = visitor(app, DEPUTY, lambda c: sign_in_with_card(c, card_token, pin))
    visitors[ANONYMOUS] = anonymous_visitor(app)
    intruder_visitor = visitor(app, STAFF, lambda c: sign_in_with_password(c, intruder_name))
    return world, arguments, visitors, intruder_visitor


# ---- what must not change ------------------------------------------------------------


def _value(value) -> str:
    if isinstance(value, memoryview):
        value = bytes(value)
    return repr(value)


def fingerprint(app) -> dict[str, tuple[int, str]]:
    """Every table's row count and a hash of its rows: a refused post changes neither."""
    with app.app_context():
        tables = sorted(inspect(db.engine).get_table_names())
        result = {}
        for table in tables:
            rows = sorted("|".join(_value(v) for v in row) for row in db.session.execute(text(f'SELECT * FROM "{table}"')))
            result[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
        db.session.rollback()
    return result


# ---- walking the routes --------------------------------------------------------------


def post_routes(app):
    return sorted((rule for rule in app.url_map.iter_rules() if "POST" in rule.methods), key=lambda rule: rule.rule)


def is_exempt(app, endpoint: str) -> bool:
    view = app.view_functions[endpoint]
    blueprint = endpoint.rpartition(".")[0]
    return f"{view.__module__}.{view.__name__}" in csrf._exempt_views or blueprint in csrf._exempt_blueprints


def roles_for(endpoint: str, with_anonymous: bool) -> list[str]:
    """The first account role allowed on the route; for public routes also an anonymous visitor."""
    allowed = allowed_roles(endpoint)
    roles = [next(role for role in ROLE_ORDER if role in allowed)]
    if with_anonymous and ANONYMOUS in allowed:
        roles.append(ANONYMOUS)
    return roles


def url_of(app, rule, arguments) -> str:
    with app.test_request_context():
        return url_for(rule.endpoint, **{key: value for key, value in arguments.items() if key in rule.arguments})


def refusal_problem(app, endpoint: str, response) -> str | None:
    body = response.get_data(as_text=True)
    expected = STALE_PAGE.get(endpoint) if is_exempt(app, endpoint) else CSRF_REFUSED
    if expected is None:
        return "csrf-exempt route with no known stale-page answer: add it to STALE_PAGE"
    if response.status_code != 400 or expected not in body:
        return f"answered {response.status_code}, not 400 with {expected!r}"
    return None


def walk(app, stage, token_of, with_anonymous: bool = True) -> tuple[list[str], int]:
    """Post every POST route as an allowed role with the token `token_of(visitor)` gives
    (None: no token field); list every route that took it or changed the database."""
    world, arguments, visitors, intruder = stage
    failures, tried = [], 0
    before = fingerprint(app)
    for rule in post_routes(app):
        for role in roles_for(rule.endpoint, with_anonymous):
            visitor_ = visitors[role]
            token = token_of(visitor_, intruder)
            if token is False:
                continue
            url = url_of(app, rule, arguments)
            data = {} if token is None else {"csrf_token": token}
            response = visitor_.client.post(url, data=data)
            tried += 1
            problem = refusal_problem(app, rule.endpoint, response)
            if problem:
                failures.append(f"{role} POST {url}: {problem}")
            after = fingerprint(app)
            if after != before:
                changed = sorted(table for table in after if after[table] != before.get(table))
                failures.append(f"{role} POST {url}: the database changed ({', '.join(changed)})")
                before = after
    return failures, tried


def test_every_post_route_refuses_a_post_without_a_token(app, stage):
    """(a) A forged form that simply leaves the token out."""
    failures, tried = walk(app, stage, lambda visitor_, intruder: None)
    assert failures == []
    assert tried >= len(post_routes(app))


def test_every_post_route_refuses_a_token_from_another_users_session(app, stage):
    """(b) The attacker's own genuine token, from their own signed-in session, carried by
    the victim's browser: a token is only good for the session it was issued to."""
    failures, tried = walk(app, stage, lambda visitor_, intruder: intruder.token)
    assert failures == []
    assert tried >= len(post_routes(app))


def test_every_post_route_refuses_a_token_from_before_signing_in_again(app, stage):
    """(c) A token this very browser held before it signed out and in again (left in a page
    in the history, or read off a shared venue tablet): the new session must not take it."""
    failures, tried = walk(app, stage, lambda visitor_, intruder: visitor_.old_token or False, with_anonymous=False)
    assert failures == []
    assert tried == len(post_routes(app))


def test_the_forged_tokens_are_genuine_in_their_own_sessions(app, stage):
    """Control: the tokens the walks send are well-formed and accepted where they belong,
    so the refusals above are for the session binding alone."""
    world, arguments, visitors, intruder = stage
    round_url = f"/ballots/rounds/{world.round_id}"
    presiding = visitors[PRESIDING]
    assert presiding.client.post(f"{round_url}/open", data={"csrf_token": intruder.token}).status_code == 400
    assert presiding.client.post(f"{round_url}/open", data={"csrf_token": presiding.old_token}).status_code == 400
    assert presiding.client.post(f"{round_url}/open", data={"csrf_token": presiding.token}).status_code == 302
    assert intruder.client.post(f"{round_url}/close", data={"csrf_token": intruder.token}).status_code == 302
    from tests.ballots.test_rounds import round_state

    assert round_state(app, world.round_id) == "closed"
