"""paper failover: an open electronic round switched to paper, and when paper ballots were accepted

Revision ID: 15a0000000b1
Revises: 15a0000000a1
Create Date: 2026-12-05 12:00:00

`paper_stored_at` replaces "some ballot exists" as the sign that a paper round's two keyed
entries agreed (a switched round holds opened electronic ballots before that). Paper rounds
holding ballots already get their close time.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '15a0000000b1'
down_revision = '15a0000000c1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paper_from_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('paper_from_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paper_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('phone_voters', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paper_issued', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('paper_stored_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_rounds_paper_from_by_id_users'), 'users', ['paper_from_by_id'], ['id'])
    op.execute(
        "UPDATE rounds SET paper_stored_at = closed_at WHERE mode = 'paper' "
        "AND EXISTS (SELECT 1 FROM ballots WHERE ballots.round_id = rounds.id)"
    )


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rounds_paper_from_by_id_users'), type_='foreignkey')
        batch_op.drop_column('paper_stored_at')
        batch_op.drop_column('paper_issued')
        batch_op.drop_column('phone_voters')
        batch_op.drop_column('paper_reason')
        batch_op.drop_column('paper_from_by_id')
        batch_op.drop_column('paper_from_at')
