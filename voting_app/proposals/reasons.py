"""The managed list of decline reasons (不予采纳理由): staff add, rename, retire and reorder them.
A reason that any proposal carries is never deleted, only retired, so a proposer's tracking page
keeps the reason they were given. Services flush; callers commit."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from voting_app import audit
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.proposals.models import DeclineReason, proposal_decline_reasons

MAX_LABEL = 100
# The reasons seen most in practice; the migration seeds the list with them (its own copy, as a
# migration never imports the app), and an empty list (a new database built otherwise) can take them.
COMMON_REASONS = (
    ("不属于区级事权", "Outside the district's remit"),
    ("属于楼堂馆所建设", "An office building"),
    ("已列入计划或已有资金安排", "Already planned or funded"),
    ("将新增政府债务", "Adds government debt"),
    ("不属于民生领域", "Not a livelihood matter"),
    ("条件不具备、暂不可行", "Not feasible now"),
)


def reason_list(active_only: bool = False) -> list[DeclineReason]:
    query = select(DeclineReason).order_by(DeclineReason.position, DeclineReason.id)
    if active_only:
        query = query.where(DeclineReason.is_active.is_(True))
    return list(db.session.scalars(query))


def uses(reason: DeclineReason) -> int:
    """How many proposals were declined giving this reason."""
    return db.session.scalar(select(func.count()).select_from(proposal_decline_reasons)
                             .where(proposal_decline_reasons.c.reason_id == reason.id))


def uses_by_reason() -> dict[int, int]:
    return dict(db.session.execute(select(proposal_decline_reasons.c.reason_id, func.count())
                                   .group_by(proposal_decline_reasons.c.reason_id)).all())


def _labels(label: str, label_en: str, reason: DeclineReason | None = None) -> tuple[str, str]:
    label, label_en = " ".join((label or "").split()), " ".join((label_en or "").split())
    if not label:
        raise DomainError(_l("A reason needs a wording."))
    if len(label) > MAX_LABEL or len(label_en) > MAX_LABEL:
        raise DomainError(_l("Keep a reason to %(count)d characters.", count=MAX_LABEL))
    same = db.session.scalar(select(DeclineReason).where(DeclineReason.label == label))
    if same is not None and same is not reason:
        raise ConflictError(_l("This reason is in the list already."))
    return label, label_en


def add_common_reasons(actor: str) -> list[DeclineReason]:
    """The common reasons, when the list is empty; otherwise the list stays as staff made it."""
    if reason_list():
        return []
    return [add_reason(actor, label, label_en) for label, label_en in COMMON_REASONS]


def add_reason(actor: str, label: str, label_en: str = "") -> DeclineReason:
    label, label_en = _labels(label, label_en)
    last = db.session.scalar(select(func.max(DeclineReason.position))) or 0
    reason = DeclineReason(label=label, label_en=label_en, position=last + 1, is_active=True)
    db.session.add(reason)
    db.session.flush()
    audit.record(actor, "decline_reason.add", f"decline_reason:{reason.id}", label=label)
    return reason


def rename_reason(actor: str, reason: DeclineReason, label: str, label_en: str = "") -> None:
    """A new wording; proposals declined for it show the new wording (fix a typo, not change the meaning)."""
    was = reason.label
    reason.label, reason.label_en = _labels(label, label_en, reason)
    db.session.flush()
    audit.record(actor, "decline_reason.rename", f"decline_reason:{reason.id}", was=was, label=reason.label)


def set_active(actor: str, reason: DeclineReason, is_active: bool) -> None:
    """Retire (no longer offered; stays on the proposals that carry it) or bring back."""
    reason.is_active = is_active
    db.session.flush()
    audit.record(actor, "decline_reason.restore" if is_active else "decline_reason.retire", f"decline_reason:{reason.id}")


def move_reason(actor: str, reason: DeclineReason, step: int) -> None:
    """One place up (-1) or down (+1) in the list staff choose from."""
    ordered = reason_list()
    at = ordered.index(reason)
    to = at + (1 if step > 0 else -1)
    if not 0 <= to < len(ordered):
        return
    ordered[at], ordered[to] = ordered[to], ordered[at]
    for position, row in enumerate(ordered, start=1):
        row.position = position
    db.session.flush()
    audit.record(actor, "decline_reason.move", f"decline_reason:{reason.id}", position=to + 1)


def delete_reason(actor: str, reason: DeclineReason) -> None:
    """Only a reason no proposal was given; one in use is retired instead."""
    if uses(reason):
        raise ConflictError(_l("Proposals were declined for this reason, so it cannot be deleted. Retire it instead: it is no longer offered, and the proposals keep it."))
    label = reason.label
    db.session.delete(reason)
    db.session.flush()
    audit.record(actor, "decline_reason.delete", f"decline_reason:{reason.id}", label=label)
