"""sealed ballots: session keys, sealed_ballots, markers without receipts

Revision ID: a1c3e5b7d9f1
Revises: 92f0747e2aa3
Create Date: 2026-12-03 14:30:00

Upgrade between rounds, not while one is open: a round opened before this version has no key,
and its deputies' ballots are refused with a message until it is closed and counted.
"""
from alembic import op
import sqlalchemy as sa


revision = 'a1c3e5b7d9f1'
down_revision = '92f0747e2aa3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ballot_keys',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
        sa.Column('share_set', sa.Integer(), nullable=False),
        sa.Column('threshold', sa.Integer(), nullable=False),
        sa.Column('share_count', sa.Integer(), nullable=False),
        sa.Column('holders', sa.JSON(), nullable=False),
        sa.Column('share_digests', sa.JSON(), nullable=False),
        sa.Column('share_checked_at', sa.JSON(), nullable=False),
        sa.Column('test_ballot', sa.LargeBinary(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=120), nullable=False),
        sa.Column('rehearsed_at', sa.DateTime(), nullable=True),
        sa.Column('retired_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['session_id'], ['congress_sessions.id'], name=op.f('fk_ballot_keys_session_id_congress_sessions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_keys')),
    )
    with op.batch_alter_table('ballot_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ballot_keys_session_id'), ['session_id'], unique=False)
        batch_op.create_index(
            'uq_ballot_keys_active_session', ['session_id'], unique=True,
            sqlite_where=sa.text('retired_at IS NULL'), postgresql_where=sa.text('retired_at IS NULL'),
        )

    op.create_table(
        'sealed_ballots',
        sa.Column('round_id', sa.Integer(), nullable=False),
        sa.Column('id', sa.LargeBinary(length=16), nullable=False),
        sa.Column('sealed', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_sealed_ballots_round_id_rounds')),
        sa.PrimaryKeyConstraint('round_id', 'id', name=op.f('pk_sealed_ballots')),
        sqlite_with_rowid=False,
    )

    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('seal_key', sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column('unsealed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_rounds_key_id_ballot_keys'), 'ballot_keys', ['key_id'], ['id'])

    with op.batch_alter_table('ballot_markers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_check', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('ballot_markers', schema=None) as batch_op:
        batch_op.drop_column('ticket_check')
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rounds_key_id_ballot_keys'), type_='foreignkey')
        batch_op.drop_column('unsealed_at')
        batch_op.drop_column('seal_key')
        batch_op.drop_column('key_id')
    op.drop_table('sealed_ballots')
    with op.batch_alter_table('ballot_keys', schema=None) as batch_op:
        batch_op.drop_index('uq_ballot_keys_active_session')
        batch_op.drop_index(batch_op.f('ix_ballot_keys_session_id'))
    op.drop_table('ballot_keys')
