"""Rounds, casting, counting and the paper-ballot double entry.

Services flush and never commit: the request (or CLI command) owns the transaction.
State moves only through the transition functions here, each refusing a bad move.
"""

import hashlib
import json
import re
import secrets
import weakref
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, delete, exists, func, insert, select
from sqlalchemy.engine import Engine

from voting_app import audit
from voting_app.codes import normalise_code
from voting_app.auth.models import User
from voting_app.ballots import board as board_format
from voting_app.ballots import keys, numbering, profile_rules, profiles, sealing
from voting_app.ballots.counting import (
    CHOOSE_UP_TO,
    FOR_AGAINST,
    MARK_ABSTAIN,
    MARKS,
    RANK,
    RATINGS,
    DEFAULT_SATISFACTION_BAR,
    SATISFACTION,
    CountResult,
    RoundRules,
    count,
    normalise_choices,
)
from voting_app.ballots.models import (
    ANNOUNCED,
    CLOSED,
    CONFIRMED,
    DRAFT,
    ELECTRONIC,
    FURTHER,
    OPEN,
    PAPER,
    REGULAR,
    RUNOFF,
    VOID,
    Ballot,
    BallotKey,
    BallotMarker,
    Candidate,
    Credential,
    PaperEntry,
    Round,
    SealedBallot,
)
from voting_app.ballots.profile_rules import MARGIN_METHODS, MarginCheck, QuorumCheck, RuleProfile, check_margin, check_quorum
from voting_app.db import db, dialect_insert, scrub_after_commit, transaction_from_here, utcnow
from voting_app.documents import adoption
from voting_app.errors import ConflictError, DomainError
from voting_app.permissions import PRESIDING, SCRUTINEER
from voting_app.sessions.models import CongressSession, Deputy
from voting_app.registry.roster import number_sort_key
from voting_app.sessions.service import presence

RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L: read aloud and typed back
# Four groups, about 78 bits: receipts are sealed until the count, so two deputies drawing the
# same one could not be caught when they cast; at this size it never happens.
RECEIPT_GROUPS = 4
RECEIPT_LENGTH = RECEIPT_GROUPS * 5 - 1
RECEIPT_PATTERN = re.compile(rf"[{RECEIPT_ALPHABET}]{{4}}(-[{RECEIPT_ALPHABET}]{{4}}){{{RECEIPT_GROUPS - 1}}}")
BALLOT_TABLES = ("ballots", "sealed_ballots", "ballot_markers")


def new_receipt() -> str:
    """Random, unordered and unlinkable: four groups of four."""
    groups = ["".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(4)) for _ in range(RECEIPT_GROUPS)]
    return "-".join(groups)


def receipt_as_typed(typed: str) -> str:
    """A receipt typed back from paper or a phone, in the form the board prints it: case,
    spaces and dashes ignored by the same rule as every other typed code (`normalise_code`),
    then grouped in fours again. Anything that is not a receipt's length comes back as typed
    (cleaned), so the page can say that no ballot has it."""
    code = normalise_code(typed or "")
    if len(code) != RECEIPT_GROUPS * 4:
        return code
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _lock_round(round_: Round) -> None:
    """Row-lock the round exclusively and reload its state and mode (PostgreSQL; SQLite already
    serialises writers). Casting share-locks it (`_cast_state`), so no ballot can slip in
    between the close's count of the ballots (or the switch to paper) and its commit.
    """
    state, mode = db.session.execute(select(Round.state, Round.mode).where(Round.id == round_.id).with_for_update()).one()
    if (state, mode) != (round_.state, round_.mode):
        db.session.refresh(round_)


def _require_state(round_: Round, *states: str) -> None:
    if round_.state not in states:
        raise ConflictError(_l("This round is %(state)s; the action is not possible now.", state=state_label(round_.state)))


def state_label(state: str):
    return {
        DRAFT: _l("in preparation"),
        OPEN: _l("open for voting"),
        CLOSED: _l("closed, awaiting confirmation"),
        CONFIRMED: _l("confirmed by the scrutineers"),
        ANNOUNCED: _l("announced"),
        VOID: _l("declared void"),
    }[state]


# ---- preparing a round ---------------------------------------------------------------


def create_round(
    actor: str,
    congress: CongressSession,
    title: str,
    method: str,
    seats: int,
    threshold_base: str | None,
    mode: str,
    satisfaction_bar: int | None = None,
) -> Round:
    """A draft round under the 票决办法 in force for the session's congress, which the round
    copies: a later edit of the profile never reaches it. The pass base and the bar default to
    the profile's (None); a method the profile does not allow is refused."""
    profile, version = profiles.profile_in_force(congress.term.congress_id)
    return _new_round(
        actor, congress, title, method, seats, threshold_base, mode, satisfaction_bar, profile, version.id if version else None
    )


def _new_round(
    actor: str,
    congress: CongressSession,
    title: str,
    method: str,
    seats: int,
    threshold_base: str | None,
    mode: str,
    satisfaction_bar: int | None,
    profile: RuleProfile,
    version_id: int | None,
) -> Round:
    _require_allowed(profile, method)
    base = profile.pass_base if threshold_base is None else threshold_base
    if satisfaction_bar is None:
        satisfaction_bar = DEFAULT_SATISFACTION_BAR if profile.satisfaction_bar is None else profile.satisfaction_bar
    copy = profile.for_round(base, satisfaction_bar)
    round_ = Round(
        session_id=congress.id,
        title=title.strip(),
        method=method,
        seats=seats,
        threshold_base=base,
        mode=mode,
        satisfaction_bar=satisfaction_bar,
        rules_json=profile_rules.to_json(copy),
        rule_profile_version_id=version_id,
        grading=copy.grading_for(method),
    )
    db.session.add(round_)
    db.session.flush()
    audit.record(
        actor, "round.create", f"round:{round_.id}", title=round_.title, method=method, seats=seats, rule_profile_version=version_id
    )
    return round_


def _require_allowed(profile: RuleProfile, method: str) -> None:
    if not profile.allows(method):
        raise DomainError(
            _l(
                "The 票决办法 does not allow this ballot method (%(method)s). Allowed: %(allowed)s.",
                method=profiles.method_list([method]),
                allowed=profiles.method_list(profile.methods),
            )
        )


def _require_editable(round_: Round) -> None:
    """A draft first round may change; a follow-up is held as its first round's adopted 票决办法
    gives it (the tied, the remaining or the same candidates, the same method), so it may not."""
    _require_state(round_, DRAFT)
    if round_.parent_id is not None:
        raise DomainError(
            _l("A runoff, a further round or a vote held again keeps the places, candidates and method its first round's "
               "票决办法 gives it. For other candidates, create a new round, whose 票决办法 is adopted before it opens.")
        )


def update_round(
    actor: str,
    round_: Round,
    title: str,
    method: str,
    seats: int,
    threshold_base: str,
    mode: str,
    satisfaction_bar: int = DEFAULT_SATISFACTION_BAR,
) -> None:
    """Change a draft round within the rules it was created under (its own copy)."""
    _require_editable(round_)
    copy = round_.rules.for_round(threshold_base, satisfaction_bar)
    _require_allowed(copy, method)
    round_.title, round_.method, round_.seats = title.strip(), method, seats
    round_.threshold_base, round_.mode, round_.satisfaction_bar = threshold_base, mode, satisfaction_bar
    round_.rules_json, round_.grading = profile_rules.to_json(copy), copy.grading_for(method)
    db.session.flush()
    audit.record(actor, "round.update", f"round:{round_.id}", title=round_.title, method=method, seats=seats)


