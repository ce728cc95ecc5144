"""Declarative base, the shared `db` object and time helpers."""

import fcntl
import os
import time
from datetime import datetime, timezone

from flask import current_app, g, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def engine_options(uri: str) -> dict:
    """A network database may drop idle connections, so ping before use; a SQLite file
    cannot, and the ping would be one more statement on every request."""
    return {} if uri.startswith("sqlite") else {"pool_pre_ping": True}


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no zone, so every timestamp is stored as UTC without one."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """WAL, a busy timeout and manual transactions, so several workers can write safely."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _begin(connection):
    """Requests that may write take SQLite's write lock up front: a deferred transaction
    that later writes can fail with "database is locked" at once instead of waiting its
    turn. GET never writes, so reads start deferred and do not queue behind voting."""
    if connection.dialect.name != "sqlite":
        return
    if has_request_context() and (request.method in READ_ONLY_METHODS or _still_reading()):
        connection.exec_driver_sql("BEGIN")
    else:
        _take_write_turn(connection)
        connection.exec_driver_sql("BEGIN IMMEDIATE")


WRITE_TURN_WAIT = 30.0  # seconds, as the busy timeout


def _take_write_turn(connection) -> None:
    """Queue writers on a lock file beside the database before BEGIN IMMEDIATE. SQLite's own
    busy handler sleeps in growing steps (up to 100 ms) while another writer holds the lock,
    so under a storm of ballots most of the time went to sleeping; a writer waiting here
    retries every millisecond instead. The kernel drops the lock if a worker dies."""
    path = connection.engine.url.database
    if not path or path == ":memory:":
        return
    handle = os.open(f"{path}-writer.lock", os.O_RDWR | os.O_CREAT, 0o600)
    deadline = time.monotonic() + WRITE_TURN_WAIT
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(handle)  # fall back to SQLite's own waiting
                return
            time.sleep(0.001)
    connection.info["write_turn"] = handle


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _end_write_turn(connection):
    handle = connection.info.pop("write_turn", None)
    if handle is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def reads_first(view):
    """Mark a POST view that reads all it needs, calls `start_writing()`, and only then
    writes. On SQLite the write lock is then held for the writes alone, not for the whole
    request: with every request holding it, a hall of deputies voting at once would be
    served one request at a time. Writing before `start_writing()` is a bug."""
    view.reads_first = True
    return view


def _still_reading() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "reads_first", False) and not g.get("writing", False)


def start_writing() -> None:
    """End the read transaction, keeping what was loaded; the next transaction takes the
    write lock up front. Services re-check under that lock whatever may have changed."""
    g.writing = True
    session = db.session()
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"
