"""Deputies' voting cards: a QR token and a separate PIN, stored only as hashes."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from voting_app import audit
from voting_app.auth.service import failures_of, hash_pin, new_token, record_failure, record_success, secret_matches, token_digest
from voting_app.ballots.models import Credential
from voting_app.db import db, utcnow
from voting_app.errors import DomainError
from voting_app.sessions.models import CongressSession, Deputy

PIN_LENGTH = 6


@dataclass(frozen=True)
class IssuedCard:
    """The only moment the token and PIN exist in clear: the printed sheet."""

    deputy: Deputy
    token: str
    pin: str


@dataclass(frozen=True)
class CardSignIn:
    credential: Credential | None
    problem: str = ""  # unknown, locked, wrong_pin
    locked_until: datetime | None = None
    attempts_left: int | None = None


def active_credential(deputy_id: int) -> Credential | None:
    return db.session.scalar(
        select(Credential).where(Credential.deputy_id == deputy_id, Credential.revoked_at.is_(None))
    )


def credential_for_token(token: str) -> Credential | None:
    return db.session.scalar(select(Credential).where(Credential.token_hash == token_digest(token)))


def _new_pin() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(PIN_LENGTH))


def issue_card(actor: str, deputy: Deputy) -> IssuedCard:
    """A new card; any card the deputy held before stops working (one card, one deputy).
    A deputy whose term has ended gets none."""
    if not deputy.is_in_office:
        raise DomainError(_l("The term of %(name)s has ended: no card is issued.", name=deputy.name))
    previous = active_credential(deputy.id)
    if previous is not None:
        previous.revoked_at = utcnow()
        db.session.flush()  # the old card stops before the new one exists: one working card
    token, pin = new_token(), _new_pin()
    db.session.add(Credential(deputy_id=deputy.id, token_hash=token_digest(token), pin_hash=hash_pin(pin)))
    db.session.flush()
    action = "credential.reissue" if previous is not None else "credential.issue"
    audit.record(actor, action, f"deputy:{deputy.id}", session=deputy.session_id)
    return IssuedCard(deputy, token, pin)


def issue_missing_cards(actor: str, congress: CongressSession) -> list[IssuedCard]:
    """Cards for every deputy of the session in office who has none yet."""
    holders = set(
        db.session.scalars(
            select(Credential.deputy_id)
            .join(Deputy, Deputy.id == Credential.deputy_id)
            .where(Deputy.session_id == congress.id, Credential.revoked_at.is_(None))
        )
    )
    cards = []
    for deputy in congress.roster:
        if deputy.id in holders or not deputy.is_in_office:
            continue
        token, pin = new_token(), _new_pin()
        db.session.add(Credential(deputy_id=deputy.id, token_hash=token_digest(token), pin_hash=hash_pin(pin)))
        cards.append(IssuedCard(deputy, token, pin))
    db.session.flush()
    if cards:
        audit.record(actor, "credential.issue_all", f"session:{congress.id}", cards=len(cards))
    return cards


def revoke_card(actor: str, credential: Credential) -> None:
    if credential.revoked_at is None:
        credential.revoked_at = utcnow()
        db.session.flush()
        audit.record(actor, "credential.revoke", f"deputy:{credential.deputy_id}", credential=credential.id)


def unlock_card(actor: str, credential: Credential) -> None:
    credential.failed_pins = 0
    credential.locked_until = None
    db.session.flush()
    audit.record(actor, "credential.unlock", f"deputy:{credential.deputy_id}", credential=credential.id)


def sign_in_with_card(token: str, pin: str, max_failures: int, lock_minutes: int,
                      start_writing: Callable[[], None] = lambda: None) -> CardSignIn:
    """Check a PIN against a card; too many wrong PINs lock the card for a while. The PIN is
    checked before `start_writing` takes the write lock; the outcome is recorded with
    conditional UPDATEs, so guesses sent at once are all counted."""
    credential = db.session.scalar(select(Credential).where(Credential.token_hash == token_digest(token)))
    if credential is None or not credential.is_active:
        return CardSignIn(None, "unknown")
    now = utcnow()
    if credential.locked_until and credential.locked_until > now:
        return CardSignIn(None, "locked", credential.locked_until)
    matches = secret_matches(credential.pin_hash, pin.strip())
    start_writing()
    if not matches:
        locked_until = record_failure(Credential, credential.id, max_failures, lock_minutes, now)
        if locked_until:
            return CardSignIn(None, "locked", locked_until)
        return CardSignIn(None, "wrong_pin", attempts_left=max_failures - failures_of(Credential, credential.id))
    locked_until = record_success(Credential, credential.id, now)
    if locked_until:
        return CardSignIn(None, "locked", locked_until)
    return CardSignIn(credential)
