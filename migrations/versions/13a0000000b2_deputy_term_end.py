"""a deputy's term in office can end (代表资格终止): the date and the reason stay on the roster

Revision ID: 13a0000000b2
Revises: 13a0000000d4
Create Date: 2026-12-03 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '13a0000000b2'
down_revision = '13a0000000d4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('deputies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('term_ended_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('term_end_reason', sa.String(length=200), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('deputies', schema=None) as batch_op:
        batch_op.drop_column('term_end_reason')
        batch_op.drop_column('term_ended_on')
