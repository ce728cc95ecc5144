"""The archive of the demo's session: it verifies, offline and from itself; any change to any
file in it is named; the same record gives the same bytes (the CLI and the staff button alike)."""

import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import AUDIT_KEY, SECRET, EnglishClient, database_url, sign_in
from voting_app import create_app, verify_archive
from voting_app.archive.package import write_zip
from voting_app.db import db

# Where CI runs (CI=true) a missing Chromium is a failure, never a skip.
pytestmark = pytest.mark.skipif(not Path("/usr/bin/chromium").exists() and os.environ.get("CI") != "true",
                                reason="the archive prints with /usr/bin/chromium")


@dataclass(frozen=True)
class Demo:
    app: Flask
    path: Path
    data: bytes
    output: str


@pytest.fixture(scope="module")
def demo(tmp_path_factory, migrated_template):
    """The demo seeded once and its first session archived by the CLI (printing takes a while)."""
    folder = tmp_path_factory.mktemp("archive")
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": database_url(folder, migrated_template), "SERVER_NAME": "localhost"})
    app.test_client_class = EnglishClient
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--logins-file", str(folder / "logins.txt")]).exit_code == 0
    path = folder / "session.zip"
    result = runner.invoke(args=["archive", str(_session_id(app)), "--output", str(path)])
    assert result.exit_code == 0, result.output
    yield Demo(app, path, path.read_bytes(), result.output)
    with app.app_context():
        db.engine.dispose()