def add_candidate(
    actor: str,
    round_: Round,
    name: str,
    summary: str = "",
    investment: Decimal | None = None,
    department: str = "",
    planned_completion: date | None = None,
    source_id: int | None = None,
    project_id: int | None = None,
    location: str = "",
) -> Candidate:
    _require_editable(round_)
    if project_id is not None and any(c.project_id == project_id for c in round_.candidates):
        raise DomainError(_l("This project is already on the ballot."))
    position = db.session.scalar(select(func.coalesce(func.max(Candidate.position), 0)).where(Candidate.round_id == round_.id))
    candidate = Candidate(
        position=position + 1,
        name=name.strip(),
        summary=summary.strip(),
        investment=investment,
        department=department.strip(),
        location=location.strip(),
        planned_completion=planned_completion,
        source_id=source_id,
        project_id=project_id,
    )
    round_.candidates.append(candidate)
    db.session.flush()
    audit.record(actor, "candidate.add", f"round:{round_.id}", candidate=candidate.id, name=candidate.name)
    return candidate


def remove_candidate(actor: str, round_: Round, candidate: Candidate) -> None:
    _require_editable(round_)
    audit.record(actor, "candidate.remove", f"round:{round_.id}", candidate=candidate.id, name=candidate.name)
    db.session.delete(candidate)
    db.session.flush()


# ---- conducting a round --------------------------------------------------------------


def open_round(actor: str, round_: Round) -> None:
    """Open the round under its own rules: the 差额 between candidates and places, the adopted
    票决办法 (when the rules ask for one), and the quorum."""
    _lock_round(round_)
    _require_state(round_, DRAFT)
    if not round_.candidates:
        raise DomainError(_l("Add the candidates before opening the round."))
    if round_.method in (CHOOSE_UP_TO, RANK) and round_.seats > len(round_.candidates):
        raise DomainError(_l("There are more seats than candidates."))
    margin = margin_check(round_)
    if margin is not None and not margin.is_met:
        rules = round_.rules
        raise DomainError(
            _l(
                "Too few candidates for the 差额 the 票决办法 asks: %(places)s places need at least %(needed)s candidates "
                "(at least %(extra)s more than the places and at least %(percent)s%% more), and this round has %(count)s.",
                places=margin.places,
                needed=margin.needed,
                extra=rules.margin.extra_candidates,
                percent=rules.margin.extra_percent,
                count=margin.candidates,
            )
        )
    adoption.require_adoption(round_)
    if round_.method == SATISFACTION:
        round_.seats = len(round_.candidates)  # every project is rated; no seats are filled
    figures = round_presence(round_)
    if not figures.has_quorum:
        raise DomainError(
            _l(
                "No quorum: %(present)s of %(roster)s deputies are present; at least %(quorum)s are needed.",
                present=figures.present,
                roster=figures.roster,
                quorum=figures.quorum,
            )
        )
    key = keys.require_key_for_opening(round_) if round_.mode == ELECTRONIC else None  # takes the session's lock
    if key is not None:
        round_.key_id, round_.seal_key = key.id, key.public_key
    round_.state = OPEN
    round_.opened_at = utcnow()
    db.session.flush()
    audit.record(
        actor,
        "round.open",
        f"round:{round_.id}",
        roster=figures.roster,
        present=figures.present,
        quorum=figures.quorum,
        key=key.fingerprint if key is not None else None,
    )


def round_presence(round_: Round) -> QuorumCheck:
    """Roster, present and the quorum under the round's own rules."""
    figures = presence(round_.session_id)
    return check_quorum(figures.roster, figures.present, round_.rules)


def margin_check(round_: Round) -> MarginCheck | None:
    """The 差额 check of a round that elects candidates to places; None where it does not
    apply: other methods, and runoffs and further rounds, which take the candidates left."""
    if round_.kind != REGULAR or round_.method not in MARGIN_METHODS:
        return None
    return check_margin(round_.seats, len(round_.candidates), round_.rules)


def close_round(actor_user: User, round_: Round, issued: int | None = None) -> None:
    """Freeze roster and presence; electronic ballots were issued to every deputy present.

    A round switched to paper needs the paper ballots the desk issued (`issued`): ballots
    issued are then the phone voters plus those, and who voted by phone shrinks to how many
    (see `_rewrite_in_an_order_casting_cannot_explain`)."""
    _lock_round(round_)
    _require_state(round_, OPEN)
    figures = presence(round_.session_id)
    switched = round_.is_switched_to_paper
    if switched and issued is None:
        raise DomainError(_l("Record how many paper ballots the desk issued before closing the round."))
    if issued is not None and issued < 0:
        raise DomainError(_l("The number of ballots issued cannot be negative."))
    phone_voters = paper_issued = None
    if switched:
        phone_voters = db.session.scalar(select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == round_.id))
        if issued > figures.present - phone_voters:
            # A paper ballot goes only to a deputy present who has not voted by phone.
            raise DomainError(
                _l(
                    "At most %(most)s paper ballots can have been issued: %(present)s deputies are present and %(phone)s voted by phone.",
                    most=max(figures.present - phone_voters, 0),
                    present=figures.present,
                    phone=phone_voters,
                )
            )
        paper_issued = issued
        issued = phone_voters + (issued or 0)
    elif round_.mode == ELECTRONIC or issued is None:
        issued = figures.present
    round_.state = CLOSED
    round_.closed_at = utcnow()
    round_.closed_by_id = actor_user.id
    round_.roster_count, round_.present_count, round_.issued_count = figures.roster, figures.present, issued
    round_.phone_voters, round_.paper_issued = phone_voters, paper_issued
    db.session.flush()
    box = _rewrite_in_an_order_casting_cannot_explain(round_.id, keep_markers=not switched)
    audit.record(
        audit.actor_label(actor_user),
        "round.close",
        f"round:{round_.id}",
        roster=figures.roster,
        present=figures.present,
        issued=issued,
        returned=returned_count(round_.id),
        sealed=box if round_.seal_key is not None else None,
        **({"phone_voters": phone_voters, "paper_issued": paper_issued} if switched else {}),
    )


def _rewrite_in_an_order_casting_cannot_explain(round_id: int, keep_markers: bool = True) -> str:
    """Write the round's markers again in deputy order and its sealed ballots under fresh random
    ids, all in one transaction, then scrub the old rows from the files. Returns the digest of
    the box for the audit log.

    Until now a marker's and a sealed ballot's place in storage (SQLite's cells and WAL frames,
    PostgreSQL's ctid and xmin, shared by the two rows of one cast) followed the order of
    casting. The ballots are sealed, so that order links a deputy to nothing readable; after
    this it is gone altogether.

    A round switched to paper keeps no markers (`keep_markers` false): its ballots are later
    pooled with keyed paper ballots, and had the few who voted by phone before the failure
    stayed named, the pool minus the keyed copies would be theirs.
    """
    markers = list(
        db.session.execute(
            select(BallotMarker.deputy_id, BallotMarker.ticket_check)
            .where(BallotMarker.round_id == round_id)
            .order_by(BallotMarker.deputy_id)
        )
    )
    sealed = sorted(bytes(blob) for blob in db.session.scalars(select(SealedBallot.sealed).where(SealedBallot.round_id == round_id)))
    db.session.execute(delete(BallotMarker).where(BallotMarker.round_id == round_id))
    db.session.execute(delete(SealedBallot).where(SealedBallot.round_id == round_id))
    if markers and keep_markers:
        db.session.execute(
            insert(BallotMarker),
            [{"round_id": round_id, "deputy_id": deputy_id, "ticket_check": check} for deputy_id, check in markers],
        )
    if sealed:
        rows = sorted(({"round_id": round_id, "id": secrets.token_bytes(16), "sealed": blob} for blob in sealed), key=lambda r: r["id"])
        db.session.execute(insert(SealedBallot), rows)
    db.session.flush()
    scrub_after_commit(*BALLOT_TABLES)
    return sealed_digest(sealed)


def sealed_digest(sealed: list[bytes]) -> str:
    """What the box held at close, recorded in the keyed audit log: the count checks it, so a
    sealed ballot swapped in later (anyone can seal one with the public key) is found out."""
    digest = hashlib.sha256()
    for blob in sorted(sealed):
        digest.update(hashlib.sha256(blob).digest())
    return digest.hexdigest()


