"""supervision checkpoints: the days of each year's three checkpoints (plan, progress, effect)

Revision ID: 16a0000000c1
Revises: 16a0000000b1
Create Date: 2026-12-05 21:30:00

An ad-hoc supervision group is a deputy group of the kind "ad_hoc" (no schema change: the kind
is a free string column); the downgrade refuses while one exists, as the code before it knows
no such kind. A year without rows uses the default days, so the downgrade forgets only the
days staff set.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16a0000000c1'
down_revision = '16a0000000b1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('supervision_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_checkpoints')),
    sa.UniqueConstraint('year', 'kind', name=op.f('uq_supervision_checkpoints_year_kind'))
    )


def downgrade():
    ad_hoc = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM deputy_groups WHERE kind = 'ad_hoc'")).scalar()
    if ad_hoc:
        raise RuntimeError(f"{ad_hoc} ad-hoc supervision groups exist; delete them or change their kind before this downgrade.")
    op.drop_table('supervision_checkpoints')
