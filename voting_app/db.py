"""Declarative base, the shared `db` object and time helpers."""

import fcntl
import os
import select as select_module
import time
import weakref
from contextlib import contextmanager
from datetime import datetime, timezone

from flask import current_app, g, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, DisconnectionError
from sqlalchemy.pool import Pool
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


IDLE_BEFORE_PING = 10.0  # seconds a pooled connection may rest before it is pinged when taken


@event.listens_for(Pool, "checkin")
def _note_rest(dbapi_connection, connection_record) -> None:
    connection_record.info["rested_from"] = time.monotonic()


@event.listens_for(Pool, "checkout")
def _refuse_a_dropped_connection(dbapi_connection, connection_record, connection_proxy) -> None:
    """A pooled PostgreSQL connection is idle between requests, so the server has nothing to
    say on it: anything waiting to be read is its goodbye (a FATAL message, or the end of the
    stream after a restart, a failover or a terminated backend), seen without a round trip.
    A connection that rested longer than IDLE_BEFORE_PING is pinged as well, for a network that
    drops idle connections without a word. Raising DisconnectionError makes the pool replace
    the connection (up to three times) before the request uses it."""
    if type(dbapi_connection).__module__.partition(".")[0] != "psycopg":
        return
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError()
    waiting = select_module.poll()
    waiting.register(dbapi_connection.fileno(), select_module.POLLIN | select_module.POLLPRI)
    if waiting.poll(0):
        raise DisconnectionError()
    rested_from = connection_record.info.get("rested_from")
    if rested_from is not None and time.monotonic() - rested_from > IDLE_BEFORE_PING:
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            dbapi_connection.rollback()  # handed out idle, as SQLAlchemy's own ping leaves it
        except Exception as error:
            raise DisconnectionError() from error


def utcnow() -> datetime:
    """Naive UTC: SQLite keeps no zone, so every timestamp is stored as UTC without one."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-writer.lock")


@event.listens_for(Engine, "do_connect")
def _create_sqlite_file_privately(dialect, conn_rec, cargs, cparams):
    """SQLite creates a new database file 0644 (and its WAL and shared-memory files with the
    same mode): create it 0600 first, so no other account on the machine can read a ballot
    marker or anything else."""
    if dialect.name != "sqlite":
        return
    path = cparams.get("database") or (cargs[0] if cargs else None)
    if not path or path == ":memory:" or str(path).startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except OSError:
        pass  # it exists (made private below) or cannot be created here (sqlite3 says why)


def make_sqlite_files_private(path: str) -> None:
    for suffix in SQLITE_COMPANIONS:
        try:
            if os.stat(path + suffix).st_mode & 0o077:
                os.chmod(path + suffix, PRIVATE_FILE_MODE)
        except OSError:
            continue  # not there, or another owner's


@event.listens_for(Engine, "connect")
def _configure_sqlite(dbapi_connection, connection_record):
    """WAL, a busy timeout and manual transactions, so several workers can write safely;
    secure_delete, so a deleted or rewritten row leaves zeros, not its old bytes.
    synchronous=FULL flushes the WAL at every commit: an acknowledged ballot survives a power
    cut, as PostgreSQL's synchronous_commit keeps it (NORMAL, SQLite's usual choice with WAL,
    may lose the last commits to one)."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA secure_delete=ON")
    path = cursor.execute("PRAGMA database_list").fetchone()[2]
    cursor.close()
    if path:
        make_sqlite_files_private(path)


READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@event.listens_for(Engine, "begin")
def _begin(connection):
    """Requests that may write take SQLite's write lock up front: a deferred transaction
    that later writes can fail with "database is locked" at once instead of waiting its
    turn. GET never writes, so reads start deferred and do not queue behind voting."""
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if has_request_context() and (request.method in READ_ONLY_METHODS or still_reading()):
        _send_on_driver(connection, dbapi_connection, "BEGIN")
        return
    _take_write_turn(dbapi_connection, connection.engine.url.database)
    try:
        _send_on_driver(connection, dbapi_connection, "BEGIN IMMEDIATE")
    except BaseException:
        _end_write_turn_of(dbapi_connection)
        raise