def unseal_round(actor_user: User, round_: Round, share_texts: list[str]) -> int:
    """k scrutineers' shares rebuild the session's key in memory; every sealed ballot is opened,
    and the ballots are written in receipt order as the round's plaintext ballots, all in one
    transaction, while the sealed copies are deleted. Returns the number of ballots opened.

    Nothing of the key is kept: not the shares, not the key, only the share numbers used."""
    db.session.refresh(round_, with_for_update=True)  # a double click waits here and then sees the first one's result
    _require_state(round_, CLOSED)
    _require_no_void_request(round_)
    if not round_.is_sealed:
        raise ConflictError(_l("The ballots of this round have already been opened."))
    if round_.is_switched_to_paper and round_.paper_stored_at is None:
        # Opened alone, the phone ballots would lie in the clear as one group, beside the list of
        # those who voted by phone in any copy of the database taken while the round was open.
        raise ConflictError(
            _l("Key the paper ballots first: the phone ballots of a round continued on paper are opened once the two paper entries agree, and join them.")
        )
    key = db.session.get(BallotKey, round_.key_id)
    private_key, numbers = keys.rebuild(key, share_texts, round_.seal_key)
    sealed = [bytes(blob) for blob in db.session.scalars(select(SealedBallot.sealed).where(SealedBallot.round_id == round_.id))]
    if sealed_digest(sealed) != _box_at_close(round_.id):
        raise ConflictError(
            _l("The sealed ballots differ from those in the box at close: the stored ballots have been tampered with. Do not count this round.")
        )
    voted = round_.phone_voters if round_.is_switched_to_paper else db.session.scalar(
        select(func.count()).select_from(BallotMarker).where(BallotMarker.round_id == round_.id)
    )
    if len(sealed) != voted:
        raise ConflictError(
            _l(
                "The round holds %(sealed)s sealed ballots but %(voted)s deputies voted: the stored ballots have been "
                "tampered with. Do not count this round; keep the database for investigation.",
                sealed=len(sealed),
                voted=voted,
            )
        )
    block, rules = seal_block(round_), ballot_rules(round_)
    opened = []
    try:
        for blob in sealed:
            receipt, choices = sealing.unseal(private_key, blob, round_.id, block)
            if not RECEIPT_PATTERN.fullmatch(receipt):
                raise ValueError("not a receipt")
            normalise_choices(rules, choices)
            opened.append((receipt, choices))
    except ValueError as error:
        raise ConflictError(
            _l("A sealed ballot does not open with this key: the stored ballots have been tampered with. Do not count this round.")
        ) from error
    finally:
        del private_key
    if len({receipt for receipt, _ in opened}) != len(opened):
        raise ConflictError(_l("Two sealed ballots carry the same receipt: the stored ballots have been tampered with."))
    db.session.execute(delete(SealedBallot).where(SealedBallot.round_id == round_.id))
    _pool_ballots(round_.id, opened)
    round_.unsealed_at = utcnow()
    keys.mark_checked(key, numbers)
    db.session.flush()
    scrub_after_commit(*BALLOT_TABLES)
    audit.record(
        audit.actor_label(actor_user), "round.unseal", f"round:{round_.id}", shares=numbers, ballots=len(opened)
    )
    return len(opened)


def _pool_ballots(round_id: int, new: list[tuple[str, object]]) -> None:
    """Add ballots to the round's and write all of them again in receipt order, in this one
    transaction (the caller scrubs the old rows): in a round switched to paper, whichever of
    the opened electronic ballots and the accepted paper ones lands second, nothing in storage
    (SQLite's cells, PostgreSQL's ctid and xmin) tells the two apart afterwards."""
    ballots = sorted([*stored_ballots(round_id), *new], key=lambda ballot: ballot[0])
    db.session.execute(delete(Ballot).where(Ballot.round_id == round_id))
    if ballots:
        db.session.execute(insert(Ballot), [{"round_id": round_id, "receipt": receipt, "choices": choices} for receipt, choices in ballots])


def _box_at_close(round_id: int) -> str | None:
    entry = db.session.scalars(
        select(audit.AuditEntry).where(audit.AuditEntry.action == "round.close", audit.AuditEntry.target == f"round:{round_id}")
        .order_by(audit.AuditEntry.id.desc())
    ).first()
    return entry.details.get("sealed") if entry is not None else None


def seal_block(round_: Round) -> int:
    """The one padded size of this round's sealed ballots, fixed by its candidates: list
    ballots (choose up to N, rank) are padded for the list of every candidate, mark ballots
    for every candidate with the longest mark."""
    return _block(round_.id, round_.method, tuple(c.id for c in round_.candidates))


def _block(round_id: int, method: str, candidate_ids: tuple[int, ...]) -> int:
    marks = {CHOOSE_UP_TO: (), RANK: (), SATISFACTION: RATINGS}.get(method, MARKS)
    return sealing.ballot_block(round_id, candidate_ids, marks, RECEIPT_LENGTH)


def confirm_round(actor_user: User, round_: Round) -> CountResult:
    """A scrutineer who did not close the round confirms the count (two-person rule)."""
    _lock_round(round_)
    _require_state(round_, CLOSED)
    _require_no_void_request(round_)
    if actor_user.role != SCRUTINEER:
        raise DomainError(_l("Only a scrutineer can confirm the count."))
    if actor_user.id == round_.closed_by_id:
        raise DomainError(_l("The count must be confirmed by someone other than the person who closed the round."))
    if round_.mode == PAPER and not paper_ballots_stored(round_):
        raise DomainError(_l("The paper ballots have not been entered twice in agreement yet."))
    if round_.is_sealed:
        raise DomainError(_l("The ballots are still sealed: the scrutineers must open them with their shares first."))
    result = count_round(round_)
    round_.board_digest = round_board(round_)["digest"]
    round_.state = CONFIRMED
    round_.confirmed_at = utcnow()
    round_.confirmed_by_id = actor_user.id
    db.session.flush()
    audit.record(
        audit.actor_label(actor_user), "round.confirm", f"round:{round_.id}", digest=round_.board_digest, session=round_.session_id,
        **result.to_json()
    )
    if result.runoff is not None:
        follow_up_round(audit.actor_label(actor_user), round_)  # a tie for the last seats is settled by a runoff
    return result


def announce_round(actor_user: User, round_: Round) -> None:
    _lock_round(round_)
    _require_state(round_, CONFIRMED)
    round_.state = ANNOUNCED
    round_.announced_at = utcnow()
    round_.announced_by_id = actor_user.id
    db.session.flush()
    audit.record(audit.actor_label(actor_user), "round.announce", f"round:{round_.id}", digest=round_.board_digest)


# ---- a round opened by mistake: cancelled while empty, declared void once ballots are in ----


@dataclass(frozen=True)
class Turnout:
    """How far voting has got, from the markers alone: never who, never what."""

    present: int
    returned: int
    not_voted: int


def turnout(round_: Round) -> Turnout:
    """Present deputies and how many of them have no marker in this round yet."""
    voted = select(BallotMarker.deputy_id).where(BallotMarker.round_id == round_.id)
    present = presence(round_.session_id).present
    not_voted = db.session.scalar(
        select(func.count())
        .select_from(Deputy)
        .where(Deputy.session_id == round_.session_id, Deputy.is_present, Deputy.id.not_in(voted))
    )
    return Turnout(present=present, returned=returned_count(round_.id), not_voted=not_voted)


def holds_ballots(round_: Round) -> bool:
    """Whether anything of a ballot exists for this round: a marker, a sealed or opened
    ballot, or a scrutineer's keyed paper ballot. A round switched to paper counts as holding
    ballots: paper ones may have been cast in the hall that nobody has keyed yet."""
    if round_.is_switched_to_paper:
        return True
    tables = (BallotMarker.round_id, SealedBallot.round_id, Ballot.round_id)
    if any(db.session.scalar(select(exists().where(column == round_.id))) for column in tables):
        return True
    return any(entry.ballots for entry in paper_entries(round_))


