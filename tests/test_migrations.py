"""The migrations carry existing data forward: a project's department, once free text,
becomes a department row the project points at, and a downgrade gives the text back. And a
migration does tomorrow what it did today: it does not lean on the app's code, which changes."""

import ast
import importlib.util
from pathlib import Path

from sqlalchemy import text

from tests.migration_helpers import MIGRATIONS

VERSIONS = Path(MIGRATIONS) / "versions"
BEFORE_DEPARTMENTS = "b009a74b7cb8"
# Older migrations that still import the app's code inside their upgrade: the audit chain's
# keyed hash (it must match what the app verifies) and the photos' thumbnails.
STILL_IMPORTING_APP_CODE = {"d4f6b8c0e2a4_keyed_audit_chain.py", "13a0000000f6_photo_thumbnails_and_merge_undo.py"}


def test_project_departments_survive_the_upgrade_and_the_downgrade(migration_db):
    migration_db.upgrade(BEFORE_DEPARTMENTS)
    with migration_db.sql() as connection:
        for name, department in (("桥梁", "区交通运输局"), ("路灯", "区城市管理执法局"), ("隧道", "区交通运输局"), ("长廊", "")):
            connection.execute(
                text("INSERT INTO projects (name, summary, department, year, location, stage, progress_percent, created_at) "
                     "VALUES (:name, '', :department, 2026, '', 'approved', 0, CURRENT_TIMESTAMP)"),
                {"name": name, "department": department},
            )
    migration_db.upgrade()
    with migration_db.sql() as connection:
        rows = dict(connection.execute(text(
            "SELECT projects.name, departments.name FROM projects LEFT JOIN departments ON departments.id = projects.department_id"
        )).all())
        assert rows == {"桥梁": "区交通运输局", "路灯": "区城市管理执法局", "隧道": "区交通运输局", "长廊": None}
        assert connection.execute(text("SELECT count(*) FROM departments")).scalar() == 2
    migration_db.downgrade(BEFORE_DEPARTMENTS)
    with migration_db.sql() as connection:
        assert dict(connection.execute(text("SELECT name, department FROM projects")).all()) == {
            "桥梁": "区交通运输局", "路灯": "区城市管理执法局", "隧道": "区交通运输局", "长廊": ""}


def _imports_app_code(path: Path) -> bool:
    """Any import of the app's packages, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
    return any(name.split(".")[0] in ("voting_app", "surveys") for name in names)


def test_no_new_migration_imports_the_apps_code():
    importing = {path.name for path in VERSIONS.glob("*.py") if _imports_app_code(path)}
    assert importing == STILL_IMPORTING_APP_CODE


def test_the_terms_migration_reads_session_names_with_its_own_frozen_copy():
    [path] = VERSIONS.glob("14a0000000c7_*.py")
    spec = importlib.util.spec_from_file_location("terms_migration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    read = module._read_session_name
    assert read("樊城区第十九届人民代表大会第六次会议") == ("樊城区人民代表大会", 19, 6)
    assert read(" 太平店镇第二十一届人民代表大会 ") == ("太平店镇人民代表大会", 21, None)
    assert read("樊城区第19届人民代表大会第7次会议") == ("樊城区人民代表大会", 19, 7)
    assert read("樊城区第十届人民代表大会第十次会议") == ("樊城区人民代表大会", 10, 10)
    assert read("2026年民生实事票决会议") == ("", None, None)
