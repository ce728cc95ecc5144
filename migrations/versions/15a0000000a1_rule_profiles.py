"""the 票决办法 as data: a congress's rule profile in versions, and each round's own copy of it

Revision ID: 15a0000000a1
Revises: 14a0000000f5
Create Date: 2026-12-05 10:00:00

Rounds that exist get the defaults with their own pass base and bar (grading "bar"): the
rules they were held under, now written down. The document is spelt out here, not imported,
so this migration keeps meaning what it meant when the app's defaults move on.
"""
import json

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '15a0000000a1'
down_revision = '14a0000000f5'
branch_labels = None
depends_on = None


def _copy(threshold_base: str, satisfaction_bar: int) -> str:
    document = {
        "format": "rule-profile/1",
        "quorum": {"rule": "more_than", "fraction": "1/2"},
        "pass_base": threshold_base,
        "pass_rule": {"rule": "more_than", "fraction": "1/2"},
        "margin": {"extra_candidates": 1, "extra_percent": 20},
        "tie": "runoff",
        "shortfall": "further_round",
        "methods": ["choose_up_to", "for_against", "satisfaction", "rank"],
        "assessment": {"grading": "bar", "satisfaction_bar": satisfaction_bar},
        "requires_adoption": True,
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def upgrade():
    op.create_table('rule_profile_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('congress_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['congress_id'], ['congresses.id'], name=op.f('fk_rule_profile_versions_congress_id_congresses')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rule_profile_versions')),
    sa.UniqueConstraint('congress_id', 'number', name=op.f('uq_rule_profile_versions_congress_id_number'))
    )
    op.create_index(op.f('ix_rule_profile_versions_congress_id'), 'rule_profile_versions', ['congress_id'], unique=False)
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.add_column(sa.Column('rules_json', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('rule_profile_version_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('grading', sa.String(length=10), server_default='bar', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_rounds_rule_profile_version_id_rule_profile_versions'), 'rule_profile_versions', ['rule_profile_version_id'], ['id'])
    connection = op.get_bind()
    rounds = connection.execute(sa.text("SELECT id, threshold_base, satisfaction_bar FROM rounds")).all()
    for round_id, threshold_base, satisfaction_bar in rounds:
        connection.execute(
            sa.text("UPDATE rounds SET rules_json = :rules WHERE id = :id"),
            {"rules": _copy(threshold_base, satisfaction_bar), "id": round_id},
        )
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.alter_column('rules_json', existing_type=sa.Text(), nullable=False)


def downgrade():
    with op.batch_alter_table('rounds', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_rounds_rule_profile_version_id_rule_profile_versions'), type_='foreignkey')
        batch_op.drop_column('grading')
        batch_op.drop_column('rule_profile_version_id')
        batch_op.drop_column('rules_json')
    op.drop_index(op.f('ix_rule_profile_versions_congress_id'), table_name='rule_profile_versions')
    op.drop_table('rule_profile_versions')
