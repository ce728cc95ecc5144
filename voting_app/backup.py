"""Backing up and restoring a live SQLite database, checked before it is trusted.

SQLite's online backup API copies a consistent snapshot while the app keeps writing (the
copy restarts itself if a page it already copied changes). A restore writes into the live
file through the same API, so running workers see the restored data at their next
transaction instead of holding on to a replaced file. PostgreSQL has pg_dump and
pg_restore for both (see the README).
"""

import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory

ROOT = Path(__file__).resolve().parent.parent
SQLITE_HEADER = b"SQLite format 3\x00"


def sqlite_file(uri: str) -> Path | None:
    """The database file behind a sqlite:/// URI, or None for any other database."""
    prefix = "sqlite:///"
    if not uri.startswith(prefix) or uri == prefix or ":memory:" in uri:
        return None
    return Path(uri[len(prefix):].split("?", 1)[0])


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of `source` (which may be in use) into `target`'s database, in one
    step: copied in steps, the backup starts over whenever the app writes in between, and a
    database of photos under steady writes might never finish. In WAL mode the one step
    holds only a read snapshot, so the app keeps writing meanwhile."""
    with closing(sqlite3.connect(source, timeout=30)) as reader, closing(sqlite3.connect(target, timeout=30)) as writer:
        reader.backup(writer, pages=-1)


def make_backup(live: Path, target: Path) -> None:
    """Write the copy next to its target first, then move it into place: a backup that was
    cut short never looks like a finished one."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    partial.touch(mode=0o600)  # password hashes, second-factor keys and residents' answers: the owner's only
    copy_database(live, partial)
    with closing(sqlite3.connect(partial)) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        result = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError([f"the copy failed its integrity check: {result}"])
    partial.replace(target)


class BackupError(Exception):
    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class BackupCheck:
    revision: str | None = None
    head: str | None = None
    audit_entries: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def needs_upgrade(self) -> bool:
        return not self.problems and self.revision != self.head


def migration_head() -> str:
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


COUNTED_TABLES = ("congress_sessions", "deputies", "rounds", "ballots", "survey_responses", "projects", "audit_entries")


def check_backup(path: Path, secret_key: str, audit_key: str | None) -> BackupCheck:
    """Everything that must hold before a file replaces the live database: it is SQLite, it
    is whole, its schema is one of ours, and its audit log's hash chain verifies under the
    audit key. The check runs on a scratch copy, so the file itself is never touched."""
    check = BackupCheck(head=migration_head())
    try:
        with path.open("rb") as handle:
            if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                check.problems.append("not an SQLite database file")
                return check
    except OSError as error:
        check.problems.append(f"cannot read the file: {error.strerror}")
        return check
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "check.sqlite3"
        shutil.copyfile(path, copy)
        try:
            with closing(sqlite3.connect(copy)) as connection:
                integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
                if integrity != "ok":
                    check.problems.append(f"the file is damaged: {integrity}")
                    return check
                tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
                if "alembic_version" not in tables:
                    check.problems.append("the file is not a database of this application (no schema version)")
                    return check
                check.revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()[0]
                check.counts = {
                    table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # names from COUNTED_TABLES
                    for table in COUNTED_TABLES
                    if table in tables
                }
        except sqlite3.DatabaseError as error:
            check.problems.append(f"the file is damaged: {error}")
            return check
        if check.revision not in _known_revisions():
            check.problems.append(f"schema version {check.revision} is not one this version of the application knows")
            return check
        _check_audit_chain(copy, secret_key, audit_key, check)
    return check


def _check_audit_chain(copy: Path, secret_key: str, audit_key: str | None, check: BackupCheck) -> None:
    """The app's own verify_chain, run against the scratch copy in an app of its own. An
    older schema is upgraded first, as `db upgrade` will after the restore: the upgrade
    seals an unkeyed log with a keyed entry, and the copy shows it will go through."""
    from flask_migrate import upgrade

    from voting_app import create_app
    from voting_app.audit import AuditKeyError, verify_chain
    from voting_app.db import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}", "SECRET_KEY": secret_key, "AUDIT_KEY": audit_key})
    with app.app_context():
        try:
            if check.revision != check.head:
                upgrade(directory=str(ROOT / "migrations"))
            chain = verify_chain()
        except AuditKeyError as error:
            check.problems.append(str(error))
            return
        finally:
            db.engine.dispose()
    check.audit_entries = chain.entries
    if not chain.is_intact:
        where = f" at entry {chain.first_broken_id}" if chain.first_broken_id is not None else ""
        check.problems.append(f"the audit log is broken{where}: {chain.reason}")


def restore(checked_copy: Path, live: Path, keep: Path) -> None:
    """Keep a copy of the live database at `keep`, then write `checked_copy` (the very file
    check_backup passed, not the operator's original, which could change meanwhile) into the
    live file."""
    if live.exists():
        make_backup(live, keep)
    copy_database(checked_copy, live)
