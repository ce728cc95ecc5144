"""project delivery, proposals and photos

Revision ID: 85ad6fb2739e
Revises: b009a74b7cb8
Create Date: 2026-11-25 21:54:31.995596

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '85ad6fb2739e'
down_revision = 'b009a74b7cb8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('location', sa.String(length=200), nullable=False, server_default=''))

    op.create_table('departments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_departments')),
    sa.UniqueConstraint('name', name=op.f('uq_departments_name'))
    )
    op.create_table('liaison_stations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_liaison_stations')),
    sa.UniqueConstraint('code', name=op.f('uq_liaison_stations_code')),
    sa.UniqueConstraint('name', name=op.f('uq_liaison_stations_name'))
    )
    op.create_table('project_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('planned_on', sa.Date(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_milestones_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_milestones'))
    )
    with op.batch_alter_table('project_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_milestones_project_id'), ['project_id'], unique=False)

    op.create_table('project_progress_notes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('author_name', sa.String(length=100), nullable=False),
    sa.Column('department_name', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('progress_percent', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_project_progress_notes_author_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_progress_notes_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_progress_notes'))
    )
    with op.batch_alter_table('project_progress_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_progress_notes_project_id'), ['project_id'], unique=False)

    op.create_table('project_stage_plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('planned_start', sa.Date(), nullable=True),
    sa.Column('planned_end', sa.Date(), nullable=True),
    sa.Column('actual_start', sa.Date(), nullable=True),
    sa.Column('actual_end', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_stage_plans_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_stage_plans')),
    sa.UniqueConstraint('project_id', 'stage', name=op.f('uq_project_stage_plans_project_id_stage'))
    )
    op.create_table('supervision_records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('deputy_id', sa.Integer(), nullable=False),
    sa.Column('deputy_name', sa.String(length=64), nullable=False),
    sa.Column('visited_on', sa.Date(), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('rectification', sa.Text(), nullable=False),
    sa.Column('rectification_due', sa.Date(), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('answered_by_name', sa.String(length=100), nullable=False),
    sa.Column('settled', sa.Boolean(), nullable=True),
    sa.Column('judged_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['deputy_id'], ['deputies.id'], name=op.f('fk_supervision_records_deputy_id_deputies')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_supervision_records_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_records'))
    )
    with op.batch_alter_table('supervision_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_records_deputy_id'), ['deputy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supervision_records_project_id'), ['project_id'], unique=False)

    op.create_table('proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('tracking_code', sa.String(length=16), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('location', sa.String(length=200), nullable=False),
    sa.Column('theme', sa.String(length=30), nullable=False),
    sa.Column('contact', sa.String(length=100), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('candidate_id', sa.Integer(), nullable=True),
    sa.Column('screened_by_name', sa.String(length=100), nullable=False),
    sa.Column('screened_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidates.id'], name=op.f('fk_proposals_candidate_id_candidates')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['proposals.id'], name=op.f('fk_proposals_merged_into_id_proposals')),
    sa.ForeignKeyConstraint(['station_id'], ['liaison_stations.id'], name=op.f('fk_proposals_station_id_liaison_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposals')),
    sa.UniqueConstraint('tracking_code', name=op.f('uq_proposals_tracking_code'))
    )
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proposals_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_merged_into_id'), ['merged_into_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_station_id'), ['station_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proposals_status'), ['status'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('content_type', sa.String(length=40), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('progress_note_id', sa.Integer(), nullable=True),
    sa.Column('supervision_id', sa.Integer(), nullable=True),
    sa.Column('proposal_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['progress_note_id'], ['project_progress_notes.id'], name=op.f('fk_photos_progress_note_id_project_progress_notes')),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_photos_proposal_id_proposals')),
    sa.ForeignKeyConstraint(['supervision_id'], ['supervision_records.id'], name=op.f('fk_photos_supervision_id_supervision_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos')),
    sa.UniqueConstraint('token', name=op.f('uq_photos_token'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_progress_note_id'), ['progress_note_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_proposal_id'), ['proposal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photos_supervision_id'), ['supervision_id'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_projects_department_id'), ['department_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_projects_department_id_departments'), 'departments', ['department_id'], ['id'])

    # Existing projects keep their department: each distinct name becomes a department row.
    connection = op.get_bind()
    names = connection.execute(sa.text("SELECT DISTINCT department FROM projects WHERE department <> ''")).scalars().all()
    for name in names:
        connection.execute(sa.text("INSERT INTO departments (name, created_at) VALUES (:name, CURRENT_TIMESTAMP)"), {"name": name})
    connection.execute(sa.text(
        "UPDATE projects SET department_id = (SELECT id FROM departments WHERE departments.name = projects.department)"
    ))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('department')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_department_id'), ['department_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_department_id_departments'), 'departments', ['department_id'], ['id'])



def downgrade():
    with op.batch_alter_table('candidates', schema=None) as batch_op:
        batch_op.drop_column('location')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_department_id_departments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_department_id'))
        batch_op.drop_column('department_id')

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('department', sa.VARCHAR(length=200), nullable=False, server_default=''))

    op.get_bind().execute(sa.text(
        "UPDATE projects SET department = (SELECT name FROM departments WHERE departments.id = projects.department_id) "
        "WHERE department_id IS NOT NULL"
    ))

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_projects_department_id_departments'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_projects_department_id'))
        batch_op.drop_column('department_id')

    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_supervision_id'))
        batch_op.drop_index(batch_op.f('ix_photos_proposal_id'))
        batch_op.drop_index(batch_op.f('ix_photos_progress_note_id'))

    op.drop_table('photos')
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proposals_status'))
        batch_op.drop_index(batch_op.f('ix_proposals_station_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_merged_into_id'))
        batch_op.drop_index(batch_op.f('ix_proposals_candidate_id'))

    op.drop_table('proposals')
    with op.batch_alter_table('supervision_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_records_project_id'))
        batch_op.drop_index(batch_op.f('ix_supervision_records_deputy_id'))

    op.drop_table('supervision_records')
    op.drop_table('project_stage_plans')
    with op.batch_alter_table('project_progress_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_progress_notes_project_id'))

    op.drop_table('project_progress_notes')
    with op.batch_alter_table('project_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_milestones_project_id'))

    op.drop_table('project_milestones')
    op.drop_table('liaison_stations')
    op.drop_table('departments')
