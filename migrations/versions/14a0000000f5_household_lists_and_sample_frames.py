"""household lists per grid, sample frames of a tokened survey, a household code's frame

Revision ID: 14a0000000f5
Revises: 14a0000000f3
Create Date: 2026-12-04 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14a0000000f5'
down_revision = '14a0000000f3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('households',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grid_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['grid_id'], ['grids.id'], name=op.f('fk_households_grid_id_grids')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households')),
    sa.UniqueConstraint('grid_id', 'address', name='uq_households_grid_address')
    )
    op.create_index(op.f('ix_households_grid_id'), 'households', ['grid_id'], unique=False)
    op.create_table('survey_sample_frames',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('grid_scope_id', sa.Integer(), nullable=True),
    sa.Column('list_size', sa.Integer(), nullable=False),
    sa.Column('drawn_by', sa.String(length=100), nullable=False),
    sa.Column('drawn_at', sa.DateTime(), nullable=False),
    sa.Column('printed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['grid_scope_id'], ['grids.id'], name=op.f('fk_survey_sample_frames_grid_scope_id_grids')),
    sa.ForeignKeyConstraint(['survey_id'], ['surveys.id'], name=op.f('fk_survey_sample_frames_survey_id_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_sample_frames'))
    )
    op.create_index(op.f('ix_survey_sample_frames_survey_id'), 'survey_sample_frames', ['survey_id'], unique=False)
    op.create_table('survey_frame_households',
    sa.Column('frame_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['frame_id'], ['survey_sample_frames.id'], name=op.f('fk_survey_frame_households_frame_id_survey_sample_frames')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_survey_frame_households_household_id_households')),
    sa.PrimaryKeyConstraint('frame_id', 'household_id', name=op.f('pk_survey_frame_households'))
    )
    with op.batch_alter_table('survey_household_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('frame_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_survey_household_codes_frame_id'), ['frame_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_survey_household_codes_frame_id_survey_sample_frames'), 'survey_sample_frames', ['frame_id'], ['id'])


def downgrade():
    with op.batch_alter_table('survey_household_codes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_survey_household_codes_frame_id_survey_sample_frames'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_survey_household_codes_frame_id'))
        batch_op.drop_column('frame_id')
    op.drop_table('survey_frame_households')
    op.drop_index(op.f('ix_survey_sample_frames_survey_id'), table_name='survey_sample_frames')
    op.drop_table('survey_sample_frames')
    op.drop_index(op.f('ix_households_grid_id'), table_name='households')
    op.drop_table('households')
