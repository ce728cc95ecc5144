"""Sign-in for accounts and for deputies' voting cards, with lockout after wrong guesses."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from flask_babel import lazy_gettext as _l
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from voting_app import audit
from voting_app.auth.models import User
from voting_app.db import db, utcnow
from voting_app.errors import DomainError

_hasher = PasswordHasher()
# PINs are throttled and locked online, so a lighter hash keeps printing 3,000 cards quick.
_pin_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
LOGIN_MAX_FAILURES = 10
LOGIN_LOCK_MINUTES = 15


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def hash_pin(pin: str) -> str:
    return _pin_hasher.hash(pin)


def secret_matches(secret_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(secret_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """Card tokens are long and random, so a plain SHA-256 is enough to store them."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


def load_principal(principal_id: str):
    """Flask-Login loader: accounts are 'user:N', deputies' voting cards 'credential:N'."""
    kind, _, raw_id = principal_id.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "user":
        user = db.session.get(User, int(raw_id))
        return user if user is not None and user.is_active else None
    if kind == "credential":
        from voting_app.ballots.models import Credential

        credential = db.session.get(Credential, int(raw_id), options=[joinedload(Credential.deputy)])
        return credential if credential is not None and credential.is_active else None
    return None


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    locked_until: datetime | None = None


def authenticate(username: str, password: str) -> SignInResult:
    """The account row is locked while the password is checked, so parallel guesses all count."""
    user = db.session.scalar(
        select(User)
        .where(User.username == username.strip())
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if user is None or not user.is_active:
        _hasher.hash(password)  # spend the same time as a real check
        return SignInResult(None)
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        return SignInResult(None, user.locked_until)
    if not secret_matches(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= LOGIN_MAX_FAILURES:
            user.locked_until = now + timedelta(minutes=LOGIN_LOCK_MINUTES)
            user.failed_logins = 0
        db.session.flush()
        return SignInResult(None, user.locked_until if user.locked_until and user.locked_until > now else None)
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    return SignInResult(user)


def create_user(username: str, display_name: str, role: str, password: str, actor: str = "system",
                department: str = "") -> User:
    """A department officer's account is bound to its department; no other role has one."""
    from voting_app.permissions import DEPARTMENT_OFFICER
    from voting_app.projects.service import department_named

    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DomainError(_l("This username is taken."))
    department = " ".join((department or "").split())
    if role == DEPARTMENT_OFFICER and not department:
        raise DomainError(_l("A department officer's account needs its department."))
    if role != DEPARTMENT_OFFICER and department:
        raise DomainError(_l("Only department officers' accounts are bound to a department."))
    bound = department_named(department)
    user = User(username=username, display_name=display_name, role=role, password_hash=hash_secret(password),
                department_id=bound.id if bound else None)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "account.create", f"user:{user.id}", username=username, role=role, department=department)
    return user
