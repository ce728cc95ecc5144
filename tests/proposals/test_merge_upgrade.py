"""The upgrade that makes merges undoable keeps the merges made before it undoable too, and
makes thumbnails for the photos stored before it (one that will not decode is sent whole)."""

import io

from PIL import Image
from sqlalchemy import text

from tests.images import jpeg_bytes
from voting_app.images import THUMBNAIL_SIDE

BEFORE = "13a0000000b2"


def test_earlier_merges_can_be_undone_after_the_upgrade(migration_db):
    migration_db.upgrade(BEFORE)
    with migration_db.sql() as connection:
        connection.execute(text("INSERT INTO liaison_stations (id, code, name, address, created_at) "
                                "VALUES (1, 'ST0001', '米公站', '', CURRENT_TIMESTAMP)"))
        for row_id, code, status, into in ((1, "AAAAAAAAAA", "received", None), (2, "BBBBBBBBBB", "merged", 1),
                                           (3, "CCCCCCCCCC", "received", None)):
            connection.execute(text(
                "INSERT INTO proposals (id, tracking_code, station_id, title, description, location, theme, contact, status, "
                "decline_reason, merged_into_id, screened_by_name, created_at) VALUES (:id, :code, 1, '路灯', '晚上路很黑，希望加装路灯', "
                "'', 'other', '', :status, '', :into, '', CURRENT_TIMESTAMP)"), {"id": row_id, "code": code, "status": status, "into": into})
        for token, data in (("good", jpeg_bytes(size=(1200, 900))), ("broken", b"\xff\xd8")):
            connection.execute(text("INSERT INTO photos (token, content_type, data, width, height, is_public, created_at) "
                                    "VALUES (:token, 'image/jpeg', :data, 1, 1, :yes, CURRENT_TIMESTAMP)"),
                               {"token": token, "data": data, "yes": True})
    migration_db.upgrade()
    with migration_db.sql() as connection:
        assert [tuple(row) for row in connection.execute(text("SELECT proposal_id, into_id FROM proposal_merges"))] == [(2, 1)]
        thumbnails = dict(connection.execute(text("SELECT token, thumbnail FROM photos")).all())
        assert thumbnails["broken"] is None
        assert Image.open(io.BytesIO(thumbnails["good"])).size == (THUMBNAIL_SIDE, THUMBNAIL_SIDE * 3 // 4)
    with migration_db.app.app_context():
        from voting_app.db import db
        from voting_app.proposals import service
        from voting_app.proposals.models import Proposal

        service.unmerge_proposal("test", db.session.get(Proposal, 2))
        db.session.commit()
        assert db.session.get(Proposal, 2).status == "received" and service.supporters(db.session.get(Proposal, 1)) == 1
    migration_db.downgrade(BEFORE)
    with migration_db.sql() as connection:
        assert connection.execute(text("SELECT status, merged_into_id FROM proposals WHERE id = 2")).one() == ("received", None)
