"""The append-only, hash-chained log of staff actions.

Each entry's hash covers its own fields and the previous entry's hash, so changing,
removing or reordering any entry breaks every hash after it; `audit-verify` names the
first entry that no longer matches. The database refuses UPDATE and DELETE on the table
(triggers), and an anchor (count and newest hash) printed in session reports shows
whether the newest entries were cut off.

The hash is an HMAC-SHA256 under the audit key, which lives outside the database
(AUDIT_KEY): a plain SHA-256 chain can be extended by anyone who can INSERT a row, a keyed
one only by whoever holds the key. Entries written before the key existed keep their
plain SHA-256 (scheme "sha256"); the upgrade seals them with a first keyed entry, and the
verifier accepts unkeyed entries only as that sealed beginning of the log.
"""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import JSON, String, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from voting_app.db import db, utcnow

GENESIS = "0" * 64
UNKEYED = "sha256"
KEYED = "hmac-sha256"
# The keyed entry the upgrade writes after the unkeyed ones, with their number in its details.
SEAL_ACTION = "audit.keyed"
# RFC 2104, section 3: a key shorter than the hash output (32 bytes for SHA-256) weakens HMAC.
KEY_BYTES = 32


class AuditKeyError(Exception):
    """The audit key is missing or malformed: the log can be neither written nor verified."""


def parse_key(text_: str | None) -> bytes:
    """The key from its hex form (AUDIT_KEY or instance/audit.key), or AuditKeyError saying what is wrong."""
    if not text_ or not text_.strip():
        raise AuditKeyError(
            "the audit key is missing: set AUDIT_KEY or put the key file back at instance/audit.key "
            "(from the copy kept apart from the database)"
        )
    try:
        key = bytes.fromhex(text_.strip())
    except ValueError:
        raise AuditKeyError("the audit key is not hexadecimal (AUDIT_KEY or instance/audit.key)") from None
    if len(key) < KEY_BYTES:
        raise AuditKeyError(f"the audit key is too short: it needs at least {KEY_BYTES * 2} hex digits")
    return key


def configured_key() -> bytes:
    return parse_key(current_app.config.get("AUDIT_KEY"))


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(100), default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The server default marks the rows that existed before the key; the app always writes KEYED.
    scheme: Mapped[str] = mapped_column(String(16), server_default=UNKEYED)


def _payload(prev_hash: str, at: datetime, actor: str, action: str, target: str, details: dict) -> bytes:
    return json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor, action, target, details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def entry_hash(prev_hash: str, at: datetime, actor: str, action: str, target: str, details: dict) -> str:
    """The unkeyed SHA-256 of entries written before the audit key existed."""
    return hashlib.sha256(_payload(prev_hash, at, actor, action, target, details)).hexdigest()


def entry_mac(key: bytes, prev_hash: str, at: datetime, actor: str, action: str, target: str, details: dict) -> str:
    """The keyed hash of every entry written since: HMAC-SHA256 over the same fields."""
    return hmac.new(key, _payload(prev_hash, at, actor, action, target, details), hashlib.sha256).hexdigest()


def new_entry(key: bytes, prev_hash: str, actor: str, action: str, target: str, details: dict) -> dict:
    """The column values of the next entry; the one place an entry is made, for record() and the upgrade."""
    at = utcnow()
    details = json.loads(json.dumps(details, default=str))
    return {
        "at": at,
        "actor": actor,
        "action": action,
        "target": target,
        "details": details,
        "prev_hash": prev_hash,
        "hash": entry_mac(key, prev_hash, at, actor, action, target, details),
        "scheme": KEYED,
    }


def actor_label(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    return user.get_id()


def record(actor: str, action: str, target: str = "", **details) -> AuditEntry:
    """Append an entry in the caller's transaction (flushes, never commits). Without the
    audit key, or with another key than the log's, it raises AuditKeyError before writing anything."""
    key = configured_key()
    _refuse_another_key(key)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7412001)"))
    prev_hash = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    entry = AuditEntry(**new_entry(key, prev_hash, actor, action, target, details))
    db.session.add(entry)
    db.session.flush()
    return entry


_keys_that_fit: set[tuple[str, bytes]] = set()


def _refuse_another_key(key: bytes) -> None:
    """A key file lost and written anew at start, or a database restored onto a server with
    a new key, would have every later entry written under a key that no longer verifies the
    log: refuse instead. The log's first keyed entry decides, once per process and database
    (it never changes); a forged newest entry does not stop the app, audit-verify reports it."""
    marker = (db.engine.url.render_as_string(hide_password=True), key)
    if marker in _keys_that_fit:
        return
    first = db.session.scalars(select(AuditEntry).where(AuditEntry.scheme == KEYED).order_by(AuditEntry.id).limit(1)).first()
    if first is None:
        return
    if not _same(first.hash, entry_mac(key, first.prev_hash, first.at, first.actor, first.action, first.target, first.details)):
        raise AuditKeyError(
            "the audit key is not the one this log was written with: nothing was written; put the log's key back "
            "(AUDIT_KEY or instance/audit.key, from the copy kept apart from the database)"
        )
    _keys_that_fit.add(marker)


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_broken_id: int | None
    reason: str = ""
    is_key_problem: bool = False

    @property
    def is_intact(self) -> bool:
        return not self.reason


