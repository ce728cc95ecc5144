"""The append-only, hash-chained log of staff actions.

Each entry's hash covers its own fields and the previous entry's hash, so changing,
removing or reordering any entry breaks every hash after it; `audit-verify` names the
first entry that no longer matches.
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
        return self.first_broken_id is None


def verify_chain() -> ChainCheck:
    prev_hash = GENESIS
    checked = 0
    for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).yield_per(1000):
        if entry.prev_hash != prev_hash:
            return ChainCheck(checked, entry.id, "previous hash does not match (an entry was removed or reordered)")
        expected = entry_hash(prev_hash, entry.at, entry.actor, entry.action, entry.target, entry.details)
        if entry.hash != expected:
            return ChainCheck(checked, entry.id, "entry content does not match its hash")
        prev_hash = entry.hash
        checked += 1
    return ChainCheck(checked, None)


bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
def audit_log():
    page = request.args.get("page", 1, type=int)
    entries = db.paginate(select(AuditEntry).order_by(AuditEntry.id.desc()), page=page, per_page=50)
    total = db.session.scalar(select(func.count(AuditEntry.id)))
    return render_template("audit/log.html", entries=entries, total=total, check=verify_chain())
