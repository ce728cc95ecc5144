"""The migrations carry existing data forward: a project's department, once free text,
becomes a department row the project points at, and a downgrade gives the text back."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text

from tests.conftest import ROOT, SECRET
from voting_app import create_app

MIGRATIONS = str(ROOT / "migrations")
BEFORE_DEPARTMENTS = "b009a74b7cb8"


def test_project_departments_survive_the_upgrade_and_the_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrate.sqlite3'}"
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": SECRET, "TESTING": True})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision=BEFORE_DEPARTMENTS)
    engine = create_engine(url)
    with engine.begin() as connection:
        for name, department in (("桥梁", "区交通运输局"), ("路灯", "区城市管理执法局"), ("隧道", "区交通运输局"), ("长廊", "")):
            connection.execute(
                text("INSERT INTO projects (name, summary, department, year, location, stage, progress_percent, created_at) "
                     "VALUES (:name, '', :department, 2026, '', 'approved', 0, CURRENT_TIMESTAMP)"),
                {"name": name, "department": department},
            )
    with app.app_context():
        upgrade(directory=MIGRATIONS)
    with engine.begin() as connection:
        rows = dict(connection.execute(text(
            "SELECT projects.name, departments.name FROM projects LEFT JOIN departments ON departments.id = projects.department_id"
        )).all())
        assert rows == {"桥梁": "区交通运输局", "路灯": "区城市管理执法局", "隧道": "区交通运输局", "长廊": None}
        assert connection.execute(text("SELECT count(*) FROM departments")).scalar() == 2
    with app.app_context():
        downgrade(directory=MIGRATIONS, revision=BEFORE_DEPARTMENTS)
    with engine.begin() as connection:
        assert dict(connection.execute(text("SELECT name, department FROM projects")).all()) == {
            "桥梁": "区交通运输局", "路灯": "区城市管理执法局", "隧道": "区交通运输局", "长廊": ""}
    engine.dispose()
