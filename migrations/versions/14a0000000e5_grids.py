"""the grid hierarchy (网格中心 -> 单元网格 -> 网格) with boundaries; placements, household codes,
proposals and survey responses (and their answers) carry a grid

Revision ID: 14a0000000e5
Revises: 14a0000000a1
Create Date: 2026-12-04 16:10:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14a0000000e5'
down_revision = '14a0000000a1'
branch_labels = None
depends_on = None

# (table, whether its grid_id is a foreign key with an index)
CARRIERS = (
    ('survey_placements', True),
    ('survey_household_codes', True),
    ('proposals', True),
    ('survey_responses', True),
    ('survey_answers', False),  # repeats its response's grid, as it repeats its placement
)


def upgrade():
    op.create_table(
        'grids',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('level', sa.SmallInteger(), nullable=False),
        sa.Column('parent_id', sa.Integer(), nullable=True),
        sa.Column('centre_id', sa.Integer(), nullable=True),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('boundary', sa.JSON(none_as_null=True), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['parent_id'], ['grids.id'], name=op.f('fk_grids_parent_id_grids')),
        sa.ForeignKeyConstraint(['centre_id'], ['grids.id'], name=op.f('fk_grids_centre_id_grids')),
        sa.ForeignKeyConstraint(['unit_id'], ['grids.id'], name=op.f('fk_grids_unit_id_grids')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_grids')),
        sa.UniqueConstraint('code', name=op.f('uq_grids_code')),
    )
    op.create_index('ix_grids_level_parent', 'grids', ['level', 'parent_id'])
    op.create_index(op.f('ix_grids_centre_id'), 'grids', ['centre_id'])
    op.create_index(op.f('ix_grids_unit_id'), 'grids', ['unit_id'])
    for table, is_foreign in CARRIERS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('grid_id', sa.Integer(), nullable=True))
            if is_foreign:
                batch_op.create_index(batch_op.f(f'ix_{table}_grid_id'), ['grid_id'])
                batch_op.create_foreign_key(batch_op.f(f'fk_{table}_grid_id_grids'), 'grids', ['grid_id'], ['id'])
    op.create_index('ix_survey_answers_question_grid', 'survey_answers',
                    ['question_id', 'grid_id', 'value', 'is_flagged', 'is_held'])


def downgrade():
    op.drop_index('ix_survey_answers_question_grid', table_name='survey_answers')
    for table, is_foreign in reversed(CARRIERS):
        with op.batch_alter_table(table, schema=None) as batch_op:
            if is_foreign:
                batch_op.drop_index(batch_op.f(f'ix_{table}_grid_id'))
                batch_op.drop_constraint(batch_op.f(f'fk_{table}_grid_id_grids'), type_='foreignkey')
            batch_op.drop_column('grid_id')
    op.drop_index(op.f('ix_grids_unit_id'), table_name='grids')
    op.drop_index(op.f('ix_grids_centre_id'), table_name='grids')
    op.drop_index('ix_grids_level_parent', table_name='grids')
    op.drop_table('grids')
