"""What an archive of a session or of a year holds, as a list of small parts.

Each part is a function of the scope giving its entries (`package.Entry`): a file's bytes, or
a staff page to print as PDF or download as Excel. SESSION_PARTS run for every session in
the scope, YEAR_PARTS once for a year's archive, COMMON_PARTS once for every archive; a new
kind of record joins the archive by adding its function to one of these lists.

The archive is dated by its record, not by the clock: its moment is the time of the newest
audit entry (the one the anchor names), so the same record gives the same bytes.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy import extract, func, select

from voting_app import audit
from voting_app.archive import printing
from voting_app.archive.package import ArchiveError, Entry, write_zip, xlsx_at
from voting_app.auth.models import User
from voting_app.ballots import profile_rules
from voting_app.ballots.models import ANNOUNCED, Round
from voting_app.ballots.profiles import profile_in_force
from voting_app.ballots.service import count_round, round_board
from voting_app.clock import BEIJING
from voting_app.db import db
from voting_app.permissions import STAFF
from voting_app.projects import checkpoints
from voting_app.projects.models import Project, ReminderLetter
from voting_app.sessions.models import CongressSession
from voting_app.verify_archive import AUDIT_ANCHOR, AUDIT_LOG, BOARD, DIGEST, RESULT

ROOT = Path(__file__).resolve().parents[2]
# The verifier and the pure modules it imports, shipped so the archive checks itself.
VERIFIER_SOURCES = ("voting_app/__init__.py", "voting_app/verify_archive.py", "voting_app/ballots/__init__.py",
                    "voting_app/ballots/board.py", "voting_app/ballots/counting.py")
VERIFIER_RUNNER = '''"""Check the archive with the verifier shipped in it: python3 verifier/verify.py ARCHIVE.zip"""
import os
import sys

sys.dont_write_bytecode = True  # an unzipped archive stays as it was written, with no __pycache__ in it
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from voting_app.verify_archive import main  # noqa: E402

sys.exit(main())
'''
README = """民生实事项目人大代表票决 · 档案包 / Archive of the livelihood-project deputy vote
{title}

【中文】
本档案包含：各报告的 PDF（由 Chromium 打印）和 Excel 文件；每个表决轮次的公开选票板
（board.json，附摘要 digest.txt 和计票结果 result.json）、计票报告单、票决办法和公告；
审计日志摘录（audit/log.jsonl）及其锚点（audit/anchor.txt，格式为 条数:哈希）；
当时施行的票决办法（rule profile）；所有文件的 SHA-256 校验清单 SHA256SUMS
（以及 SM3 校验清单 SM3SUMS，如生成时的 Python 支持 SM3）。
压缩包注释中记有 SHA256SUMS 本身的 SHA-256（清单指纹），请将其另行记录保存。

校验方法（只需 Python 3.11 或更高版本的标准库，无需联网，无需安装任何软件包）：
    解压本档案后运行：  python3 verifier/verify.py 档案文件.zip
    或在系统代码目录中：python3 -m voting_app.verify_archive 档案文件.zip
校验程序核对每个文件的校验和、重新计算每个选票板的票数并与记录结果比对、
检查审计日志的链接及锚点，并逐条列出不符之处（指明文件名）。全部通过时退出码为 0，
发现问题为 1，无法读取为 2。审计日志各条目的 HMAC 需要审计密钥才能核对：
    python3 verifier/verify.py 档案文件.zip --audit-key-file 密钥文件
未提供密钥时，输出会说明哪些条目未核对 HMAC。
校验程序还将每个选票板的摘要与审计日志中该轮次确认计票时记录的摘要比对，
并要求审计日志中记为本档案会议已确认的每个轮次在档案中都有选票板。
如另行记录了会议报告上印出的审计锚点或生成档案时给出的清单指纹，可一并核对：
    python3 verifier/verify.py 档案文件.zip --anchor 条数:哈希 --fingerprint 清单指纹