def cancel_round(actor: str, round_: Round) -> None:
    """Back to preparation, as if it had never opened: allowed only while no ballot exists.

    The exclusive row lock makes a ballot being cast either land before this check (and the
    cancel is refused) or find the round in preparation. Nothing is left behind: the key it
    was sealed to, its frozen figures and any empty paper entries are cleared, and a ballot
    page served before the cancel carries a ticket of the old opening, refused from now on."""
    _lock_round(round_)
    _require_state(round_, OPEN, CLOSED)
    if round_.is_void_requested:
        raise ConflictError(_l("A request to declare this round void is waiting for a scrutineer."))
    if holds_ballots(round_):
        raise ConflictError(
            _l("Ballots have been cast in this round, so it cannot be cancelled. The presiding officer can ask to declare it void.")
        )
    was = round_.state
    for entry in paper_entries(round_):
        db.session.delete(entry)
    round_.state = DRAFT
    round_.opened_at = round_.closed_at = round_.closed_by_id = round_.unsealed_at = None
    round_.roster_count = round_.present_count = round_.issued_count = None
    round_.key_id = round_.seal_key = None
    db.session.flush()
    scrub_after_commit(*BALLOT_TABLES)
    audit.record(actor, "round.cancel", f"round:{round_.id}", was=was)


VOID_REASON_MAX = 500


def request_void(actor_user: User, round_: Round, reason: str) -> None:
    """The presiding officer asks to declare the round void, with a reason. An open round is
    closed first, so no more ballots come in while a scrutineer decides; its ballots stay
    sealed until then, and for good once the void is confirmed."""
    _lock_round(round_)
    _require_state(round_, OPEN, CLOSED)
    if actor_user.role != PRESIDING:
        raise DomainError(_l("Only the presiding officer can ask to declare a round void."))
    reason = _stated_reason(reason, _l("Give the reason the round is to be declared void."))
    if round_.is_void_requested:
        raise ConflictError(_l("A request to declare this round void is already waiting for a scrutineer."))
    if round_.state == OPEN and round_.is_switched_to_paper:
        # Were the void declined, the count would need the paper ballots issued: the close records them.
        raise ConflictError(_l("This round continues on paper: close it first, recording the paper ballots issued."))
    if round_.state == OPEN:
        close_round(actor_user, round_)
    round_.void_reason = reason
    round_.void_requested_at = utcnow()
    round_.void_requested_by_id = actor_user.id
    db.session.flush()
    audit.record(
        audit.actor_label(actor_user), "round.void_request", f"round:{round_.id}", reason=reason, returned=returned_count(round_.id)
    )


