"""Taking things back at the desk and on the roster: undoing a check-in, removing a deputy or
a whole session while nothing of the record hangs on them, and, once something does,
recording that a deputy's term in office ended instead of deleting anyone. Services flush;
the caller commits.

Every figure a counted round used was frozen when it closed (roster, present, issued), so
none of these changes reaches a past round; they change only what later rounds count.
"""

from dataclasses import dataclass
from datetime import date

from babel.lists import format_list
from flask_babel import LazyString, get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, func, select, update

from voting_app import audit
from voting_app.ballots.credentials import active_credential, revoke_card
from voting_app.ballots.models import DRAFT, OPEN, BallotKey, BallotMarker, Candidate, Credential, Round
from voting_app.clock import beijing_today
from voting_app.db import db
from voting_app.documents.models import Adoption
from voting_app.errors import ConflictError, DomainError
from voting_app.projects.models import SupervisionRecord
from voting_app.proposals.models import Proposal
from voting_app.registry import removal as registry_removal
from voting_app.registry import service as registry
from voting_app.registry.removal import RegistryTies
from voting_app.registry.terms import OTHER
from voting_app.screen.models import ScreenState
from voting_app.sessions.models import CongressSession, Deputy

REASON_MAX = 200


class TermEndError(DomainError):
    """Bad input on the end-of-term form, naming the field it belongs to."""

    def __init__(self, message, field: str):
        super().__init__(message)
        self.field = field


def has_voting_begun(session_id: int) -> bool:
    """True once any round of the session has left preparation (opened, counted, voided) or
    any ballot was marked: from then on the roster is part of the record."""
    rounds = select(Round.id).where(Round.session_id == session_id)
    return bool(
        db.session.scalar(
            select(
                exists().where(Round.session_id == session_id, Round.state != DRAFT)
                | exists().where(BallotMarker.round_id.in_(rounds))
            )
        )
    )


def open_round_voted_in(deputy: Deputy) -> Round | None:
    """An open round of the deputy's session in which the deputy has already voted."""
    return db.session.scalar(
        select(Round)
        .join(BallotMarker, BallotMarker.round_id == Round.id)
        .where(Round.session_id == deputy.session_id, Round.state == OPEN, BallotMarker.deputy_id == deputy.id)
        .order_by(Round.id)
        .limit(1)
    )


def undo_check_in(actor: str, deputy: Deputy) -> bool:
    """Take back a check-in made by mistake; False when the deputy was not checked in.

    Refused once the deputy has voted in a round still open: that round counts every deputy
    present as issued a ballot, so un-checking a voter would leave more ballots returned than
    issued, which voids the whole round."""
    # Row-locked (PostgreSQL) before the markers are read: a ballot being cast holds a share
    # lock on this row, so it either finishes first and is seen here, or waits and sees the undo.
    db.session.execute(select(Deputy.id).where(Deputy.id == deputy.id).with_for_update())
    db.session.refresh(deputy)
    if deputy.checked_in_at is None:
        return False
    voted_in = open_round_voted_in(deputy)
    if voted_in is not None:
        raise ConflictError(
            _l(
                "%(name)s has already voted in the open round “%(round)s”, so the check-in stays: "
                "every ballot returned must have been issued to a deputy present. It can be undone "
                "once that round is closed.",
                name=deputy.name,
                round=voted_in.title,
            )
        )
    method = deputy.checkin_method
    deputy.checked_in_at = None
    deputy.checkin_method = None
    db.session.flush()
    audit.record(actor, "checkin.undo", f"deputy:{deputy.id}", session=deputy.session_id, name=deputy.name, method=method)
    return True


def roster_day(congress: CongressSession, today: date | None = None) -> date:
    """The day whose deputies in office are the session's 应到: its first day, or today while undated."""
    return congress.starts_on or today or beijing_today()


# Why a session's roster no longer follows the term's registry (roster_freeze).
VOTING_BEGUN, CHECKED_IN, DAY_PASSED = "voting_begun", "checked_in", "day_passed"


def anyone_checked_in(session_id: int) -> bool:
    return bool(
        db.session.scalar(select(exists().where(Deputy.session_id == session_id, Deputy.checked_in_at.is_not(None))))
    )


