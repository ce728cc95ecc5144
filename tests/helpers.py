"""Helpers shared by test modules in several folders: URLs for endpoints and English test
clients, signed out or signed in with a new account."""

from flask import url_for
from sqlalchemy import text

from tests.conftest import make_user, sign_in


def url(app, endpoint, **values):
    with app.app_context():
        return url_for(endpoint, _external=False, **values)


def new_client(app):
    """A browser that chose English, so the tests read the messages as written in the code."""
    client = app.test_client()
    client.set_cookie("lang", "en")
    return client


def signed_in(app, role):
    """A new client signed in with a new account of that role."""
    from voting_app.db import db

    client = new_client(app)
    with app.app_context():
        user = make_user(role)
        db.session.commit()
        sign_in(client, user)
    return client


def lift_audit_guard(session) -> None:
    """What someone with the database owner's rights can do first: remove the append-only
    triggers, so the tamper tests can show the hash chain and anchor still catch the change."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))  # this transaction only
    else:
        session.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_update"))
        session.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_delete"))
        session.execute(text("DROP TRIGGER IF EXISTS audit_entries_no_replace"))
