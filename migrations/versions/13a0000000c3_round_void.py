"""a round declared void: the presiding officer's request with its reason, the scrutineer's confirmation

Revision ID: 13a0000000c3
Revises: 13a0000000f6
Create Date: 2026-12-03 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '13a0000000c3'
down_revision = '13a0000000f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('void_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('void_requested_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('void_requested_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('voided_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_rounds_void_requested_by_id_users'), 'users', ['void_requested_by_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_rounds_voided_by_id_users'), 'users', ['voided_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rounds_voided_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_rounds_void_requested_by_id_users'), type_='foreignkey')
        batch_op.drop_column('voided_by_id')
        batch_op.drop_column('voided_at')
        batch_op.drop_column('void_requested_by_id')
        batch_op.drop_column('void_requested_at')
        batch_op.drop_column('void_reason')