def record_begun(session_id: int) -> str | None:
    """VOTING_BEGUN or CHECKED_IN once the session holds a record of its own (a round left
    preparation, a ballot was marked, someone checked in), else None."""
    if has_voting_begun(session_id):
        return VOTING_BEGUN
    if anyone_checked_in(session_id):
        return CHECKED_IN
    return None


def roster_freeze(congress: CongressSession, today: date | None = None) -> str | None:
    """Why the session's roster is part of the record, or None while it follows the term's
    registry: voting has begun, someone checked in (`record_begun`), or its day has passed
    (DAY_PASSED: a past session's roster is history). A past session with nobody on its roster
    holds no history yet, so a session entered after its day still takes its roster once."""
    today = today or beijing_today()
    begun = record_begun(congress.id)
    if begun is not None:
        return begun
    if roster_day(congress, today) < today and db.session.scalar(select(exists().where(Deputy.session_id == congress.id))):
        return DAY_PASSED
    return None


def is_roster_frozen(congress: CongressSession, today: date | None = None) -> bool:
    """Once frozen, nobody is added to or removed from the session's roster and names and units
    stay as they were; a deputy who leaves office stays on it, marked with the day and reason."""
    return roster_freeze(congress, today) is not None


def freeze_message(reason: str):
    """What `roster_freeze` found, in the reader's language."""
    return {
        VOTING_BEGUN: _l("Voting has begun in this session, so its roster is part of the record."),
        CHECKED_IN: _l("Deputies have checked in to this session, so its roster is part of the record."),
        DAY_PASSED: _l("This session's day has passed, so its roster is part of the record."),
    }[reason]


def is_removable(deputy: Deputy) -> bool:
    """A roster row that holds nothing of the record: not checked in, and no supervision visit
    signed under it."""
    if deputy.checked_in_at is not None:
        return False
    return not db.session.scalar(select(exists().where(SupervisionRecord.deputy_id == deputy.id)))


def delete_roster_row(deputy: Deputy) -> None:
    """Take a row off a session's roster with its cards (the person stays in the term's registry)."""
    db.session.execute(delete(Credential).where(Credential.deputy_id == deputy.id))
    db.session.delete(deputy)
    if deputy in deputy.session.deputies:  # so a second sync in the same transaction does not see it
        deputy.session.deputies.remove(deputy)
    db.session.flush()


def mark_left_office(deputy: Deputy, left_on: date, reason: str) -> None:
    """The session keeps the deputy with the day and reason; their card stops working."""
    deputy.term_ended_on, deputy.term_end_reason = left_on, reason
    db.session.flush()
    card = active_credential(deputy.id)
    if card is not None:
        revoke_card("registry", card)


def _listed(messages) -> LazyString:
    """Messages joined as the reader's language lists things: "a, b and c", "a、b和c"."""
    return LazyString(lambda: format_list([str(message) for message in messages], locale=get_locale() or "en"))


@dataclass(frozen=True)
class Removal:
    """Deleting a deputy entered by mistake: what it takes (their entry in the term's registry,
    their row on the roster of each session listed, the registry's assignments), or the records
    that keep them (`kept_by`), after which only their end of term can be recorded."""

    name: str
    rows: tuple[Deputy, ...]
    ties: RegistryTies
    kept_by: tuple

    @property
    def refusal(self):
        """None when the deputy may be deleted, else why not and what to do instead."""
        if not self.kept_by:
            return None
        return _l(
            "%(name)s cannot be deleted from the term's registry because of %(records)s. "
            "Record the end of the deputy's term instead.",
            name=self.name,
            records=_listed(self.kept_by),
        )

    @property
    def has_card(self) -> bool:
        return any(active_credential(row.id) is not None for row in self.rows)


