"""photo thumbnails; where each proposal was merged, so a merge can be undone

Revision ID: 13a0000000f6
Revises: 13a0000000b2
Create Date: 2026-12-03 18:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '13a0000000f6'
down_revision = '13a0000000b2'
branch_labels = None
depends_on = None


def upgrade():
    # A new column and a new table: SQLite adds both without rebuilding a table that others point at.
    op.add_column('photos', sa.Column('thumbnail', sa.LargeBinary(), nullable=True))
    op.create_table(
        'proposal_merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('proposal_id', sa.Integer(), nullable=False),
        sa.Column('into_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['into_id'], ['proposals.id'], name=op.f('fk_proposal_merges_into_id_proposals')),
        sa.ForeignKeyConstraint(['proposal_id'], ['proposals.id'], name=op.f('fk_proposal_merges_proposal_id_proposals')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_merges')),
        sa.UniqueConstraint('proposal_id', name=op.f('uq_proposal_merges_proposal_id')),
    )
    op.create_index(op.f('ix_proposal_merges_into_id'), 'proposal_merges', ['into_id'], unique=False)
    _thumbnail_earlier_photos()
    # Earlier merges kept only where a proposal ended up; that is the best record of where it was merged.
    op.execute(
        "INSERT INTO proposal_merges (proposal_id, into_id, created_at) "
        "SELECT id, merged_into_id, COALESCE(screened_at, created_at) FROM proposals "
        "WHERE status = 'merged' AND merged_into_id IS NOT NULL"
    )


def _thumbnail_earlier_photos():
    """Photos stored before thumbnails get theirs now, so pages never send them whole. Every stored
    photo was re-encoded on upload; one that still will not decode keeps no thumbnail and is sent whole."""
    from voting_app.errors import DomainError
    from voting_app.images import thumbnail_of

    connection = op.get_bind()
    photos = sa.table('photos', sa.column('id', sa.Integer()), sa.column('data', sa.LargeBinary()),
                      sa.column('thumbnail', sa.LargeBinary()))
    last = 0
    while True:
        batch = connection.execute(sa.select(photos.c.id, photos.c.data).where(photos.c.id > last)
                                   .order_by(photos.c.id).limit(50)).all()
        if not batch:
            return
        for photo_id, data in batch:
            try:
                thumbnail = thumbnail_of(data)
            except DomainError:
                continue
            connection.execute(photos.update().where(photos.c.id == photo_id).values(thumbnail=thumbnail))
        last = batch[-1][0]


def downgrade():
    op.drop_index(op.f('ix_proposal_merges_into_id'), table_name='proposal_merges')
    op.drop_table('proposal_merges')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_column('thumbnail')