def _stated_reason(reason: str | None, missing):
    """A reason as recorded: one line, not empty (`missing` says so), not too long."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError(missing)
    if len(reason) > VOID_REASON_MAX:
        raise DomainError(_l("Keep the reason to %(count)s characters.", count=VOID_REASON_MAX))
    return reason


# ---- the voting system fails in the hall: the round goes on by paper ---------------------


def switch_to_paper(actor_user: User, round_: Round, reason: str) -> None:
    """The presiding officer continues an open electronic round on paper, with a reason.

    The exclusive row lock is the one casting shares: a phone ballot being cast lands before
    the switch, or finds the round on paper and is refused. What was cast stays sealed; the
    deputies present who have not voted get paper ballots (`paper_desk`), keyed after the close
    by two scrutineers and pooled with the electronic ones."""
    _lock_round(round_)
    _require_state(round_, OPEN)
    if actor_user.role != PRESIDING:
        raise DomainError(_l("Only the presiding officer can switch a round to paper."))
    if round_.mode != ELECTRONIC:
        raise ConflictError(_l("This round is already voted on paper."))
    reason = _stated_reason(reason, _l("Give the reason the round continues on paper."))
    desk = paper_desk(round_)
    round_.mode = PAPER
    round_.paper_from_at = utcnow()
    round_.paper_from_by_id = actor_user.id
    round_.paper_reason = reason
    db.session.flush()
    audit.record(
        audit.actor_label(actor_user),
        "round.paper",
        f"round:{round_.id}",
        reason=reason,
        present=desk.present,
        phone_voters=desk.phone_voters,
        to_issue=desk.to_issue,
    )


@dataclass(frozen=True)
class PaperDesk:
    """What the desk needs to hand out paper ballots: how many, never who or what."""

    present: int
    phone_voters: int
    to_issue: int


def paper_desk(round_: Round) -> PaperDesk:
    """Present now, ballots cast by phone, and paper ballots to issue: the deputies present
    with no phone ballot. After the close, the phone voters frozen then and the paper issued."""
    if round_.state != OPEN:
        return PaperDesk(round_.present_count or 0, round_.phone_voters or 0, round_.paper_issued or 0)
    figures = turnout(round_)
    return PaperDesk(figures.present, figures.returned, figures.not_voted)


def _require_void_request(actor_user: User, round_: Round) -> None:
    _lock_round(round_)
    _require_state(round_, CLOSED)
    if not round_.is_void_requested:
        raise ConflictError(_l("Nobody has asked to declare this round void."))
    if actor_user.role != SCRUTINEER:
        raise DomainError(_l("Only a scrutineer can answer a request to declare a round void."))
    if actor_user.id == round_.void_requested_by_id:
        raise DomainError(_l("The request must be answered by someone other than the person who made it."))


def confirm_void(actor_user: User, round_: Round) -> None:
    """A scrutineer, not the one who asked, confirms: the round is void for good. Its sealed
    ballots are left sealed (no key is ever rebuilt for them) and none of its ballots count."""
    _require_void_request(actor_user, round_)
    round_.state = VOID
    round_.voided_at = utcnow()
    round_.voided_by_id = actor_user.id
    db.session.flush()
    audit.record(
        audit.actor_label(actor_user), "round.void", f"round:{round_.id}", reason=round_.void_reason, returned=returned_count(round_.id)
    )


def decline_void(actor_user: User, round_: Round) -> None:
    """A scrutineer refuses the request: the closed round goes on to its count as usual."""
    _require_void_request(actor_user, round_)
    reason = round_.void_reason
    round_.void_reason = round_.void_requested_at = round_.void_requested_by_id = None
    db.session.flush()
    audit.record(audit.actor_label(actor_user), "round.void_decline", f"round:{round_.id}", reason=reason)


def _require_no_void_request(round_: Round) -> None:
    if round_.is_void_requested:
        raise ConflictError(
            _l("A request to declare this round void is waiting for a scrutineer: its ballots stay sealed until it is answered.")
        )


def follow_up_round(actor: str, round_: Round) -> Round:
    """A runoff among exactly the tied candidates, a further round for the shortfall, or a new
    round in place of one declared void (the same candidates, a new draft). A round whose
    票决办法 has no runoff or no further round gets none: those seats stay unfilled."""
    _lock_round(round_)
    _require_state(round_, CONFIRMED, ANNOUNCED, VOID)
    if db.session.scalar(select(exists().where(Round.parent_id == round_.id))):
        raise ConflictError(_l("A follow-up round for this round already exists."))
    if round_.state == VOID:
        return _copy_round(
            actor, round_, _l("%(title)s (new round)", title=round_.title), round_.kind, round_.seats, [c.id for c in round_.candidates]
        )
    result = count_round(round_)
    if round_.method == SATISFACTION and not result.void_round:
        raise DomainError(_l("A satisfaction assessment fills no seats; no further round is needed."))
    if result.void_round:
        kind, seats, candidate_ids = round_.kind, round_.seats, [c.id for c in round_.candidates]
        title = _l("%(title)s (repeated)", title=round_.title)
    elif result.runoff is not None:
        kind, seats, candidate_ids = RUNOFF, result.runoff.seats, list(result.runoff.candidates)
        title = _l("%(title)s: runoff", title=round_.title)
    elif result.unfilled_tie is not None:
        raise DomainError(_l("The 票决办法 of this round holds no further vote among tied candidates: the tied seats stay unfilled."))
    elif result.shortfall and not result.offers_further_round:
        raise DomainError(_l("The 票决办法 of this round holds no further round: the seats nobody passed for stay unfilled."))
    elif result.shortfall:
        elected = set(result.elected)
        kind, seats = FURTHER, result.shortfall
        candidate_ids = [c.id for c in round_.candidates if c.id not in elected]
        title = _l("%(title)s: further round", title=round_.title)
    else:
        raise DomainError(_l("Every seat was filled; no further round is needed."))
    return _copy_round(actor, round_, title, kind, seats, candidate_ids)


def _copy_round(actor: str, round_: Round, title, kind: str, seats: int, candidate_ids: list[int]) -> Round:
    """A new draft round after `round_`, with the same settings, its copy of the rules, and the given candidates."""
    session = db.session.get(CongressSession, round_.session_id)
    follow = _new_round(
        actor, session, str(title), round_.method, seats, round_.threshold_base, round_.planned_mode, round_.satisfaction_bar,
        round_.rules, round_.rule_profile_version_id,
    )
    by_id = {c.id: c for c in round_.candidates}
    for candidate_id in candidate_ids:
        source = by_id[candidate_id]
        add_candidate(
            actor,
            follow,
            source.name,
            source.summary,
            source.investment,
            source.department,
            source.planned_completion,
            source_id=source.source_id or source.id,
            project_id=source.project_id,
            location=source.location,
        )
    follow.kind, follow.parent_id = kind, round_.id  # from here on it is held as copied
    db.session.flush()
    return follow


# ---- casting -------------------------------------------------------------------------


@dataclass(frozen=True)
class CastResult:
    receipt: str
    is_repeat: bool


@dataclass(frozen=True)
class CastRules:
    """What casting needs of a round that cannot change while its state version and seal key
    stay: its session, its opening, the key and padded size its ballots are sealed with, and
    what one ballot is checked against. Each worker keeps them (`cast_rules`), so a ballot
    reads one short row of its round instead of the round and its candidates."""

    round_id: int
    session_id: int
    version: int
    seal_key: bytes | None
    opened_at: datetime | None
    block: int
    ballot: RoundRules


CAST_RULES_KEPT = 256  # rounds whose rules a worker keeps at once; a congress holds a handful open
# Per engine, so an app of another database in the same process (tests) never sees another's copy.
_cast_rules_kept: "weakref.WeakKeyDictionary[Engine, dict[int, CastRules]]" = weakref.WeakKeyDictionary()
_rounds = Round.__table__
_candidates = Candidate.__table__
_ROUND_WITH_CANDIDATES = (
    select(
        _rounds.c.session_id, _rounds.c.state_version, _rounds.c.seal_key, _rounds.c.opened_at, _rounds.c.method,
        _rounds.c.seats, _rounds.c.threshold_base, _rounds.c.satisfaction_bar, _candidates.c.id,
    )
    .select_from(_rounds.outerjoin(_candidates, _candidates.c.round_id == _rounds.c.id))
    .where(_rounds.c.id == bindparam("round_id"))
    .order_by(_candidates.c.position, _candidates.c.id)
)


def cast_rules(round_id: int, fresh: bool = False) -> CastRules | None:
    """The round's rules for casting (None: no such round): this worker's copy, or read now
    when it has none or `fresh` is asked. The copy may be out of date; `cast` compares it,
    under its lock, with the round's state version and seal key, and reads the rules again if
    they moved. Only a round that has opened electronically is kept."""
    kept = None if fresh else _cast_rules_kept.get(db.engine, {}).get(round_id)
    return kept or _load_cast_rules(round_id)


def _load_cast_rules(round_id: int) -> CastRules | None:
    """The round and its candidates in one statement, so both come from one snapshot."""
    rows = db.session.connection().execute(_ROUND_WITH_CANDIDATES, {"round_id": round_id}).all()
    if not rows:
        return None
    session_id, version, seal_key, opened_at, method, seats, threshold_base, satisfaction_bar, _ = rows[0]
    candidate_ids = tuple(row[-1] for row in rows if row[-1] is not None)
    ballot = _one_ballot_rules(method, seats, threshold_base, candidate_ids, satisfaction_bar)
    rules = CastRules(round_id, session_id, version, seal_key, opened_at, _block(round_id, method, candidate_ids), ballot)
    if seal_key is not None:
        kept = _cast_rules_kept.setdefault(db.engine, {})
        if len(kept) >= CAST_RULES_KEPT:
            kept.clear()
        kept[round_id] = rules
    return rules


def _copied_rules(round_: Round) -> dict:
    """What the count takes from the round's own copy of the 票决办法: the grading of an
    assessment; the pass, tie and shortfall rules of a round that fills seats."""
    if round_.method == SATISFACTION:
        return {"grading": round_.grading}
    copy = round_.rules
    return {"pass_rule": copy.pass_rule, "tie": copy.tie, "shortfall": copy.shortfall}


def rules_for(round_: Round) -> RoundRules:
    """Counting inputs, under the round's own rules; before close the live figures stand in
    for the frozen ones."""
    if round_.roster_count is None:
        figures = presence(round_.session_id)
        roster, present, issued = figures.roster, figures.present, figures.present
    else:
        roster, present, issued = round_.roster_count, round_.present_count, round_.issued_count
    return RoundRules(
        method=round_.method,
        seats=round_.seats,
        threshold_base=round_.threshold_base,
        roster=roster,
        present=present,
        issued=issued,
        candidate_ids=tuple(c.id for c in round_.candidates),
        satisfaction_bar=round_.satisfaction_bar,
        **_copied_rules(round_),
    )


def ballot_rules(round_: Round | CastRules) -> RoundRules:
    """What a single ballot is checked against: method, seats and candidates. The roster and
    turnout figures matter to the count, not to one ballot, so they are not queried here."""
    if isinstance(round_, CastRules):
        return round_.ballot
    return _one_ballot_rules(
        round_.method, round_.seats, round_.threshold_base, tuple(c.id for c in round_.candidates), round_.satisfaction_bar
    )


def _one_ballot_rules(method: str, seats: int, threshold_base: str, candidate_ids: tuple[int, ...], satisfaction_bar: int) -> RoundRules:
    return RoundRules(
        method=method, seats=seats, threshold_base=threshold_base, roster=0, present=0, issued=0,
        candidate_ids=candidate_ids, satisfaction_bar=satisfaction_bar,
    )


def check_choices(round_: Round | CastRules, choices: object):
    """The canonical ballot, or a DomainError saying plainly what is wrong with it.

    A deputy's for/against ballot must mark every candidate: the counting rules do not say
    what an unmarked item means, so the ballot asks again rather than guess (no mark is
    chosen for the deputy either). A ranked ballot comes as the numbers the deputy gave
    ({candidate id: number}) or as the list in priority order; numbers with any problem are
    refused with what to correct, never read as a void ballot."""
    rules = ballot_rules(round_)
    if rules.method == RANK and isinstance(choices, Mapping):
        choices = _priority_order(rules.seats, choices)
    try:
        canonical = normalise_choices(rules, choices)
    except ValueError as error:
        if rules.method == CHOOSE_UP_TO and isinstance(choices, list) and len(choices) > rules.seats:
            raise DomainError(
                _l("You chose %(chosen)s projects; choose at most %(seats)s.", chosen=len(choices), seats=rules.seats)
            ) from error
        raise DomainError(_l("This ballot is not valid for this round. Please fill it in again.")) from error
    if rules.method == FOR_AGAINST:
        unmarked = len(rules.candidate_ids) - len(canonical)
        if unmarked:
            raise DomainError(
                _l("Choose for, against or abstain for every project: %(count)s not chosen yet.", count=unmarked)
            )
    return canonical


def _priority_order(seats: int, numbers: Mapping[int, int]) -> list[int]:
    """The deputy's numbers in priority order, or a DomainError naming what to correct."""
    try:
        return numbering.priority_order(numbers, seats)
    except numbering.NumberingError as error:
        raise DomainError(_numbering_message(error.reason, seats, **error.details)) from error


