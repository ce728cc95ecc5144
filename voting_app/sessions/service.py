"""Sessions, roster imports and check-in. Services flush; the caller commits."""

import time
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from voting_app import audit, table_files
from voting_app.auth.service import token_digest
from voting_app.clock import beijing_today
from voting_app.db import db, utcnow
from voting_app.errors import ConflictError, DomainError
from voting_app.registry.roster import (
    RosterParse,
    RosterRow,
    RowError,
    in_roster_order,
    matches,
    parse_roster,
)
from voting_app.registry import service as registry
from voting_app.registry.grid_service import grid_codes
from voting_app.registry.models import Term, TermDeputy
from voting_app.registry.service import ImportPreview, ImportSummary
from voting_app.registry.terms import OTHER
from voting_app.sessions import changes
from voting_app.sessions.checkin_code import is_valid_code
from voting_app.sessions.models import CongressSession, Deputy
from voting_app.sessions.presence import Presence

DESK, VENUE_CODE = "desk", "venue_code"


@dataclass(frozen=True)
class RosterSync:
    """What drawing a session's roster from the term's registry changed."""

    added: int = 0
    removed: int = 0
    updated: int = 0
    ended: int = 0


def create_session(
    actor: str, name: str, venue: str = "", starts_on=None, term: Term | None = None, meeting_number: int | None = None
) -> CongressSession:
    """A session of `term` (when not given: the one its name says, see `term_for_session_name`),
    its roster drawn at once from the term's deputies in office on its day."""
    if term is None:
        term, meeting_number = registry.term_for_session_name(actor, name)
    congress = CongressSession(
        name=name.strip(), venue=venue.strip(), starts_on=starts_on, term=term, meeting_number=meeting_number
    )
    db.session.add(congress)
    db.session.flush()
    audit.record(actor, "session.create", f"session:{congress.id}", name=congress.name, term=term.id)
    sync_roster(congress)
    return congress


def sync_roster(congress: CongressSession, today: date | None = None) -> RosterSync:
    """Bring the session's roster in line with the term's registry on the session's day.

    While the roster follows the registry, deputies in office are added, others removed, names
    and units copied. Once it is part of the record (`changes.roster_freeze`: voting has begun,
    someone checked in, or the session's day has passed) nobody is added or removed and nothing
    is rewritten; a deputy who has left office stays with the day and reason (counted neither
    in the roster nor as present from then on)."""
    today = today or beijing_today()
    return _follow_registry(congress, today, changes.is_roster_frozen(congress, today))


def _follow_registry(congress: CongressSession, today: date, frozen: bool) -> RosterSync:
    day = changes.roster_day(congress, today)
    wanted = {deputy.id: deputy for deputy in registry.deputies_in_office(congress.term, day)}
    rows = {row.term_deputy_id: row for row in congress.deputies}
    added = removed = updated = ended = 0
    for person_id, person in wanted.items():
        row = rows.get(person_id)
        if row is None and not frozen:
            congress.deputies.append(Deputy(person=person, **_copied(person)))
            added += 1
        elif row is not None and not frozen:
            differ = {key: value for key, value in _copied(person).items() if getattr(row, key) != value}
            for key, value in differ.items():
                setattr(row, key, value)
            updated += bool(differ)
    for person_id, row in rows.items():
        if person_id in wanted:
            continue
        if not frozen and changes.is_removable(row):
            changes.delete_roster_row(row)
            removed += 1
        elif row.is_in_office and row.person.left_office_on is not None:
            changes.mark_left_office(row, row.person.left_office_on, row.person.left_reason)
            ended += 1
    db.session.flush()
    return RosterSync(added, removed, updated, ended)


def _copied(person: TermDeputy) -> dict:
    return {"number": person.number, "name": person.name, "delegation": person.delegation, "unit": person.unit}


def end_term(actor: str, deputy: Deputy, ended_on: date, reason: str, today: date, kind: str = OTHER) -> int:
    """`changes.end_term` (kind: what ended it, terms.LEAVING_KINDS), then the term's other
    sessions on or after that day follow the registry. Refused while a round is open in any of them.
    Returns how many of the deputy's coming reception duties were dropped."""
    for congress in sessions_on_or_after(deputy.session.term, ended_on, today):
        changes.refuse_while_a_round_is_open(congress.id)
    dropped = changes.end_term(actor, deputy, ended_on, reason, today, kind)
    sync_term_sessions(deputy.session.term, since=ended_on, today=today)
    return dropped


