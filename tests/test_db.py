"""SQLite writers queue on a lock file and wake as soon as the previous writer commits, a
dead worker cannot keep the turn, and a reads-first view reads before it takes the lock; a
PostgreSQL connection the server dropped never reaches a page."""

import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.pool import NullPool

from tests.conftest import ROOT
from voting_app.db import db


def engine_for(tmp_path):
    import voting_app.db  # noqa: F401  (installs the connection listeners)

    engine = create_engine(f"sqlite:///{tmp_path / 'turn.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    return engine


def test_an_acknowledged_commit_on_sqlite_is_on_disk_before_the_acknowledgement(tmp_path):
    """In WAL mode SQLite's usual synchronous=NORMAL defers the flush to the next checkpoint,
    so a power cut can take back ballots their deputies hold receipts for; FULL flushes the
    WAL at every commit, as PostgreSQL's synchronous_commit does. Old rows leave zeros."""
    engine = engine_for(tmp_path)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1


def test_a_waiting_writer_starts_right_after_the_holder_commits(tmp_path):
    engine = engine_for(tmp_path)
    holder = engine.connect()
    holder.begin()
    holder.execute(text("INSERT INTO t VALUES (1)"))
    started = {}

    def second_writer():
        with engine.begin() as connection:
            started["at"] = time.monotonic()
            connection.execute(text("INSERT INTO t VALUES (2)"))

    thread = threading.Thread(target=second_writer)
    thread.start()
    time.sleep(0.3)
    assert "at" not in started  # still waiting its turn
    released = time.monotonic()
    holder.commit()
    thread.join(timeout=5)
    assert 0 <= started["at"] - released < 0.1  # woke within milliseconds, not SQLite's 100 ms sleeps
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 2
    holder.close()
    engine.dispose()


@pytest.mark.parametrize("ending", ["commit", "rollback"])
def test_a_writer_passes_its_turn_only_once_sqlite_has_let_go(tmp_path, monkeypatch, ending):
    """The next writer, given its turn, must find SQLite's lock free: one that found the
    holder still flushing the WAL slept in SQLite's busy handler, and four workers wrote a
    third of what one did."""
    import sqlite3

    import voting_app.db as database

    engine = engine_for(tmp_path)
    found = []
    pass_turn = database._end_write_turn_of

    def next_writer_tries(dbapi_connection):
        if id(dbapi_connection) in database._turns:
            other = sqlite3.connect(tmp_path / "turn.sqlite3", timeout=0, isolation_level=None)
            try:
                other.execute("BEGIN IMMEDIATE")
                other.execute("ROLLBACK")
                found.append("free")
            except sqlite3.OperationalError as error:
                found.append(str(error))
            finally:
                other.close()
        pass_turn(dbapi_connection)

    monkeypatch.setattr(database, "_end_write_turn_of", next_writer_tries)
    with engine.connect() as connection:
        connection.begin()
        connection.execute(text("INSERT INTO t VALUES (1)"))
        getattr(connection, ending)()
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == (1 if ending == "commit" else 0)
    engine.dispose()
    assert found and set(found) == {"free"}, found


def test_a_killed_writer_does_not_keep_the_turn(tmp_path):
    engine = engine_for(tmp_path)
    database = tmp_path / "turn.sqlite3"
    script = (
        "import os, sys; sys.path.insert(0, sys.argv[2]); import voting_app.db; "
        "from sqlalchemy import create_engine, text; "
        "c = create_engine('sqlite:///' + sys.argv[1]).connect(); c.begin(); "
        "c.execute(text('INSERT INTO t VALUES (9)')); print('holding', flush=True); os._exit(0)"
    )
    done = subprocess.run([sys.executable, "-c", script, str(database), str(ROOT)], capture_output=True, text=True, timeout=30)
    assert "holding" in done.stdout, done.stderr
    began = time.monotonic()
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO t VALUES (3)"))
    assert time.monotonic() - began < 1
    with engine.connect() as connection:
        assert connection.execute(text("SELECT n FROM t")).scalars().all() == [3]  # the dead writer's row never landed
    engine.dispose()


def test_a_reads_first_view_starts_deferred_and_writes_after_start_writing(app):
    from flask import g

    from voting_app.db import still_reading, start_writing

    with app.test_request_context("/ballots/rounds/1/ballot/cast", method="POST"):
        from flask import request

        request.url_rule = app.url_map.bind("localhost").match("/ballots/rounds/1/ballot/cast", method="POST", return_rule=True)[0]
        assert request.endpoint == "ballots.ballot_cast"
        assert still_reading()
        start_writing()
        assert g.writing and not still_reading()
    with app.test_request_context("/ballots/rounds/1/close", method="POST"):
        from flask import request

        request.url_rule = app.url_map.bind("localhost").match("/ballots/rounds/1/close", method="POST", return_rule=True)[0]
        assert not still_reading()  # an ordinary POST takes the write lock with its first statement


def test_an_invalidated_or_abandoned_writer_gives_the_turn_back(tmp_path):
    from voting_app.db import _turns

    engine = engine_for(tmp_path)
    for abandon in ("invalidate", "close"):
        holder = engine.connect()
        holder.begin()
        holder.execute(text("INSERT INTO t VALUES (1)"))
        assert _turns  # the turn is held
        getattr(holder, abandon)()
        assert not _turns, abandon
        began = time.monotonic()
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (2)"))
        assert time.monotonic() - began < 1, abandon
    engine.dispose()


def test_a_pooled_connection_the_server_dropped_is_replaced_before_a_page_uses_it(app, db_url):
    """No ping on every request: a connection PostgreSQL has closed (a restart, a failover, a
    terminated backend) is found when the pool hands it out, and the page is served, not a 503."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a SQLite file has no connection for a server to drop")
    with app.app_context():
        dropped = db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
        db.session.commit()
        admin = create_engine(db_url, poolclass=NullPool)
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
            for _ in range(200):
                if not connection.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": dropped}).scalar():
                    break
                time.sleep(0.02)
        admin.dispose()
        assert db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar() != dropped
        db.session.commit()
    assert app.test_client().get("/projects/").status_code == 200


def test_a_pinged_connection_is_handed_out_outside_a_transaction(app, db_url, monkeypatch):
    """A connection that rested is pinged when taken; it must come back idle, or the scrub of
    the ballot tables (VACUUM, which needs autocommit) would fail after a close."""
    import voting_app.db as database

    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite connections are not pinged")
    monkeypatch.setattr(database, "IDLE_BEFORE_PING", 0.0)
    with app.app_context():
        db.session.connection().exec_driver_sql("SELECT 1")
        db.session.commit()
        time.sleep(0.01)
        assert database.scrub_storage(("ballot_markers",))


def test_the_scrub_waits_for_a_transaction_that_still_sees_the_old_rows(app, db_url, monkeypatch, caplog):
    """A report open since before a close holds PostgreSQL's horizon, and so does a write in
    any other database of the cluster for the paper entries' rewrite: VACUUM then keeps the
    rows the close deleted, with their bytes, and says nothing. The scrub waits for such a
    transaction to end (and, if it outlasts SCRUB_SECONDS, says the files still hold them).
    The failover storage attack found the keyed copies this way, now and then, while another
    test process wrote in its own database."""
    import voting_app.db as database
    from tests.security.test_storage_attacks import tuples

    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's checkpoint has its own wait, pinned by the storage attacks")
    engine = create_engine(db_url, poolclass=NullPool)
    with engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        connection.execute(text("DROP TABLE IF EXISTS scrub_probe"))
        connection.execute(text("CREATE TABLE scrub_probe (note text)"))
        connection.execute(text("INSERT INTO scrub_probe VALUES ('who-voted-by-phone')"))

    def old_rows() -> list:
        with engine.connect() as connection:
            return [row for row in tuples(connection, "scrub_probe")
                    if row["lp_flags"] == 3 or (row["t_data"] is not None and row["xmax"] != "0")]

    def a_report() -> object:
        report = engine.connect()
        report.execute(text("BEGIN ISOLATION LEVEL REPEATABLE READ"))
        report.execute(text("SELECT count(*) FROM scrub_probe")).scalar()
        return report

    def a_writer_in_another_database() -> object:
        """VACUUM FULL (the paper entries' rewrite) keeps what its own snapshot may see, and a
        snapshot's horizon is the oldest transaction writing in any database of the cluster."""
        writer = create_engine(make_url(db_url).set(database="postgres"), poolclass=NullPool).connect()
        writer.execute(text("BEGIN"))
        writer.execute(text("SELECT pg_current_xact_id()"))
        return writer

    def scrub_while_open(holder, seconds: float, tables=(), rewrite=()) -> bool:
        """Rewrite the probe's row while `holder` keeps its transaction open, end that after
        `seconds`, and scrub meanwhile."""
        with engine.begin() as connection:
            connection.execute(text("UPDATE scrub_probe SET note = 'count only'"))
        ends = threading.Timer(seconds, holder.close)
        ends.start()
        try:
            with app.app_context():
                return database.scrub_storage(tables, rewrite=rewrite)
        finally:
            ends.join()
            holder.engine.dispose()

    try:
        monkeypatch.setattr(database, "SCRUB_SECONDS", 0.3)
        assert not scrub_while_open(a_report(), 1.0, tables=("scrub_probe",))
        assert "run flask scrub-storage" in caplog.text
        assert old_rows(), "sanity: the report kept the old row through the VACUUM"
        monkeypatch.setattr(database, "SCRUB_SECONDS", 5.0)
        assert scrub_while_open(a_report(), 0.5, tables=("scrub_probe",))
        assert old_rows() == []
        assert scrub_while_open(a_writer_in_another_database(), 0.5, rewrite=("scrub_probe",))
        assert old_rows() == []
        monkeypatch.setattr(database, "SCRUB_SECONDS", 0.3)
        assert scrub_while_open(a_writer_in_another_database(), 1.0, tables=("scrub_probe",)), "a plain VACUUM waits for no other database"
        assert old_rows() == []
    finally:
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE scrub_probe"))
        engine.dispose()


@pytest.fixture
def one_connection_app(db_url):
    """An app whose pool holds one connection, so a read apart and the session's next
    transaction are sure to share it."""
    from tests.conftest import AUDIT_KEY, SECRET
    from voting_app import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "SQLALCHEMY_DATABASE_URI": db_url,
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0}})
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_read_apart_gives_its_connection_back_as_it_came(one_connection_app):
    """The resident's page reads without a transaction (on PostgreSQL, autocommit for that one
    SELECT); the connection must return to the pool transactional again, also after a failed
    read, or the next request's writes would each commit on their own and a rollback keep them."""
    from datetime import date

    from sqlalchemy import func, select
    from sqlalchemy.exc import DBAPIError

    from surveys.models import DedupeKey
    from voting_app.db import read_apart

    keys = select(func.count()).select_from(DedupeKey.__table__)
    app = one_connection_app
    with app.app_context():
        assert read_apart(keys, {}) == [(0,)]
        with pytest.raises(DBAPIError):
            read_apart(select(text("no_such_column")).select_from(DedupeKey.__table__), {})
        db.session.add(DedupeKey(day=date(2026, 12, 6), key=bytes(32)))
        db.session.flush()
        db.session.rollback()
        assert read_apart(keys, {}) == [(0,)], "the insert committed on its own: the connection came back in autocommit"


