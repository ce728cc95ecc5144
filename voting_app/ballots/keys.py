"""The key ceremony, share checks and rebuilding a session's key from the scrutineers' shares.

Services flush and never commit. The shares pass through here as text and are never stored,
logged or put in the audit log: only their numbers are recorded.
"""

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from voting_app import audit
from voting_app.ballots import sealing
from voting_app.ballots.models import CLOSED, OPEN, BallotKey, Round, SealedBallot
from voting_app.db import db, utcnow
from voting_app.errors import ConflictError, DomainError
from voting_app.sessions.models import CongressSession

DEFAULT_THRESHOLD, DEFAULT_SHARES = 2, 3  # two of three: one lost or absent share still counts


def active_key(session_id: int) -> BallotKey | None:
    return db.session.scalar(select(BallotKey).where(BallotKey.session_id == session_id, BallotKey.retired_at.is_(None)))


def rounds_holding_sealed_ballots(session_id: int) -> list[Round]:
    """Rounds whose ballots the key in force must still open: open ones, and closed ones not yet opened."""
    rounds = db.session.scalars(
        select(Round).where(Round.session_id == session_id, Round.state.in_((OPEN, CLOSED)), Round.seal_key.is_not(None))
    )
    return [r for r in rounds if r.state == OPEN or r.is_sealed]


def hold_ceremony(actor: str, congress: CongressSession, threshold: int, share_count: int, holders: list[str]):
    """Make the session's key pair and split the private key; returns (key, ceremony) where the
    ceremony's shares must be printed now, as they exist nowhere else."""
    try:
        sealing.check_threshold(threshold, share_count)
    except ValueError as error:
        raise DomainError(_threshold_message(str(error))) from error
    # Lock out a concurrent ceremony or a round opening under the old key (PostgreSQL row lock).
    db.session.execute(select(CongressSession.id).where(CongressSession.id == congress.id).with_for_update())
    waiting = rounds_holding_sealed_ballots(congress.id)
    if waiting:
        raise ConflictError(
            _l(
                "“%(title)s” still holds ballots sealed to the present key. Count it before making a new key.",
                title=waiting[0].title,
            )
        )
    previous = active_key(congress.id)
    if previous is not None:
        previous.retired_at = utcnow()
        db.session.flush()
    ceremony = sealing.hold_ceremony(threshold, share_count)
    names = [(holders[i].strip() if i < len(holders) else "")[:60] for i in range(share_count)]
    key = BallotKey(
        session_id=congress.id,
        public_key=ceremony.public_key,
        share_set=ceremony.share_set,
        threshold=threshold,
        share_count=share_count,
        holders=names,
        share_digests=list(ceremony.share_digests),
        share_checked_at=[None] * share_count,
        test_ballot=ceremony.test_ballot,
        created_by=actor,
    )
    db.session.add(key)
    db.session.flush()
    audit.record(
        actor,
        "key.ceremony",
        f"session:{congress.id}",
        key=key.id,
        fingerprint=key.fingerprint,
        share_set=key.share_set,
        threshold=threshold,
        shares=share_count,
        holders=names,
        replaces=previous.id if previous is not None else None,
    )
    return key, ceremony


def _threshold_message(problem: str):
    if problem == "share_count":
        return _l("Make between 1 and %(most)s shares.", most=sealing.MAX_SHARES)
    if problem == "threshold_one":
        return _l("With more than one share, at least 2 must be needed to open the ballots.")
    return _l("The number of shares needed must be between 1 and the number of shares.")


@dataclass(frozen=True)
class ShareReading:
    """One text box of the desk form, read: the share, or why it cannot be used."""

    position: int
    share: sealing.ShareInfo | None
    problem: str | None


def read_shares(key: BallotKey, texts: list[str]) -> list[ShareReading]:
    """Each non-empty box checked alone: words, checksum, this key's set, this share's digest."""
    readings = []
    for position, text in enumerate(texts, start=1):
        if not text.strip():
            continue
        try:
            share = sealing.describe_share(text)
        except sealing.ShareError as error:
            readings.append(ShareReading(position, None, str(share_error_message(error))))
            continue
        if share.share_set != key.share_set or share.threshold != key.threshold or share.number > key.share_count:
            readings.append(ShareReading(position, None, str(share_error_message(sealing.ShareError(sealing.OTHER_SET)))))
        elif sealing.share_digest(share.mnemonic) != key.share_digests[share.number - 1]:
            readings.append(ShareReading(position, None, str(share_error_message(sealing.ShareError(sealing.BAD_SHARE)))))
        else:
            readings.append(ShareReading(position, share, None))
    return readings


