"""Sign-in for accounts and for deputies' voting cards, with lockout after wrong guesses."""

import hashlib
import hmac
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property

import pyotp
from argon2 import PasswordHasher
from flask_babel import lazy_gettext as _l
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import joinedload

from voting_app import audit
from voting_app.auth.models import SignInThrottle, User
from voting_app.db import db, dialect_insert, utcnow
from voting_app.errors import DomainError
from voting_app.permissions import DEPUTY
from voting_app.projects.models import Department

_hasher = PasswordHasher()
# PINs are throttled and locked online, so a lighter hash keeps printing 3,000 cards quick.
_pin_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


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
        principal = db.session.execute(_card_with_its_deputy(), {"card_id": int(raw_id)}).scalar_one_or_none()
    else:
        return None
    if principal is None or not principal.is_active or principal.session_epoch != epoch:
        return None
    return principal


@cache
def _card_with_its_deputy():
    """Built once: every request of a deputy loads their card, and a statement SQLAlchemy has
    compiled before costs less than Session.get building its query each time."""
    from voting_app.ballots.models import Credential

    return select(Credential).options(joinedload(Credential.deputy)).where(Credential.id == bindparam("card_id"))


@dataclass(frozen=True)
class CastingCard:
    """A signed-in voting card as the cast sees it, loaded from no row: its deputy and the
    deputy's session, which never change, come from this worker's copy (`casting_card`), and
    the epoch is the one the cookie was signed in under. Whether the card is still in force
    and the cookie still signed in, the cast's own statement decides as it writes the ballot
    (`ballots.service.cast`), so a revocation or a sign-out elsewhere stops the next ballot
    as before, and one that lands while the request runs stops it too."""

    id: int
    deputy_id: int
    session_id: int
    session_epoch: int
    role = DEPUTY
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"credential:{self.id}"

    @cached_property
    def label(self) -> str:
        """The deputy's name, read when a page shows it (the cast's refusals do)."""
        from voting_app.sessions.models import Deputy

        return db.session.scalar(select(Deputy.name).where(Deputy.id == self.deputy_id)) or ""


# Card id -> (its deputy, the deputy's session), per worker. Neither ever changes; kept out of
# the session cookie, which is signed, not encrypted, and holds the card's receipts.
_card_facts: dict[int, tuple[int, int]] = {}


def casting_card(principal_id: str, epoch: int) -> CastingCard | None:
    """The card of a 'credential:N' principal for `permissions.card_checked_where_written`
    views, or None for a card that does not exist. A card this worker has not seen brings
    every card of its congress session, in one statement: a hall's deputies each cast once,
    mostly on a worker that has not served them before."""
    from voting_app.ballots.models import Credential
    from voting_app.sessions.models import Deputy

    kind, _, raw_id = principal_id.partition(":")
    if kind != "credential" or not raw_id.isdigit():
        return None
    card_id = int(raw_id)
    if card_id not in _card_facts:
        its_session = select(Deputy.session_id).join(Credential, Credential.deputy_id == Deputy.id).where(Credential.id == card_id)
        rows = db.session.execute(
            select(Credential.id, Credential.deputy_id, Deputy.session_id)
            .join(Deputy, Deputy.id == Credential.deputy_id)
            .where(Deputy.session_id == its_session.scalar_subquery())
        )
        _card_facts.update({row.id: (row.deputy_id, row.session_id) for row in rows})
    facts = _card_facts.get(card_id)
    return CastingCard(card_id, *facts, epoch) if facts is not None else None


def remember_card(card) -> None:
    """Keep this worker's copy of a card just loaded in full (and put it right, should the
    database have been restored under a running worker)."""
    _card_facts[card.id] = (card.deputy_id, card.deputy.session_id)


def forget_card(card_id: int) -> None:
    _card_facts.pop(card_id, None)


def end_all_sessions(principal) -> None:
    """Every session cookie signed in as this principal stops working (sign-out, new factors)."""
    principal.session_epoch += 1
    db.session.flush()


