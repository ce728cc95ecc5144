"""The archive of the demo's session: it verifies, offline and from itself; any change to any
file in it is named; the same record gives the same bytes (the CLI and the staff button alike)."""

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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


def _assert_same_archive(data: bytes, expected: bytes) -> None:
    """Byte for byte, naming the files that differ (a diff of two zips' bytes would take minutes)."""
    files, wanted = _files(data), _files(expected)
    differ = [name for name in sorted(set(files) | set(wanted)) if files.get(name) != wanted.get(name)]
    assert not differ, f"files that differ: {differ}"
    assert hashlib.sha256(data).hexdigest() == hashlib.sha256(expected).hexdigest()


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
    _assert_same_archive(again.read_bytes(), demo.data)

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
    assert "LIMIT: without the audit key" in out and "cannot be told from the original" in out
    (tmp_path / "audit.key").write_text(AUDIT_KEY)
    anchor = files["audit/anchor.txt"].decode().strip()
    assert verify_archive.main([str(demo.path), "--audit-key-file", str(tmp_path / "audit.key"), "--anchor", anchor,
                                "--fingerprint", verify_archive.hashlib.sha256(files["SHA256SUMS"]).hexdigest()]) == 0
    out = capsys.readouterr().out
    assert "matches the audit key given" in out and "2 boards compared with the digests confirmed" in out and "LIMIT" not in out


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


def test_a_resealed_archive_missing_a_round_or_with_a_board_rewritten_fails_against_the_audit_log(demo, tmp_path):
    from voting_app.ballots.board import board_digest, parse_board
    from voting_app.ballots.counting import count

    files = _files(demo.data)
    name = next(name for name in sorted(files) if name.endswith("/board.json"))
    folder = name.removesuffix("board.json")
    session, round_id = folder.split("/")[1], folder.split("/")[3]
    without = {file: data for file, data in files.items() if not file.startswith(folder)}
    missing = _failures(tmp_path, _resealed(without), with_key=True)
    assert len(missing) == 1 and missing[0].startswith(f"{name}: missing: the audit log (entry at position "), missing
    assert f"shows round {round_id} of session {session} confirmed" in missing[0]

    board = json.loads(files[name])
    board["ballots"][0]["choices"] = None if board["ballots"][0]["choices"] else [board["candidates"][0]["id"]]
    board["digest"] = board_digest(board)
    parsed = parse_board(board)
    rewritten = {**files, name: json.dumps(board, ensure_ascii=False).encode(), folder + "digest.txt": f"{board['digest']}\n".encode(),
                 folder + "result.json": json.dumps(count(parsed.rules, parsed.ballots).to_json()).encode()}
    failures = _failures(tmp_path, _resealed(rewritten), with_key=True)
    assert len(failures) == 1 and failures[0].startswith(f"{name}: its digest {board['digest']} is not the digest "), failures
    assert "confirmed in the audit log" in failures[0]


def test_a_resealed_archive_with_its_log_cut_fails_only_against_an_anchor_or_fingerprint_kept_apart(demo, tmp_path, capsys):
    files = _files(demo.data)
    lines = files["audit/log.jsonl"].splitlines(keepends=True)
    last = json.loads(lines[-3])
    resealed = _resealed({**files, "audit/log.jsonl": b"".join(lines[:-2]), "audit/anchor.txt": f"{last['position']}:{last['hash']}\n".encode()})
    assert _failures(tmp_path, resealed, with_key=True) == []  # consistent in itself: the honest limit
    path = tmp_path / "resealed.zip"
    path.write_bytes(resealed)
    assert verify_archive.main([str(path)]) == 0
    assert "cannot be told from the original" in capsys.readouterr().out

    anchor = files["audit/anchor.txt"].decode().strip()
    assert verify_archive.main([str(path), "--anchor", anchor]) == 1
    assert f"FAILED audit/log.jsonl: does not hold the anchor given ({anchor[:anchor.index(':') + 13]}...)" in capsys.readouterr().out
    earlier = json.loads(lines[-5])  # an anchor written down from a report printed before the archive: still in the log
    assert verify_archive.verify(str(path), anchor=f"{earlier['position']}:{earlier['hash']}").failures == []
    fingerprint = verify_archive.hashlib.sha256(files["SHA256SUMS"]).hexdigest()
    failures = verify_archive.verify(str(path), fingerprint=fingerprint).failures
    assert len(failures) == 1 and failures[0].startswith("SHA256SUMS: its fingerprint") and "not the fingerprint given" in failures[0]


