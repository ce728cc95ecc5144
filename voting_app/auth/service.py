"""Sign-in for accounts and for deputies' voting cards, with lockout after wrong guesses."""

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
from argon2 import PasswordHasher
from flask_babel import lazy_gettext as _l
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import or_, select, update
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


SESSION_EPOCH_KEY = "_epoch"
SIGNED_IN_AT_KEY = "_signed_in_at"


def load_principal(principal_id: str, epoch: int = 0):
    """Flask-Login loader: accounts are 'user:N', deputies' voting cards 'credential:N'.

    `epoch` is the number the session was signed in under; a sign-out elsewhere (or a change
    of the sign-in factors) raised it, and the old cookie no longer loads anyone."""
    kind, _, raw_id = principal_id.partition(":")
    if not raw_id.isdigit():
        return None
    if kind == "user":
        principal = db.session.get(User, int(raw_id))
    elif kind == "credential":
        from voting_app.ballots.models import Credential

        principal = db.session.get(Credential, int(raw_id), options=[joinedload(Credential.deputy)])
    else:
        return None
    if principal is None or not principal.is_active or principal.session_epoch != epoch:
        return None
    return principal


def end_all_sessions(principal) -> None:
    """Every session cookie signed in as this principal stops working (sign-out, new factors)."""
    principal.session_epoch += 1
    db.session.flush()


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    locked_until: datetime | None = None


def _nothing() -> None:
    return None


def authenticate(username: str, password: str, start_writing: Callable[[], None] = _nothing) -> SignInResult:
    """The password is checked (about 0.1 s of argon2) before `start_writing` takes the
    write lock, so a flood of guesses never queues ballots behind hashing; the outcome is
    then recorded with conditional UPDATEs, so parallel guesses all count and a lock set
    meanwhile still holds."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.is_active:
        _hasher.hash(password)  # spend the same time as a real check
        return SignInResult(None)
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        return SignInResult(None, user.locked_until)
    matches = secret_matches(user.password_hash, password)
    start_writing()
    if not matches:
        return SignInResult(None, record_failure(User, user.id, LOGIN_MAX_FAILURES, LOGIN_LOCK_MINUTES, now))
    if user.has_second_factor:  # only the code completes a sign-in, and only it clears the count
        locked_until = _locked_until(User, user.id, now)
        return SignInResult(None if locked_until else user, locked_until)
    locked_until = record_success(User, user.id, now)
    return SignInResult(None if locked_until else user, locked_until)


def _failure_counter(model):
    """Accounts count wrong passwords (and codes), cards wrong PINs; both have locked_until."""
    return model.failed_logins if model is User else model.failed_pins


def _not_locked(model, now: datetime):
    return or_(model.locked_until.is_(None), model.locked_until <= now)


def _locked_until(model, row_id: int, now: datetime) -> datetime | None:
    until = db.session.scalar(select(model.locked_until).where(model.id == row_id))
    return until if until is not None and until > now else None


def record_failure(model, row_id: int, max_failures: int, lock_minutes: int, now: datetime) -> datetime | None:
    """Count one wrong guess atomically; the guess that reaches the limit sets the lock.
    Returns the lock's end when the row is (now) locked."""
    counter = _failure_counter(model)
    count = db.session.execute(
        update(model).where(model.id == row_id, _not_locked(model, now)).values({counter: counter + 1})
        .returning(counter).execution_options(synchronize_session=False)
    ).scalar()
    if count is None:  # locked by a parallel guess meanwhile
        return _locked_until(model, row_id, now)
    if count < max_failures:
        return None
    until = now + timedelta(minutes=lock_minutes)
    db.session.execute(
        update(model).where(model.id == row_id).values({counter: 0, model.locked_until: until})
        .execution_options(synchronize_session=False)
    )
    return until


def failures_of(model, row_id: int) -> int:
    counter = _failure_counter(model)
    return db.session.scalar(select(counter).where(model.id == row_id)) or 0


