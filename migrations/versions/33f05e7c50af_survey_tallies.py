"""survey tallies

Revision ID: 33f05e7c50af
Revises: fa34d60a1f96
Create Date: 2026-11-25 23:24:46.742647

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '33f05e7c50af'
down_revision = 'fa34d60a1f96'
branch_labels = None
depends_on = None

BACKFILL = """
INSERT INTO survey_tallies (survey_id, question_key, value, placement_key, week_start, is_assisted, is_flagged, is_hidden, count)
SELECT survey_id, 0, '', coalesce(placement_id, 0), week_start, is_assisted, is_flagged, false, count(*)
  FROM survey_responses
  GROUP BY survey_id, coalesce(placement_id, 0), week_start, is_assisted, is_flagged
UNION ALL
SELECT survey_id, question_id, coalesce(value, ''), coalesce(placement_id, 0), week_start, is_assisted, is_flagged,
       CASE WHEN value IS NULL THEN is_hidden ELSE false END, count(*)
  FROM survey_answers
  GROUP BY survey_id, question_id, coalesce(value, ''), coalesce(placement_id, 0), week_start, is_assisted, is_flagged,
           CASE WHEN value IS NULL THEN is_hidden ELSE false END
UNION ALL
SELECT a.survey_id, a.question_id, '*', coalesce(a.placement_id, 0), a.week_start, a.is_assisted, a.is_flagged, false,
       count(DISTINCT a.response_id)
  FROM survey_answers a JOIN survey_questions q ON q.id = a.question_id AND q.kind = 'multiple'
  WHERE a.value IS NOT NULL
  GROUP BY a.survey_id, a.question_id, coalesce(a.placement_id, 0), a.week_start, a.is_assisted, a.is_flagged
"""


def upgrade():
    op.create_table('survey_tallies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('question_key', sa.Integer(), nullable=False),
    sa.Column('value', sa.String(length=40), nullable=False),
    sa.Column('placement_key', sa.Integer(), nullable=False),
    sa.Column('week_start', sa.Date(), nullable=False),
    sa.Column('is_assisted', sa.Boolean(), nullable=False),
    sa.Column('is_flagged', sa.Boolean(), nullable=False),
    sa.Column('is_hidden', sa.Boolean(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_tallies_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_tallies')),
    sa.UniqueConstraint('survey_id', 'question_key', 'value', 'placement_key', 'week_start', 'is_assisted', 'is_flagged', 'is_hidden', name='uq_survey_tallies_key')
    )

    # Existing answers are counted once; from here on every write keeps the tallies in step.
    op.execute(sa.text(BACKFILL))


def downgrade():
    op.drop_table('survey_tallies')
