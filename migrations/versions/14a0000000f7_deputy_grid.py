"""the grid a deputy of the term is linked to (网格联系代表)

Revision ID: 14a0000000f7
Revises: 14a0000000e9
Create Date: 2026-12-04 17:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14a0000000f7'
down_revision = '14a0000000e9'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('term_deputies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grid_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_term_deputies_grid_id'), ['grid_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_term_deputies_grid_id_grids'), 'grids', ['grid_id'], ['id'])


def downgrade():
    with op.batch_alter_table('term_deputies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_term_deputies_grid_id_grids'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_term_deputies_grid_id'))
        batch_op.drop_column('grid_id')

