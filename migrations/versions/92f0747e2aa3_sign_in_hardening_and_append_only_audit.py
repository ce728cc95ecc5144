"""sign-in hardening and append-only audit log

Revision ID: 92f0747e2aa3
Revises: 33f05e7c50af
Create Date: 2026-11-26 01:55:42.854284

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '92f0747e2aa3'
down_revision = '33f05e7c50af'
branch_labels = None
depends_on = None

APPEND_ONLY = "the audit log is append-only"

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    f"CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
    # INSERT OR REPLACE deletes the old row without firing DELETE triggers: refuse a taken id.
    "CREATE TRIGGER audit_entries_no_replace BEFORE INSERT ON audit_entries "
    "WHEN EXISTS (SELECT 1 FROM audit_entries WHERE id = NEW.id) "
    f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END",
)
POSTGRESQL_TRIGGERS = (
    "CREATE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$",
    "CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries "
    "FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()",
    "CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()",
)


def upgrade():
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.Integer(), nullable=True))

    # The application only ever inserts audit entries; the database now refuses anything else.
    for statement in POSTGRESQL_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS:
        op.execute(sa.text(statement))


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("DROP TRIGGER audit_entries_no_truncate ON audit_entries"))
        op.execute(sa.text("DROP TRIGGER audit_entries_no_change ON audit_entries"))
        op.execute(sa.text("DROP FUNCTION audit_entries_append_only()"))
    else:
        op.execute(sa.text("DROP TRIGGER audit_entries_no_update"))
        op.execute(sa.text("DROP TRIGGER audit_entries_no_delete"))
        op.execute(sa.text("DROP TRIGGER audit_entries_no_replace"))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('session_epoch')

    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_column('session_epoch')
