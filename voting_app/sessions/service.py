"""Sessions, roster imports and check-in. Services flush; the caller commits."""

import time
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from voting_app import audit
from voting_app.auth.service import token_digest
from voting_app.db import db, utcnow
from voting_app.errors import DomainError
from voting_app.sessions.checkin_code import is_valid_code
from voting_app.sessions.models import CongressSession, Deputy
from voting_app.sessions.presence import Presence
from voting_app.sessions.roster import (
    NumberClash,
    RosterParse,
    RowError,
    in_roster_order,
    matches,
    number_clashes,
    parse_roster,
)
from voting_app import table_files
from voting_app.table_files import TableFileError, read_table

DESK, VENUE_CODE = "desk", "venue_code"


@dataclass(frozen=True)
class ImportSummary:
    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class ImportPreview:
    """What importing a checked file would do, shown before anything is stored."""

    summary: ImportSummary
    clashes: tuple[NumberClash, ...]


def create_session(actor: str, name: str, venue: str = "", starts_on=None) -> CongressSession:
    congress = CongressSession(name=name.strip(), venue=venue.strip(), starts_on=starts_on)
    db.session.add(congress)
    db.session.flush()
    audit.record(actor, "session.create", f"session:{congress.id}", name=congress.name)
    return congress


def update_session(actor: str, congress: CongressSession, name: str, venue: str, starts_on) -> None:
    congress.name, congress.venue, congress.starts_on = name.strip(), venue.strip(), starts_on
    db.session.flush()
    audit.record(actor, "session.update", f"session:{congress.id}", name=congress.name)


def check_table(filename: str, data: bytes) -> tuple[list[list[str]], RosterParse]:
    """The file's table (kept for the import after the preview) and what the roster reads in it."""
    try:
        table = read_table(filename, data)
    except TableFileError as error:
        return [], RosterParse((), (RowError(0, str(error)),))
    return table, parse_roster(table)


def _salt(congress_id: int) -> str:
    return f"roster-import:{congress_id}"


def seal_table(secret: str, congress_id: int, table: list[list[str]]) -> str:
    """The checked table sealed for the preview's Import button (`table_files.seal_table`)."""
    return table_files.seal_table(secret, _salt(congress_id), table)


def import_sealed(actor: str, congress: CongressSession, secret: str, sealed: str) -> ImportSummary | None:
    """Import a table sealed by the preview; None when it is not one (altered, another
    session's, or older than table_files.PREVIEW_SECONDS)."""
    table = table_files.unseal_table(secret, _salt(congress.id), sealed)
    if table is None:
        return None
    parsed = parse_roster(table)
    return import_roster(actor, congress, parsed) if parsed.is_valid else None


def _changes(congress: CongressSession, parsed: RosterParse):
    """For each row: the deputy it updates (None: a new one) and the values that differ."""
    existing = {deputy.number: deputy for deputy in congress.deputies}
    for row in parsed.rows:
        deputy = existing.get(row.number)
        wanted = {"name": row.name}
        wanted.update({key: getattr(row, key) for key in ("delegation", "unit") if key in parsed.columns})
        differ = wanted if deputy is None else {k: v for k, v in wanted.items() if getattr(deputy, k) != v}
        yield row, deputy, differ


def preview_import(congress: CongressSession, parsed: RosterParse) -> ImportPreview:
    """How many deputies a checked file adds, updates and leaves, and who it would add a
    second time under another number. Reads only."""
    added = updated = unchanged = 0
    for _, deputy, differ in _changes(congress, parsed):
        if deputy is None:
            added += 1
        elif differ:
            updated += 1
        else:
            unchanged += 1
    roster = [(deputy.number, deputy.name, deputy.delegation) for deputy in congress.deputies]
    return ImportPreview(ImportSummary(added, updated, unchanged), number_clashes(parsed.rows, roster))


def import_roster(actor: str, congress: CongressSession, parsed: RosterParse) -> ImportSummary:
    """Add new deputies and update changed ones by deputy number; the same file twice changes nothing."""
    if not parsed.is_valid:
        raise ValueError("refusing to import a roster with errors")
    added = updated = unchanged = 0
    for row, deputy, differ in list(_changes(congress, parsed)):
        if deputy is None:
            db.session.add(
                Deputy(session=congress, number=row.number, name=row.name, delegation=row.delegation, unit=row.unit)
            )
            added += 1
        elif differ:
            for key, value in differ.items():
                setattr(deputy, key, value)
            updated += 1
        else:
            unchanged += 1
    db.session.flush()
    if added or updated:
        audit.record(actor, "roster.import", f"session:{congress.id}", added=added, updated=updated)
    return ImportSummary(added, updated, unchanged)


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