def _numbering_message(reason: str, seats: int, count: int = 0, number: int = 0):
    """What a deputy is told about numbers that give no valid order (`numbering`)."""
    return {
        numbering.TOO_MANY: lambda: _l("You numbered %(count)s projects; number at most %(seats)s.", count=count, seats=seats),
        numbering.OUT_OF_RANGE: lambda: _l("Use only the numbers 1 to %(seats)s.", seats=seats),
        numbering.REPEATED: lambda: _l(
            "You gave the number %(number)s to more than one project: each number goes to one project only.", number=number
        ),
        numbering.GAP: lambda: _l(
            "The number %(number)s is missing: number the projects 1, 2, 3 and so on, without skipping.", number=number
        ),
    }[reason]()


def numbering_messages(seats: int, count: int, number: int) -> list:
    """Every message a ranked ballot can be refused with, for the ballot page's padded size."""
    reasons = (numbering.TOO_MANY, numbering.OUT_OF_RANGE, numbering.REPEATED, numbering.GAP)
    return [_numbering_message(reason, seats, count=count, number=number) for reason in reasons]


def _stored_form(choices):
    """JSON keys are strings; store for/against ballots that way so the board reads the same."""
    if isinstance(choices, dict):
        return {str(key): mark for key, mark in sorted(choices.items())}
    return choices


def has_voted(round_id: int, deputy_id: int) -> bool:
    return db.session.get(BallotMarker, (round_id, deputy_id)) is not None


def voting_problem(round_: Round, deputy: Deputy):
    """Why this deputy cannot vote in this round now, or None."""
    if round_.mode != ELECTRONIC:
        return _paper_refusal(round_)
    if round_.state != OPEN:
        return _l("Voting in this round has closed; ballots are no longer accepted.")
    if has_voted(round_.id, deputy.id):
        return _l("You have already voted in this round. A ballot cannot be changed once cast.")
    if not deputy.is_present:
        return _l("Please check in before voting: scan the code on the venue screen or go to the staff desk.")
    return None


def _paper_refusal(round_: Round):
    return _paper_refusal_for(round_.is_switched_to_paper)


def _paper_refusal_for(switched: bool):
    if switched:
        return _l("This round continues on paper. If you have not voted yet, ask the desk for a paper ballot.")
    return _l("This round is voted on paper.")


