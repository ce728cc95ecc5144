"""Check an archive of a session or a year: ``python -m voting_app.verify_archive ARCHIVE.zip``.

The archive (`voting_app.archive` writes it) is one zip whose every file is listed with its
SHA-256 in ``SHA256SUMS`` (the format of ``sha256sum -c``) and, where Python's hashlib offers
SM3, with its SM3 in ``SM3SUMS``. The zip's comment carries the SHA-256 of ``SHA256SUMS``
itself, so a change to the manifest is named as such. Offline, with the standard library and
the pure counting rules only, this module

* checks every file against both manifests and names each file that is changed, missing or
  not listed;
* recounts every round's ballot board, checks the board's digest against its content and
  against the digest confirmed at the count, and compares the recount with the result the
  server recorded;
* walks the audit log extract: each entry's ``prev_hash`` must be the hash before it, the
  unkeyed entries must match their SHA-256, and the newest entry must sit at the anchor
  (COUNT:HASH), so cutting entries off is caught. The keyed entries (HMAC-SHA256) are checked
  only with the audit key (``--audit-key-file``); without it the output says they were not;
* compares every board's digest with the digest its round's confirmation wrote into the
  chained log, and asks a board of every round the log shows confirmed in one of the
  archive's sessions, so a board changed or a round left out is caught from the log;
* compares the anchor and the manifest's fingerprint with the ones a reader wrote down apart
  from the archive (``--anchor``, ``--fingerprint``).

Whoever can rewrite the whole archive can reseal it: new sums, a new fingerprint, a shorter
log with a new anchor. Only the audit key, or an anchor or fingerprint kept apart from the
archive, tells such an archive from the original; without them the output says so.

It runs from the archive itself: ``python3 verifier/verify.py ARCHIVE.zip`` after unzipping
(README.txt in the archive). Exit status 0 when everything checked passes, 1 when something
fails (every failure is printed, one line each, naming the file), 2 when the archive cannot be
read at all.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import re
import sys
import zipfile
from dataclasses import dataclass, field

from voting_app.ballots.board import BoardError, DigestMismatch, loads_board, parse_board
from voting_app.ballots.counting import count

FORMAT = "voting-archive/1"
SHA256SUMS = "SHA256SUMS"
SM3SUMS = "SM3SUMS"
COMMENT_PREFIX = FORMAT + " SHA256SUMS sha256:"
BOARD = "board.json"
DIGEST = "digest.txt"
RESULT = "result.json"
AUDIT_LOG = "audit/log.jsonl"
AUDIT_ANCHOR = "audit/anchor.txt"
GENESIS = "0" * 64
CONFIRM = "round.confirm"
_BOARD_PATH = re.compile(r"sessions/([^/]+)/rounds/([^/]+)/" + re.escape(BOARD))
UNKEYED, KEYED = "sha256", "hmac-sha256"


def has_sm3() -> bool:
    """SM3 (GB/T 32905) comes from the OpenSSL under hashlib, when that OpenSSL offers it."""
    return "sm3" in hashlib.algorithms_available


def sums_text(files: dict[str, bytes], algorithm: str) -> str:
    """`sha256sum` lines, sorted by name: '<hex>  <name>'."""
    return "".join(f"{hashlib.new(algorithm, files[name]).hexdigest()}  {name}\n" for name in sorted(files))


def manifest_comment(sha256sums: bytes) -> bytes:
    """The zip comment: the archive's format and the SHA-256 of its manifest."""
    return (COMMENT_PREFIX + hashlib.sha256(sha256sums).hexdigest()).encode("ascii")


def audit_payload(entry: dict) -> bytes:
    """The bytes an audit entry's hash is taken over, as `voting_app.audit` writes them."""
    fields = [entry["prev_hash"], entry["at"], entry["actor"], entry["action"], entry["target"], entry["details"]]
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass
class Report:
    """What was checked and what failed, in the order found."""

    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def fail(self, name: str, message: str) -> None:
        self.failures.append(f"{name}: {message}")