def record_office_change(
    actor: str, person: TermDeputy, kind: str, effective_on: date, note: str, today: date
) -> registry.RecordedChange:
    """A change in office recorded in the registry (from the term's pages), reaching the
    rosters of the term's sessions on or after that day. Refused while a round is open in any."""
    for congress in sessions_on_or_after(person.term, effective_on, today):
        changes.refuse_while_a_round_is_open(congress.id)
    recorded = registry.record_office_change(actor, person, kind, effective_on, note, today)
    sync_term_sessions(person.term, since=effective_on, today=today)
    return recorded


def add_elected_deputy(
    actor: str, term: Term, row: RosterRow, took_office_on: date, today: date, note: str = ""
) -> TermDeputy:
    """A deputy elected in a by-election (补选), added to the registry with the day they took
    office; the term's sessions from that day take them onto their rosters (those whose roster
    is not part of the record, `changes.roster_freeze`). Refused while a round is open in any of them."""
    for congress in sessions_on_or_after(term, took_office_on, today):
        changes.refuse_while_a_round_is_open(congress.id)
    person = registry.add_elected_deputy(actor, term, row, took_office_on, today, note)
    sync_term_sessions(term, since=took_office_on, today=today)
    return person


def sessions_on_or_after(term: Term, day: date, today: date | None = None) -> list[CongressSession]:
    sessions = db.session.scalars(select(CongressSession).where(CongressSession.term_id == term.id)).all()
    return [congress for congress in sessions if changes.roster_day(congress, today) >= day]


def sync_term_sessions(term: Term, since: date | None = None, today: date | None = None) -> list[tuple[CongressSession, RosterSync]]:
    """Every session of the term held on or after `since` (undated ones too) follows the registry."""
    if since is None:
        sessions = db.session.scalars(select(CongressSession).where(CongressSession.term_id == term.id)).all()
    else:
        sessions = sessions_on_or_after(term, since, today)
    return [(congress, sync_roster(congress, today)) for congress in sessions]


def update_session(
    actor: str, congress: CongressSession, name: str, venue: str, starts_on, term: Term | None = None,
    meeting_number: int | None = None, today: date | None = None,
) -> None:
    """Save the session's details; its term and day decide its roster, so once the roster is
    part of the record (`changes.roster_freeze`) they stay as they were, and before that the
    roster follows the change at once (to the new day, even one already past)."""
    today = today or beijing_today()
    term = term or congress.term
    frozen = changes.roster_freeze(congress, today)
    if frozen is not None and (term.id != congress.term_id or starts_on != congress.starts_on):
        raise ConflictError(
            _l("%(why)s Its term and opening day stay as they are.", why=changes.freeze_message(frozen))
        )
    congress.name, congress.venue, congress.starts_on = name.strip(), venue.strip(), starts_on
    congress.term, congress.meeting_number = term, meeting_number
    db.session.flush()
    audit.record(actor, "session.update", f"session:{congress.id}", name=congress.name, term=term.id)
    if frozen is None:
        _follow_registry(congress, today, frozen=False)


def terms_newest_first() -> list[Term]:
    """The terms a session may belong to, for the session form's select."""
    return list(
        db.session.scalars(select(Term).order_by(Term.starts_on.desc().nulls_last(), Term.number.desc(), Term.id.desc()))
    )


def check_table(filename: str, data: bytes) -> tuple[list[list[str]], RosterParse]:
    """The file's table (kept for the import after the preview) and what the roster reads in it."""
    return table_files.check_file(filename, data, _parse, lambda code: RosterParse((), (RowError(0, code),)))


def _parse(table: list[list[str]]) -> RosterParse:
    return parse_roster(table, grid_codes())


def _salt(scope: str) -> str:
    return f"roster-import:{scope}"


def import_scope(congress: CongressSession | None = None, term: Term | None = None) -> str:
    """Where a preview was made: a session's import page (its id, as before) or the term's."""
    return str(congress.id) if congress is not None else f"term:{term.id}"


