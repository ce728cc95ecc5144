"""survey answers held past a per-address count; no device hash on responses

Revision ID: b2d4f6a8c0e2
Revises: e5a7c9d1f3b5
Create Date: 2026-12-03 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b2d4f6a8c0e2'
down_revision = 'e5a7c9d1f3b5'
branch_labels = None
depends_on = None

KEY = ['survey_id', 'question_key', 'value', 'placement_key', 'week_start', 'is_assisted', 'is_flagged', 'is_hidden']


def upgrade():
    op.create_table('survey_address_counts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', 'address_hash', name=op.f('pk_survey_address_counts'))
    )
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_after', sa.Integer(), server_default='5', nullable=False))
    # The old repeat hash linked a day's answers from one address and browser to each other for
    # ever; the per-address counter that replaces it names no response.
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_on', sa.Date(), nullable=True))
        batch_op.drop_index(batch_op.f('ix_survey_responses_device_hash'))
        batch_op.drop_column('device_hash')
        batch_op.create_index('ix_survey_responses_survey_held', ['survey_id', 'held_on'], unique=False)
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_held', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('survey_tallies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_held', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.drop_constraint('uq_survey_tallies_key', type_='unique')
        batch_op.create_unique_constraint('uq_survey_tallies_key', [*KEY, 'is_held'])


def downgrade():
    # Held answers were never counted: they go, with their tallies, rather than count unreviewed.
    op.execute(sa.text("DELETE FROM survey_tallies WHERE is_held = true"))
    op.execute(sa.text("DELETE FROM survey_answers WHERE response_id IN (SELECT id FROM survey_responses WHERE held_on IS NOT NULL)"))
    op.execute(sa.text("DELETE FROM survey_responses WHERE held_on IS NOT NULL"))
    with op.batch_alter_table('survey_tallies', schema=None) as batch_op:
        batch_op.drop_constraint('uq_survey_tallies_key', type_='unique')
        batch_op.drop_column('is_held')
        batch_op.create_unique_constraint('uq_survey_tallies_key', KEY)
    with op.batch_alter_table('survey_answers', schema=None) as batch_op:
        batch_op.drop_column('is_held')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_survey_held')
        batch_op.add_column(sa.Column('device_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_survey_responses_device_hash'), ['device_hash'], unique=False)
        batch_op.drop_column('held_on')
    with op.batch_alter_table('surveys', schema=None) as batch_op:
        batch_op.drop_column('hold_after')
    op.drop_table('survey_address_counts')