def test_the_verifier_exit_codes(demo, tmp_path, capsys):
    assert verify_archive.main([str(tmp_path / "missing.zip")]) == 2
    (tmp_path / "not.zip").write_bytes(b"not a zip")
    assert verify_archive.main([str(tmp_path / "not.zip")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_the_archive_commands_refuse_what_does_not_exist(demo):
    runner = demo.app.test_cli_runner()
    missing = runner.invoke(args=["archive", "999"])
    assert missing.exit_code != 0 and "session 999 does not exist" in missing.output
    for year in ("12", "10000"):
        refused = runner.invoke(args=["archive-year", year])
        assert refused.exit_code != 0 and f"{year}: archives are written for the years 2000 to 2100" in refused.output
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
    _assert_same_archive(response.data, demo.data)
    assert 'href="/archive/years/2027.zip"' in client.get("/reports/projects?year=2027").get_data(as_text=True)
    no_year = client.get("/archive/years/10000.zip")
    assert no_year.status_code == 404 and "There is no archive of 10000: archives are written for the years 2000 to 2100." in no_year.get_data(as_text=True)


def test_a_years_archive_holds_the_rules_of_a_congress_once_for_its_two_sessions(demo):
    from voting_app.archive import contents
    from voting_app.sessions.models import CongressSession

    with demo.app.app_context():
        term = db.session.get(CongressSession, _session_id(demo.app)).term
        congress_id = term.congress_id
        db.session.add_all([CongressSession(term=term, name="第一次会议", starts_on=date(2031, 1, 8)),
                            CongressSession(term=term, name="第二次会议", starts_on=date(2031, 9, 20))])
        try:
            names = [entry.name for entry in contents.entries(contents.year_scope(2031))]
        finally:
            db.session.rollback()
    assert len([name for name in names if name.startswith(f"profiles/congress-{congress_id}-")]) == 1


def test_the_years_archive_is_the_same_on_a_later_day_and_holds_the_packs_and_letters_held_by_its_moment(demo, tmp_path, monkeypatch):
    from voting_app import clock
    from voting_app.archive.contents import year_scope
    from voting_app.projects import checkpoints, schedule
    from voting_app.projects.models import CHECKPOINT_KINDS, Project, ReminderLetter

    year = clock.beijing_today().year  # the demo delivers its projects in the year it is seeded
    path = tmp_path / "year.zip"
    result = demo.app.test_cli_runner().invoke(args=["archive-year", str(year), "--output", str(path)])
    assert result.exit_code == 0, result.output
    with demo.app.app_context():
        day = year_scope(year).moment.astimezone(clock.BEIJING).date()
        held = {item.kind for item in checkpoints.year_checkpoints(year, demo.app.config["SUPERVISION_CHECKPOINT_DAYS"]) if item.day <= day}
        projects = db.session.scalars(select(Project.id).where(Project.year == year)).all()
        letters = db.session.execute(select(ReminderLetter.year, ReminderLetter.number).join(Project, ReminderLetter.project_id == Project.id)
                                     .where(Project.year == year)).all()
    assert projects and letters
    files = _files(path.read_bytes())
    for kind in CHECKPOINT_KINDS:
        folder = f"projects/{year}/checkpoints/{kind}/"
        if kind in held:
            assert files[folder + "packs.xlsx"].startswith(b"PK")
            assert all(files[f"{folder}{project_id}.pdf"].startswith(b"%PDF") for project_id in projects)
        else:
            assert not any(name.startswith(folder) for name in files), f"{kind} is still ahead"
    assert {f"projects/{year}/letters/{issued}-{number:04d}.pdf" for issued, number in letters} == {name for name in files if "/letters/" in name}
    assert verify_archive.verify(str(path), bytes.fromhex(AUDIT_KEY)).failures == []

    later = day + timedelta(days=400)  # written long after, with no new audit entry: milestones and checkpoints have passed
    real = clock.beijing_today  # with a moment it converts that moment, which the later clock leaves alone
    for module in (clock, schedule, checkpoints):
        monkeypatch.setattr(module, "beijing_today", lambda now=None: later if now is None else real(now))
    again = tmp_path / "again.zip"
    assert demo.app.test_cli_runner().invoke(args=["archive-year", str(year), "--output", str(again)]).exit_code == 0
    _assert_same_archive(again.read_bytes(), path.read_bytes())


def test_a_reader_of_the_archive_cannot_tie_a_deputy_to_a_ballot(demo):
    """The archive is a copy that leaves the system (a backup, a records office): its audit
    extract names deputies (desk check-ins, group members) and its boards hold the ballots, so
    nothing in the log may carry a ballot's receipt or choices, and no board a deputy's name."""
    from voting_app.sessions.models import Deputy

    files = _files(demo.data)
    with demo.app.app_context():
        names = set(db.session.scalars(select(Deputy.name)))
    boards = {name: json.loads(data) for name, data in files.items() if name.endswith("/board.json")}
    receipts = {ballot["receipt"] for board in boards.values() for ballot in board["ballots"]}
    assert boards and receipts
    log = files["audit/log.jsonl"].decode("utf-8")
    assert [receipt for receipt in receipts if receipt in log] == []
    assert not [(file, name) for file in boards for name in names if name in files[file].decode("utf-8")]
