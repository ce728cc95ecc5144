"""venue screen state

Revision ID: fa34d60a1f96
Revises: 85ad6fb2739e
Create Date: 2026-11-25 22:37:41.710037

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fa34d60a1f96'
down_revision = '85ad6fb2739e'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('screen_states',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('slide_key', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['congress_sessions.id'], name=op.f('fk_screen_states_session_id_congress_sessions')),
    sa.PrimaryKeyConstraint('session_id', name=op.f('pk_screen_states'))
    )


def downgrade():
    op.drop_table('screen_states')
