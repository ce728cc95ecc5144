"""liaison stations in the registry: reception days, deputies, duty rosters, reception-day entry

Revision ID: 14a0000000f3
Revises: 14a0000000f7
Create Date: 2026-12-04 17:30:00

Stations keep their table and rows; they gain their day of the month (15 by default, Fancheng's
practice). Deputies gain their station; proposals gain the deputy who entered them on a reception
day, and when. A downgrade drops what it added: duty rosters, moved or cancelled days, and which
deputy entered a proposal (the proposals themselves stay, with their reception-day channel).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14a0000000f3'
down_revision = '14a0000000f7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('liaison_stations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reception_day', sa.Integer(), server_default='15', nullable=False))
    op.create_table('reception_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('moved_to', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['liaison_stations.id'], name=op.f('fk_reception_changes_station_id_liaison_stations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_changes')),
    sa.UniqueConstraint('station_id', 'scheduled_on', name=op.f('uq_reception_changes_station_id_scheduled_on'))
    )
    with op.batch_alter_table('reception_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reception_changes_station_id'), ['station_id'], unique=False)
    op.create_table('reception_duties',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('station_id', sa.Integer(), nullable=False),
    sa.Column('scheduled_on', sa.Date(), nullable=False),
    sa.Column('term_deputy_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['station_id'], ['liaison_stations.id'], name=op.f('fk_reception_duties_station_id_liaison_stations')),
    sa.ForeignKeyConstraint(['term_deputy_id'], ['term_deputies.id'], name=op.f('fk_reception_duties_term_deputy_id_term_deputies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reception_duties')),
    sa.UniqueConstraint('station_id', 'scheduled_on', 'term_deputy_id', name=op.f('uq_reception_duties_station_id_scheduled_on_term_deputy_id'))
    )
    with op.batch_alter_table('reception_duties', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reception_duties_station_id'), ['station_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reception_duties_term_deputy_id'), ['term_deputy_id'], unique=False)
    with op.batch_alter_table('term_deputies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('station_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_term_deputies_station_id'), ['station_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_term_deputies_station_id_liaison_stations'), 'liaison_stations', ['station_id'], ['id'])
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_by_deputy_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('entered_at', sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_proposals_entered_by_deputy_id'), ['entered_by_deputy_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_proposals_entered_by_deputy_id_term_deputies'), 'term_deputies', ['entered_by_deputy_id'], ['id'])


def downgrade():
    with op.batch_alter_table('proposals', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proposals_entered_by_deputy_id_term_deputies'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_proposals_entered_by_deputy_id'))
        batch_op.drop_column('entered_at')
        batch_op.drop_column('entered_by_deputy_id')
    with op.batch_alter_table('term_deputies', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_term_deputies_station_id_liaison_stations'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_term_deputies_station_id'))
        batch_op.drop_column('station_id')
    with op.batch_alter_table('reception_duties', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reception_duties_term_deputy_id'))
        batch_op.drop_index(batch_op.f('ix_reception_duties_station_id'))
    op.drop_table('reception_duties')
    with op.batch_alter_table('reception_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reception_changes_station_id'))
    op.drop_table('reception_changes')
    with op.batch_alter_table('liaison_stations', schema=None) as batch_op:
        batch_op.drop_column('reception_day')
