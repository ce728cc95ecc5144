"""channels on proposals (征集渠道), a managed list of decline reasons (不予采纳理由)

Revision ID: 14a0000000a1
Revises: 14a0000000c7
Create Date: 2026-12-04 16:20:00

Existing proposals all came through a station's QR form, so they become station_qr. Proposals
declined before keep their text as the explanation and no reason: pages show them as unclassified.
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '14a0000000a1'
down_revision = '14a0000000c7'
branch_labels = None
depends_on = None

# The reasons seen most in practice; staff rename, retire, reorder or add to them afterwards.
SEEDED_REASONS = (
    ("不属于区级事权", "Outside the district's remit"),
    ("属于楼堂馆所建设", "An office building"),
    ("已列入计划或已有资金安排", "Already planned or funded"),
    ("将新增政府债务", "Adds government debt"),
    ("不属于民生领域", "Not a livelihood matter"),
    ("条件不具备、暂不可行", "Not feasible now"),
)
# Where a downgrade puts proposals that have no station, since the older schema requires one.
NO_STATION_CODE, NO_STATION_NAME = "NOSTATION", "（无联络站：网上或其他渠道）"


def upgrade():
    reasons = op.create_table(
        'decline_reasons',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('label_en', sa.String(length=100), server_default='', nullable=False),
        sa.Column('is_active', sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column('position', sa.Integer(), server_default='0', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_decline_reasons')),
        sa.UniqueConstraint('label', name=op.f('uq_decline_reasons_label')),
    )
    op.create_table(
        'proposal_decline_reasons',
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('reason_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'],
                                name=op.f('fk_proposal_decline_reasons_proposal_id_proposals')),
        sa.ForeignKeyConstraint(['reason_id'], ['decline_reasons.id'],
                                name=op.f('fk_proposal_decline_reasons_reason_id_decline_reasons')),
        sa.PrimaryKeyConstraint('proposal_id', 'reason_id', name=op.f('pk_proposal_decline_reasons')),
    )
    op.create_index(op.f('ix_proposal_decline_reasons_reason_id'), 'proposal_decline_reasons', ['reason_id'])
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    op.bulk_insert(reasons, [
        {'label': label, 'label_en': label_en, 'is_active': True, 'position': position, 'created_at': now}
        for position, (label, label_en) in enumerate(SEEDED_REASONS, start=1)
    ])
    with op.batch_alter_table('proposals', schema=None) as batch_op:  # foreign keys off on SQLite: migrations/env.py
        batch_op.add_column(sa.Column('channel', sa.String(length=20), server_default='station_qr', nullable=False))
        batch_op.alter_column('station_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_proposals_channel'), ['channel'], unique=False)


def downgrade():
    connection = op.get_bind()
    # The older schema has only the text: the chosen reasons go in front of the explanation.
    chosen: dict[int, list[str]] = {}
    for proposal_id, label in connection.execute(sa.text(
            "SELECT l.proposal_id, r.label FROM proposal_decline_reasons l JOIN decline_reasons r ON r.id = l.reason_id "
            "ORDER BY l.proposal_id, r.position, r.id")):
        chosen.setdefault(proposal_id, []).append(label)
    for proposal_id, labels in chosen.items():
        text = connection.execute(sa.text("SELECT decline_reason FROM proposals WHERE id = :id"), {'id': proposal_id}).scalar()
        joined = "；".join(labels) + (f"。{text}" if text else "")
        connection.execute(sa.text("UPDATE proposals SET decline_reason = :text WHERE id = :id"),
                           {'text': joined[:2000], 'id': proposal_id})
    stationless = connection.execute(sa.text("SELECT count(*) FROM proposals WHERE station_id IS NULL")).scalar()
    if stationless:
        station_id = connection.execute(sa.text("SELECT id FROM liaison_stations WHERE code = :code"),
                                        {'code': NO_STATION_CODE}).scalar()
        if station_id is None:
            connection.execute(sa.text(
                "INSERT INTO liaison_stations (code, name, address, created_at) VALUES (:code, :name, '', :now)"),
                {'code': NO_STATION_CODE, 'name': NO_STATION_NAME, 'now': datetime.now(timezone.utc).replace(tzinfo=None)})
            station_id = connection.execute(sa.text("SELECT id FROM liaison_stations WHERE code = :code"),
                                            {'code': NO_STATION_CODE}).scalar()
        connection.execute(sa.text("UPDATE proposals SET station_id = :id WHERE station_id IS NULL"), {'id': station_id})
    op.drop_index(op.f('ix_proposal_decline_reasons_reason_id'), table_name='proposal_decline_reasons')
    op.drop_table('proposal_decline_reasons')
    op.drop_table('decline_reasons')
    with op.batch_alter_table('proposals', schema=None) as batch_op:  # foreign keys off on SQLite: migrations/env.py
        batch_op.drop_index(batch_op.f('ix_proposals_channel'))
        batch_op.alter_column('station_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('channel')
