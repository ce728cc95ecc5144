"""photo thumbnails; the proposal a merge was made into, so a merge can be undone

Revision ID: 13a0000000f6
Revises: d4f6b8c0e2a4
Create Date: 2026-12-03 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '13a0000000f6'
down_revision = 'd4f6b8c0e2a4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('thumbnail', sa.LargeBinary(), nullable=True))
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('merged_directly_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_proposals_merged_directly_into_id'), ['merged_directly_into_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_proposals_merged_directly_into_id_proposals'), 'proposals',
                                    ['merged_directly_into_id'], ['id'])
    # Earlier merges kept only where a proposal ended up; that is the best record of where it was merged.
    op.execute("UPDATE proposals SET merged_directly_into_id = merged_into_id WHERE merged_into_id IS NOT NULL")


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposals_merged_directly_into_id_proposals'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_proposals_merged_directly_into_id'))
        batch_op.drop_column('merged_directly_into_id')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_column('thumbnail')