def seal_table(secret: str, scope: str, table: list[list[str]]) -> str:
    """The checked table sealed for the preview's Import button (`table_files.seal_table`);
    `scope` (import_scope) ties it to the page it was made on."""
    return table_files.seal_table(secret, _salt(scope), table)


def import_sealed(actor: str, term: Term, scope: str, secret: str, sealed: str) -> ImportSummary | None:
    """Import a table sealed by the preview into the term; None when it is not one (altered,
    another page's, or older than table_files.PREVIEW_SECONDS) or no longer passes (a grid it
    names removed since)."""
    return table_files.import_sealed(secret, _salt(scope), sealed, _parse, lambda parsed: import_into_term(actor, term, parsed))


def preview_import(term: Term, parsed: RosterParse) -> ImportPreview:
    """What importing a checked file into the term would do. Reads only."""
    return registry.preview_term_import(term, parsed)


def import_roster(actor: str, congress: CongressSession, parsed: RosterParse) -> ImportSummary:
    """Import or update the session's term's deputies (see import_into_term)."""
    return import_into_term(actor, congress.term, parsed)


def import_into_term(actor: str, term: Term, parsed: RosterParse) -> ImportSummary:
    """Import or update the term's deputies from a checked file (the summary counts the term's
    registry), then let every session of the term whose roster is not part of the record
    (`changes.roster_freeze`) follow it."""
    summary = registry.import_term_deputies(actor, term, parsed)
    sync_term_sessions(term)
    return summary


def presence(congress_id: int) -> Presence:
    """Deputies in office: one whose term has ended counts neither in the roster nor as present."""
    roster, present = db.session.execute(
        select(func.count(Deputy.id), func.count(Deputy.checked_in_at))
        .where(Deputy.session_id == congress_id, Deputy.is_in_office)
    ).one()
    return Presence(roster=roster, present=present)


def search_deputies(congress_id: int, query: str, limit: int = 20) -> list[Deputy]:
    """Deputies matching `query` as `roster.matches` says (spaces of every kind, width and case
    ignored), in roster order. Compared in Python: no database ignores U+3000 or NBSP in LIKE,
    and a roster (a few thousand at most) is read as four short columns."""
    found = in_roster_order(
        row
        for row in db.session.execute(
            select(Deputy.id, Deputy.number, Deputy.name, Deputy.delegation).where(Deputy.session_id == congress_id)
        )
        if matches(query, row.number, row.name, row.delegation)
    )[:limit]
    deputies = {deputy.id: deputy for deputy in db.session.scalars(select(Deputy).where(Deputy.id.in_([row.id for row in found])))}
    return [deputies[row.id] for row in found]


def deputy_by_card(congress_id: int, scanned: str) -> Deputy | None:
    """A scanned card gives its URL (…/c/TOKEN) or the bare token."""
    from voting_app.ballots.models import Credential

    token = scanned.strip().rstrip("/").rsplit("/", 1)[-1]
    if not token:
        return None
    return db.session.scalar(
        select(Deputy)
        .join(Credential, Credential.deputy_id == Deputy.id)
        .where(Credential.token_hash == token_digest(token), Credential.revoked_at.is_(None))
        .where(Deputy.session_id == congress_id)
    )


def check_in(deputy: Deputy, method: str, actor: str | None = None) -> bool:
    """Mark a deputy present; False when they already were (checking in twice is harmless).
    A desk check-in names the staff member in the audit log."""
    if not deputy.is_in_office:
        raise DomainError(_l("The term of %(name)s has ended: they cannot check in.", name=deputy.name))
    if deputy.checked_in_at is not None:
        return False
    deputy.checked_in_at = utcnow()
    deputy.checkin_method = method
    db.session.flush()
    if actor:
        audit.record(actor, "checkin.desk", f"deputy:{deputy.id}", session=deputy.session_id, name=deputy.name)
    return True


def check_in_with_venue_code(secret: str, period: int, deputy: Deputy, code: str) -> bool | None:
    """None when the code is wrong or expired, else as check_in."""
    if not is_valid_code(secret, deputy.session_id, code, time.time(), period):
        return None
    return check_in(deputy, VENUE_CODE)
