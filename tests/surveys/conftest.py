"""On PostgreSQL the survey tests empty the tables with DELETE in foreign-key order rather
than the shared fixture's TRUNCATE: on tables this small DELETE is about ten times faster,
and these tests use the database in every test. SQLite keeps the shared copy-a-file way."""

import pytest
from sqlalchemy import MetaData, create_engine, text

from tests.conftest import PG_URL, database_url


@pytest.fixture(scope="session")
def pg_delete_order(migrated_template) -> list[str]:
    """Children before parents, so every DELETE satisfies the foreign keys."""
    if not PG_URL:
        return []
    engine = create_engine(PG_URL)
    metadata = MetaData()
    metadata.reflect(engine)
    engine.dispose()
    return [table.name for table in reversed(metadata.sorted_tables) if table.name != "alembic_version"]


@pytest.fixture
def db_url(tmp_path, migrated_template, pg_delete_order):
    if not PG_URL:
        return database_url(tmp_path, migrated_template)
    engine = create_engine(PG_URL)
    with engine.begin() as connection:
        # The audit log refuses DELETE and TRUNCATE (append-only triggers); the replica role is the owner's way past them.
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for name in pg_delete_order:
            connection.execute(text(f'DELETE FROM "{name}"'))
    engine.dispose()
    return PG_URL
