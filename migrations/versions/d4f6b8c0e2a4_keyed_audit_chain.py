"""keyed audit chain: a hash scheme per entry and a keyed entry sealing the unkeyed ones

Revision ID: d4f6b8c0e2a4
Revises: b2d4f6a8c0e2
Create Date: 2026-12-03 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4f6b8c0e2a4'
down_revision = 'b2d4f6a8c0e2'
branch_labels = None
depends_on = None

ENTRIES = sa.table(
    'audit_entries',
    sa.column('at', sa.DateTime()),
    sa.column('actor', sa.String()),
    sa.column('action', sa.String()),
    sa.column('target', sa.String()),
    sa.column('details', sa.JSON()),
    sa.column('prev_hash', sa.String()),
    sa.column('hash', sa.String()),
    sa.column('scheme', sa.String()),
)


def upgrade():
    """Existing entries keep their SHA-256 and are marked unkeyed (the column's default, so
    no row is rewritten and the append-only triggers stay as they are); a keyed entry
    appended now seals them, so an unkeyed entry added later never passes the verifier."""
    from flask import current_app

    from voting_app.audit import GENESIS, SEAL_ACTION, new_entry, parse_key

    bind = op.get_bind()
    unkeyed = bind.execute(sa.text("SELECT count(*) FROM audit_entries")).scalar()
    # Asked before any change, so that the refusal never rests on the DDL being rolled back.
    key = parse_key(current_app.config.get("AUDIT_KEY")) if unkeyed else None

    op.add_column('audit_entries', sa.Column('scheme', sa.String(length=16), server_default='sha256', nullable=False))

    if unkeyed:
        if bind.dialect.name == "postgresql":
            bind.execute(sa.text("SELECT pg_advisory_xact_lock(7412001)"))  # the lock record() takes
        newest = bind.execute(sa.text("SELECT hash FROM audit_entries ORDER BY id DESC LIMIT 1")).scalar()
        seal = new_entry(key, newest or GENESIS, "system", SEAL_ACTION, "", {"unkeyed_entries": unkeyed})
        bind.execute(ENTRIES.insert().values(**seal))


def downgrade():
    """The keyed entries stay (the log is append-only); the previous version's verifier,
    which knows only SHA-256, reports the first of them as altered."""
    op.execute(sa.text("ALTER TABLE audit_entries DROP COLUMN scheme"))