def read_archive(path: str) -> tuple[dict[str, bytes], bytes | None, Report]:
    """Every file of the zip (or of an unzipped folder) by name, the zip comment, and the
    files that could not be read (a broken CRC names its file)."""
    report = Report()
    files: dict[str, bytes] = {}
    if os.path.isdir(path):
        for folder, _dirs, names in os.walk(path):
            for name in names:
                full = os.path.join(folder, name)
                with open(full, "rb") as handle:
                    files[os.path.relpath(full, path).replace(os.sep, "/")] = handle.read()
        return files, None, report
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            if info.filename in files:
                report.fail(info.filename, "appears twice in the zip: tools disagree on which copy they extract")
            try:
                files[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
                report.fail(info.filename, f"cannot be read from the zip ({error})")
            except Exception as error:  # zlib.error and friends: a damaged member, named
                report.fail(info.filename, f"cannot be read from the zip ({type(error).__name__}: {error})")
        return files, archive.comment, report


def _parse_sums(name: str, text: bytes, width: int, report: Report) -> dict[str, str]:
    sums: dict[str, str] = {}
    try:
        lines = text.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        report.fail(name, "is not UTF-8 text")
        return sums
    for number, line in enumerate(lines, 1):
        digest, sep, member = line.partition("  ")
        if not sep or len(digest) != width or any(c not in "0123456789abcdef" for c in digest) or not member:
            report.fail(name, f"line {number} is not '<hex>  <file>'")
            continue
        sums[member] = digest
    return sums


def check_sums(files: dict[str, bytes], comment: bytes | None, report: Report) -> None:
    """Both manifests against every file; the manifest against the zip comment."""
    manifest = files.get(SHA256SUMS)
    if manifest is None:
        report.fail(SHA256SUMS, "missing: nothing in the archive can be checked against it")
        return
    if comment is not None:
        if not comment.startswith(COMMENT_PREFIX.encode("ascii")):
            report.fail("(zip comment)", f"does not carry the manifest's fingerprint ({COMMENT_PREFIX}...)")
        elif comment != manifest_comment(manifest):
            report.fail(SHA256SUMS, "changed: its SHA-256 is not the fingerprint in the zip comment")
    report.notes.append(f"Manifest fingerprint (SHA-256 of {SHA256SUMS}): {hashlib.sha256(manifest).hexdigest()}")
    listed = _parse_sums(SHA256SUMS, manifest, 64, report)
    for name in sorted(set(listed) | set(files)):
        if name == SHA256SUMS:
            continue
        if name not in files:
            report.fail(name, f"missing: listed in {SHA256SUMS} but not in the archive")
        elif name not in listed:
            report.fail(name, f"not listed in {SHA256SUMS}: a file added to the archive")
        elif hashlib.sha256(files[name]).hexdigest() != listed[name]:
            report.fail(name, f"changed: its SHA-256 does not match {SHA256SUMS}")
    if SM3SUMS not in files:
        report.notes.append("SM3: this archive carries no SM3SUMS")
        return
    if not has_sm3():
        report.notes.append("SM3: not checked, this Python's hashlib offers no sm3")
        return
    sm3 = _parse_sums(SM3SUMS, files[SM3SUMS], 64, report)
    for name in sorted(set(sm3) | set(files) - {SHA256SUMS, SM3SUMS}):
        if name not in files:
            report.fail(name, f"missing: listed in {SM3SUMS} but not in the archive")
        elif name not in sm3:
            report.fail(name, f"not listed in {SM3SUMS}")
        elif hashlib.new("sm3", files[name]).hexdigest() != sm3[name]:
            report.fail(name, f"changed: its SM3 does not match {SM3SUMS}")
    report.notes.append(f"SM3: checked {len(sm3)} files")


def check_boards(files: dict[str, bytes], report: Report) -> None:
    """Recount every board; its digest must match its content and the digest confirmed at
    the count, and the recount the result the server recorded beside it."""
    boards = sorted(name for name in files if name.endswith("/" + BOARD))
    for name in boards:
        folder = name[: -len(BOARD)]
        try:
            data = loads_board(files[name])
            parsed = parse_board(data)
        except DigestMismatch as error:
            report.fail(name, f"the board's digest does not match its content ({error})")
            continue
        except BoardError as error:
            report.fail(name, f"not a countable board ({error})")
            continue
        confirmed = files.get(folder + DIGEST, b"").decode("utf-8", "replace").strip()
        if data.get("digest") != confirmed:
            report.fail(name, f"its digest {data.get('digest')} is not the one confirmed at the count ({folder + DIGEST}: {confirmed or 'missing'})")
        recount = json.loads(json.dumps(count(parsed.rules, parsed.ballots).to_json()))
        try:
            recorded = json.loads(files[folder + RESULT])
        except KeyError:
            report.fail(folder + RESULT, "missing: the recount has no recorded result to be compared with")
            continue
        except ValueError:
            report.fail(folder + RESULT, "is not JSON")
            continue
        if recount != recorded:
            differing = sorted(key for key in set(recount) | set(recorded) if recount.get(key) != recorded.get(key))
            report.fail(folder + RESULT, f"the recount of {name} differs from the recorded result in {', '.join(differing)}")
    report.notes.append(f"Boards: recounted {len(boards)}")


def _audit_lines(files: dict[str, bytes], report: Report) -> list[dict] | None:
    entries = []
    for number, line in enumerate(files[AUDIT_LOG].decode("utf-8", "replace").splitlines(), 1):
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict) or not isinstance(entry.get("position"), int):
                raise ValueError
            for key in ("prev_hash", "hash", "at", "actor", "action", "target", "scheme"):
                if not isinstance(entry.get(key), str):
                    raise ValueError
        except ValueError:
            report.fail(AUDIT_LOG, f"line {number} is not an audit entry")
            return None
        entries.append(entry)
    return entries


