"""each year's collection window (征集期), and the reserve (储备库) of proposals kept for next year

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


def downgrade():
    op.execute("UPDATE proposals SET status = 'received' WHERE status = 'reserved'")
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_column('reserve_note')
        batch_op.drop_column('reserved_at')
    op.drop_table('collection_windows')
