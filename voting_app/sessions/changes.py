"""Taking things back at the desk and on the roster: undoing a check-in, removing a deputy or
a whole session while nothing has been voted, and, once something has, recording that a
deputy's term in office ended instead of deleting anyone. Services flush; the caller commits.

Every figure a counted round used was frozen when it closed (roster, present, issued), so
none of these changes reaches a past round; they change only what later rounds count.
"""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, exists, select, update

from voting_app import audit
from voting_app.ballots.credentials import active_credential, revoke_card
from voting_app.ballots.models import DRAFT, OPEN, BallotKey, BallotMarker, Candidate, Credential, Round
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.projects.models import SupervisionRecord
from voting_app.proposals.models import Proposal
from voting_app.registry import service as registry
from voting_app.registry.models import OfficeChange
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


def _refuse_once_voting_began(session_id: int, message) -> None:
    if has_voting_begun(session_id):
        raise ConflictError(message)


def is_removable(deputy: Deputy) -> bool:
    """A roster row that holds nothing of the record: no supervision visit signed under it."""
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


def remove_deputy(actor: str, deputy: Deputy) -> None:
    """Delete a deputy entered by mistake: from the term's registry and from every session's
    roster, with their cards; only while none of those sessions has voted and nothing of the
    record (a supervision visit) hangs on them."""
    person = deputy.person
    rows = db.session.scalars(select(Deputy).where(Deputy.term_deputy_id == person.id)).all()
    for row in rows:
        _refuse_once_voting_began(
            row.session_id,
            _l("Voting has begun in this session, so nobody is deleted from its roster: record the end of the deputy's term instead."),
        )
        if not is_removable(row):
            raise ConflictError(_l("This deputy has recorded supervision visits, which keep their name: record the end of the term instead."))
    audit.record(
        actor, "deputy.remove", f"deputy:{deputy.id}", session=deputy.session_id, number=deputy.number, name=deputy.name
    )
    for row in rows:
        delete_roster_row(row)
    db.session.execute(delete(OfficeChange).where(OfficeChange.term_deputy_id == person.id))
    db.session.delete(person)
    db.session.flush()


def delete_session(actor: str, congress: CongressSession) -> None:
    """Delete a session made by mistake with its roster, cards, key and rounds in preparation;
    only while nothing is voted, and only while no resident's proposal or project hangs on it."""
    _refuse_once_voting_began(
        congress.id, _l("Voting has begun in this session: it is part of the record and cannot be deleted.")
    )
    rounds = select(Round.id).where(Round.session_id == congress.id)
    candidates = select(Candidate.id).where(Candidate.round_id.in_(rounds))
    linked = exists().where(Proposal.candidate_id.in_(candidates)) | exists().where(
        Candidate.round_id.in_(rounds), Candidate.project_id.is_not(None)
    )
    if db.session.scalar(select(linked)):
        raise ConflictError(
            _l("Candidates of this session stand for residents' proposals or projects: remove those candidates first.")
        )
    deputies = select(Deputy.id).where(Deputy.session_id == congress.id)
    if db.session.scalar(select(exists().where(SupervisionRecord.deputy_id.in_(deputies)))):
        raise ConflictError(_l("Deputies of this session have recorded supervision visits: the session cannot be deleted."))
    audit.record(actor, "session.delete", f"session:{congress.id}", name=congress.name, deputies=len(congress.deputies))
    db.session.execute(update(Candidate).where(Candidate.id.in_(candidates)).values(source_id=None))
    db.session.execute(delete(Candidate).where(Candidate.round_id.in_(rounds)))
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
    refuse_while_a_round_is_open(deputy.session_id)
    dropped = 0
    if deputy.person.left_office_on is None:
        try:
            dropped = registry.record_office_change(actor, deputy.person, kind, ended_on, reason, today).duties_dropped
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