重要限制：能够改写整个档案的人也能重新封装它（重算全部校验和、指纹、锚点并删减日志）。
没有审计密钥，也没有另行保存的锚点或指纹时，重新封装的档案无法与原件区分；
校验结果只能说明档案自身前后一致。

【English】
This archive holds every report as PDF (printed by Chromium) and Excel; every round's public
ballot board (board.json, with its confirmed digest digest.txt and the recorded count
result.json), count report, 票决办法 (measures) and notice; an extract of the audit log
(audit/log.jsonl) with its anchor (audit/anchor.txt, COUNT:HASH); the rule profile in force;
and SHA256SUMS, the SHA-256 of every file (and SM3SUMS, the SM3 of every file, when the
Python that wrote it offered SM3). The zip comment holds the SHA-256 of SHA256SUMS itself
(the manifest fingerprint): write it down apart from the archive.

To check it (Python 3.11 or later, standard library only, offline, nothing to install):
    after unzipping:         python3 verifier/verify.py ARCHIVE.zip
    or from the app's code:  python3 -m voting_app.verify_archive ARCHIVE.zip
The verifier checks every file's sums, recounts every board and compares the recount with
the recorded result, and checks the audit log's links and its anchor; it lists each failure
naming its file. Exit status 0 when everything passes, 1 when something fails, 2 when the
archive cannot be read. The audit entries' HMAC needs the audit key:
    python3 verifier/verify.py ARCHIVE.zip --audit-key-file KEYFILE
Without the key the output says which entries' HMAC was not checked. The verifier also
compares every board's digest with the digest the audit log recorded when its round was
confirmed, and asks for a board of every round the log shows confirmed in the archive's
sessions. An anchor written down from the session report, or the fingerprint given when
the archive was written, is checked with
    python3 verifier/verify.py ARCHIVE.zip --anchor COUNT:HASH --fingerprint HEX
