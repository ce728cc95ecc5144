"""Voting credentials, rounds, candidates and ballots.

Secrecy lives in the shape of the tables. While a round is open, `sealed_ballots` holds each
ballot sealed to the session's key (`ballot_keys`), whose private half exists only as the
scrutineers' printed shares; `ballot_markers` records who has voted and nothing of what. When
k scrutineers open the round's ballots, `ballots` receives choices under a random receipt and
nothing else (no deputy, no time, no sequential key; on SQLite a WITHOUT ROWID table, so it is
stored in receipt order), all in one transaction, and the sealed copies are deleted.
"""

import hashlib
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, Numeric, String, Text, UniqueConstraint, event, text, update
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from voting_app.ballots import profile_rules
from voting_app.ballots.counting import BASE_ROSTER, DEFAULT_SATISFACTION_BAR
from voting_app.ballots.profile_rules import RuleProfile
from voting_app.db import db, utcnow
from voting_app.permissions import DEPUTY
from voting_app.registry.models import Congress
from voting_app.sessions.models import CongressSession, Deputy

DRAFT, OPEN, CLOSED, CONFIRMED, ANNOUNCED = "draft", "open", "closed", "confirmed", "announced"
VOID = "void"  # declared void by the presiding officer and a scrutineer: its ballots never count
ROUND_STATES = (DRAFT, OPEN, CLOSED, CONFIRMED, ANNOUNCED, VOID)
ELECTRONIC, PAPER = "electronic", "paper"
REGULAR, RUNOFF, FURTHER = "regular", "runoff", "further"


