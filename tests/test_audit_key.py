"""The audit key: where it comes from, what happens without it or with another one, and how
a database whose log was written before the key existed is carried over."""

import sqlite3
from contextlib import closing

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from tests.ballots.helpers import as_role
from tests.conftest import AUDIT_KEY, SECRET, EnglishClient, _upgrade, build_world, post
from tests.migration_helpers import MIGRATIONS
from voting_app import create_app
from voting_app.app import ensure_audit_key_file
from voting_app.audit import GENESIS, KEYED, UNKEYED, AuditEntry, AuditKeyError, entry_hash, parse_key, record
from voting_app.db import db, utcnow

BEFORE_KEYS = "b2d4f6a8c0e2"  # the revision before the keyed audit chain
OTHER_KEY = "0b" * 32
LEGACY_ENTRIES = sa.table(
    "audit_entries", *(sa.column(name) for name in ("at", "actor", "action", "target", "prev_hash", "hash")),
    sa.column("details", sa.JSON()),
)


def app_with(db_url, **config):
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "SQLALCHEMY_DATABASE_URI": db_url,
                      "RATELIMIT_ENABLED": False, "SERVER_NAME": "localhost", **config})
    app.test_client_class = EnglishClient
    return app


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def write_legacy_log(entries: int = 3) -> str:
    """Entries as the previous version wrote them (plain SHA-256, no scheme column); returns their anchor."""
    prev = GENESIS
    for n in range(entries):
        at, details = utcnow(), {"name": f"第{n + 1}次会议"}
        digest = entry_hash(prev, at, "staff-1", "session.create", f"session:{n + 1}", details)
        db.session.execute(LEGACY_ENTRIES.insert().values(at=at, actor="staff-1", action="session.create",
                                                          target=f"session:{n + 1}", details=details,
                                                          prev_hash=prev, hash=digest))
        prev = digest
    db.session.commit()
    return f"{entries}:{prev}"


def schema_version() -> str:
    return db.session.scalar(text("SELECT version_num FROM alembic_version"))


@pytest.fixture
def legacy_app(db_url):
    """A database as the previous version left it, with an unkeyed log of three entries, and
    the app of this version (with its audit key) about to upgrade it. Back at the head after
    the test, for the next one."""
    app = app_with(db_url, AUDIT_KEY=AUDIT_KEY)
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision=BEFORE_KEYS)
        app.legacy_anchor = write_legacy_log()
    yield app
    with app.app_context():
        if schema_version() == BEFORE_KEYS:
            upgrade(directory=MIGRATIONS)
        db.engine.dispose()


def test_the_upgrade_seals_the_unkeyed_log_with_a_keyed_entry(legacy_app):
    with legacy_app.app_context():
        upgrade(directory=MIGRATIONS)
        entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [e.scheme for e in entries] == [UNKEYED] * 3 + [KEYED]
    assert (entries[-1].action, entries[-1].details, entries[-1].prev_hash) == ("audit.keyed", {"unkeyed_entries": 3}, entries[2].hash)
    intact = run(legacy_app, "audit-verify")
    assert intact.exit_code == 0 and "4 entries" in intact.output
    assert run(legacy_app, "audit-verify", "--anchor", legacy_app.legacy_anchor).exit_code == 0, "an anchor printed before the upgrade still holds"
    with legacy_app.app_context():
        record("staff-1", "session.update", "session:1")
        db.session.commit()
        assert db.session.scalars(select(AuditEntry.scheme).order_by(AuditEntry.id.desc())).first() == KEYED
    assert run(legacy_app, "audit-verify").exit_code == 0