def check_audit(files: dict[str, bytes], key: bytes | None, report: Report) -> list[dict]:
    """The extract's links, its unkeyed hashes, its keyed ones given the key, and the anchor;
    the entries read (none when the log cannot be read)."""
    if AUDIT_LOG not in files or AUDIT_ANCHOR not in files:
        for name in (AUDIT_LOG, AUDIT_ANCHOR):
            if name not in files:
                report.fail(name, "missing: the audit log cannot be checked")
        return []
    anchor_count, _, anchor_hash = files[AUDIT_ANCHOR].decode("utf-8", "replace").strip().partition(":")
    if not anchor_count.isdigit() or len(anchor_hash) != 64:
        report.fail(AUDIT_ANCHOR, "is not COUNT:HASH")
        return []
    entries = _audit_lines(files, report)
    if not entries:
        if entries is not None and anchor_count != "0":
            report.fail(AUDIT_LOG, f"is empty but the anchor names entry {anchor_count}")
        return []
    first = entries[0]["position"]
    prev = entries[0]["prev_hash"] if first > 1 else GENESIS
    keyed = unchecked = 0
    for offset, entry in enumerate(entries):
        where = f"entry at position {first + offset} (id {entry.get('id')})"
        if entry["position"] != first + offset:
            report.fail(AUDIT_LOG, f"{where} says position {entry['position']}: entries were removed or reordered")
            return entries
        if entry["prev_hash"] != prev:
            report.fail(AUDIT_LOG, f"{where}: its previous hash is not the hash before it (an entry was removed, changed or reordered)")
            return entries
        if entry["scheme"] == UNKEYED:
            if hashlib.sha256(audit_payload(entry)).hexdigest() != entry["hash"]:
                report.fail(AUDIT_LOG, f"{where}: its content does not match its hash")
                return entries
        elif entry["scheme"] == KEYED:
            keyed += 1
            if key is None:
                unchecked += 1
            elif not hmac.compare_digest(hmac.new(key, audit_payload(entry), hashlib.sha256).hexdigest().encode(), entry["hash"].encode()):
                report.fail(AUDIT_LOG, f"{where}: its content does not match its HMAC under the audit key given")
                return entries
        else:
            report.fail(AUDIT_LOG, f"{where}: unknown hash scheme {entry['scheme']!r}")
            return entries
        prev = entry["hash"]
    last = first + len(entries) - 1
    if last != int(anchor_count) or prev != anchor_hash:
        report.fail(AUDIT_LOG, f"ends at entry {last} with hash {prev[:12]}..., but the anchor {anchor_count}:{anchor_hash[:12]}... "
                    "names another (entries were cut off or the log was rewritten)")
        return entries
    report.notes.append(f"Audit log: entries {first} to {last} linked and ending at the anchor {anchor_count}:{anchor_hash}")
    if first > 1:
        report.notes.append(f"Audit log: the extract starts at entry {first}; the entries before it are not in this archive")
    if unchecked:
        report.notes.append(f"Audit log: the HMAC of {unchecked} keyed entries was not checked (it needs the audit key: --audit-key-file)")
    elif keyed:
        report.notes.append(f"Audit log: the HMAC of {keyed} keyed entries matches the audit key given")
    return entries


def check_confirmations(files: dict[str, bytes], entries: list[dict], report: Report) -> None:
    """Each board against the digest its round's confirmation wrote into the chained log (the
    last one, should a round be counted again), and each round the log shows confirmed in one
    of the archive's sessions against a board in the archive: the archive's own digest.txt and
    folders are not trusted for this."""
    confirmed = {entry["target"].removeprefix("round:"): (entry["position"], entry["details"]) for entry in entries
                 if entry["action"] == CONFIRM and entry["target"].startswith("round:") and isinstance(entry.get("details"), dict)}
    boards = {match.group(2): match.group(0) for match in map(_BOARD_PATH.fullmatch, files) if match}
    for round_id, name in sorted(boards.items()):
        if round_id not in confirmed:
            report.fail(name, f"the audit log ({AUDIT_LOG}) holds no confirmation of round {round_id}: entries were cut, or the board was never confirmed")
            continue
        try:
            digest = json.loads(files[name]).get("digest")
        except (ValueError, AttributeError):
            continue  # named by the board check
        position, details = confirmed[round_id]
        if details.get("digest") != digest:
            report.fail(name, f"its digest {digest} is not the digest {details.get('digest')} confirmed in the audit log (entry at position {position})")
    sessions = {name.split("/")[1] for name in files if name.startswith("sessions/") and name.count("/") >= 2}
    unplaced = 0
    for round_id, (position, details) in sorted(confirmed.items()):
        session = details.get("session")
        if session is None:
            unplaced += 1
        elif str(session) in sessions and round_id not in boards:
            report.fail(f"sessions/{session}/rounds/{round_id}/{BOARD}", f"missing: the audit log (entry at position {position}) shows "
                        f"round {round_id} of session {session} confirmed, but its board is not in the archive")
    report.notes.append(f"Confirmations: {len(boards)} boards compared with the digests confirmed in the audit log")
    if unplaced:
        report.notes.append(f"Confirmations: {unplaced} rounds were confirmed before the log named their session; "
                            "whether the archive should hold their boards was not checked")