def _send_on_driver(connection, dbapi_connection, sql: str) -> None:
    """BEGIN, COMMIT or ROLLBACK straight on the driver (SQLAlchemy's statement path costs
    each request more than the statement), its error raised as SQLAlchemy's own: "database
    is locked" must still reach the handler that answers 503, not become a 500."""
    try:
        dbapi_connection.execute(sql)
    except connection.dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(sql, (), error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect) from error


# Writers wait at most this long for their turn, then SQLite's busy timeout (30 s) at most:
# together under gunicorn's 60 s, so a stuck request still ends in the 503 page.
WRITE_TURN_WAIT = 20.0
_turns: dict[int, int] = {}  # id of a DB-API connection -> the lock file it holds


def _take_write_turn(dbapi_connection, path: str | None) -> None:
    """Queue writers on a lock file beside the database before BEGIN IMMEDIATE. SQLite's own
    busy handler sleeps in growing steps (up to 100 ms) while another writer holds the lock,
    so under a storm of ballots most of the time went to sleeping; a writer waiting here
    retries every millisecond instead. The kernel drops the lock if a worker dies, and the
    pool events below drop it if a connection is returned, reset or invalidated."""
    if not path or path == ":memory:":
        return
    try:
        handle = os.open(f"{path}-writer.lock", os.O_RDONLY | os.O_CREAT, PRIVATE_FILE_MODE)
    except OSError:
        return  # no lock file (read-only folder, another owner): SQLite's own waiting
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
    _turns[id(dbapi_connection)] = handle


def _end_write_turn_of(dbapi_connection) -> None:
    handle = _turns.pop(id(dbapi_connection), None)
    if handle is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)


def _end_write_turn_after(sql: str):
    """SQLAlchemy's commit and rollback events come before the driver's COMMIT: a writer
    that passed its turn there let the next one's BEGIN IMMEDIATE find SQLite's lock still
    held through the WAL's flush, and sleep in SQLite's busy handler (1 ms, then 2, 5 ...):
    four workers wrote 790 commits a second where one alone wrote 2,400. So the COMMIT (or
    ROLLBACK) is sent here, then the turn passed; the driver's own call that follows finds
    no transaction and does nothing."""

    def end(connection):
        if connection.dialect.name != "sqlite" or connection.invalidated:
            return
        try:
            dbapi_connection = connection.connection.dbapi_connection
        except Exception:  # a closed connection: the pool events below release it
            return
        if id(dbapi_connection) not in _turns:
            return
        try:
            if dbapi_connection.in_transaction:
                _send_on_driver(connection, dbapi_connection, sql)
        finally:
            _end_write_turn_of(dbapi_connection)

    return end


event.listen(Engine, "commit", _end_write_turn_after("COMMIT"))
event.listen(Engine, "rollback", _end_write_turn_after("ROLLBACK"))


@event.listens_for(Pool, "checkin")
@event.listens_for(Pool, "reset")
@event.listens_for(Pool, "invalidate")
@event.listens_for(Pool, "close")
def _end_write_turn_on_return(dbapi_connection, *_):
    if dbapi_connection is not None:
        _end_write_turn_of(dbapi_connection)


def reads_first(view):
    """Mark a POST view that reads all it needs, calls `start_writing()`, and only then
    writes. On SQLite the write lock is then held for the writes alone, not for the whole
    request: with every request holding it, a hall of deputies voting at once would be
    served one request at a time. Writing before `start_writing()` is a bug."""
    view.reads_first = True
    return view


def still_reading() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "reads_first", False) and not g.get("writing", False)


def start_writing(writes_follow: bool = False) -> None:
    """End the read transaction, keeping what was loaded; the next transaction takes the
    write lock up front. Services re-check under that lock whatever may have changed.

    `writes_follow`: the writes come at once, with no slow work before them (a ballot, an
    answer). PostgreSQL, whose locks are per row, then goes on in the same transaction, which
    saves two round trips; a view that decodes a photo first must end it, or the connection
    would wait idle in a transaction meanwhile."""
    g.writing = True
    session = db.session()
    if writes_follow and session.get_bind().dialect.name != "sqlite":
        return
    if not (session.in_transaction() or session.new or session.dirty or session.deleted):
        return  # nothing was read through the session (a page read apart, `read_apart`): nothing to end
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def one_statement_writes(view):
    """Mark a view whose every write is one statement, whole by itself (the cast of a ballot,
    which locks, checks and inserts in one): on PostgreSQL its request runs in autocommit, so
    psycopg sends no BEGIN and no COMMIT, two of the four round trips a ballot took. A service
    that must hold a lock across statements calls `transaction_from_here()` first."""
    view.one_statement_writes = True
    return view