def removal_of(deputy: Deputy, today: date) -> Removal:
    """What deleting the deputy from the term's registry would do, or why it is refused. Reads only.

    Records of work done keep the deputy: a check-in, a roster that is part of the record
    (`roster_freeze`), a supervision visit, a resident's proposal they entered, a reception
    day they were on duty at that has been held."""
    person = deputy.person
    rows = sorted(
        db.session.scalars(select(Deputy).where(Deputy.term_deputy_id == person.id)).all(),
        key=lambda row: (row.session.starts_on is None, row.session.starts_on or date.min, row.session_id),
    )
    kept_by: list = []
    for row in rows:
        session = row.session
        if row.checked_in_at is not None:
            kept_by.append(_l("their check-in at “%(session)s”", session=session.name))
            continue
        reason = roster_freeze(session, today)
        if reason == VOTING_BEGUN:
            kept_by.append(_l("the roster of “%(session)s”, where voting has begun", session=session.name))
        elif reason == CHECKED_IN:
            kept_by.append(_l("the roster of “%(session)s”, where deputies have checked in", session=session.name))
        elif reason == DAY_PASSED:
            kept_by.append(
                _l("the roster of “%(session)s”, held on %(date)s", session=session.name,
                   date=roster_day(session, today).isoformat())
            )
    row_ids = [row.id for row in rows]
    visits = db.session.scalar(select(func.count(SupervisionRecord.id)).where(SupervisionRecord.deputy_id.in_(row_ids)))
    if visits:
        kept_by.append(_l("%(count)s supervision visit(s) they recorded", count=visits))
    entered = db.session.scalar(select(func.count(Proposal.id)).where(Proposal.entered_by_deputy_id == person.id))
    if entered:
        kept_by.append(_l("%(count)s resident proposal(s) they entered", count=entered))
    ties = registry_removal.ties_of(person, today)
    for duty in ties.duties_done:
        kept_by.append(
            _l("their reception duty at %(station)s on %(date)s", station=duty.station, date=duty.held_on.isoformat())
        )
    return Removal(person.name, tuple(rows), ties, tuple(kept_by))


def remove_deputy(actor: str, deputy: Deputy, today: date) -> None:
    """Delete a deputy entered by mistake: from the term's registry and from every session's
    roster, with their cards and the registry's assignments (groups, convener role, reception
    days to come, station, grid); refused while any record of their work names them (`removal_of`)."""
    plan = removal_of(deputy, today)
    if plan.refusal is not None:
        raise ConflictError(plan.refusal)
    person, ties = deputy.person, plan.ties
    audit.record(
        actor, "deputy.remove", f"deputy:{deputy.id}", session=deputy.session_id, number=deputy.number, name=deputy.name,
        term_deputy=person.id, sessions=[row.session_id for row in plan.rows], groups=list(ties.groups),
        convened=list(ties.convened), duties=[f"{duty.station} {duty.scheduled_on.isoformat()}" for duty in ties.duties_ahead],
        station=ties.station, grid=ties.grid, office_changes=ties.office_changes,
    )
    for row in plan.rows:
        delete_roster_row(row)
    registry_removal.delete_deputy(person, today)


def session_delete_refusal(congress: CongressSession):
    """Why the session cannot be deleted, or None: voting has begun or someone checked in (it
    holds a record of its own), or a resident's proposal, a project or a supervision visit hangs
    on it."""
    begun = record_begun(congress.id)
    if begun == VOTING_BEGUN:
        return _l("Voting has begun in this session: it is part of the record and cannot be deleted.")
    if begun == CHECKED_IN:
        return _l("Deputies have checked in to this session: their attendance is part of the record, so the session cannot be deleted.")
    rounds = select(Round.id).where(Round.session_id == congress.id)
    candidates = select(Candidate.id).where(Candidate.round_id.in_(rounds))
    linked = exists().where(Proposal.candidate_id.in_(candidates)) | exists().where(
        Candidate.round_id.in_(rounds), Candidate.project_id.is_not(None)
    )
    if db.session.scalar(select(linked)):
        return _l("Candidates of this session stand for residents' proposals or projects: remove those candidates first.")
    deputies = select(Deputy.id).where(Deputy.session_id == congress.id)
    if db.session.scalar(select(exists().where(SupervisionRecord.deputy_id.in_(deputies)))):
        return _l("Deputies of this session have recorded supervision visits: the session cannot be deleted.")
    return None


