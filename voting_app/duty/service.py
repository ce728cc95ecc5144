"""Duty records read from the sessions' rosters, the supervision records and the registry, and
assembled by the rules in `voting_app.registry.duty`. Reads only.

Every figure of a deputy's record beyond attendance is a named provider in FIGURES, each one
entry: a count per deputy of the term. "Proposals entered" counts the visitors' proposals a
deputy entered on duty at a reception day.

Nothing here reads a ballot table (rounds, candidates, ballots, markers, sealed ballots, paper
entries): whether or how a deputy voted is never part of a duty record."""

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from voting_app.db import db
from voting_app.projects.models import SupervisionIssue, SupervisionRecord
from voting_app.proposals.models import Proposal
from voting_app.registry import duty
from voting_app.registry.models import DeputyGroup, GroupMembership, OfficeChange, Term, TermDeputy
from voting_app.registry.terms import term_label
from voting_app.sessions.models import CongressSession, Deputy


@dataclass(frozen=True)
class Figure:
    """One named figure of the duty record: `read(term, person_ids)` gives a count per deputy
    (term_deputies.id); a deputy missing from the answer counts 0. `person_ids` None: all of the term."""

    key: str
    label: object
    read: Callable[[Term, list[int] | None], dict[int, int]]


def _by_person(query, person_ids: list[int] | None) -> dict[int, int]:
    if person_ids is not None:
        query = query.where(Deputy.term_deputy_id.in_(person_ids))
    return {person: count for person, count in db.session.execute(query)}


def _supervision_query(term: Term):
    return (
        select(Deputy.term_deputy_id, func.count(SupervisionRecord.id))
        .join(Deputy, Deputy.id == SupervisionRecord.deputy_id)
        .join(CongressSession, CongressSession.id == Deputy.session_id)
        .where(CongressSession.term_id == term.id)
        .group_by(Deputy.term_deputy_id)
    )


def supervision_visits(term: Term, person_ids: list[int] | None = None) -> dict[int, int]:
    """Supervision visits (督办) recorded by the deputy with a card of any session of the term."""
    return _by_person(_supervision_query(term), person_ids)


def rectifications_followed(term: Term, person_ids: list[int] | None = None) -> dict[int, int]:
    """Visits at which the deputy asked for a rectification (整改), which they then follow to a verdict."""
    return _by_person(_supervision_query(term).where(SupervisionRecord.issues.any(SupervisionIssue.rectification != "")),
                      person_ids)


def proposals_entered(term: Term, person_ids: list[int] | None = None) -> dict[int, int]:
    """Visitors' proposals the deputy entered on duty at a reception day (接待选民日)."""
    query = (
        select(Proposal.entered_by_deputy_id, func.count(Proposal.id))
        .join(TermDeputy, TermDeputy.id == Proposal.entered_by_deputy_id)
        .where(TermDeputy.term_id == term.id)
        .group_by(Proposal.entered_by_deputy_id)
    )
    if person_ids is not None:
        query = query.where(Proposal.entered_by_deputy_id.in_(person_ids))
    return {person: count for person, count in db.session.execute(query)}


def groups(term: Term, person_ids: list[int] | None = None) -> dict[int, int]:
    """Deputy groups (代表小组) of the term the deputy belongs to."""
    query = (
        select(GroupMembership.term_deputy_id, func.count(GroupMembership.id))
        .join(DeputyGroup, DeputyGroup.id == GroupMembership.group_id)
        .where(DeputyGroup.term_id == term.id)
        .group_by(GroupMembership.term_deputy_id)
    )
    if person_ids is not None:
        query = query.where(GroupMembership.term_deputy_id.in_(person_ids))
    return {person: count for person, count in db.session.execute(query)}


FIGURES: tuple[Figure, ...] = (
    Figure("supervision_visits", _l("Supervision visits"), supervision_visits),
    Figure("rectifications_followed", _l("Rectifications followed"), rectifications_followed),
    Figure("proposals_entered", _l("Proposals entered"), proposals_entered),
    Figure("groups", _l("Groups"), groups),
)


def term_sessions(term: Term) -> list[duty.SessionHeld]:
    """The term's sessions in order, each held once anyone has checked in there."""
    checked_in = dict(db.session.execute(
        select(Deputy.session_id, func.count(Deputy.checked_in_at))
        .join(CongressSession, CongressSession.id == Deputy.session_id)
        .where(CongressSession.term_id == term.id)
        .group_by(Deputy.session_id)
    ).all())
    sessions = db.session.scalars(select(CongressSession).where(CongressSession.term_id == term.id))
    return duty.in_session_order(
        duty.SessionHeld(s.id, s.name, s.starts_on, s.meeting_number, checked_in.get(s.id, 0) > 0) for s in sessions
    )