def test_a_locked_sqlite_database_is_refused_as_sqlalchemys_error(app, db_url):
    """BEGIN IMMEDIATE goes straight to the driver; "database is locked" must still arrive as
    SQLAlchemy's OperationalError, which the app answers with its 503 page."""
    import sqlite3

    from sqlalchemy.exc import OperationalError

    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL takes no database-wide write lock")
    holder = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with app.app_context(), db.engine.connect() as connection:
            connection.connection.dbapi_connection.execute("PRAGMA busy_timeout=0")  # no BEGIN yet
            with app.test_request_context("/", method="POST"), pytest.raises(OperationalError, match="locked"):
                connection.begin()
    finally:
        holder.rollback()
        holder.close()


def test_a_ballot_on_sqlite_holds_the_turn_to_write_for_its_two_inserts_alone(app, db_url, monkeypatch):
    """SQLite's writers take turns, so whatever a ballot does in its turn, every deputy behind
    it waits for: the ballot is checked and sealed before, and its turn holds the marker's
    insert (which reads the round's state and the card itself), the sealed ballot's and the
    flush. The request runs nothing else: the card is not loaded."""
    from sqlalchemy import event, func, select

    import voting_app.db as database
    from tests.ballots.helpers import as_deputy, cast, open_round, ticket_from
    from tests.conftest import build_world
    from voting_app.ballots import sealing, service
    from voting_app.ballots.models import SealedBallot

    if db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's cast is one statement in autocommit, pinned below")
    with app.app_context():
        world = build_world(deputies=3)
    open_round(app, world)
    deputy = as_deputy(app, world, 0)
    ticket = ticket_from(deputy, world.round_id)
    in_turn, sealed_in_turn = [], []
    seal = sealing.seal

    every = []

    def note(connection, cursor, statement, parameters, context, executemany):
        every.append(" ".join(statement.split()[:3]))
        if database._turns:
            in_turn.append(every[-1])

    def noted_seal(*args):
        sealed_in_turn.append(bool(database._turns))
        return seal(*args)

    monkeypatch.setattr(sealing, "seal", noted_seal)
    with app.app_context():
        service.cast_rules(world.round_id)  # the worker's copy, as every ballot after a worker's first finds it
        event.listen(db.engine, "before_cursor_execute", note)
    assert cast(deputy, world.round_id, [world.candidate_ids[0]], ticket=ticket).status_code == 302
    assert in_turn == every == ["INSERT INTO ballot_markers", "INSERT INTO sealed_ballots"]
    assert sealed_in_turn == [False]
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", note)
        assert db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == world.round_id)) == 1


