"""The upgrade that adds collection windows and the reserve keeps the proposals made before it
(none in the reserve, no note), and a downgrade gives reserved proposals back as received."""

from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, inspect, text

from tests.conftest import AUDIT_KEY, ROOT, SECRET
from voting_app import create_app

MIGRATIONS = str(ROOT / "migrations")
BEFORE, THIS = "13a0000000c3", "14a0000000b2"


def test_proposals_survive_the_upgrade_and_the_reserve_goes_back_to_received_on_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'reserve.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "TESTING": True})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=BEFORE)
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO liaison_stations (id, code, name, address, created_at) "
                                "VALUES (1, 'ST0001', '米公站', '', CURRENT_TIMESTAMP)"))
        connection.execute(text(
            "INSERT INTO proposals (id, tracking_code, station_id, title, description, location, theme, contact, status, "
            "decline_reason, screened_by_name, created_at) VALUES (1, 'AAAAAAAAAA', 1, '路灯', '晚上路很黑，希望加装路灯', "
            "'', 'other', '', 'received', '', '', CURRENT_TIMESTAMP)"))
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=THIS)
    with engine.begin() as connection:
        assert connection.execute(text("SELECT reserved_at, reserve_note FROM proposals")).one() == (None, "")
    with app.app_context():
        upgrade(directory=MIGRATIONS)  # the app's models are the newest schema's
        from voting_app.db import db
        from voting_app.proposals import service
        from voting_app.proposals.models import Proposal

        upgrade(directory=MIGRATIONS)  # the models are today's: later columns (a proposal's grid) must exist
        service.reserve_proposal("test", "测试", db.session.get(Proposal, 1), "今年未入选，明年再议")
        service.set_window("test", 2026, date(2026, 7, 1), date(2026, 8, 31))
        db.session.commit()
        db.session.remove()
        downgrade(directory=MIGRATIONS, revision=BEFORE)
        db.engine.dispose()
    with engine.begin() as connection:
        assert connection.execute(text("SELECT status FROM proposals")).scalar() == "received"
        assert "collection_windows" not in inspect(connection).get_table_names()
    engine.dispose()