def test_an_unkeyed_entry_appended_after_the_upgrade_is_refused(legacy_app):
    """The unkeyed entries an upgrade sealed pass; one added later, though linked correctly, does not."""
    with legacy_app.app_context():
        upgrade(directory=MIGRATIONS)
        newest = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        at, details = utcnow(), {"name": "forged"}
        db.session.execute(LEGACY_ENTRIES.insert().values(
            at=at, actor="staff-1", action="session.create", target="session:9", details=details, prev_hash=newest.hash,
            hash=entry_hash(newest.hash, at, "staff-1", "session.create", "session:9", details)))
        db.session.commit()
        forged_id = newest.id + 1
    result = run(legacy_app, "audit-verify", "--anchor", legacy_app.legacy_anchor)
    assert result.exit_code == 1 and f"BROKEN at entry {forged_id}" in result.output


def test_the_upgrade_of_an_unkeyed_log_without_the_key_is_refused_and_changes_nothing(legacy_app):
    keyless = app_with(legacy_app.config["SQLALCHEMY_DATABASE_URI"])
    with keyless.app_context():
        with pytest.raises(AuditKeyError, match="the audit key is missing"):
            upgrade(directory=MIGRATIONS)
        db.session.rollback()
        assert schema_version() == BEFORE_KEYS
        assert "scheme" not in {column["name"] for column in sa.inspect(db.session.connection()).get_columns("audit_entries")}
        assert db.session.scalar(text("SELECT count(*) FROM audit_entries")) == 3
        db.engine.dispose()
    with legacy_app.app_context():
        upgrade(directory=MIGRATIONS)  # with the key it goes through afterwards
    assert run(legacy_app, "audit-verify").exit_code == 0


def test_without_the_key_nothing_is_verified_and_nothing_is_written(app, world):
    keyless = app_with(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        before = db.session.scalar(select(func.count(AuditEntry.id)))
    result = run(keyless, "audit-verify")
    assert result.exit_code == 1 and "NOT VERIFIED: the audit key is missing" in result.output
    assert run(keyless, "board-verify").exit_code == 1
    page = as_role(keyless, world, "staff").get("/audit/").get_data(as_text=True)
    assert "the audit key is missing or malformed" in page and "is intact" not in page
    staff = as_role(keyless, world, "staff")
    with pytest.raises(AuditKeyError):  # TESTING propagates it; in production it is a 500 with nothing saved
        post(staff, f"/sessions/{world.session_id}/cards/{world.deputy_ids[3]}/revoke")
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEntry.id))) == before
        from voting_app.ballots.models import Credential

        assert db.session.scalar(select(Credential.revoked_at).where(Credential.deputy_id == world.deputy_ids[3])) is None


def test_another_key_is_named_as_the_problem_and_writes_nothing(app, world):
    """A key file written anew after the old one was lost, or a database restored onto a
    server with a key of its own: the log would go on under a key that cannot verify it."""
    other = app_with(app.config["SQLALCHEMY_DATABASE_URI"], AUDIT_KEY=OTHER_KEY)
    result = run(other, "audit-verify")
    assert result.exit_code == 1
    assert "does not match under this audit key (the key is not the one this log was written with" in result.output
    with app.app_context():
        before = db.session.scalar(select(func.count(AuditEntry.id)))
    with pytest.raises(AuditKeyError, match="not the one this log was written with: nothing was written"):
        post(as_role(other, world, "staff"), f"/sessions/{world.session_id}/cards/{world.deputy_ids[3]}/revoke")
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEntry.id))) == before
    assert post(as_role(app, world, "staff"), f"/sessions/{world.session_id}/cards/{world.deputy_ids[3]}/revoke").status_code == 302
    assert run(app, "audit-verify").exit_code == 0


@pytest.mark.parametrize(("value", "problem"), [
    (None, "missing"), ("  ", "missing"), ("not hex at all", "not hexadecimal"), ("ab" * 16, "too short"),
])
def test_a_missing_or_malformed_key_is_refused_with_the_reason(value, problem):
    with pytest.raises(AuditKeyError, match=problem):
        parse_key(value)
    assert parse_key(f" {AUDIT_KEY}\n") == bytes.fromhex(AUDIT_KEY)