The honest limit: whoever can rewrite the whole archive can reseal it (new sums, fingerprint
and anchor, a shortened log). Without the audit key, or an anchor or fingerprint kept apart
from the archive, a resealed archive cannot be told from the original; the checks then show
only that the archive agrees with itself. A verifier taken from the published source code is
worth more than the copy inside the archive it checks.
"""


@dataclass(frozen=True)
class Scope:
    """What one archive covers: its sessions, the year of its projects (a year's archive),
    and the audit log up to the anchor."""

    title: str
    filename: str
    sessions: tuple[CongressSession, ...]
    year: int | None
    moment: datetime
    anchor: str


Part = Callable[..., Iterable[Entry]]


def _json(data) -> bytes:
    return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")


def session_reports(scope: Scope, session: CongressSession) -> Iterable[Entry]:
    folder = f"sessions/{session.id}/"
    yield Entry(folder + "report.pdf", source=f"/reports/sessions/{session.id}")
    yield Entry(folder + "report.xlsx", source=f"/reports/sessions/{session.id}/report.xlsx")


def _rounds(session: CongressSession) -> list[Round]:
    return list(db.session.scalars(select(Round).where(Round.session_id == session.id).order_by(Round.id)))


def round_records(scope: Scope, session: CongressSession) -> Iterable[Entry]:
    """Per round: the rules it was held under and its 票决办法; once counted, its board, the
    digest the scrutineers confirmed, the count and the count report; once announced, the notice."""
    for round_ in _rounds(session):
        folder = f"sessions/{session.id}/rounds/{round_.id}/"
        yield Entry(folder + "profile.json", round_.rules_json.encode("utf-8"))
        yield Entry(folder + "measures.pdf", source=f"/documents/rounds/{round_.id}/measures")
        if not round_.is_counted:
            continue
        yield Entry(folder + BOARD, (json.dumps(round_board(round_), ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
        yield Entry(folder + DIGEST, f"{round_.board_digest}\n".encode("ascii"))
        yield Entry(folder + RESULT, _json(count_round(round_).to_json()))
        yield Entry(folder + "count-report.pdf", source=f"/documents/rounds/{round_.id}/count-report")
        if round_.state == ANNOUNCED:
            yield Entry(folder + "notice.pdf", source=f"/documents/rounds/{round_.id}/notice")


def profiles_in_force_now(scope: Scope) -> Iterable[Entry]:
    """Each congress's 票决办法 in force when the archive is written, once however many of its
    sessions the archive holds (the rounds keep their own copies)."""
    for congress_id in sorted({session.term.congress_id for session in scope.sessions}):
        profile, version = profile_in_force(congress_id)
        name = f"profiles/congress-{congress_id}-v{version.number}.json" if version else f"profiles/congress-{congress_id}-default.json"
        yield Entry(name, (version.document if version else profile_rules.to_json(profile)).encode("utf-8"))


def year_projects(scope: Scope) -> Iterable[Entry]:
    """The year's projects report (PDF and Excel) and each project's report."""
    yield Entry(f"projects/{scope.year}/report.pdf", source=f"/reports/projects?year={scope.year}")
    yield Entry(f"projects/{scope.year}/report.xlsx", source=f"/reports/projects.xlsx?year={scope.year}")
    for project_id in db.session.scalars(select(Project.id).where(Project.year == scope.year).order_by(Project.id)):
        yield Entry(f"projects/{scope.year}/{project_id}.pdf", source=f"/reports/projects/{project_id}")


def year_supervision(scope: Scope) -> Iterable[Entry]:
    """The report packs of every checkpoint held by the archive's moment (one PDF per project and
    the checkpoint's Excel; a checkpoint still ahead would read the clock, so it waits), and the
    reminder letters about the year's projects issued by then, whatever year they were issued in."""
    day = scope.moment.astimezone(BEIJING).date()
    held = [item for item in checkpoints.year_checkpoints(scope.year, current_app.config["SUPERVISION_CHECKPOINT_DAYS"])
            if item.day <= day]
    projects = checkpoints.year_projects(scope.year)
    for item in held:
        folder = f"projects/{scope.year}/checkpoints/{item.kind}/"
        yield Entry(folder + "packs.xlsx", source=f"/reports/checkpoints/{scope.year}/{item.kind}.xlsx")
        for project in projects:
            yield Entry(folder + f"{project.id}.pdf", source=f"/reports/checkpoints/{scope.year}/{item.kind}/projects/{project.id}")
    letters = (select(ReminderLetter.id, ReminderLetter.year, ReminderLetter.number).join(Project, ReminderLetter.project_id == Project.id)
               .where(Project.year == scope.year, ReminderLetter.issued_on <= day)
               .order_by(ReminderLetter.year, ReminderLetter.number))
    for letter_id, issued_year, number in db.session.execute(letters):
        yield Entry(f"projects/{scope.year}/letters/{issued_year}-{number:04d}.pdf", source=f"/ledger/letters/{letter_id}")


def _audit_start(scope: Scope) -> int:
    """The id of the first entry naming one of the archive's sessions or their rounds (0: the whole log)."""
    targets = [f"session:{s.id}" for s in scope.sessions]
    targets += [f"round:{r.id}" for s in scope.sessions for r in _rounds(s)]
    first = db.session.scalar(select(func.min(audit.AuditEntry.id)).where(audit.AuditEntry.target.in_(targets))) if targets else None
    return first or 0


def audit_extract(scope: Scope) -> Iterable[Entry]:
    """The log from the archive's first entry to the anchor, one JSON entry a line, each with
    its position in the whole log (what the anchor's count counts)."""
    count, newest = audit.parse_anchor(scope.anchor)
    start = _audit_start(scope)
    position = db.session.scalar(select(func.count(audit.AuditEntry.id)).where(audit.AuditEntry.id < start))
    lines = []
    query = select(audit.AuditEntry).where(audit.AuditEntry.id >= start).order_by(audit.AuditEntry.id)
    for entry in db.session.scalars(query).yield_per(1000):
        position += 1
        if position > count:
            break
        lines.append(json.dumps({
            "position": position, "id": entry.id, "at": entry.at.isoformat(timespec="microseconds"), "actor": entry.actor,
            "action": entry.action, "target": entry.target, "details": entry.details, "prev_hash": entry.prev_hash,
            "hash": entry.hash, "scheme": entry.scheme,
        }, ensure_ascii=False, sort_keys=True) + "\n")
    yield Entry(AUDIT_LOG, "".join(lines).encode("utf-8"))
    yield Entry(AUDIT_ANCHOR, f"{count}:{newest}\n".encode("ascii"))


def verifier(scope: Scope) -> Iterable[Entry]:
    """The standard-library verifier, as the code it is running now."""
    for source in VERIFIER_SOURCES:
        yield Entry(f"verifier/{source}", (ROOT / source).read_bytes())
    yield Entry("verifier/verify.py", VERIFIER_RUNNER.encode("utf-8"))


def readme(scope: Scope) -> Iterable[Entry]:
    yield Entry("README.txt", README.format(title=scope.title).encode("utf-8"))


SESSION_PARTS: list[Part] = [session_reports, round_records]
YEAR_PARTS: list[Part] = [year_projects, year_supervision]
COMMON_PARTS: list[Part] = [profiles_in_force_now, audit_extract, verifier, readme]


def _moment_and_anchor() -> tuple[datetime, str]:
    """The anchor, and the time of the entry it names (UTC): the archive's moment."""
    anchor = audit.anchor()
    newest = db.session.scalar(select(audit.AuditEntry.at).order_by(audit.AuditEntry.id.desc()).limit(1))
    moment = newest or datetime(1980, 1, 1)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).replace(microsecond=0), anchor