def test_a_cast_runs_in_autocommit_and_decides_a_missed_ballot_in_a_transaction(one_connection_app, db_url):
    """On PostgreSQL the cast's request runs in autocommit (`one_statement_writes`): its one
    statement locks, checks and stores. A ballot that statement did not land (here: the
    worker's copy of the round's rules is out of date) is decided in a transaction, so the
    state it reads stays locked until the ballot is stored. Afterwards the pooled connection
    is transactional again, or the next request's writes would each commit on their own:
    checked after a ballot, a ballot on out-of-date rules, a retry and a second ballot."""
    from datetime import date

    from sqlalchemy import event, func, select, update

    from surveys.models import DedupeKey
    from tests.ballots.helpers import as_deputy, cast, open_round, ticket_from
    from tests.conftest import build_world
    from voting_app.ballots import service
    from voting_app.ballots.models import Round, SealedBallot

    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's cast takes the write lock in a transaction of its own")
    app = one_connection_app
    with app.app_context():
        world = build_world(deputies=3)
    open_round(app, world)
    first_deputy, second_deputy = as_deputy(app, world, 0), as_deputy(app, world, 1)
    ticket, another_ticket = ticket_from(first_deputy, world.round_id), ticket_from(first_deputy, world.round_id)
    second_deputys_ticket = ticket_from(second_deputy, world.round_id)
    first, second = world.candidate_ids[:2]
    statements = []

    def note(connection, cursor, statement, parameters, context, executemany):
        words = " ".join(statement.split()[:2])
        statements.append(("cast" if words == "WITH state" else "lock" if "FOR SHARE" in statement else words,
                           connection.connection.dbapi_connection.autocommit))

    def rolled_back_write_left_nothing() -> bool:
        with app.app_context():
            db.session.add(DedupeKey(day=date(2026, 12, 6), key=bytes(32)))
            db.session.flush()
            db.session.rollback()
            return db.session.scalar(select(func.count()).select_from(DedupeKey)) == 0

    with app.app_context():
        service.cast_rules(world.round_id)  # the worker's copy, as every ballot after a worker's first finds it
        event.listen(db.engine, "before_cursor_execute", note)
    assert cast(first_deputy, world.round_id, [first], ticket=ticket).status_code == 302
    assert statements == [("cast", True)], statements  # the card is not loaded: the cast checks it
    assert rolled_back_write_left_nothing(), "after a ballot the connection came back in autocommit"

    with app.app_context():
        db.session.execute(update(Round).where(Round.id == world.round_id).values(state_version=Round.state_version + 1))
        db.session.commit()
    statements.clear()
    assert cast(second_deputy, world.round_id, [second], ticket=second_deputys_ticket).status_code == 302
    after_miss = statements[statements.index(("cast", True)) + 1:]
    assert after_miss and ("lock", False) in after_miss and not any(autocommit for _, autocommit in after_miss), statements
    assert rolled_back_write_left_nothing(), "after a ballot on out-of-date rules the connection came back in autocommit"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == world.round_id)) == 2

    assert cast(first_deputy, world.round_id, [first], ticket=ticket).status_code == 302  # a retry: its receipt again
    assert rolled_back_write_left_nothing(), "after a retry the connection came back in autocommit"
    assert cast(first_deputy, world.round_id, [second], ticket=another_ticket).status_code == 409  # a second ballot
    assert rolled_back_write_left_nothing(), "after a refusal the connection came back in autocommit"
