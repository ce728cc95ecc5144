"""implementation plans: a project's sub-items with their departments, funds (whole yuan),
targets and the actual figures reported for them; milestones may belong to a sub-item

Revision ID: 16a0000000a1
Revises: 15a0000000a1
Create Date: 2026-12-05 00:20:00

Existing projects get no sub-items, so they keep the progress staff and departments typed.
The downgrade refuses while any plan exists, so no reported figure is lost silently.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16a0000000a1'
down_revision = '15a0000000b1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('project_sub_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=True),
    sa.Column('budget_yuan', sa.BigInteger(), nullable=True),
    sa.Column('spent_yuan', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_project_sub_items_department_id_departments')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_sub_items_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_sub_items'))
    )
    with op.batch_alter_table('project_sub_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_sub_items_department_id'), ['department_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_sub_items_project_id'), ['project_id'], unique=False)

    op.create_table('project_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sub_item_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('planned', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('actual', sa.Numeric(precision=14, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['sub_item_id'], ['project_sub_items.id'], name=op.f('fk_project_targets_sub_item_id_project_sub_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_targets'))
    )
    with op.batch_alter_table('project_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_targets_sub_item_id'), ['sub_item_id'], unique=False)

    op.create_table('project_target_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('progress_note_id', sa.Integer(), nullable=True),
    sa.Column('actual', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('reported_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['progress_note_id'], ['project_progress_notes.id'], name=op.f('fk_project_target_reports_progress_note_id_project_progress_notes')),
    sa.ForeignKeyConstraint(['target_id'], ['project_targets.id'], name=op.f('fk_project_target_reports_target_id_project_targets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_target_reports'))
    )
    with op.batch_alter_table('project_target_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_target_reports_progress_note_id'), ['progress_note_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_target_reports_target_id'), ['target_id'], unique=False)

    with op.batch_alter_table('project_milestones', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sub_item_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_project_milestones_sub_item_id'), ['sub_item_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_project_milestones_sub_item_id_project_sub_items'), 'project_sub_items',
                                    ['sub_item_id'], ['id'])


def downgrade():
    plans = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM project_sub_items")).scalar()
    if plans:
        raise RuntimeError(f"{plans} sub-items of project plans exist; remove them (and their targets) before this downgrade.")
    with op.batch_alter_table('project_milestones', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_project_milestones_sub_item_id_project_sub_items'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_project_milestones_sub_item_id'))
        batch_op.drop_column('sub_item_id')
    op.drop_table('project_target_reports')
    op.drop_table('project_targets')
    op.drop_table('project_sub_items')