def _session_id(app) -> int:
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        return db.session.scalar(select(CongressSession.id).where(CongressSession.name == "樊城区第十九届人民代表大会第六次会议"))


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(data: bytes, files: dict[str, bytes]) -> bytes:
    """The archive with other files, keeping its comment (the manifest's fingerprint)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        comment = archive.comment
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
        archive.comment = comment
    return buffer.getvalue()


def _resealed(files: dict[str, bytes]) -> bytes:
    """The files with new sums and fingerprint, as someone rewriting the archive would make it."""
    content = {name: data for name, data in files.items() if name not in (verify_archive.SHA256SUMS, verify_archive.SM3SUMS)}
    return write_zip(content, datetime(2027, 1, 12))


def _failures(tmp_path, data: bytes, with_key: bool = False) -> list[str]:
    path = tmp_path / "checked.zip"
    path.write_bytes(data)
    return verify_archive.verify(str(path), bytes.fromhex(AUDIT_KEY) if with_key else None).failures


def test_the_demo_sessions_archive_verifies_and_the_same_record_gives_the_same_bytes(demo, tmp_path, capsys):
    assert "manifest fingerprint" in demo.output
    again = tmp_path / "again.zip"
    result = demo.app.test_cli_runner().invoke(args=["archive", str(_session_id(demo.app)), "--output", str(again)])
    assert result.exit_code == 0, result.output
    assert again.read_bytes() == demo.data

    files = _files(demo.data)
    session = f"sessions/{_session_id(demo.app)}/"
    assert files[session + "report.pdf"].startswith(b"%PDF")
    assert files[session + "report.xlsx"].startswith(b"PK")
    boards = [name for name in files if name.endswith("/board.json")]
    assert len(boards) == 2 and all(name.replace("board.json", "count-report.pdf") in files for name in boards)
    assert {"audit/log.jsonl", "audit/anchor.txt", "SHA256SUMS", "README.txt", "verifier/verify.py"} <= set(files)
    assert any(name.startswith("profiles/congress-") for name in files)
    if verify_archive.has_sm3():
        assert "SM3SUMS" in files

    assert verify_archive.main([str(demo.path)]) == 0
    out = capsys.readouterr().out
    assert "Boards: recounted 2" in out and "was not checked (it needs the audit key" in out and out.rstrip().endswith("matches")
    (tmp_path / "audit.key").write_text(AUDIT_KEY)
    assert verify_archive.main([str(demo.path), "--audit-key-file", str(tmp_path / "audit.key")]) == 0
    assert "matches the audit key given" in capsys.readouterr().out


def test_the_archive_checks_itself_with_the_standard_library_alone(demo, tmp_path):
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(demo.path) as archive:
        archive.extractall(folder)
    isolated = [sys.executable, "-I", "-S"]
    assert subprocess.run([*isolated, "-c", "import flask"], capture_output=True).returncode != 0
    run = subprocess.run([*isolated, str(folder / "verifier" / "verify.py"), str(demo.path)], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "OK: every file" in run.stdout
    unzipped = subprocess.run([*isolated, str(folder / "verifier" / "verify.py"), str(folder)], capture_output=True, text=True)
    assert unzipped.returncode == 0, unzipped.stdout + unzipped.stderr


def test_changing_one_byte_of_any_file_names_that_file(demo, tmp_path):
    files = _files(demo.data)
    for name, content in files.items():
        changed = dict(files)
        middle = len(content) // 2  # an empty file (a package's __init__) gains a byte instead
        changed[name] = content[:middle] + bytes([(content[middle:middle + 1] or b"\0")[0] ^ 0x01]) + content[middle + 1:]
        failures = _failures(tmp_path, _rezip(demo.data, changed))
        assert any(failure.startswith(f"{name}: ") for failure in failures), (name, failures)
    path = tmp_path / "changed.zip"
    path.write_bytes(_rezip(demo.data, {**files, "README.txt": files["README.txt"] + b" "}))
    assert verify_archive.main([str(path)]) == 1


def test_a_removed_or_added_file_is_caught(demo, tmp_path):
    files = _files(demo.data)
    pdf = next(name for name in files if name.endswith("notice.pdf"))
    removed = {name: data for name, data in files.items() if name != pdf}
    assert _failures(tmp_path, _rezip(demo.data, removed)) == [f"{pdf}: missing: listed in SHA256SUMS but not in the archive"] + (
        [f"{pdf}: missing: listed in SM3SUMS but not in the archive"] if verify_archive.has_sm3() else [])
    added = _failures(tmp_path, _rezip(demo.data, {**files, "sessions/extra.pdf": b"%PDF-1.4"}))
    assert "sessions/extra.pdf: not listed in SHA256SUMS: a file added to the archive" in added
    with zipfile.ZipFile(io.BytesIO(demo.data)) as archive:
        comment = archive.comment
    buffer = io.BytesIO()
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", b"another text")
        for name, content in files.items():
            archive.writestr(name, content)
        archive.comment = comment
    assert "README.txt: appears twice in the zip: tools disagree on which copy they extract" in _failures(tmp_path, buffer.getvalue())


def test_a_member_damaged_inside_the_zip_is_named(demo, tmp_path):
    with zipfile.ZipFile(demo.path) as archive:
        info = archive.getinfo("audit/log.jsonl")
    # The local header is 30 bytes, then the name and extra field, then the compressed data.
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + info.compress_size // 2
    damaged = bytearray(demo.data)
    damaged[offset] ^= 0xFF
    failures = _failures(tmp_path, bytes(damaged))
    assert any(failure.startswith("audit/log.jsonl: cannot be read from the zip") for failure in failures), failures


def test_a_board_changed_and_resealed_fails_its_digest_its_confirmation_or_its_recount(demo, tmp_path):
    files = _files(demo.data)
    name = next(name for name in sorted(files) if name.endswith("/board.json"))
    folder = name.removesuffix("board.json")
    board = json.loads(files[name])
    board["ballots"][0]["choices"] = None if board["ballots"][0]["choices"] else [board["candidates"][0]["id"]]
    changed = {**files, name: json.dumps(board, ensure_ascii=False).encode()}
    assert any(f.startswith(f"{name}: the board's digest does not match its content") for f in _failures(tmp_path, _resealed(changed)))

    from voting_app.ballots.board import board_digest

    board["digest"] = board_digest(board)
    changed = {**files, name: json.dumps(board, ensure_ascii=False).encode()}
    failures = _failures(tmp_path, _resealed(changed))
    assert any(f.startswith(f"{name}: its digest") and "not the one confirmed at the count" in f for f in failures), failures
    assert any(f.startswith(f"{folder}result.json: the recount of {name} differs") for f in failures), failures

    result = json.loads(files[folder + "result.json"])
    result["valid"] += 1
    failures = _failures(tmp_path, _resealed({**files, folder + "result.json": json.dumps(result).encode()}))
    assert failures == [f"{folder}result.json: the recount of {name} differs from the recorded result in valid"]


def test_an_audit_extract_cut_short_or_changed_is_caught(demo, tmp_path):
    files = _files(demo.data)
    lines = files["audit/log.jsonl"].splitlines(keepends=True)
    cut = _failures(tmp_path, _resealed({**files, "audit/log.jsonl": b"".join(lines[:-2])}))
    assert len(cut) == 1 and cut[0].startswith("audit/log.jsonl: ends at entry") and "the anchor" in cut[0]

    entry = json.loads(lines[5])
    entry["actor"] = "user:999"
    changed = {**files, "audit/log.jsonl": b"".join([*lines[:5], (json.dumps(entry, ensure_ascii=False) + "\n").encode(), *lines[6:]])}
    assert _failures(tmp_path, _resealed(changed)) == []  # a keyed entry needs the key to be checked
    keyed = _failures(tmp_path, _resealed(changed), with_key=True)
    assert keyed == [f"audit/log.jsonl: entry at position {entry['position']} (id {entry['id']}): its content does not match its HMAC under the audit key given"]

    removed = _failures(tmp_path, _resealed({**files, "audit/log.jsonl": b"".join([*lines[:5], *lines[6:]])}))
    assert len(removed) == 1 and "entries were removed or reordered" in removed[0]


def test_the_verifier_exit_codes(demo, tmp_path, capsys):
    assert verify_archive.main([str(tmp_path / "missing.zip")]) == 2
    (tmp_path / "not.zip").write_bytes(b"not a zip")
    assert verify_archive.main([str(tmp_path / "not.zip")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_archive_commands_refuse_what_does_not_exist(demo):
    runner = demo.app.test_cli_runner()
    missing = runner.invoke(args=["archive", "999"])
    assert missing.exit_code != 0 and "session 999 does not exist" in missing.output
    assert runner.invoke(args=["archive-year", "12"]).exit_code != 0
    nobody = runner.invoke(args=["archive", str(_session_id(demo.app)), "--account", "nobody"])
    assert nobody.exit_code != 0 and "no active staff account nobody" in nobody.output


def test_without_chromium_the_archive_says_so_and_writes_nothing(demo, tmp_path, monkeypatch):
    monkeypatch.setenv("CHROMIUM", str(tmp_path / "no-chromium"))
    target = tmp_path / "none.zip"
    result = demo.app.test_cli_runner().invoke(args=["archive", str(_session_id(demo.app)), "--output", str(target)])
    assert result.exit_code != 0 and "Chromium could not start" in result.output
    assert not target.exists()


def test_the_printed_reports_are_a4_pages_in_chinese(demo):
    from pypdf import PdfReader

    from tests.browser.test_print_reports import folded

    files = _files(demo.data)
    session = f"sessions/{_session_id(demo.app)}/"
    report = PdfReader(io.BytesIO(files[session + "report.pdf"]))
    assert all(abs(float(page.mediabox.width) - 595.28) < 2 and abs(float(page.mediabox.height) - 841.89) < 2 for page in report.pages)
    text = folded("".join(page.extract_text() for page in report.pages))
    assert folded("樊城区第十九届人民代表大会第六次会议") in text and folded("第1页，共") in text
    count_report = next(name for name in files if name.endswith("count-report.pdf"))
    assert folded("计票报告单") in folded(PdfReader(io.BytesIO(files[count_report])).pages[0].extract_text())


def test_staff_download_the_same_archive_from_the_session_page(demo):
    from voting_app.auth.models import User

    session_id = _session_id(demo.app)
    client = demo.app.test_client()
    with demo.app.app_context():
        staff = db.session.scalar(select(User).where(User.username == "staff"))
        presiding = db.session.scalar(select(User).where(User.username == "presiding"))
        sign_in(client, staff)
        other = demo.app.test_client()
        sign_in(other, presiding)
    page = client.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert f'href="/archive/sessions/{session_id}.zip"' in page and "Archive (zip, verifiable)" in page
    assert "/archive/" not in other.get(f"/sessions/{session_id}").get_data(as_text=True)
    assert other.get(f"/archive/sessions/{session_id}.zip").status_code == 403
    response = client.get(f"/archive/sessions/{session_id}.zip")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "archive-session-" in response.headers["Content-Disposition"]
    assert response.data == demo.data
    assert 'href="/archive/years/2027.zip"' in client.get("/reports/projects?year=2027").get_data(as_text=True)


def test_the_years_archive_holds_the_checkpoint_packs_and_reminder_letters_and_verifies(demo, tmp_path):
    from voting_app.projects.models import Project, ReminderLetter

    path = tmp_path / "year.zip"
    result = demo.app.test_cli_runner().invoke(args=["archive-year", "2026", "--output", str(path)])
    assert result.exit_code == 0, result.output
    with demo.app.app_context():
        projects = db.session.scalars(select(Project.id).where(Project.year == 2026)).all()
        letters = db.session.scalars(select(ReminderLetter.number).where(ReminderLetter.year == 2026)).all()
    assert projects and letters
    files = _files(path.read_bytes())
    for kind in ("plan", "progress", "effect"):
        folder = f"projects/2026/checkpoints/{kind}/"
        assert files[folder + "packs.xlsx"].startswith(b"PK")
        assert all(files[f"{folder}{project_id}.pdf"].startswith(b"%PDF") for project_id in projects)
    assert {f"projects/2026/letters/{number:04d}.pdf" for number in letters} <= set(files)
    assert verify_archive.verify(str(path), bytes.fromhex(AUDIT_KEY)).failures == []