def session_scope(session: CongressSession) -> Scope:
    moment, anchor = _moment_and_anchor()
    return Scope(session.name, f"archive-session-{session.id}.zip", (session,), None, moment, anchor)


def year_scope(year: int) -> Scope:
    """The sessions that opened in the year and the year's projects."""
    sessions = db.session.scalars(
        select(CongressSession).where(extract("year", CongressSession.starts_on) == year).order_by(CongressSession.starts_on, CongressSession.id)
    )
    moment, anchor = _moment_and_anchor()
    return Scope(str(year), f"archive-{year}.zip", tuple(sessions), year, moment, anchor)


def entries(scope: Scope) -> list[Entry]:
    found = [entry for session in scope.sessions for part in SESSION_PARTS for entry in part(scope, session)]
    if scope.year is not None:
        found += [entry for part in YEAR_PARTS for entry in part(scope)]
    found += [entry for part in COMMON_PARTS for entry in part(scope)]
    names = [entry.name for entry in found]
    if len(set(names)) != len(names):
        raise ArchiveError(f"two parts wrote the same file: {sorted({n for n in names if names.count(n) > 1})}")
    return found


def archive_account(username: str | None = None) -> User:
    """The staff account whose view the pages are printed in: the one named, or the first active one."""
    query = select(User).where(User.role == STAFF).order_by(User.id)
    if username:
        query = query.where(User.username == username)
    account = next((user for user in db.session.scalars(query) if user.is_active), None)
    if account is None:
        raise ArchiveError(f"no active staff account {username or ''} to print the pages as".replace("  ", " "))
    return account


def build(app: Flask, scope: Scope, account: User) -> bytes:
    """The archive's bytes: the parts' files, the pages printed and downloaded, and the sums."""
    parts = entries(scope)
    files = {entry.name: entry.data for entry in parts if entry.data is not None}
    pages = [entry for entry in parts if entry.source and entry.name.endswith(".pdf")]
    for entry, pdf in zip(pages, printing.print_pages(app, account, [e.source for e in pages], scope.moment)):
        files[entry.name] = pdf
    sheets = [entry for entry in parts if entry.source and not entry.name.endswith(".pdf")]
    for entry, data in zip(sheets, printing.fetch(app, account, [e.source for e in sheets], scope.moment)):
        files[entry.name] = xlsx_at(data, scope.moment)
    return write_zip(files, scope.moment.replace(tzinfo=None))
