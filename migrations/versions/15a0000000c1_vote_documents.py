"""the documents of a vote: the adoption record of a round's 票决办法, and photos of its signed count report

Revision ID: 15a0000000c1
Revises: 15a0000000a1
Create Date: 2026-12-05 00:00:00

Rounds that exist get no adoption record: a draft round under a 票决办法 that asks for one is
adopted before it opens, like any new round; rounds already opened are not affected.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '15a0000000c1'
down_revision = '15a0000000a1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('round_adoptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('adopted_on', sa.Date(), nullable=False),
    sa.Column('adopted_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_round_adoptions_round_id_rounds')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_round_adoptions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round_adoptions'))
    )
    op.create_index(op.f('ix_round_adoptions_round_id'), 'round_adoptions', ['round_id'], unique=False)
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('count_report_round_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_photos_count_report_round_id'), ['count_report_round_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_photos_count_report_round_id_rounds'), 'rounds', ['count_report_round_id'], ['id'])


def downgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_photos_count_report_round_id_rounds'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_photos_count_report_round_id'))
        batch_op.drop_column('count_report_round_id')
    op.drop_index(op.f('ix_round_adoptions_round_id'), table_name='round_adoptions')
    op.drop_table('round_adoptions')