def delete_session(actor: str, congress: CongressSession) -> None:
    """Delete a session made by mistake with its roster, cards, key and rounds in preparation;
    refused as `session_delete_refusal` says. A session whose day has passed may still be
    deleted while it holds no record of its own: it is how a wrong day is put right."""
    refusal = session_delete_refusal(congress)
    if refusal is not None:
        raise ConflictError(refusal)
    rounds = select(Round.id).where(Round.session_id == congress.id)
    candidates = select(Candidate.id).where(Candidate.round_id.in_(rounds))
    deputies = select(Deputy.id).where(Deputy.session_id == congress.id)
    audit.record(actor, "session.delete", f"session:{congress.id}", name=congress.name, deputies=len(congress.deputies))
    db.session.execute(update(Candidate).where(Candidate.id.in_(candidates)).values(source_id=None))
    db.session.execute(delete(Candidate).where(Candidate.round_id.in_(rounds)))
    db.session.execute(delete(Adoption).where(Adoption.round_id.in_(rounds)))
    db.session.execute(update(Round).where(Round.session_id == congress.id).values(parent_id=None))
    db.session.execute(delete(Round).where(Round.session_id == congress.id))
    db.session.execute(delete(BallotKey).where(BallotKey.session_id == congress.id))
    db.session.execute(delete(ScreenState).where(ScreenState.session_id == congress.id))
    db.session.execute(delete(Credential).where(Credential.deputy_id.in_(deputies)))
    db.session.execute(delete(Deputy).where(Deputy.session_id == congress.id))
    db.session.execute(delete(CongressSession).where(CongressSession.id == congress.id))
    db.session.expunge(congress)
    db.session.flush()


def end_term(actor: str, deputy: Deputy, ended_on: date, reason: str, today: date, kind: str = OTHER) -> int:
    """Record that a deputy's term in office ended (代表资格终止), from a session's roster: the
    change goes into the term's registry, and the deputy stays on this roster with the date and
    reason; their card stops working, and later rounds count them neither in the roster nor as
    present. Refused while a round is open, whose count must rest on the roster it was opened
    with. The caller brings the term's later sessions in line (`sessions.service.end_term`).
    Returns how many of the deputy's coming reception duties the registry dropped."""
    reason = reason.strip()
    if not deputy.is_in_office:
        raise ConflictError(_l("The term of %(name)s has already ended.", name=deputy.name))
    if not reason:
        raise TermEndError(_l("Give the reason the term ended."), "reason")
    if len(reason) > REASON_MAX:
        raise TermEndError(_l("The reason is too long: at most %(max)s characters.", max=REASON_MAX), "reason")
    if ended_on > today:
        raise TermEndError(
            _l("The date the term ended cannot be in the future: record the change once it has taken effect."), "ended_on"
        )
    person = deputy.person
    if person.left_office_on is not None and person.left_office_on != ended_on:
        raise TermEndError(
            _l(
                "The term's registry records that %(name)s left office on %(date)s: record that date here. "
                "A different date is corrected in the term's registry, not on a session's roster.",
                name=person.name,
                date=person.left_office_on.isoformat(),
            ),
            "ended_on",
        )
    refuse_while_a_round_is_open(deputy.session_id)
    dropped = 0
    if person.left_office_on is not None:
        kind = person.left_reason or kind
    else:
        try:
            dropped = registry.record_office_change(actor, person, kind, ended_on, reason, today).duties_dropped
        except registry.OfficeChangeError as error:
            raise TermEndError(error.message, "ended_on" if error.field == "effective_on" else "reason") from error
    mark_left_office(deputy, ended_on, reason)
    audit.record(
        actor,
        "deputy.term_end",
        f"deputy:{deputy.id}",
        session=deputy.session_id,
        name=deputy.name,
        ended_on=ended_on.isoformat(),
        reason=reason,
        kind=kind,
    )
    return dropped


def refuse_while_a_round_is_open(session_id: int) -> None:
    if db.session.scalar(select(exists().where(Round.session_id == session_id, Round.state == OPEN))):
        raise ConflictError(_l("A round is open: record the change after it is closed, so its count rests on the roster it opened with."))


def recent_check_ins(session_id: int, limit: int) -> list[Deputy]:
    """The latest check-ins, newest first: where the desk offers to undo a mistake."""
    return list(
        db.session.scalars(
            select(Deputy)
            .where(Deputy.session_id == session_id, Deputy.is_present)
            .order_by(Deputy.checked_in_at.desc(), Deputy.id.desc())
            .limit(limit)
        )
    )
