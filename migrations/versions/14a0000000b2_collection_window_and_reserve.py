"""each year's collection window (征集期), and the reserve (储备库) of proposals kept for next year

The downgrade refuses, dropping nothing, while a collection window is set or a proposal is or
was in the reserve (its status, the day and the note would be lost): the older schema has no
place for them.

Revision ID: 14a0000000b2
Revises: 13a0000000c3
Create Date: 2026-12-03 19:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14a0000000b2'
down_revision = '13a0000000c3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'collection_windows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('opens_on', sa.Date(), nullable=False),
        sa.Column('closes_on', sa.Date(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.CheckConstraint('closes_on >= opens_on', name=op.f('ck_collection_windows_closes_after_opens')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_windows')),
        sa.UniqueConstraint('year', name=op.f('uq_collection_windows_year')),
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reserved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('reserve_note', sa.Text(), server_default='', nullable=False))


# What the older schema has no place for.
_LOST_ON_DOWNGRADE = (
    ("collection windows", "SELECT count(*) FROM collection_windows"),
    ("proposals in or once in the reserve",
     "SELECT count(*) FROM proposals WHERE status = 'reserved' OR reserved_at IS NOT NULL OR reserve_note <> ''"),
)


def _refuse_to_lose_data(connection):
    """Raise, before this revision drops anything, when the downgrade would destroy rows or
    values that exist nowhere else: what the older schema cannot hold is kept, whether or not
    the revisions undone before this one are rolled back with it."""
    found = [f"{count} {what}" for what, query in _LOST_ON_DOWNGRADE if (count := connection.execute(sa.text(query)).scalar())]
    if found:
        raise RuntimeError(
            f"Downgrade below {revision} refused: the older schema has no place for {', '.join(found)}. "
            "They are untouched. Back up the database; to go back all the same, delete or clear them first."
        )


def downgrade():
    _refuse_to_lose_data(op.get_bind())
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('reserve_note')
        batch_op.drop_column('reserved_at')
    op.drop_table('collection_windows')