def autocommit_one_statement_views() -> None:
    """Before the request's first statement (the signed-in card is loaded by the guard). A
    session already in a transaction (a test's app context held across requests) keeps it."""
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "one_statement_writes", False) and db.engine.dialect.name == "postgresql" and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def transaction_from_here() -> None:
    """Leave the autocommit of a `one_statement_writes` view: the connection goes back to the
    pool, which restores its isolation level, and the next statement begins a transaction.
    What the session loaded is kept."""
    session = db.session()
    if not session.in_transaction() or session.connection().get_execution_options().get("isolation_level") != "AUTOCOMMIT":
        return
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def read_apart(statement, params: dict) -> list[tuple]:
    """Run one SELECT on a pooled connection of its own, outside the request's transaction,
    and return the driver's own values (SQLite gives a timestamp as text, a flag as 0 or 1).

    For a read on every request of a busy anonymous page: the session's unit of work, its
    transaction and SQLAlchemy's result processing cost that page more than the statement
    itself. A single statement is consistent by itself; it sees what is committed, not what
    this request's session has yet to write."""
    engine = db.engine
    dialect, driver_error = engine.dialect, engine.dialect.loaded_dbapi.Error
    sql, names = _compiled_apart(statement, dialect)
    values = tuple(params[name] for name in names) if names is not None else params
    try:
        connection = engine.raw_connection()
    except driver_error as error:  # the pool's connect: raised as the driver's own
        raise DBAPIError.instance(sql, values, error, driver_error, dialect=dialect) from error
    cursor = None
    try:
        with _no_transaction(connection, dialect):
            cursor = connection.cursor()
            cursor.execute(sql, values)
            rows = cursor.fetchall()
            cursor.close()
    except driver_error as error:
        gone = connection.dbapi_connection is None or dialect.is_disconnect(error, connection.dbapi_connection, cursor)
        if gone and connection.dbapi_connection is not None:
            connection.invalidate(error)
        raise DBAPIError.instance(sql, values, error, driver_error, connection_invalidated=gone, dialect=dialect) from error
    finally:
        connection.close()
    return [tuple(row) for row in rows]


@contextmanager
def _no_transaction(connection, dialect):
    """A lone SELECT needs no transaction: psycopg would open one (BEGIN) and the pool close it
    (ROLLBACK), two round trips more. sqlite3 runs without one already (isolation_level None).
    The connection goes back to the pool as it came, or is dropped."""
    if dialect.name != "postgresql":
        yield
        return
    driver = connection.dbapi_connection
    driver.autocommit = True
    try:
        yield
    finally:
        try:
            driver.autocommit = False
        except dialect.loaded_dbapi.Error as error:
            connection.invalidate(error)


_compiled: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _compiled_apart(statement, dialect) -> tuple[str, tuple[str, ...] | None]:
    """The statement's SQL for this database and driver, and the order of its parameters when
    the driver takes them by position (sqlite3) rather than by name (psycopg)."""
    kept = _compiled.setdefault(statement, {})
    key = (type(dialect), dialect.paramstyle)
    if key not in kept:
        compiled = statement.compile(dialect=dialect)
        kept[key] = (compiled.string, tuple(compiled.positiontup) if compiled.positional else None)
    return kept[key]


def is_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def dialect_insert(dialect: str):
    """The INSERT with ON CONFLICT of this database (SQLite's or PostgreSQL's)."""
    return sqlite_insert if dialect == "sqlite" else postgresql_insert


def scrub_after_commit(*tables: str, rewrite: tuple[str, ...] = ()) -> None:
    """Once this transaction commits, leave nothing of the rows it rewrote or deleted in the
    files: SQLite's WAL still holds every earlier frame until a checkpoint truncates it, and
    PostgreSQL keeps dead tuples, with the inserting transaction's id, until a VACUUM. The
    `rewrite` tables are small ones whose live rows share pages with the bytes of their old
    versions: PostgreSQL copies them into new files (VACUUM FULL)."""
    event.listen(db.session(), "after_commit", lambda _session: scrub_storage(tables, rewrite), once=True)


