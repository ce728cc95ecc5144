"""Taking a database up and down the real migrations, for the tests of the migrations.

A test gets a scratch database from the `migration_db` fixture (tests/conftest.py): a SQLite
file of its own, or, with TEST_DATABASE_URL, the PostgreSQL test database emptied, and emptied
and brought to the newest schema again afterwards so the tests after it find what they expect."""

import shutil
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from tests.conftest import AUDIT_KEY, PG_URL, ROOT, SECRET
from voting_app import create_app

MIGRATIONS = str(ROOT / "migrations")


def empty_schema(url: str) -> None:
    """Drop every table of a PostgreSQL database, alembic's version table included."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


class MigrationDatabase:
    """A database, the app of today on it (to run the migrations and the services), and an
    engine of its own for plain SQL at any revision."""

    def __init__(self, url: str, **config):
        self.url = url
        self.app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "TESTING": True,
                               "SERVER_NAME": "localhost", **config})
        self.engine = create_engine(url)

    def upgrade(self, revision: str = "head") -> None:
        with self.app.app_context():
            upgrade(directory=MIGRATIONS, revision=revision)
            self._release()

    def downgrade(self, revision: str) -> None:
        with self.app.app_context():
            self._release()
            try:
                downgrade(directory=MIGRATIONS, revision=revision)
            finally:
                self._release()

    def refused_downgrade(self, revision: str) -> str:
        """The reason a migration gives for refusing the downgrade: flask_migrate logs it and
        exits with status 1, as `flask db downgrade` does for an operator."""
        with pytest.raises(SystemExit) as stopped:
            self.downgrade(revision)
        reason = stopped.value.__context__
        assert stopped.value.code == 1 and isinstance(reason, RuntimeError), reason
        return str(reason)

    def sql(self):
        """A transaction on the test's own connection: `with database.sql() as connection:`."""
        return self.engine.begin()

    def scalar(self, query: str, **parameters):
        with self.engine.connect() as connection:
            return connection.execute(text(query), parameters).scalar()

    def version(self) -> str | None:
        return self.scalar("SELECT version_num FROM alembic_version")

    def copy_to(self, path: Path) -> "MigrationDatabase":
        """A copy of a SQLite database file, as a database of its own."""
        self.close()
        shutil.copy(self.engine.url.database, path)
        return MigrationDatabase(f"sqlite:///{path}")

    def close(self) -> None:
        with self.app.app_context():
            self._release()
        self.engine.dispose()

    @staticmethod
    def _release() -> None:
        """Give the app's connections back, so a migration or another connection is never
        kept waiting by one the app still holds."""
        from voting_app.db import db

        db.session.remove()
        db.engine.dispose()


@contextmanager
def scratch_database(tmp_path: Path, name: str = "migrate"):
    """An empty database at no revision, for one test; see the module's docstring."""
    if PG_URL:
        empty_schema(PG_URL)
    database = MigrationDatabase(PG_URL or f"sqlite:///{tmp_path / f'{name}.sqlite3'}")
    try:
        yield database
    finally:
        database.close()
        if PG_URL:
            empty_schema(PG_URL)
            restored = MigrationDatabase(PG_URL)
            restored.upgrade()
            restored.close()