def ticket_check(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def cast_ballot(
    deputy: Deputy, round_: Round, choices: object, receipt: str, nonce: str, card: tuple[int, int] | None = None
) -> CastResult:
    """`cast` for a deputy and a round already loaded, with the round's rules read afresh (the
    tests' and scripts' way in; the ballot page's goes through `cast_rules`)."""
    rules = cast_rules(round_.id, fresh=True)
    if rules is None or rules.session_id != deputy.session_id:
        raise DomainError(_l("This round belongs to another session."))
    return cast(rules, deputy.id, choices, receipt, nonce, card)


_deputies = Deputy.__table__
_credentials = Credential.__table__
_markers = BallotMarker.__table__
_sealed = SealedBallot.__table__
_CAST_STATE_COLUMNS = (
    _rounds.c.state, _rounds.c.mode, _rounds.c.paper_from_at.is_not(None).label("switched"), _rounds.c.state_version,
    _rounds.c.seal_key, _rounds.c.opened_at, Deputy.is_present.label("present"),
)
_ROUND_AND_DEPUTY = _rounds.join(_deputies, _deputies.c.session_id == _rounds.c.session_id)
_CAST_STATE = (
    select(*_CAST_STATE_COLUMNS)
    .select_from(_ROUND_AND_DEPUTY)
    .where(_rounds.c.id == bindparam("round_id"), _deputies.c.id == bindparam("deputy_id"))
)
_CAST_STATE_WITH_CARD = (
    select(
        *_CAST_STATE_COLUMNS, _credentials.c.revoked_at.is_(None).label("card_in_force"),
        (_credentials.c.session_epoch == bindparam("epoch", type_=_credentials.c.session_epoch.type)).label("card_signed_in"),
    )
    .select_from(_ROUND_AND_DEPUTY.join(_credentials, _credentials.c.deputy_id == _deputies.c.id))
    .where(_rounds.c.id == bindparam("round_id"), _deputies.c.id == bindparam("deputy_id"), _credentials.c.id == bindparam("card_id"))
)
# (with a card, share-locked): the FOR SHARE is PostgreSQL's; SQLite already serialises writers.
_CAST_STATES = {
    (False, False): _CAST_STATE,
    (True, False): _CAST_STATE_WITH_CARD,
    (False, True): _CAST_STATE.with_for_update(read=True),
    (True, True): _CAST_STATE_WITH_CARD.with_for_update(read=True),
}


class CardOutOfForce(ConflictError):
    """The card that cast was revoked, or the cookie it was signed in with signed out."""


def cast(rules: CastRules, deputy_id: int, choices: object, receipt: str, nonce: str, card: tuple[int, int] | None = None) -> CastResult:
    """Store the ballot, sealed, and the fact that this deputy voted, atomically.

    The receipt and a random nonce were drawn when the deputy's ballot page was served and
    signed to this deputy. The receipt goes only into the sealed ballot; the marker keeps a
    hash of the nonce, so a retry of the same submission is told apart from a second ballot
    (a marker proves its ballot: both are stored in one transaction). The database's primary
    key on (round, deputy) is what stops a race between several devices or workers, so the
    marker is inserted unless one exists and a refusal read from the one that does.

    One statement reads the round's state, the deputy's presence and the card (`card`: its
    id and the epoch its cookie was signed in under; it may have been revoked, or signed out
    elsewhere, meanwhile), share-locking the three rows on PostgreSQL: a close or a switch to
    paper (which lock the round exclusively), an undone check-in, a revoked card or a
    sign-out either waits for this ballot or is seen by it. `rules` may have been read before
    that lock; if the round changed since, they are read again under it.
    """
    check = ticket_check(nonce)
    state, landed = _cast_at_once(rules, deputy_id, card, choices, receipt, check)
    if landed:
        return CastResult(receipt, False)
    if state is None:
        if card is not None:  # the card is not this deputy's: the worker's copy of it is not the database's (a restore)
            raise CardOutOfForce(_l("Your ballot was not stored. Please open the ballot again."))
        raise DomainError(_l("This round belongs to another session."))
    round_state, mode, switched, version, seal_key, opened_at, present, *card_state = state
    if card_state and not card_state[0]:
        raise CardOutOfForce(_l("This voting card has been revoked. Please ask the staff for a new card."))
    if card_state and not card_state[1]:
        raise CardOutOfForce(_l("This sign-in has ended. Please sign in with your voting card again."))
    if mode != ELECTRONIC and not switched:
        raise DomainError(_l("This round is voted on paper."))
    if round_state != OPEN or mode != ELECTRONIC:
        if _marker_check(rules.round_id, deputy_id) == check:
            return CastResult(receipt, True)
        if round_state == OPEN:
            raise ConflictError(_paper_refusal_for(switched))
        if switched:
            # Its markers became a count at the close: whether this retry's ballot landed is not known here.
            raise ConflictError(
                _l("Voting in this round has closed. A ballot you cast by phone before the switch to paper counts: "
                   "look for your receipt on the ballot board once it is published.")
            )
        raise ConflictError(_l("Voting in this round has closed; your ballot was not accepted."))
    if (version, seal_key, opened_at) != (rules.version, rules.seal_key, rules.opened_at):
        checked_against = rules.opened_at  # the opening the ballot's ticket was checked against
        rules = _load_cast_rules(rules.round_id)
        if rules.opened_at != checked_against:
            raise ConflictError(_l("This ballot page was opened before the round was restarted. Please open the ballot again."))
    if rules.seal_key is None:
        raise ConflictError(_l("This round was opened before ballots were sealed. Ask the staff to close it and open a new round."))
    if not present:
        raise DomainError(_l("Please check in before voting."))
    stored = _stored_form(check_choices(rules, choices))
    sealed = sealing.seal(rules.seal_key, rules.round_id, receipt, stored, rules.block)
    if not _store_ballot(rules.round_id, deputy_id, check, sealed):
        if _marker_check(rules.round_id, deputy_id) == check:
            return CastResult(receipt, True)
        raise ConflictError(_l("You have already voted in this round. A ballot cannot be changed once cast."))
    return CastResult(receipt, False)


_MARK = {
    dialect: dialect_insert(dialect)(_markers)
    .values(round_id=bindparam("round_id"), deputy_id=bindparam("deputy_id"), ticket_check=bindparam("ticket_check"))
    .on_conflict_do_nothing()
    .returning(_markers.c.round_id)
    for dialect in ("sqlite", "postgresql")
}
_SEAL = insert(_sealed).values(round_id=bindparam("round_id"), id=bindparam("sealed_id"), sealed=bindparam("sealed"))


def _sealed_if_marked(marked):
    """PostgreSQL's insert of the sealed ballot that goes in only if its marker (the CTE
    `marked`, returning the round) did: both in one statement, one round trip."""
    return (
        insert(_sealed)
        .from_select(
            ["round_id", "id", "sealed"],
            select(marked.c.round_id, bindparam("sealed_id", type_=_sealed.c.id.type), bindparam("sealed", type_=_sealed.c.sealed.type)),
        )
        .returning(_sealed.c.round_id)
    )


_MARK_AND_SEAL = _sealed_if_marked(_MARK["postgresql"].cte("marked"))


def _store_ballot(round_id: int, deputy_id: int, check: str, sealed: bytes) -> bool:
    """The marker and the sealed ballot, or nothing when the deputy's marker already exists."""
    connection = db.session.connection()
    values = {"round_id": round_id, "deputy_id": deputy_id, "ticket_check": check, "sealed_id": secrets.token_bytes(16), "sealed": sealed}
    if connection.dialect.name == "postgresql":
        return connection.execute(_MARK_AND_SEAL, values).first() is not None
    if connection.execute(_MARK[connection.dialect.name], values).first() is None:
        return False
    connection.execute(_SEAL, values)
    return True


@cache
def _store_if_allowed(with_card: bool, dialect: str):
    """The marker inserted only when the round's state lets the ballot in as sealed (open,
    electronic, present, the card in force, the round as the rules were read), in one
    statement that reads that state itself.

    PostgreSQL: the whole cast in that statement (one round trip), the state share-locked, the
    sealed ballot inserted with its marker; it returns whether they landed. SQLite, whose
    writers already take turns: the marker alone, returning its round when it landed; the
    sealed ballot follows in the same transaction. A ballot that did not land is decided on the
    state read again (`_cast_at_once`)."""
    postgresql = dialect == "postgresql"
    state = _CAST_STATES[with_card, postgresql]
    state = state.cte("state") if postgresql else state.subquery("state")
    allowed = [
        state.c.state == OPEN, state.c.mode == ELECTRONIC, state.c.present,
        state.c.state_version == bindparam("version", type_=_rounds.c.state_version.type),
        state.c.seal_key == bindparam("seal_key", type_=_rounds.c.seal_key.type),
        state.c.opened_at == bindparam("opened_at", type_=_rounds.c.opened_at.type),
    ]
    if with_card:
        allowed += [state.c.card_in_force, state.c.card_signed_in]
    marker = (
        dialect_insert(dialect)(_markers)
        .from_select(
            ["round_id", "deputy_id", "ticket_check"],
            select(
                bindparam("round_id", type_=_markers.c.round_id.type), bindparam("deputy_id", type_=_markers.c.deputy_id.type),
                bindparam("ticket_check", type_=_markers.c.ticket_check.type),
            ).select_from(state).where(*allowed),
        )
        .on_conflict_do_nothing()
        .returning(_markers.c.round_id)
    )
    if not postgresql:
        return marker
    sealed = _sealed_if_marked(marker.cte("marked")).cte("sealed")
    return select(func.count()).select_from(sealed)


def _cast_at_once(rules: CastRules, deputy_id: int, card: tuple[int, int] | None, choices, receipt: str, check: str):
    """(the state `_cast_state` reads, or None once the ballot has landed; whether it landed).
    A ballot that is valid under `rules` is sealed before the write begins (on SQLite, before
    this worker's turn to write: the turn is held for the writes and the flush alone) and
    stored by `_store_if_allowed`; a ballot to be refused reads the state alone.

    The cast view runs in autocommit on PostgreSQL (`one_statement_writes`), where the
    statement's share lock ends with it: a ballot it did not land (a retry, a second ballot, a
    round that moved) is decided on the state read again, in a transaction that holds its
    lock until the ballot is stored or refused. On SQLite the turn taken for the first
    statement is kept for that."""
    if rules.seal_key is not None:
        try:
            stored = _stored_form(check_choices(rules, choices))
        except DomainError:
            stored = None
        if stored is not None:
            values = {
                "round_id": rules.round_id, "deputy_id": deputy_id, "ticket_check": check, **_card_params(card),
                "version": rules.version, "seal_key": rules.seal_key, "opened_at": rules.opened_at,
                "sealed_id": secrets.token_bytes(16), "sealed": sealing.seal(rules.seal_key, rules.round_id, receipt, stored, rules.block),
            }
            connection = db.session.connection()  # SQLite: this worker's turn to write begins here
            dialect = connection.dialect.name
            stored_now = _store_if_allowed(card is not None, dialect)
            if dialect == "postgresql":
                landed = connection.execute(stored_now, values).scalar_one()
            else:
                landed = connection.execute(stored_now, values).first() is not None
                if landed:
                    connection.execute(_SEAL, values)
            if landed:
                return None, True
    transaction_from_here()
    return _cast_state(rules.round_id, deputy_id, card), False


def _card_params(card: tuple[int, int] | None) -> dict:
    card_id, epoch = card if card is not None else (None, None)
    return {"card_id": card_id, "epoch": epoch}


def _cast_state(round_id: int, deputy_id: int, card: tuple[int, int] | None):
    connection = db.session.connection()
    statement = _CAST_STATES[card is not None, connection.dialect.name == "postgresql"]
    return connection.execute(statement, {"round_id": round_id, "deputy_id": deputy_id, **_card_params(card)}).first()


def _marker_check(round_id: int, deputy_id: int) -> str | None:
    return db.session.scalar(
        select(BallotMarker.ticket_check).where(BallotMarker.round_id == round_id, BallotMarker.deputy_id == deputy_id)
    )


def _ballot_exists(round_id: int, receipt: str) -> bool:
    return db.session.scalar(select(exists().where(Ballot.round_id == round_id, Ballot.receipt == receipt)))


# ---- counts and the board ------------------------------------------------------------


def returned_count(round_id: int) -> int:
    """Ballots in the box: sealed while the round is voted, opened once the scrutineers count."""
    opened = db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.round_id == round_id))
    sealed = db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == round_id))
    return opened + sealed


def stored_ballots(round_id: int) -> list[tuple[str, object]]:
    return list(
        db.session.execute(select(Ballot.receipt, Ballot.choices).where(Ballot.round_id == round_id).order_by(Ballot.receipt))
    )


def _require_count(round_: Round) -> None:
    if round_.state == VOID:
        raise ConflictError(_l("This round was declared void: its ballots are never counted."))
    if round_.state in (DRAFT, OPEN):
        raise ConflictError(_l("No count exists while a round is open."))
    if round_.is_sealed:
        raise ConflictError(_l("No count exists while the ballots are sealed."))
    if round_.is_switched_to_paper and not paper_ballots_stored(round_):
        raise ConflictError(_l("No count exists until two scrutineers' entries of the paper ballots agree."))