SCRUB_SECONDS = 5.0  # the request that closed or counted waits this long at most


# Transactions that began before `mark` (an xid of 32 bits, compared modulo 2^32 as
# PostgreSQL compares them) and may still see the scrubbed rows: a snapshot in this database
# (or a standby's, through its walsender or a replication slot), and for a rewrite a
# transaction writing in any database of the cluster, whose xid the VACUUM FULL's own
# snapshot keeps as its horizon (a plain VACUUM's is this database's alone).
_OLDER_SNAPSHOTS = """
SELECT holder FROM (
    SELECT concat_ws(' ', backend_type, 'in', datname, state, 'since', xact_start) AS holder,
           CASE WHEN datname = current_database() OR backend_type = 'walsender' THEN backend_xmin END AS xmin,
           CASE WHEN datname = current_database() OR %(rewrite)s THEN backend_xid END AS xid
    FROM pg_stat_activity
    WHERE pid <> pg_backend_pid()
    UNION ALL
    SELECT concat_ws(' ', 'replication slot', slot_name), xmin, NULL FROM pg_replication_slots
) AS holders
WHERE (%(mark)s - xmin::text::bigint + 4294967296) %% 4294967296 BETWEEN 1 AND 2147483647
   OR (%(mark)s - xid::text::bigint + 4294967296) %% 4294967296 BETWEEN 1 AND 2147483647
"""


def _wait_for_older_snapshots(connection, rewrite: bool) -> list[str]:
    """Wait, SCRUB_SECONDS at most, until no transaction that began before this moment is
    still open: a report being read, an autovacuum's ANALYZE, a standby's query. VACUUM
    cannot remove a row version such a transaction may still see, and would leave the old
    rows in the files without a word. Returns those still open at the end (none: go on)."""
    mark = connection.exec_driver_sql("SELECT mod(pg_snapshot_xmax(pg_current_snapshot())::text::bigint, 4294967296)").scalar()
    deadline = time.monotonic() + SCRUB_SECONDS
    while holders := connection.exec_driver_sql(_OLDER_SNAPSHOTS, {"mark": mark, "rewrite": rewrite}).scalars().all():
        if time.monotonic() > deadline:
            return holders
        time.sleep(0.05)
    return []


def scrub_storage(tables, rewrite: tuple[str, ...] = ()) -> bool:
    """Checkpoint SQLite's WAL into the database and truncate it to nothing, retrying for a few
    seconds while a reader still uses an older snapshot (each try waits 0.1 s at most, so
    writers are not held up); on PostgreSQL, wait as long for the transactions that could
    still see the old rows to end, then VACUUM the tables. The freed pages hold zeros on
    SQLite already (secure_delete). Never fails the request: a scrub that could not finish is
    logged, and `flask scrub-storage` runs it again."""
    engine = db.engine
    try:
        if engine.dialect.name == "sqlite":
            raw = engine.raw_connection()  # outside any transaction: a checkpoint cannot run inside one
            cursor = raw.cursor()
            try:
                cursor.execute("PRAGMA busy_timeout=100")
                deadline = time.monotonic() + SCRUB_SECONDS
                while cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]:
                    if time.monotonic() > deadline:
                        current_app.logger.warning("the WAL could not be truncated: readers held older snapshots; run flask scrub-storage")
                        return False
                    time.sleep(0.05)
            finally:
                cursor.execute("PRAGMA busy_timeout=30000")
                raw.close()
        elif engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                holders = _wait_for_older_snapshots(connection, rewrite=bool(rewrite))
                if tables:  # a VACUUM that names no table vacuums the whole database
                    connection.exec_driver_sql(f"VACUUM {', '.join(tables)}")
                if rewrite:
                    connection.exec_driver_sql(f"VACUUM FULL {', '.join(rewrite)}")
                if holders:
                    current_app.logger.warning(
                        "transactions older than the scrub still saw its rows, so PostgreSQL kept them (%s); run flask scrub-storage",
                        "; ".join(holders),
                    )
                    return False
        return True
    except Exception:
        current_app.logger.exception("scrubbing %s from the files failed; run flask scrub-storage", ", ".join(tables))
        return False