def check_outside(files: dict[str, bytes], entries: list[dict], anchor: str | None, fingerprint: str | None, key: bytes | None,
                  report: Report) -> None:
    """The anchor and the fingerprint a reader wrote down apart from the archive; without them
    or the key, say plainly what a resealed archive would get past. An anchor written down
    earlier names an entry the log must still hold, with that hash."""
    if anchor is not None:
        count, _, wanted = anchor.strip().partition(":")
        held = {entry["position"]: entry["hash"] for entry in entries}
        if not count.isdigit() or len(wanted) != 64:
            report.fail("--anchor", f"{anchor} is not COUNT:HASH")
        elif entries and int(count) < entries[0]["position"]:
            report.notes.append(f"Anchor: entry {count} comes before this archive's extract; not checked")
        elif held.get(int(count)) != wanted.lower():
            report.fail(AUDIT_LOG, f"does not hold the anchor given ({count}:{wanted[:12]}...): the log was cut or rewritten")
        else:
            report.notes.append(f"Anchor: the log holds the anchor given, {count}:{wanted}")
    if fingerprint is not None:
        actual = hashlib.sha256(files.get(SHA256SUMS, b"")).hexdigest()
        if actual != fingerprint.strip().lower():
            report.fail(SHA256SUMS, f"its fingerprint {actual} is not the fingerprint given ({fingerprint.strip()}): the archive was rewritten")
        else:
            report.notes.append("Fingerprint: the manifest is the one given")
    if anchor is None and fingerprint is None:
        report.notes.append("LIMIT: without the audit key (--audit-key-file), or the anchor (--anchor) or fingerprint (--fingerprint) "
                            "written down apart from the archive, an archive rewritten and resealed as a whole cannot be told from "
                            "the original: these checks show only that it agrees with itself" if key is None else
                            "LIMIT: without the anchor (--anchor) or fingerprint (--fingerprint) written down apart from the archive, "
                            "entries cut off the end of the log, with its anchor rewritten and the archive resealed, are not caught")


def verify(path: str, key: bytes | None = None, anchor: str | None = None, fingerprint: str | None = None) -> Report:
    """Every check on the archive at `path` (a zip, or the folder it was unzipped into),
    against the anchor and fingerprint written down apart from it when given."""
    files, comment, report = read_archive(path)
    check_sums(files, comment, report)
    check_boards(files, report)
    entries = check_audit(files, key, report)
    check_confirmations(files, entries, report)
    check_outside(files, entries, anchor, fingerprint, key, report)
    return report


def _key(path: str) -> bytes:
    with open(path, encoding="ascii") as handle:
        return bytes.fromhex(handle.read().strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m voting_app.verify_archive",
                                     description="Check an archive's sums, recount its boards and check its audit log.")
    parser.add_argument("archive", help="the archive zip, or the folder it was unzipped into")
    parser.add_argument("--audit-key-file", help="the audit key (hex) to check the keyed entries' HMAC as well")
    parser.add_argument("--anchor", metavar="COUNT:HASH", help="the audit anchor written down apart from the archive (the session report prints it)")
    parser.add_argument("--fingerprint", metavar="HEX", help="the manifest fingerprint written down when the archive was written")
    args = parser.parse_args(argv)
    try:
        key = _key(args.audit_key_file) if args.audit_key_file else None
    except (OSError, ValueError) as error:
        print(f"verify-archive: cannot read the audit key: {error}", file=sys.stderr)
        return 2
    try:
        report = verify(args.archive, key, args.anchor, args.fingerprint)
    except (OSError, zipfile.BadZipFile) as error:
        print(f"verify-archive: cannot read {args.archive}: {error}", file=sys.stderr)
        return 2
    for note in report.notes:
        print(note)
    for failure in report.failures:
        print(f"FAILED {failure}")
    print("FAILED: " + ("1 problem" if len(report.failures) == 1 else f"{len(report.failures)} problems")
          if report.failures else "OK: every file, board and audit entry checked matches")
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