def anchor() -> str:
    """"COUNT:HASH" of the newest entry. The chain alone cannot show that its newest entries
    were cut off; an anchor written down or printed in a session report can."""
    newest = db.session.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
    count = db.session.scalar(select(func.count(AuditEntry.id)))
    return f"{count}:{newest or GENESIS}"


def parse_anchor(text_: str) -> tuple[int, str]:
    """ValueError unless the text is COUNT:HASH as `anchor()` writes it."""
    count, _, hash_ = text_.strip().partition(":")
    if not count.isdigit() or len(hash_) != 64 or any(c not in "0123456789abcdef" for c in hash_):
        raise ValueError("an anchor is COUNT:HASH, e.g. 42:3f9a... (64 hex digits)")
    return int(count), hash_


def verify_chain(anchored: tuple[int, str] | None = None) -> ChainCheck:
    """Walk the chain; with an anchor (count, hash), the entry at that position must still
    carry that hash, so removing the newest entries is caught as well.

    Keyed entries must match their HMAC under the configured key. Unkeyed entries pass only
    as the beginning of the log that the upgrade's seal (SEAL_ACTION, naming their number)
    follows: any other unkeyed entry was written by someone without the key. Without a valid
    key nothing passes."""
    try:
        key = configured_key()
    except AuditKeyError as error:
        return ChainCheck(0, None, str(error), is_key_problem=True)
    prev_hash = GENESIS
    checked = 0
    keyed_seen = False
    first_unkeyed_tail_id = None
    anchor_seen = anchored is not None and anchored[0] == 0 and anchored[1] == GENESIS
    for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.prev_hash != prev_hash:
            return ChainCheck(checked, entry.id, "previous hash does not match (an entry was removed or reordered)")
        fields = (prev_hash, entry.at, entry.actor, entry.action, entry.target, entry.details)
        if entry.scheme == KEYED:
            if not _same(entry.hash, entry_mac(key, *fields)):
                if not keyed_seen:
                    return ChainCheck(checked, entry.id, "the first keyed entry does not match under this audit key "
                                      "(the key is not the one this log was written with, or the entry was forged)")
                return ChainCheck(checked, entry.id, "entry content does not match its HMAC (changed, or written without the audit key)")
            if not keyed_seen and checked and not _seals(entry, checked):
                return ChainCheck(checked, first_unkeyed_tail_id, "unkeyed entries that no upgrade sealed "
                                  "(written without the audit key)")
            keyed_seen = True
            first_unkeyed_tail_id = None
        elif entry.scheme == UNKEYED:
            if keyed_seen:
                return ChainCheck(checked, entry.id, "an unkeyed entry after keyed ones (written without the audit key)")
            if not _same(entry.hash, entry_hash(*fields)):
                return ChainCheck(checked, entry.id, "entry content does not match its hash")
            first_unkeyed_tail_id = first_unkeyed_tail_id or entry.id
        else:
            return ChainCheck(checked, entry.id, f"unknown hash scheme {entry.scheme!r}")
        prev_hash = entry.hash
        checked += 1
        if anchored is not None and checked == anchored[0]:
            if entry.hash != anchored[1]:
                return ChainCheck(checked, entry.id, "the entry at the anchor has another hash (the log was rewritten)")
            anchor_seen = True
    if first_unkeyed_tail_id is not None:
        return ChainCheck(checked, first_unkeyed_tail_id, "the log ends in unkeyed entries, which no keyed entry seals "
                          "(written without the audit key)")
    if checked == 0 and _rounds_were_confirmed():
        return ChainCheck(0, None, "the log is empty although rounds have been confirmed (it was emptied)")
    if anchored is not None and not anchor_seen:
        return ChainCheck(checked, None, f"the log ends at entry {checked} but the anchor names entry {anchored[0]} (entries were removed)")
    return ChainCheck(checked, None)


def _seals(entry: AuditEntry, unkeyed: int) -> bool:
    """Only the upgrade's own entry vouches for the unkeyed ones before it: any other keyed
    entry after unkeyed ones is the app linking onto rows someone slipped into the log."""
    return entry.action == SEAL_ACTION and isinstance(entry.details, dict) and entry.details.get("unkeyed_entries") == unkeyed


def _same(stored: str, expected: str) -> bool:
    """Constant-time, and as bytes: compare_digest refuses a str with non-ASCII characters,
    which a forged row may well hold."""
    return hmac.compare_digest(stored.encode("utf-8"), expected.encode("utf-8"))


def _rounds_were_confirmed() -> bool:
    """Confirming a round writes an audit entry, so counted rounds and an empty log cannot both be true."""
    from voting_app.ballots.models import ANNOUNCED, CONFIRMED, Round  # the ballots package imports this module

    return db.session.scalar(select(Round.id).where(Round.state.in_((CONFIRMED, ANNOUNCED))).limit(1)) is not None