def _roster_entries(term: Term, person_ids: list[int] | None = None) -> dict[int, list[duty.RosterEntry]]:
    query = (
        select(Deputy.term_deputy_id, Deputy.session_id, Deputy.checked_in_at, Deputy.checkin_method, Deputy.term_ended_on)
        .join(CongressSession, CongressSession.id == Deputy.session_id)
        .where(CongressSession.term_id == term.id)
    )
    if person_ids is not None:
        query = query.where(Deputy.term_deputy_id.in_(person_ids))
    entries: dict[int, list[duty.RosterEntry]] = {}
    for row in db.session.execute(query):
        entries.setdefault(row.term_deputy_id, []).append(duty.RosterEntry(*row))
    return entries


def _person(deputy: TermDeputy) -> duty.Person:
    return duty.Person(deputy.id, deputy.number, deputy.name, deputy.delegation, deputy.unit, deputy.level,
                       deputy.took_office_on, deputy.left_office_on, deputy.left_reason)


@dataclass(frozen=True)
class DutyTable:
    term: Term
    title: str
    sessions: list[duty.SessionHeld]
    rows: list[duty.DutyRow]
    totals: duty.Totals
    figures: tuple[Figure, ...]
    delegations: list[str]
    levels: list[str]


def duty_table(term: Term, delegation: str = "", level: str = "") -> DutyTable:
    """One row per deputy of the term (in roster order), of one delegation and level when given."""
    everyone = [_person(deputy) for deputy in db.session.scalars(select(TermDeputy).where(TermDeputy.term_id == term.id))]
    people = duty.select_people(everyone, delegation, level)
    sessions = term_sessions(term)
    entries = _roster_entries(term)
    counts = {figure.key: figure.read(term, None) for figure in FIGURES}
    rows = [
        duty.DutyRow(person, duty.attendance(sessions, entries.get(person.id, [])),
                     {key: found.get(person.id, 0) for key, found in counts.items()})
        for person in people
    ]
    return DutyTable(
        term, term_label(term.congress.name, term.number), sessions, rows, duty.totals(rows, counts),
        FIGURES, sorted({p.delegation for p in everyone if p.delegation}), sorted({p.level for p in everyone}),
    )


@dataclass(frozen=True)
class DeputyRecord:
    term: Term
    title: str
    row: duty.DutyRow
    supervisions: list[SupervisionRecord]
    changes: list[OfficeChange]
    figures: tuple[Figure, ...]


def deputy_records(term: Term, people: list[duty.Person]) -> list[DeputyRecord]:
    """The records of these deputies of the term (in the order given), read in a few queries:
    each session, each check-in, each supervision visit and each change in office."""
    ids = [person.id for person in people]
    sessions = term_sessions(term)
    entries = _roster_entries(term, ids)
    counts = {figure.key: figure.read(term, ids) for figure in FIGURES}
    supervisions: dict[int, list[SupervisionRecord]] = {}
    for person_id, record in db.session.execute(
        select(Deputy.term_deputy_id, SupervisionRecord).join(Deputy, Deputy.id == SupervisionRecord.deputy_id)
        .where(Deputy.term_deputy_id.in_(ids))
        .options(selectinload(SupervisionRecord.project))
        .order_by(SupervisionRecord.visited_on.desc(), SupervisionRecord.id.desc())
    ):
        supervisions.setdefault(person_id, []).append(record)
    changes: dict[int, list[OfficeChange]] = {}
    for change in db.session.scalars(
        select(OfficeChange).where(OfficeChange.term_deputy_id.in_(ids)).order_by(OfficeChange.effective_on, OfficeChange.id)
    ):
        changes.setdefault(change.term_deputy_id, []).append(change)
    title = term_label(term.congress.name, term.number)
    return [
        DeputyRecord(
            term, title,
            duty.DutyRow(person, duty.attendance(sessions, entries.get(person.id, [])),
                         {key: found.get(person.id, 0) for key, found in counts.items()}),
            supervisions.get(person.id, []), changes.get(person.id, []), FIGURES,
        )
        for person in people
    ]


def deputy_record(term: Term, person: TermDeputy) -> DeputyRecord:
    """One deputy's record over the term."""
    return deputy_records(term, [_person(person)])[0]


def contacts(term: Term) -> dict[int, str]:
    """The deputies' contacts (staff only), for an export where staff asked for them."""
    return dict(db.session.execute(select(TermDeputy.id, TermDeputy.contact).where(TermDeputy.term_id == term.id)).all())


def terms() -> list[Term]:
    return list(db.session.scalars(select(Term).order_by(Term.starts_on.desc().nulls_last(), Term.id.desc())))


