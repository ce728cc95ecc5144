"""change control: a project's plan is published on a day, after which its targets, funds,
departments and deadlines change only by a change request the standing committee decides;
a project's status (active, deferred, terminated)

Revision ID: 16a0000000b1
Revises: 16a0000000a1
Create Date: 2026-12-05 21:30:00

Existing projects are active and unpublished, so their plans stay directly editable.
The downgrade refuses while any change request exists, so no committee decision is lost silently.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '16a0000000b1'
down_revision = '16a0000000a1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_published_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('status', sa.String(length=20), server_default='active', nullable=False))

    op.create_table('project_change_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('proposed', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('requested_by_name', sa.String(length=100), nullable=False),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('meeting', sa.String(length=200), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('decision_number', sa.String(length=100), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_name', sa.String(length=100), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_project_change_requests_decided_by_id_users')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_change_requests_project_id_projects')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_project_change_requests_requested_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_change_requests'))
    )
    with op.batch_alter_table('project_change_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_change_requests_decided_on'), ['decided_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_change_requests_project_id'), ['project_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_change_requests_state'), ['state'], unique=False)


def downgrade():
    requests = op.get_bind().execute(sa.text("SELECT COUNT(*) FROM project_change_requests")).scalar()
    if requests:
        raise RuntimeError(f"{requests} change requests exist; the standing committee's decisions would be lost by this downgrade.")
    op.drop_table('project_change_requests')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_column('status')
        batch_op.drop_column('plan_published_on')
