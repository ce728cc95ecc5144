"""The upgrade that adds channels and managed decline reasons keeps the proposals made before it:
they become station QR proposals, a declined one keeps its text (shown as unclassified) and the
common reasons are seeded. A downgrade keeps every proposal: the chosen reasons go into the text,
and one without a station gets a stand-in station, since the older schema needs one."""

from sqlalchemy import inspect, text

BEFORE, THIS = "14a0000000c7", "14a0000000a1"


def _proposal(connection, number: int, status: str, reason: str = "") -> None:
    connection.execute(text(
        "INSERT INTO proposals (id, tracking_code, station_id, title, description, location, theme, contact, status, "
        "decline_reason, screened_by_name, reserve_note, created_at) VALUES (:id, :code, 101, '路灯', '晚上路很黑，希望加装路灯', "
        "'', 'other', '13800001234', :status, :reason, '', '', CURRENT_TIMESTAMP)"),
        {"id": number, "code": f"AAAAAAA{number}", "status": status, "reason": reason})


def test_proposals_become_station_qr_and_old_decline_text_stays_up_and_down(migration_db):
    migration_db.upgrade(BEFORE)
    with migration_db.sql() as connection:
        connection.execute(text("INSERT INTO liaison_stations (id, code, name, address, created_at) "
                                "VALUES (101, 'ST0001', '米公站', '', CURRENT_TIMESTAMP)"))
        _proposal(connection, 101, "received")
        _proposal(connection, 102, "declined", "已由市里统一安排")
        _proposal(connection, 103, "received")
        _proposal(connection, 104, "merged")
        # Rows that point at proposals: the table's rebuild on SQLite must keep them.
        connection.execute(text("UPDATE proposals SET merged_into_id = 103 WHERE id = 104"))
        connection.execute(text("INSERT INTO proposal_merges (proposal_id, into_id, created_at) VALUES (104, 103, CURRENT_TIMESTAMP)"))
        connection.execute(text("INSERT INTO photos (token, content_type, data, width, height, is_public, proposal_id, created_at) "
                                "VALUES ('tok1', 'image/jpeg', :data, 1, 1, :no, 103, CURRENT_TIMESTAMP)"), {"data": b"x", "no": False})
    migration_db.upgrade(THIS)
    with migration_db.sql() as connection:
        assert connection.execute(text("SELECT DISTINCT channel FROM proposals")).scalars().all() == ["station_qr"]
        assert connection.execute(text("SELECT decline_reason FROM proposals WHERE id = 102")).scalar() == "已由市里统一安排"
        assert connection.execute(text("SELECT proposal_id FROM photos")).scalar() == 103
        assert connection.execute(text("SELECT merged_into_id FROM proposals WHERE id = 104")).scalar() == 103
        labels = connection.execute(text("SELECT label FROM decline_reasons WHERE is_active ORDER BY position")).scalars().all()
        assert labels[0] == "不属于区级事权" and len(labels) == 6
    migration_db.upgrade()  # today's models need today's schema
    with migration_db.app.app_context():
        from voting_app.db import db
        from voting_app.proposals import service
        from voting_app.proposals.models import ONLINE, DeclineReason, Proposal

        proposal = db.session.get(Proposal, 102)
        assert proposal.channel == "station_qr" and proposal.decline_reasons == []
        reason = db.session.scalar(db.select(DeclineReason).where(DeclineReason.label == "将新增政府债务"))
        service.decline_proposal("test", "测试", db.session.get(Proposal, 101), [reason.id], "")
        online = service.submit_proposal(None, "网上提的建议", "希望小区里增设电动车充电桩", "", "community", "", [], channel=ONLINE)
        db.session.commit()
        online_id = online.id
    migration_db.downgrade(BEFORE)
    with migration_db.sql() as connection:
        rows = dict(connection.execute(text("SELECT id, decline_reason FROM proposals WHERE status = 'declined'")).all())
        assert rows == {101: "将新增政府债务", 102: "已由市里统一安排"}
        assert connection.execute(text("SELECT s.name FROM proposals p JOIN liaison_stations s ON s.id = p.station_id "
                                       "WHERE p.id = :id"), {"id": online_id}).scalar().startswith("（无联络站")
        assert connection.execute(text("SELECT proposal_id FROM photos")).scalar() == 103
        assert connection.execute(text("SELECT into_id FROM proposal_merges")).scalar() == 103
        assert "decline_reasons" not in inspect(connection).get_table_names()
        assert "channel" not in {column["name"] for column in inspect(connection).get_columns("proposals")}
