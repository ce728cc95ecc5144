"""`flask backup` and `flask restore` on a live SQLite database: a consistent copy while the
app writes, and nothing restored that fails its checks."""

import sqlite3
import threading
from contextlib import closing

import pytest
from sqlalchemy import func, select, text

from tests.ballots.helpers import as_deputy, cast, open_round
from tests.conftest import AUDIT_KEY, SECRET, EnglishClient, _upgrade, build_world
from tests.helpers import lift_audit_guard
from voting_app import create_app
from voting_app.audit import AuditEntry
from voting_app.ballots.models import SealedBallot
from voting_app.db import db


@pytest.fixture
def sqlite_app(tmp_path):
    """These commands are for SQLite: this app has its own migrated file on every run."""
    path = tmp_path / "live.sqlite3"
    _upgrade(f"sqlite:///{path}")
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
                      "RATELIMIT_ENABLED": False, "SERVER_NAME": "localhost"})
    app.live_path = path
    app.test_client_class = EnglishClient
    yield app
    with app.app_context():
        db.engine.dispose()


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def ballots(app) -> int:
    """Ballots in the box: sealed, as the round is still being voted."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SealedBallot))


def voted_world(app):
    with app.app_context():
        world = build_world()
    open_round(app, world)
    cast(as_deputy(app, world, 0), world.round_id, choices=world.candidate_ids[:1])
    return world


def test_a_backup_taken_while_the_app_writes_is_a_consistent_snapshot(sqlite_app, tmp_path):
    live = sqlite_app.live_path
    with closing(sqlite3.connect(live)) as connection:
        connection.execute("CREATE TABLE writes (n INTEGER PRIMARY KEY)")
        connection.commit()
    stop = threading.Event()

    def writer():
        with closing(sqlite3.connect(live, timeout=30)) as connection:
            n = 0
            while not stop.is_set():
                n += 1
                connection.execute("INSERT INTO writes (n) VALUES (?)", (n,))
                connection.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = run(sqlite_app, "backup", str(tmp_path / "copy.sqlite3"))
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    with closing(sqlite3.connect(tmp_path / "copy.sqlite3")) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = [n for (n,) in copy.execute("SELECT n FROM writes ORDER BY n")]
    assert rows == list(range(1, len(rows) + 1)), "the copy holds a whole prefix of the writes, nothing torn"
    assert not (tmp_path / "copy.sqlite3.partial").exists()


def test_restore_brings_back_the_database_as_it_was_and_keeps_the_replaced_one(sqlite_app, tmp_path):
    world = voted_world(sqlite_app)
    assert run(sqlite_app, "backup", str(tmp_path / "before.sqlite3")).exit_code == 0
    cast(as_deputy(sqlite_app, world, 1), world.round_id, choices=world.candidate_ids[:1])
    assert ballots(sqlite_app) == 2
    result = run(sqlite_app, "restore", str(tmp_path / "before.sqlite3"), "--yes")
    assert result.exit_code == 0, result.output
    assert ballots(sqlite_app) == 1
    kept = [p for p in sqlite_app.live_path.parent.iterdir() if ".before-restore-" in p.name]
    assert len(kept) == 1
    with closing(sqlite3.connect(kept[0])) as connection:
        assert connection.execute("SELECT count(*) FROM sealed_ballots").fetchone()[0] == 2
    assert run(sqlite_app, "audit-verify").exit_code == 0
    # The restored deputy may not vote again: the vote markers came back with the ballots.
    page = as_deputy(sqlite_app, world, 0).get(f"/ballots/rounds/{world.round_id}/ballot")
    assert page.status_code == 409 and "already voted" in page.get_data(as_text=True)


def test_restore_asks_before_it_replaces_anything(sqlite_app, tmp_path):
    voted_world(sqlite_app)
    run(sqlite_app, "backup", str(tmp_path / "b.sqlite3"))
    result = sqlite_app.test_cli_runner().invoke(args=["restore", str(tmp_path / "b.sqlite3")], input="n\n")
    assert result.exit_code == 1 and "Replace the contents" in result.output
    assert not [p for p in sqlite_app.live_path.parent.iterdir() if ".before-restore-" in p.name]


def damaged_copies(sqlite_app, tmp_path) -> dict:
    voted_world(sqlite_app)
    good = tmp_path / "good.sqlite3"
    assert run(sqlite_app, "backup", str(good)).exit_code == 0
    data = good.read_bytes()
    not_sqlite = tmp_path / "notes.sqlite3"
    not_sqlite.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 5000)
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(data[: len(data) // 2])
    scribbled = tmp_path / "scribbled.sqlite3"
    scribbled.write_bytes(data[:4096] + bytes(255 - b for b in data[4096:12288]) + data[12288:])
    tampered = tmp_path / "tampered.sqlite3"
    tampered.write_bytes(data)
    tamper_app = create_app({"SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tampered}"})
    with tamper_app.app_context():
        lift_audit_guard(db.session)
        db.session.execute(text("UPDATE audit_entries SET actor = 'someone-else' WHERE id = 2"))
        db.session.commit()
        db.engine.dispose()
    foreign = tmp_path / "foreign.sqlite3"
    with closing(sqlite3.connect(foreign)) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.commit()
    return {
        "not an SQLite database": not_sqlite,
        "damaged": truncated,
        "damaged ": scribbled,
        "audit log is broken at entry 2": tampered,
        "not a database of this application": foreign,
    }


def test_restore_refuses_a_file_that_fails_its_checks_and_changes_nothing(sqlite_app, tmp_path):
    for reason, path in damaged_copies(sqlite_app, tmp_path).items():
        result = run(sqlite_app, "restore", str(path), "--yes")
        assert result.exit_code == 1, (reason, result.output)
        assert reason.strip() in result.output, (reason, result.output)
        assert ballots(sqlite_app) == 1
    assert not [p for p in sqlite_app.live_path.parent.iterdir() if ".before-restore-" in p.name]


def test_a_backup_never_overwrites_an_earlier_one(sqlite_app, tmp_path):
    target = tmp_path / "b.sqlite3"
    target.write_bytes(b"an earlier backup")
    result = run(sqlite_app, "backup", str(target))
    assert result.exit_code == 1 and "exists" in result.output
    assert target.read_bytes() == b"an earlier backup"


def test_on_postgresql_the_commands_point_to_pg_dump():
    app = create_app({"SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://postgres@127.0.0.1/test"})
    for command in (["backup"], ["restore", __file__, "--yes"]):
        result = app.test_cli_runner().invoke(args=command)
        assert result.exit_code == 1 and "pg_dump" in result.output and "pg_restore" in result.output


def test_the_audit_log_in_a_backup_keeps_its_entries(sqlite_app, tmp_path):
    voted_world(sqlite_app)
    with sqlite_app.app_context():
        entries = db.session.scalar(select(func.count(AuditEntry.id)))
    result = run(sqlite_app, "backup", str(tmp_path / "b.sqlite3"))
    assert f"{entries} audit entries verified" in result.output


def test_a_large_database_under_steady_writes_is_backed_up_and_kept_private(sqlite_app, tmp_path):
    """Photos live in the database, so it grows to many megabytes; copied in steps, a backup
    would start over at every write and might never end."""
    live = sqlite_app.live_path
    with closing(sqlite3.connect(live)) as connection:
        connection.execute("CREATE TABLE bulk (n INTEGER PRIMARY KEY, data BLOB)")
        connection.executemany("INSERT INTO bulk (data) VALUES (?)", ((bytes(100_000),) for _ in range(600)))
        connection.execute("CREATE TABLE writes (n INTEGER PRIMARY KEY)")
        connection.commit()
    stop = threading.Event()

    def writer():
        with closing(sqlite3.connect(live, timeout=30)) as connection:
            while not stop.is_set():
                connection.execute("INSERT INTO writes DEFAULT VALUES")
                connection.commit()
                stop.wait(0.001)

    results = []
    writing = threading.Thread(target=writer)
    writing.start()
    backing_up = threading.Thread(target=lambda: results.append(run(sqlite_app, "backup", str(tmp_path / "big.sqlite3"))))
    backing_up.start()
    backing_up.join(timeout=30)
    stop.set()
    writing.join()
    assert not backing_up.is_alive(), "the backup did not finish while the app kept writing"
    assert results[0].exit_code == 0, results[0].output
    assert (tmp_path / "big.sqlite3").stat().st_size > 30_000_000
    assert (tmp_path / "big.sqlite3").stat().st_mode & 0o077 == 0, "a backup must be readable by its owner only"