def record_success(model, row_id: int, now: datetime) -> datetime | None:
    """Clear the count, unless parallel guesses locked the row meanwhile (then the lock's end)."""
    counter = _failure_counter(model)
    cleared = db.session.execute(
        update(model).where(model.id == row_id, _not_locked(model, now)).values({counter: 0, model.locked_until: None})
        .returning(model.id).execution_options(synchronize_session=False)
    ).scalar()
    return None if cleared is not None else _locked_until(model, row_id, now)


def unlock_account(user: User, actor: str) -> None:
    user.failed_logins = 0
    user.locked_until = None
    db.session.flush()
    audit.record(actor, "account.unlock", f"user:{user.id}")


# ---- the TOTP second factor (RFC 6238) ----------------------------------------------------

TOTP_ISSUER = "Livelihood Project Deputy Voting"


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    """What an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=TOTP_ISSUER)


def _accepted_step(secret: str, code: str, last_step: int | None, now: datetime) -> int | None:
    """The time step the code belongs to (this one or its neighbours, for phone clocks a
    little off), or None; a step already used is refused, so a code seen once is dead."""
    code = "".join(code.split())
    if not (code.isascii() and code.isdigit() and len(code) == 6):  # "١٢٣٤٥٦" is digits too
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now.replace(tzinfo=UTC))
    for step in (current, current - 1, current + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and (last_step is None or step > last_step):
            return step
    return None


class SecondFactorError(DomainError):
    """Which field of the form was wrong: the password or the code."""

    def __init__(self, message, field: str):
        super().__init__(message)
        self.field = field


def _confirm_password(user: User, password: str) -> None:
    """A session alone must not change the sign-in factors: a borrowed or stolen session
    could otherwise lock the owner out with the thief's phone."""
    if not secret_matches(user.password_hash, password):
        raise SecondFactorError(_l("This is not the account's password."), "password")


def enable_second_factor(user: User, password: str, secret: str, code: str, actor: str,
                         start_writing: Callable[[], None] = _nothing) -> None:
    _confirm_password(user, password)
    step = _accepted_step(secret, code, None, utcnow())
    if step is None:
        raise SecondFactorError(_l("The code does not match. Check the phone's clock and type the code shown now."), "code")
    start_writing()
    user.totp_secret, user.totp_last_step = secret, step
    end_all_sessions(user)
    audit.record(actor, "account.second_factor_on", f"user:{user.id}")


def disable_second_factor(user: User, password: str, code: str, actor: str,
                          start_writing: Callable[[], None] = _nothing) -> None:
    _confirm_password(user, password)
    step = _accepted_step(user.totp_secret or "", code, user.totp_last_step, utcnow()) if user.totp_secret else None
    if step is None:
        raise SecondFactorError(_l("The code does not match. Type the code your authenticator app shows now."), "code")
    start_writing()
    user.totp_secret, user.totp_last_step = None, None
    end_all_sessions(user)
    audit.record(actor, "account.second_factor_off", f"user:{user.id}")


def reset_second_factor(user: User, actor: str) -> None:
    """For a lost phone: the server operator removes the factor (CLI), recorded in the audit log."""
    user.totp_secret, user.totp_last_step = None, None
    end_all_sessions(user)
    audit.record(actor, "account.second_factor_reset", f"user:{user.id}")


def check_second_factor(user_id: int, code: str) -> SignInResult:
    """The second step of an account's sign-in. Wrong codes count towards the same lock as
    wrong passwords, so the six digits cannot be guessed either."""
    user = db.session.scalar(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    )
    if user is None or not user.is_active or not user.has_second_factor:
        return SignInResult(None)
    now = utcnow()
    if user.locked_until and user.locked_until > now:
        return SignInResult(None, user.locked_until)
    step = _accepted_step(user.totp_secret, code, user.totp_last_step, now)
    if step is None:
        return SignInResult(None, record_failure(User, user.id, LOGIN_MAX_FAILURES, LOGIN_LOCK_MINUTES, now))
    user.totp_last_step = step
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