class Credential(db.Model):
    """A deputy's voting card for one session: a QR token and a PIN, stored as hashes."""

    __tablename__ = "credentials"
    # One working card per deputy, also when two staff issue cards at the same moment.
    __table_args__ = (
        Index(
            "uq_credentials_active_deputy",
            "deputy_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(255))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    failed_pins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    # Raised when the deputy signs out: a copied session cookie of this card stops working.
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")

    deputy: Mapped[Deputy] = relationship()

    role = DEPUTY

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def label(self) -> str:
        return self.deputy.name

    @property
    def session_id(self) -> int:
        """The congress session the card votes in (as `auth.service.CastingCard` has it)."""
        return self.deputy.session_id

    def get_id(self) -> str:
        return f"credential:{self.id}"


class BallotKey(db.Model):
    """A session's sealing key: the public half. The private half was split into k-of-n shares,
    printed once at the key ceremony and never stored."""

    __tablename__ = "ballot_keys"
    # One key in force per session; a new ceremony retires the old key.
    __table_args__ = (
        Index(
            "uq_ballot_keys_active_session",
            "session_id",
            unique=True,
            sqlite_where=text("retired_at IS NULL"),
            postgresql_where=text("retired_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("congress_sessions.id"), index=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    share_set: Mapped[int]  # SLIP-39's identifier: printed on every share of this key
    threshold: Mapped[int]
    share_count: Mapped[int]
    holders: Mapped[list] = mapped_column(JSON, default=list)
    share_digests: Mapped[list] = mapped_column(JSON, default=list)
    # When each share was last shown to be good (checked alone, or in a rehearsal or a count).
    share_checked_at: Mapped[list] = mapped_column(JSON, default=list)
    test_ballot: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(120))
    rehearsed_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]

    @property
    def checked_times(self) -> list[datetime | None]:
        return [datetime.fromisoformat(at) if at else None for at in self.share_checked_at or [None] * self.share_count]

    @property
    def fingerprint(self) -> str:
        """Short enough to read aloud and compare with the ceremony record."""
        digest = hashlib.sha256(self.public_key).hexdigest().upper()
        return " ".join(digest[i : i + 4] for i in range(0, 16, 4))


class RuleProfileVersion(db.Model):
    """One saved version of a congress's 票决办法 (profile_rules), never changed once written:
    each edit or import adds a version, the newest is in force, and a round points at the
    version it copied. A congress with no version votes under the defaults."""

    __tablename__ = "rule_profile_versions"
    # Two saves at the same moment would both take the next number: the key refuses the second.
    __table_args__ = (UniqueConstraint("congress_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congresses.id"), index=True)
    number: Mapped[int]
    document: Mapped[str] = mapped_column(Text)  # the profile file, as exported
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    congress: Mapped[Congress] = relationship()

    @property
    def profile(self) -> RuleProfile:
        return profile_rules.loads(self.document)


def _rules_matching_columns(context) -> str:
    """A round made without a copy of the rules (only tests and old code build one directly)
    gets the defaults, with its own pass base and bar, as the migration gave the rounds before it."""
    row = context.get_current_parameters()
    base, bar = row.get("threshold_base"), row.get("satisfaction_bar")
    copy = profile_rules.DEFAULT_PROFILE.for_round(
        BASE_ROSTER if base is None else base, DEFAULT_SATISFACTION_BAR if bar is None else bar
    )
    return profile_rules.to_json(copy)


class Round(db.Model):
    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("congress_sessions.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(20))
    seats: Mapped[int]
    threshold_base: Mapped[str] = mapped_column(String(10), default="roster")
    # Satisfaction assessments: the rate (percent) under which a project goes to rectification.
    satisfaction_bar: Mapped[int] = mapped_column(default=60)
    mode: Mapped[str] = mapped_column(String(10), default=ELECTRONIC)
    # The rules (票决办法) the round was created under: its own copy of its congress's profile,
    # with the round's pass base and bar, kept whatever later happens to the profile. Follow-up
    # rounds copy their parent's. `rule_profile_version_id` names the version copied (None:
    # the congress had none, so the defaults). `grading` is the copy's for a satisfaction
    # assessment, "bar" otherwise.
    rules_json: Mapped[str] = mapped_column(Text, default=_rules_matching_columns)
    rule_profile_version_id: Mapped[int | None] = mapped_column(ForeignKey("rule_profile_versions.id"))
    grading: Mapped[str] = mapped_column(String(10), default=profile_rules.GRADING_BAR, server_default=profile_rules.GRADING_BAR)
    kind: Mapped[str] = mapped_column(String(10), default=REGULAR)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id"))
    state: Mapped[str] = mapped_column(String(10), default=DRAFT)
    # Raised by every change to the round or its candidates (`_bump_round_version`): what a
    # worker cached of the round for casting stays good exactly while this number stays.
    state_version: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    announced_at: Mapped[datetime | None]
    announced_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Frozen at close: the figures the count uses.
    roster_count: Mapped[int | None]
    present_count: Mapped[int | None]
    issued_count: Mapped[int | None]
    board_digest: Mapped[str | None] = mapped_column(String(80))
    # Electronic rounds: the key their ballots are sealed to, copied in when the round opens.
    key_id: Mapped[int | None] = mapped_column(ForeignKey("ballot_keys.id"))
    seal_key: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    unsealed_at: Mapped[datetime | None]
    # Declaring a round void takes two people: the presiding officer asks, with a reason, and a
    # scrutineer confirms. Its ballots stay as they were (sealed ones sealed) and never count.
    void_reason: Mapped[str | None] = mapped_column(Text)
    void_requested_at: Mapped[datetime | None]
    void_requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    voided_at: Mapped[datetime | None]
    voided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # An electronic round the presiding officer switched to paper when the system failed in
    # the hall (`mode` became paper): when, by whom and why. What was cast before stays sealed;
    # the deputies present who had not voted got paper ballots.
    paper_from_at: Mapped[datetime | None]
    paper_from_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    paper_reason: Mapped[str | None] = mapped_column(Text)
    # Frozen at the close of a switched round: who voted by phone shrinks to how many, and the
    # paper ballots the desk issued; ballots issued = the two together.
    phone_voters: Mapped[int | None]
    paper_issued: Mapped[int | None]
    # When two scrutineers' keyed entries agreed and the paper ballots joined the round's ballots.
    paper_stored_at: Mapped[datetime | None]

    session: Mapped[CongressSession] = relationship()
    rule_profile_version: Mapped[RuleProfileVersion | None] = relationship()
    parent: Mapped["Round | None"] = relationship(remote_side=[id])
    candidates: Mapped[list["Candidate"]] = relationship(
        back_populates="round", order_by="Candidate.position", cascade="all, delete-orphan"
    )

    @property
    def is_counted(self) -> bool:
        return self.state in (CONFIRMED, ANNOUNCED)

    @property
    def rules(self) -> RuleProfile:
        return profile_rules.loads(self.rules_json)

    @property
    def is_void_requested(self) -> bool:
        """The presiding officer has asked to void it and no scrutineer has answered yet."""
        return self.void_requested_at is not None and self.state != VOID

    @property
    def is_switched_to_paper(self) -> bool:
        """Begun electronically, continued on paper after the system failed."""
        return self.paper_from_at is not None

    @property
    def planned_mode(self) -> str:
        """The mode the round was set up, adopted and announced for: a switch to paper is the
        fallback its 办法 provides, not a change of the 办法."""
        return ELECTRONIC if self.is_switched_to_paper else self.mode

    @property
    def is_sealed(self) -> bool:
        """Its ballots exist only sealed: k scrutineers must open them before any count."""
        return self.seal_key is not None and self.unsealed_at is None


@event.listens_for(Round, "before_update")
def _bump_round_version(mapper, connection, round_: Round) -> None:
    """In SQL (state_version + 1), not from the loaded number, so two changes in a row, or one
    made meanwhile by a candidate's change, never leave the number where it was."""
    if object_session(round_).is_modified(round_, include_collections=False):
        round_.state_version = Round.state_version + 1


class Candidate(db.Model):
    __tablename__ = "candidates"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    investment: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    department: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(200), default="", server_default="")
    planned_completion: Mapped[date | None]
    source_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"))
    # The livelihood project this candidate stands for: the one it became once passed, or,
    # in a satisfaction assessment, the delivered project being rated.
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)

    round: Mapped[Round] = relationship(back_populates="candidates")


@event.listens_for(Candidate, "after_insert")
@event.listens_for(Candidate, "after_update")
@event.listens_for(Candidate, "after_delete")
def _bump_round_of_candidate(mapper, connection, candidate: Candidate) -> None:
    """A candidate added, edited or removed changes its round's ballot."""
    connection.execute(
        update(Round.__table__).where(Round.__table__.c.id == candidate.round_id).values(state_version=Round.__table__.c.state_version + 1)
    )

class Ballot(db.Model):
    """One cast ballot: a random receipt and the choices, nothing that names the voter."""

    __tablename__ = "ballots"
    __table_args__ = {"sqlite_with_rowid": False}

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    receipt: Mapped[str] = mapped_column(String(32), primary_key=True)
    choices: Mapped[object] = mapped_column(JSON, nullable=True)


class SealedBallot(db.Model):
    """A ballot as cast: receipt and choices sealed together, padded to one size per round."""

    __tablename__ = "sealed_ballots"
    __table_args__ = {"sqlite_with_rowid": False}

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    # Random, so the key orders nothing; the ciphertext stays out of the index (PostgreSQL
    # caps an index entry near 2.7 kB, which a ballot of a hundred candidates would pass).
    id: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class BallotMarker(db.Model):
    """That a deputy has voted in a round; the database allows one per deputy per round.

    No time, and nothing of the ballot: `ticket_check` is a hash of a random nonce from the
    signed ticket the ballot was cast with, so a retry of that same submission is told apart
    from a second ballot without any receipt stored in clear."""

    __tablename__ = "ballot_markers"
    __table_args__ = {"sqlite_with_rowid": False}

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), primary_key=True)
    deputy_id: Mapped[int] = mapped_column(ForeignKey("deputies.id"), primary_key=True)
    ticket_check: Mapped[str | None] = mapped_column(String(64))


class PaperEntry(db.Model):
    """One scrutineer's independent keying of a paper round's ballots."""

    __tablename__ = "paper_entries"
    __table_args__ = (UniqueConstraint("round_id", "scrutineer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    scrutineer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ballots: Mapped[list] = mapped_column(JSON, default=list)
    submitted_at: Mapped[datetime | None]

    scrutineer = relationship("User")