# ---- the sign-in lock ----------------------------------------------------------------------
# An account lock that anyone could set by guessing would let an outsider keep `staff` locked
# out for ever. Instead (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"):
# a browser that signed in to the account before carries a signed device cookie and has a
# lock of its own; every other client is counted per address, and all of them together
# against a ceiling (NIST SP 800-63B 5.2.2: at most 100 consecutive failures on an account).
# Each new lock of the same client lasts twice as long as the one before.

LOGIN_MAX_FAILURES = 10
LOGIN_LOCK_MINUTES = 15
UNTRUSTED = "untrusted"
UNTRUSTED_MAX_FAILURES = 100
UNTRUSTED_LOCK_MINUTES = 60  # so unknown clients get at most 100 guesses an hour (OWASP ASVS 2.2.1)
LOCK_MAX_MINUTES = 24 * 60


@dataclass(frozen=True)
class Client:
    """Who is typing, as the lock sees it: `address` is a keyed digest of the client's address
    (never the address), `devices` the accounts this browser signed in to before, each with
    its device cookie's nonce."""

    address: str
    devices: Mapping[int, str] = field(default_factory=dict)

    def is_trusted(self, user_id: int) -> bool:
        return user_id in self.devices

    def key(self, user_id: int) -> str:
        return f"device:{self.devices[user_id]}" if self.is_trusted(user_id) else f"address:{self.address}"

    def buckets(self, user_id: int) -> tuple[str, ...]:
        """The rows a wrong guess counts in: a known device only in its own."""
        return (self.key(user_id),) if self.is_trusted(user_id) else (self.key(user_id), UNTRUSTED)


def _limits(bucket: str) -> tuple[int, int]:
    return (UNTRUSTED_MAX_FAILURES, UNTRUSTED_LOCK_MINUTES) if bucket == UNTRUSTED else (LOGIN_MAX_FAILURES, LOGIN_LOCK_MINUTES)


def lock_length_minutes(first_lock_minutes: int, strikes: int) -> int:
    """The length of the lock a client gets for its `strikes`-th lock in a row: doubling, capped."""
    return min(first_lock_minutes * 2 ** min(strikes - 1, 16), LOCK_MAX_MINUTES)


def _is_locked(now: datetime):
    return SignInThrottle.locked_until > now


def is_held(user_id: int, client: Client, now: datetime) -> bool:
    """Whether this client may not try this account's password or code now."""
    return db.session.scalar(
        select(SignInThrottle.id).where(SignInThrottle.user_id == user_id,
                                        SignInThrottle.client.in_(client.buckets(user_id)), _is_locked(now)).limit(1)
    ) is not None


def count_failure(user_id: int, client: Client, now: datetime) -> bool:
    """Count one wrong password or code in each of the client's rows, atomically (parallel
    guesses all count); the guess that reaches a row's limit sets its lock. True when the
    client is now held."""
    buckets = client.buckets(user_id)
    insert = dialect_insert(db.engine.dialect.name)
    db.session.execute(
        insert(SignInThrottle).values([{"user_id": user_id, "client": bucket, "failures": 0, "strikes": 0} for bucket in buckets])
        .on_conflict_do_nothing(index_elements=["user_id", "client"])
    )
    held = False
    for bucket in buckets:
        max_failures, first_lock = _limits(bucket)
        row = (SignInThrottle.user_id == user_id, SignInThrottle.client == bucket)
        count = db.session.execute(
            update(SignInThrottle).where(*row, _not_locked(SignInThrottle, now)).values(failures=SignInThrottle.failures + 1)
            .returning(SignInThrottle.failures).execution_options(synchronize_session=False)
        ).scalar()
        if count is None:  # locked by a parallel guess meanwhile
            held = True
            continue
        if count < max_failures:
            continue
        strikes = db.session.execute(
            update(SignInThrottle).where(*row, SignInThrottle.failures >= max_failures)
            .values(failures=0, strikes=SignInThrottle.strikes + 1)
            .returning(SignInThrottle.strikes).execution_options(synchronize_session=False)
        ).scalar()
        if strikes is not None:
            db.session.execute(
                update(SignInThrottle).where(*row).values(locked_until=now + timedelta(minutes=lock_length_minutes(first_lock, strikes)))
                .execution_options(synchronize_session=False)
            )
        held = True
    return held


