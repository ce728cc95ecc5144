"""The append-only, hash-chained log of staff actions.

Each entry's hash covers its own fields and the previous entry's hash, so changing,
removing or reordering any entry breaks every hash after it; `audit-verify` names the
first entry that no longer matches. The database refuses UPDATE and DELETE on the table
(triggers), and an anchor (count and newest hash) printed in session reports shows
whether the newest entries were cut off.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, render_template, request
from sqlalchemy import JSON, String, func, select, text
from sqlalchemy.orm import Mapped, mapped_column

from voting_app.db import db, utcnow

GENESIS = "0" * 64


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


def entry_hash(prev_hash: str, at: datetime, actor: str, action: str, target: str, details: dict) -> str:
    payload = json.dumps(
        [prev_hash, at.isoformat(timespec="microseconds"), actor, action, target, details],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def actor_label(user) -> str:
    if user is None or not getattr(user, "is_authenticated", False):
        return "system"
    return user.get_id()


def record(actor: str, action: str, target: str = "", **details) -> AuditEntry:
    """Append an entry in the caller's transaction (flushes, never commits)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7412001)"))
    prev_hash = db.session.scalar(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)) or GENESIS
    at = utcnow()
    details = json.loads(json.dumps(details, default=str))
    entry = AuditEntry(
        at=at,
        actor=actor,
        action=action,
        target=target,
        details=details,
        prev_hash=prev_hash,
        hash=entry_hash(prev_hash, at, actor, action, target, details),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    first_broken_id: int | None
    reason: str = ""

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
    carry that hash, so removing the newest entries is caught as well."""
    prev_hash = GENESIS
    checked = 0
    anchor_seen = anchored is not None and anchored[0] == 0 and anchored[1] == GENESIS
    for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.prev_hash != prev_hash:
            return ChainCheck(checked, entry.id, "previous hash does not match (an entry was removed or reordered)")
        expected = entry_hash(prev_hash, entry.at, entry.actor, entry.action, entry.target, entry.details)
        if entry.hash != expected:
            return ChainCheck(checked, entry.id, "entry content does not match its hash")
        prev_hash = entry.hash
        checked += 1
        if anchored is not None and checked == anchored[0]:
            if entry.hash != anchored[1]:
                return ChainCheck(checked, entry.id, "the entry at the anchor has another hash (the log was rewritten)")
            anchor_seen = True
    if checked == 0 and _rounds_were_confirmed():
        return ChainCheck(0, None, "the log is empty although rounds have been confirmed (it was emptied)")
    if anchored is not None and not anchor_seen:
        return ChainCheck(checked, None, f"the log ends at entry {checked} but the anchor names entry {anchored[0]} (entries were removed)")
    return ChainCheck(checked, None)


def _rounds_were_confirmed() -> bool:
    """Confirming a round writes an audit entry, so counted rounds and an empty log cannot both be true."""
    from voting_app.ballots.models import ANNOUNCED, CONFIRMED, Round  # the ballots package imports this module

    return db.session.scalar(select(Round.id).where(Round.state.in_((CONFIRMED, ANNOUNCED))).limit(1)) is not None


bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
def audit_log():
    from voting_app.web import int_arg  # web imports this module

    page = int_arg("page") or 1
    entries = db.paginate(select(AuditEntry).order_by(AuditEntry.id.desc()), page=page, per_page=50)
    total = db.session.scalar(select(func.count(AuditEntry.id)))
    return render_template("audit/log.html", entries=entries, total=total, check=verify_chain(), anchor=anchor())