def share_error_message(error: sealing.ShareError):
    details = error.details
    return {
        sealing.UNKNOWN_WORD: lambda: _l(
            "Word %(position)s (“%(word)s”) is not a share word. Check it against the printed share.",
            position=details.get("position"),
            word=details.get("word"),
        ),
        sealing.BAD_SHARE: lambda: _l(
            "These words do not make a valid share: a word is missing, extra or mistyped. Check them against the printed share."
        ),
        sealing.OTHER_SET: lambda: _l(
            "This share belongs to another key (another session, or a key made before the present one)."
        ),
        sealing.DUPLICATE: lambda: _l("Share %(number)s was given twice.", number=details.get("number")),
        sealing.TOO_FEW: lambda: _l(
            "%(needed)s shares are needed to open the ballots; %(given)s valid share(s) were given. The count is refused.",
            needed=details.get("needed"),
            given=details.get("given"),
        ),
        sealing.WRONG_KEY: lambda: _l("These shares do not open the key the ballots were sealed to."),
    }[error.reason]()


def _good_shares(key: BallotKey, texts: list[str]) -> list[sealing.ShareInfo]:
    """The shares in the desk form's boxes, or a DomainError naming the first bad box."""
    readings = read_shares(key, texts)
    bad = [r for r in readings if r.problem]
    if bad:
        raise DomainError(_l("Share box %(position)s: %(problem)s", position=bad[0].position, problem=bad[0].problem))
    return [r.share for r in readings]


def _rebuild(key: BallotKey, shares: list[sealing.ShareInfo], public_key: bytes):
    if len(shares) < key.threshold:
        raise DomainError(share_error_message(sealing.ShareError(sealing.TOO_FEW, given=len(shares), needed=key.threshold)))
    try:
        return sealing.rebuild_key(shares, public_key)
    except sealing.ShareError as error:
        raise DomainError(share_error_message(error)) from error


def rebuild(key: BallotKey, texts: list[str], public_key: bytes | None = None):
    """(private key, share numbers used) from the desk form, or a DomainError saying what is
    wrong: a bad share by its box, or how many shares are still needed."""
    shares = _good_shares(key, texts)
    return _rebuild(key, shares, public_key or key.public_key), sorted(share.number for share in shares)


def mark_checked(key: BallotKey, numbers: list[int]) -> None:
    now = utcnow().isoformat(timespec="seconds")
    checked = list(key.share_checked_at or [None] * key.share_count)
    for number in numbers:
        checked[number - 1] = now
    key.share_checked_at = checked


@dataclass(frozen=True)
class ShareCheck:
    numbers: list[int]  # the shares found good
    test_phrase: str | None  # the opened test ballot, when enough shares were given


def check_shares(actor: str, key: BallotKey, texts: list[str]) -> ShareCheck:
    """Before the session: one share alone is checked against this key; with enough shares the
    rehearsal opens the test ballot sealed at the ceremony, exactly as a count would."""
    shares = _good_shares(key, texts)
    if not shares:
        raise DomainError(_l("Scan or type at least one share."))
    numbers = sorted(share.number for share in shares)
    if len(set(numbers)) != len(numbers):
        raise DomainError(share_error_message(sealing.ShareError(sealing.DUPLICATE, number=_first_repeat(numbers))))
    phrase = None
    if len(numbers) >= key.threshold:
        phrase = sealing.open_test_ballot(_rebuild(key, shares, key.public_key), key.test_ballot)
        key.rehearsed_at = utcnow()
    mark_checked(key, numbers)
    db.session.flush()
    audit.record(actor, "key.rehearsal" if phrase else "key.check", f"session:{key.session_id}", key=key.id, shares=numbers)
    return ShareCheck(numbers, phrase)


def _first_repeat(numbers: list[int]) -> int:
    return next(n for i, n in enumerate(numbers) if n in numbers[:i])


def require_key_for_opening(round_: Round) -> BallotKey:
    """The key in force, read under the session's row lock (PostgreSQL), which a ceremony also
    takes: a round never opens under a key a simultaneous ceremony is retiring."""
    db.session.execute(select(CongressSession.id).where(CongressSession.id == round_.session_id).with_for_update(read=True))
    key = active_key(round_.session_id)
    if key is None:
        raise DomainError(
            _l("Hold the key ceremony for this session before opening an electronic round: the ballots are sealed to its key.")
        )
    return key


def has_sealed_ballots(round_id: int) -> bool:
    return db.session.scalar(select(exists().where(SealedBallot.round_id == round_id)))