def clear_failures(user_id: int, client: Client, now: datetime) -> bool:
    """A complete sign-in forgets the client's own wrong guesses and the unknown clients'
    run of them (NIST: consecutive failures), but not their lock, and drops the rows of
    addresses that never reached a lock, so guesses from many addresses leave no pile of
    rows. False when a parallel guess locked the client meanwhile."""
    db.session.execute(
        delete(SignInThrottle).where(SignInThrottle.user_id == user_id, SignInThrottle.client.startswith("address:"),
                                     SignInThrottle.strikes == 0, _not_locked(SignInThrottle, now))
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(SignInThrottle).where(SignInThrottle.user_id == user_id, SignInThrottle.client == client.key(user_id),
                                     _not_locked(SignInThrottle, now))
        .values(failures=0, strikes=0, locked_until=None).execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(SignInThrottle).where(SignInThrottle.user_id == user_id, SignInThrottle.client == UNTRUSTED,
                                     _not_locked(SignInThrottle, now))
        .values(failures=0).execution_options(synchronize_session=False)
    )
    return not is_held(user_id, client, now)


def locks_by_account(now: datetime) -> dict[int, datetime]:
    """For the accounts page: each account some client is locked out of, with the latest end."""
    rows = db.session.execute(
        select(SignInThrottle.user_id, func.max(SignInThrottle.locked_until)).where(_is_locked(now))
        .group_by(SignInThrottle.user_id)
    )
    return dict(rows.all())


def unlock_account(user: User, actor: str) -> None:
    """Every client may try again: the staff page and `flask account-unlock` (audited)."""
    db.session.execute(delete(SignInThrottle).where(SignInThrottle.user_id == user.id))
    audit.record(actor, "account.unlock", f"user:{user.id}")


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    held: bool = False


def _nothing() -> None:
    return None


@cache
def _stand_in_hash() -> str:
    """What an unknown username's password is checked against, so it costs the same argon2."""
    return _hasher.hash(secrets.token_urlsafe(16))


def authenticate(username: str, password: str, client: Client, start_writing: Callable[[], None] = _nothing) -> SignInResult:
    """One outcome for every failure, so the page cannot tell an unknown account from a known
    or a locked one (OWASP Authentication Cheat Sheet), and each takes one argon2 check and
    the write turn. The password is checked (about 0.1 s) before `start_writing` takes the
    write lock, so a flood of guesses never queues ballots behind hashing."""
    user = db.session.scalar(select(User).where(User.username == username.strip()))
    known = user is not None and user.is_active
    matches = secret_matches(user.password_hash if known else _stand_in_hash(), password)
    now = utcnow()
    held = known and is_held(user.id, client, now)
    start_writing()
    if not known:
        return SignInResult(None)
    if held:
        return SignInResult(None, held=True)
    if not matches:
        return SignInResult(None, held=count_failure(user.id, client, now))
    if user.has_second_factor:  # only the code completes a sign-in, and only it clears the count
        return SignInResult(user)
    return SignInResult(user) if clear_failures(user.id, client, now) else SignInResult(None, held=True)


def _failure_counter(model):
    """Cards count wrong PINs and carry their own lock: a card token is a secret, so no
    outsider can name a card to lock it."""
    return model.failed_pins


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


HELD_ON_PAGE = _l("Too many wrong attempts from this device. Try again later, or ask the committee staff to unlock the account.")


