"""deputy groups (代表小组) with their members, and a project's supervision group

Revision ID: 14a0000000e9
Revises: 14a0000000e5
Create Date: 2026-12-04 16:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14a0000000e9'
down_revision = '14a0000000e5'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('deputy_groups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('term_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('convener_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['convener_id'], ['term_deputies.id'], name=op.f('fk_deputy_groups_convener_id_term_deputies')),
    sa.ForeignKeyConstraint(['term_id'], ['terms.id'], name=op.f('fk_deputy_groups_term_id_terms')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deputy_groups')),
    sa.UniqueConstraint('term_id', 'name', name=op.f('uq_deputy_groups_term_id_name'))
    )
    with op.batch_alter_table('deputy_groups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deputy_groups_term_id'), ['term_id'], unique=False)

    op.create_table('group_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('group_id', sa.Integer(), nullable=False),
    sa.Column('term_deputy_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['group_id'], ['deputy_groups.id'], name=op.f('fk_group_memberships_group_id_deputy_groups')),
    sa.ForeignKeyConstraint(['term_deputy_id'], ['term_deputies.id'], name=op.f('fk_group_memberships_term_deputy_id_term_deputies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_memberships')),
    sa.UniqueConstraint('group_id', 'term_deputy_id', name=op.f('uq_group_memberships_group_id_term_deputy_id'))
    )
    with op.batch_alter_table('group_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_memberships_group_id'), ['group_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_memberships_term_deputy_id'), ['term_deputy_id'], unique=False)

    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supervision_group_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_projects_supervision_group_id'), ['supervision_group_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_projects_supervision_group_id_deputy_groups'), 'deputy_groups',
                                    ['supervision_group_id'], ['id'])


def downgrade():
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_projects_supervision_group_id_deputy_groups'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_projects_supervision_group_id'))
        batch_op.drop_column('supervision_group_id')

    with op.batch_alter_table('group_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_memberships_term_deputy_id'))
        batch_op.drop_index(batch_op.f('ix_group_memberships_group_id'))
    op.drop_table('group_memberships')

    with op.batch_alter_table('deputy_groups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deputy_groups_term_id'))
    op.drop_table('deputy_groups')
