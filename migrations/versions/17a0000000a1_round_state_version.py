"""a round's state version: raised by every change to the round or its candidates, so a worker
may keep what casting needs of a round and know at once when it is out of date

Revision ID: 17a0000000a1
Revises: 16a0000000d1
Create Date: 2026-12-06 01:40:00
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '17a0000000a1'
down_revision = '16a0000000d1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state_version', sa.Integer(), nullable=False, server_default='1'))


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_column('state_version')