def _confirm_password(user: User, password: str, client: Client, start_writing: Callable[[], None]) -> None:
    """A session alone must not change the sign-in factors: a borrowed or stolen session
    could otherwise lock the owner out with the thief's phone. A wrong password here counts
    towards the same lock as at sign-in, or a stolen session would be a way round it; it is
    checked before `start_writing` takes the write lock, as at sign-in."""
    now = utcnow()
    if is_held(user.id, client, now):
        raise SecondFactorError(HELD_ON_PAGE, "password")
    if not secret_matches(user.password_hash, password):
        start_writing()
        count_failure(user.id, client, now)
        raise SecondFactorError(_l("This is not the account's password."), "password")


def enable_second_factor(user: User, password: str, secret: str, code: str, actor: str, client: Client,
                         start_writing: Callable[[], None] = _nothing) -> None:
    """A wrong code here is a typo of the new key shown on the page, not a guess: not counted."""
    _confirm_password(user, password, client, start_writing)
    step = _accepted_step(secret, code, None, utcnow())
    if step is None:
        raise SecondFactorError(_l("The code does not match. Check the phone's clock and type the code shown now."), "code")
    start_writing()
    user.totp_secret, user.totp_last_step = secret, step
    end_all_sessions(user)
    audit.record(actor, "account.second_factor_on", f"user:{user.id}")


def disable_second_factor(user: User, password: str, code: str, actor: str, client: Client,
                          start_writing: Callable[[], None] = _nothing) -> None:
    """A wrong code here is a guess at the factor in place, and counts like one at sign-in."""
    _confirm_password(user, password, client, start_writing)
    step = _accepted_step(user.totp_secret or "", code, user.totp_last_step, utcnow()) if user.totp_secret else None
    start_writing()
    if step is None:
        count_failure(user.id, client, utcnow())
        raise SecondFactorError(_l("The code does not match. Type the code your authenticator app shows now."), "code")
    user.totp_secret, user.totp_last_step = None, None
    end_all_sessions(user)
    audit.record(actor, "account.second_factor_off", f"user:{user.id}")


def reset_second_factor(user: User, actor: str) -> None:
    """For a lost phone: the server operator removes the factor (CLI), recorded in the audit log."""
    user.totp_secret, user.totp_last_step = None, None
    end_all_sessions(user)
    audit.record(actor, "account.second_factor_reset", f"user:{user.id}")


def check_second_factor(user_id: int, code: str, client: Client) -> SignInResult:
    """The second step of an account's sign-in. Wrong codes count towards the same lock as
    wrong passwords, so the six digits cannot be guessed either."""
    user = db.session.scalar(
        select(User).where(User.id == user_id).with_for_update().execution_options(populate_existing=True)
    )
    if user is None or not user.is_active or not user.has_second_factor:
        return SignInResult(None)
    now = utcnow()
    if is_held(user.id, client, now):
        return SignInResult(None, held=True)
    step = _accepted_step(user.totp_secret, code, user.totp_last_step, now)
    if step is None:
        return SignInResult(None, held=count_failure(user.id, client, now))
    user.totp_last_step = step
    db.session.flush()
    return SignInResult(user) if clear_failures(user.id, client, now) else SignInResult(None, held=True)


def create_user(username: str, display_name: str, role: str, password: str, actor: str = "system",
                department: Department | None = None) -> User:
    """A department officer's account is bound to its department (one of the managed list, found
    or added by the caller); no other role has one."""
    from voting_app.permissions import DEPARTMENT_OFFICER

    if db.session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DomainError(_l("This username is taken."))
    if role == DEPARTMENT_OFFICER and department is None:
        raise DomainError(_l("A department officer's account needs its department."))
    if role != DEPARTMENT_OFFICER and department is not None:
        raise DomainError(_l("Only department officers' accounts are bound to a department."))
    user = User(username=username, display_name=display_name, role=role, password_hash=hash_secret(password),
                department_id=department.id if department else None)
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "account.create", f"user:{user.id}", username=username, role=role,
                 department=department.name if department else "")
    return user
