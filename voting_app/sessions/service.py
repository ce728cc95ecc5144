"""Sessions, roster imports and check-in. Services flush; the caller commits."""

import csv
import io
import time
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from openpyxl import load_workbook
from sqlalchemy import func, or_, select

from voting_app import audit
from voting_app.auth.service import token_digest
from voting_app.db import db, utcnow
from voting_app.errors import DomainError
from voting_app.sessions.checkin_code import is_valid_code
from voting_app.sessions.models import CongressSession, Deputy
from voting_app.sessions.presence import Presence
from voting_app.sessions.roster import RosterParse, RowError, parse_roster

DESK, VENUE_CODE = "desk", "venue_code"


class RosterFileError(ValueError):
    """The file is not a CSV or Excel table we can read."""


@dataclass(frozen=True)
class ImportSummary:
    added: int
    updated: int
    unchanged: int


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


def read_table(filename: str, data: bytes) -> list[list[object]]:
    """CSV (UTF-8, or GB18030 as Excel saves it in China) or .xlsx into rows of cells."""
    lowered = filename.lower()
    if lowered.endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a damaged file
            raise RosterFileError("unreadable_xlsx") from error
        sheet = workbook.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        workbook.close()
        if any(isinstance(value, str) and "\x00" in value for row in rows for value in row):
            raise RosterFileError("unreadable_xlsx")  # a NUL no database text column can hold
        return rows
    if lowered.endswith(".csv") or lowered.endswith(".txt"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterFileError("unreadable_csv")
        if "\x00" in text:  # UTF-16 ("Unicode text") or binary; and no database text column holds a NUL
            raise RosterFileError("unreadable_csv")
        try:
            return [row for row in csv.reader(io.StringIO(text))]
        except csv.Error as error:
            raise RosterFileError("unreadable_csv") from error
    raise RosterFileError("unknown_type")


def check_roster(filename: str, data: bytes) -> RosterParse:
    try:
        return parse_roster(read_table(filename, data))
    except RosterFileError as error:
        return RosterParse((), (RowError(0, str(error)),))


def import_roster(actor: str, congress: CongressSession, parsed: RosterParse) -> ImportSummary:
    """Add new deputies and update changed ones by deputy number; the same file twice changes nothing."""
    if not parsed.is_valid:
        raise ValueError("refusing to import a roster with errors")
    existing = {deputy.number: deputy for deputy in congress.deputies}
    added = updated = unchanged = 0
    for row in parsed.rows:
        deputy = existing.get(row.number)
        if deputy is None:
            db.session.add(
                Deputy(session=congress, number=row.number, name=row.name, delegation=row.delegation, unit=row.unit)
            )
            added += 1
            continue
        changes = {"name": row.name}
        changes.update({key: getattr(row, key) for key in ("delegation", "unit") if key in parsed.columns})
        if any(getattr(deputy, key) != value for key, value in changes.items()):
            for key, value in changes.items():
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
        .where(Deputy.session_id == congress_id, Deputy.term_ended_on.is_(None))
    ).one()
    return Presence(roster=roster, present=present)


def search_deputies(congress_id: int, query: str, limit: int = 20) -> list[Deputy]:
    query = query.strip()
    if not query:
        return []
    # icontains: ignore letter case on every database (PostgreSQL's LIKE does not), and
    # autoescape: a typed % or _ is a character, not a wildcard.
    return list(
        db.session.scalars(
            select(Deputy)
            .where(Deputy.session_id == congress_id)
            .where(
                or_(
                    Deputy.name.icontains(query, autoescape=True),
                    Deputy.number == query,
                    Deputy.delegation.icontains(query, autoescape=True),
                )
            )
            .order_by(Deputy.number)
            .limit(limit)
        )
    )


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