def count_round(round_: Round) -> CountResult:
    _require_count(round_)
    return count(rules_for(round_), (choices for _, choices in stored_ballots(round_.id)))


def round_board(round_: Round) -> dict:
    _require_count(round_)
    rules = rules_for(round_)
    info = {
        "id": round_.id,
        "title": round_.title,
        "method": round_.method,
        "seats": round_.seats,
        "threshold_base": round_.threshold_base,
        "roster": rules.roster,
        "present": rules.present,
        "issued": rules.issued,
        **_copied_rules(round_),
    }
    if round_.method == SATISFACTION:
        info["satisfaction_bar"] = round_.satisfaction_bar
    return board_format.build_board(
        info,
        [{"id": c.id, "name": c.name} for c in round_.candidates],
        stored_ballots(round_.id),
    )


def deputies_not_voted(round_: Round) -> list[Deputy]:
    """Who is present but has not voted yet: staff may see this, never what anyone chose."""
    voted = select(BallotMarker.deputy_id).where(BallotMarker.round_id == round_.id)
    waiting = db.session.scalars(
        select(Deputy).where(Deputy.session_id == round_.session_id, Deputy.is_present, Deputy.id.not_in(voted))
    )
    return sorted(waiting, key=lambda deputy: (deputy.delegation, number_sort_key(deputy.number)))


def open_rounds_for(deputy: Deputy) -> list[tuple[Round, bool]]:
    """Open electronic rounds, and those continuing on paper (the phone says so)."""
    rounds = db.session.scalars(
        select(Round)
        .where(
            Round.session_id == deputy.session_id,
            Round.state == OPEN,
            (Round.mode == ELECTRONIC) | Round.paper_from_at.is_not(None),
        )
        .order_by(Round.id)
    )
    return [(round_, has_voted(round_.id, deputy.id)) for round_ in rounds]


# ---- paper rounds: two scrutineers key the ballots independently -------------------


def paper_entry(round_: Round, scrutineer: User) -> PaperEntry | None:
    return db.session.scalar(
        select(PaperEntry).where(PaperEntry.round_id == round_.id, PaperEntry.scrutineer_id == scrutineer.id)
    )


PAPER_ENTRIES = 2


def _editable_paper_entry(round_: Round, scrutineer: User) -> PaperEntry:
    """Row-locks the round, so two scrutineers' submissions are compared one after the other."""
    _lock_round(round_)
    _require_state(round_, CLOSED)
    if round_.mode != PAPER:
        raise DomainError(_l("This round is voted electronically."))
    if paper_ballots_stored(round_):
        raise ConflictError(_l("The paper ballots of this round have already been accepted."))
    entry = paper_entry(round_, scrutineer)
    if entry is None:
        if len(paper_entries(round_)) >= PAPER_ENTRIES:
            raise ConflictError(_l("Two scrutineers are already keying this round's ballots."))
        entry = PaperEntry(round_id=round_.id, scrutineer_id=scrutineer.id, ballots=[])
        db.session.add(entry)
    if entry.submitted_at is not None:
        raise ConflictError(_l("You have submitted your entry; withdraw it to change it."))
    return entry


def add_paper_ballot(round_: Round, scrutineer: User, choices: object, copies: int = 1) -> PaperEntry:
    """Key a paper ballot as read; a ballot that breaks the rules is kept and counts as void.

    A ranked paper ballot is keyed as its numbers ({candidate id: number}) and kept as the
    order they give, or as void (None) when they give none (`numbering.paper_order`)."""
    if copies < 1 or copies > 10000:
        raise DomainError(_l("The number of identical ballots must be between 1 and 10000."))
    entry = _editable_paper_entry(round_, scrutineer)
    if round_.method == FOR_AGAINST and isinstance(choices, dict):
        # On paper an item left unmarked abstains (the counting rule), so it is keyed as the
        # abstention it is: two scrutineers reading the same ballot key the same thing.
        choices = {candidate.id: MARK_ABSTAIN for candidate in round_.candidates} | choices
    if round_.method == RANK and isinstance(choices, Mapping):
        choices = numbering.paper_order(choices, round_.seats)
    entry.ballots = [*entry.ballots, *([_stored_form(choices)] * copies)]
    db.session.flush()
    return entry


def remove_paper_ballot(round_: Round, scrutineer: User, index: int) -> PaperEntry:
    entry = _editable_paper_entry(round_, scrutineer)
    if not 0 <= index < len(entry.ballots):
        raise DomainError(_l("That ballot is not in your entry."))
    entry.ballots = entry.ballots[:index] + entry.ballots[index + 1 :]
    db.session.flush()
    return entry


def _ballot_key(choices: object, is_ordered: bool) -> str:
    """What two keyings of one paper ballot must share: the order of a ranked list is part
    of the ballot, the order of a choose-up-to list is not."""
    if isinstance(choices, list) and not is_ordered:
        return json.dumps(sorted(choices, key=str))
    return json.dumps(choices, sort_keys=True)


@dataclass(frozen=True)
class PaperComparison:
    entries: int
    agree: bool
    only_first: int = 0
    only_second: int = 0


def compare_paper_entries(round_: Round) -> PaperComparison:
    submitted = [e for e in paper_entries(round_) if e.submitted_at is not None]
    if len(submitted) < 2:
        return PaperComparison(len(submitted), False)
    is_ordered = round_.method == RANK
    first = Counter(_ballot_key(b, is_ordered) for b in submitted[0].ballots)
    second = Counter(_ballot_key(b, is_ordered) for b in submitted[1].ballots)
    return PaperComparison(
        2, first == second, sum((first - second).values()), sum((second - first).values())
    )


def paper_entries(round_: Round) -> list[PaperEntry]:
    return list(db.session.scalars(select(PaperEntry).where(PaperEntry.round_id == round_.id).order_by(PaperEntry.id)))


def paper_ballots_stored(round_: Round) -> bool:
    return round_.mode == PAPER and round_.paper_stored_at is not None


def submit_paper_entry(round_: Round, scrutineer: User) -> PaperComparison:
    """When two scrutineers' entries agree ballot for ballot, they become the round's ballots.

    In a round switched to paper they join the electronic ones (`_pool_ballots`) and the keyed
    copies are cleared in the same transaction: the pool minus the copies would otherwise be
    the phone ballots. The paper ballots themselves are the record of what was keyed."""
    entry = _editable_paper_entry(round_, scrutineer)
    entry.submitted_at = utcnow()
    db.session.flush()
    comparison = compare_paper_entries(round_)
    audit.record(
        audit.actor_label(scrutineer), "paper.submit", f"round:{round_.id}", ballots=len(entry.ballots), agree=comparison.agree
    )
    if comparison.agree:
        round_.paper_stored_at = utcnow()
        if round_.is_switched_to_paper:
            paper = [(new_receipt(), choices) for choices in entry.ballots]
            for keyed in paper_entries(round_):
                keyed.ballots = []
            _pool_ballots(round_.id, paper)
            scrub_after_commit(*BALLOT_TABLES, rewrite=("paper_entries",))
        else:
            for choices in entry.ballots:
                db.session.add(Ballot(receipt=_unused_receipt(round_.id), round_id=round_.id, choices=choices))
        db.session.flush()
    return comparison


def withdraw_paper_entry(round_: Round, scrutineer: User) -> None:
    _lock_round(round_)
    _require_state(round_, CLOSED)
    if paper_ballots_stored(round_):
        raise ConflictError(_l("The paper ballots of this round have already been accepted."))
    entry = paper_entry(round_, scrutineer)
    if entry is not None and entry.submitted_at is not None:
        entry.submitted_at = None
        db.session.flush()
        audit.record(audit.actor_label(scrutineer), "paper.withdraw", f"round:{round_.id}")


def _unused_receipt(round_id: int) -> str:
    while True:
        receipt = new_receipt()
        if not _ballot_exists(round_id, receipt):
            return receipt