def test_the_first_start_writes_a_private_random_key_and_keeps_it(tmp_path):
    key_file = tmp_path / "audit.key"
    ensure_audit_key_file(key_file)
    key = key_file.read_text()
    assert len(parse_key(key)) == 32
    assert key_file.stat().st_mode & 0o777 == 0o600
    ensure_audit_key_file(key_file)
    assert key_file.read_text() == key, "a second start must not replace the key"
    assert [p.name for p in tmp_path.iterdir()] == ["audit.key"], "no partial file is left behind"
    other = tmp_path / "elsewhere" / "audit.key"
    other.parent.mkdir()
    ensure_audit_key_file(other)
    assert other.read_text() != key


@pytest.fixture
def sqlite_app(tmp_path):
    path = tmp_path / "live.sqlite3"
    _upgrade(f"sqlite:///{path}")
    app = app_with(f"sqlite:///{path}", AUDIT_KEY=AUDIT_KEY)
    app.live_path = path
    yield app
    with app.app_context():
        db.engine.dispose()


def test_restore_refuses_a_backup_without_the_key_or_with_another(sqlite_app, tmp_path):
    with sqlite_app.app_context():
        build_world()
    assert run(sqlite_app, "backup", str(tmp_path / "b.sqlite3")).exit_code == 0
    uri = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    for config, reason in (({}, "the audit key is missing"), ({"AUDIT_KEY": OTHER_KEY}, "does not match under this audit key")):
        result = run(app_with(uri, **config), "restore", str(tmp_path / "b.sqlite3"), "--yes")
        assert result.exit_code == 1 and "cannot be restored" in result.output and reason in result.output, result.output
    assert not [p for p in tmp_path.iterdir() if ".before-restore-" in p.name]
    assert run(sqlite_app, "restore", str(tmp_path / "b.sqlite3"), "--yes").exit_code == 0


def test_a_backup_from_before_the_key_is_checked_restored_and_sealed(sqlite_app, tmp_path):
    """A backup taken by the previous version holds an unkeyed log and an older schema: the
    check upgrades a scratch copy (which seals it) before it trusts the file; after the
    restore, `db upgrade` seals the live log the same way."""
    old = tmp_path / "old.sqlite3"
    old_app = app_with(f"sqlite:///{old}")
    with old_app.app_context():
        upgrade(directory=MIGRATIONS, revision=BEFORE_KEYS)
        anchor = write_legacy_log()
        db.engine.dispose()
    result = run(sqlite_app, "restore", str(old), "--yes")
    assert result.exit_code == 0, result.output
    assert "audit log intact (4 entries)" in result.output and "run `flask --app voting_app db upgrade`" in result.output
    with closing(sqlite3.connect(old)) as connection:
        assert connection.execute("SELECT count(*) FROM audit_entries").fetchone()[0] == 3, "the check never touches the file"
    with sqlite_app.app_context():
        upgrade(directory=MIGRATIONS)
    verified = run(sqlite_app, "audit-verify", "--anchor", anchor)
    assert verified.exit_code == 0 and "4 entries" in verified.output


def test_a_real_start_writes_the_key_file_once_and_the_environment_takes_its_place(tmp_path, monkeypatch):
    """create_app() as gunicorn and `flask` call it, on an instance folder of its own."""
    monkeypatch.setattr("voting_app.app.ROOT", tmp_path)
    monkeypatch.delenv("AUDIT_KEY", raising=False)
    first = create_app()
    key_file = tmp_path / "instance" / "audit.key"
    assert first.config["AUDIT_KEY"] == key_file.read_text().strip() and len(parse_key(first.config["AUDIT_KEY"])) == 32
    assert "AUDIT_KEY" not in (tmp_path / "instance" / "config.py").read_text(), "config.py travels with the backups"
    assert create_app().config["AUDIT_KEY"] == first.config["AUDIT_KEY"]
    monkeypatch.setenv("AUDIT_KEY", OTHER_KEY)
    assert create_app().config["AUDIT_KEY"] == OTHER_KEY
    monkeypatch.setenv("AUDIT_KEY", "ab" * 16)
    with pytest.raises(AuditKeyError, match="too short"):  # the app does not start with a key it cannot use
        create_app()
