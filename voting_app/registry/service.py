"""Congresses, terms and the standing registry of deputies. Services flush; the caller commits.

The registry stands below every feature: sessions draw their rosters from it, and a change in
office recorded here reaches each session's roster through `sessions.service`, never from here."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from voting_app import audit
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.registry import stations
from voting_app.registry.models import Congress, Grid, OfficeChange, Term, TermDeputy
from voting_app.registry.roster import NumberClash, RosterParse, RosterRow, in_roster_order, matches, number_clashes
from voting_app.registry.terms import (
    CONGRESS_LEVELS,
    DISTRICT,
    ELECTED,
    LEAVING_KINDS,
    OFFICE_CHANGE_KINDS,
    read_session_name,
)

NOTE_MAX = 200


@dataclass(frozen=True)
class ImportSummary:
    added: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class GridChange:
    """A deputy of the file whose grid the import sets: `before` None when they have none yet."""

    line: int
    number: str
    name: str
    before: Grid | None
    after: Grid


@dataclass(frozen=True)
class ImportPreview:
    """What importing a checked file would do, shown before anything is stored."""

    summary: ImportSummary
    clashes: tuple[NumberClash, ...]
    grid_changes: tuple[GridChange, ...] = ()


class OfficeChangeError(DomainError):
    """Bad input on the change-in-office form, naming the field it belongs to."""

    def __init__(self, message, field: str):
        super().__init__(message)
        self.field = field


def create_congress(actor: str, name: str, level: str = DISTRICT) -> Congress:
    if level not in CONGRESS_LEVELS:
        raise ValueError(f"unknown congress level {level!r}")
    if db.session.scalar(select(Congress.id).where(Congress.name == name.strip())):
        raise ConflictError(_l("A congress of that name already exists."))
    congress = Congress(name=name.strip(), level=level)
    db.session.add(congress)
    db.session.flush()
    audit.record(actor, "congress.create", f"congress:{congress.id}", name=congress.name, level=level)
    return congress


def create_term(actor: str, congress: Congress, number: int, starts_on: date | None = None, ends_on: date | None = None) -> Term:
    if db.session.scalar(select(Term.id).where(Term.congress_id == congress.id, Term.number == number)):
        raise ConflictError(_l("This congress already has that term."))
    if number < 1:
        raise DomainError(_l("A term's number is 1 or more."))
    if starts_on and ends_on and ends_on < starts_on:
        raise DomainError(_l("A term cannot end before it starts."))
    term = Term(congress=congress, number=number, starts_on=starts_on, ends_on=ends_on)
    db.session.add(term)
    db.session.flush()
    audit.record(actor, "term.create", f"term:{term.id}", congress=congress.name, number=number)
    return term


def newest_term() -> Term | None:
    return db.session.scalar(select(Term).order_by(Term.starts_on.desc().nulls_last(), Term.id.desc()).limit(1))


def newest_terms() -> list[Term]:
    """Each congress's newest term (by its number), the district's congresses first, then the one
    whose term started last: the terms a deputy's number is looked up in (numbers repeat across
    congresses, a township's 001 and the district's 001)."""
    newest: dict[int, Term] = {}
    for term in db.session.scalars(select(Term).order_by(Term.number)):
        newest[term.congress_id] = term
    return sorted(newest.values(), key=lambda term: (
        term.congress.level != DISTRICT, term.starts_on is None, -(term.starts_on or date.min).toordinal(), -term.id))


def deputy_by_number(term: Term, number: str) -> TermDeputy | None:
    return db.session.scalar(select(TermDeputy).where(TermDeputy.term_id == term.id, TermDeputy.number == number.strip()))


def term_for_session_name(actor: str, session_name: str) -> tuple[Term, int | None]:
    """The term a new session belongs to when staff did not pick one, and its meeting number:
    the one its usual name gives ("…第十九届人民代表大会第六次会议"), created on first use; else
    the newest term; on a new install with neither, the first term of a congress."""
    congress_name, term_number, meeting = read_session_name(session_name)
    if congress_name and term_number:
        congress = db.session.scalar(select(Congress).where(Congress.name == congress_name))
        if congress is None:
            congress = create_congress(actor, congress_name)
        term = db.session.scalar(select(Term).where(Term.congress_id == congress.id, Term.number == term_number))
        return term or create_term(actor, congress, term_number), meeting
    term = newest_term()
    if term is None:
        term = create_term(actor, create_congress(actor, "人民代表大会"), 1)
    return term, meeting


def _registry_changes(term: Term, parsed: RosterParse) -> Iterator[tuple[RosterRow, TermDeputy | None, dict]]:
    """For each row: the term's deputy it updates (None: a new one) and the values that differ
    ("grid": the Grid to link to). Columns the file does not have leave the registry's values as
    they are, and so do empty level, contact and grid cells (a list without phone numbers does
    not wipe the ones on record)."""
    existing = {deputy.number: deputy for deputy in term.deputies}
    grids = {grid.code: grid for grid in db.session.scalars(select(Grid))} if any(row.grid for row in parsed.rows) else {}
    for row in parsed.rows:
        deputy = existing.get(row.number)
        wanted = {"name": row.name}
        wanted.update({key: getattr(row, key) for key in ("delegation", "unit") if key in parsed.columns})
        wanted.update({key: getattr(row, key) for key in ("level", "contact") if getattr(row, key)})
        if row.grid:
            wanted["grid"] = grids[row.grid]
        differ = wanted if deputy is None else {k: v for k, v in wanted.items() if getattr(deputy, k) != v}
        yield row, deputy, differ


def preview_term_import(term: Term, parsed: RosterParse) -> ImportPreview:
    """How many deputies a checked file adds to the term, updates and leaves, and who it would
    add a second time under another number. Reads only."""
    added = updated = unchanged = 0
    grid_changes = []
    for row, deputy, differ in _registry_changes(term, parsed):
        if deputy is None:
            added += 1
        elif differ:
            updated += 1
        else:
            unchanged += 1
        if "grid" in differ:
            grid_changes.append(GridChange(row.line, row.number, row.name, deputy.grid if deputy else None, differ["grid"]))
    registry = [(deputy.number, deputy.name, deputy.delegation) for deputy in term.deputies]
    return ImportPreview(
        ImportSummary(added, updated, unchanged), number_clashes(parsed.rows, registry), tuple(grid_changes)
    )


def import_term_deputies(actor: str, term: Term, parsed: RosterParse) -> ImportSummary:
    """Add new deputies to the term and update changed ones by deputy number; the same file
    twice changes nothing. Nobody is removed: leaving office is a recorded change. A grid is
    linked as on the deputy's page (`set_deputy_grid`), audited deputy by deputy."""
    if not parsed.is_valid:
        raise ValueError("refusing to import a roster with errors")
    added = updated = unchanged = 0
    links: list[tuple[TermDeputy, Grid]] = []
    for row, deputy, differ in list(_registry_changes(term, parsed)):
        if deputy is None:
            deputy = TermDeputy(
                number=row.number, name=row.name, delegation=row.delegation, unit=row.unit,
                level=row.level or term.congress.level, contact=row.contact,
            )
            term.deputies.append(deputy)
            added += 1
        elif differ:
            for key, value in differ.items():
                if key != "grid":
                    setattr(deputy, key, value)
            updated += 1
        else:
            unchanged += 1
        if "grid" in differ:
            links.append((deputy, differ["grid"]))
    db.session.flush()
    if added or updated:
        audit.record(actor, "registry.import", f"term:{term.id}", added=added, updated=updated)
    for deputy, grid in links:
        set_deputy_grid(actor, deputy, grid)
    return ImportSummary(added, updated, unchanged)


def deputies_in_office(term: Term, day: date) -> list[TermDeputy]:
    """The term's deputies of the congress's own level in office on `day`: a session's 应到."""
    return list(
        db.session.scalars(
            select(TermDeputy).where(
                TermDeputy.term_id == term.id,
                TermDeputy.level == term.congress.level,
                TermDeputy.in_office_on_clause(day),
            )
        )
    )


@dataclass(frozen=True)
class RecordedChange:
    change: OfficeChange
    duties_dropped: int  # the leaver's reception duties still to come, taken off the stations' rosters


def record_office_change(
    actor: str, deputy: TermDeputy, kind: str, effective_on: date, note: str, today: date
) -> RecordedChange:
    """Record a change in office with its date and reason. Leaving sets the day the deputy left
    (no longer in office from that day), takes them off their station and drops their coming
    reception duties (`stations.assign_station`); ELECTED (补选) sets the day they took office."""
    note = note.strip()
    if kind not in OFFICE_CHANGE_KINDS:
        raise OfficeChangeError(_l("Choose what changed."), "kind")
    if len(note) > NOTE_MAX:
        raise OfficeChangeError(_l("The note is too long: at most %(max)s characters.", max=NOTE_MAX), "note")
    if effective_on > today:
        raise OfficeChangeError(
            _l("The date cannot be in the future: record the change once it has taken effect."), "effective_on"
        )
    term = deputy.term
    if (term.starts_on and effective_on < term.starts_on) or (term.ends_on and effective_on > term.ends_on):
        raise OfficeChangeError(_l("The date lies outside the term."), "effective_on")
    if kind in LEAVING_KINDS:
        if deputy.left_office_on is not None:
            raise ConflictError(_l("%(name)s has already left office.", name=deputy.name))
        if deputy.took_office_on and effective_on < deputy.took_office_on:
            raise OfficeChangeError(_l("A deputy cannot leave office before taking it."), "effective_on")
        deputy.left_office_on, deputy.left_reason = effective_on, kind
        # A deputy out of office is no station's deputy (进站代表) any more; the reception days
        # they served and the proposals they entered keep the station.
        if deputy.station_id is not None:
            dropped = stations.assign_station(actor, deputy, None, today)
        else:
            dropped = stations.drop_future_duties(actor, deputy, today)
    else:
        if deputy.left_office_on is not None and deputy.left_office_on <= effective_on:
            raise ConflictError(_l("%(name)s has already left office.", name=deputy.name))
        deputy.took_office_on = effective_on
        dropped = 0
    change = OfficeChange(deputy=deputy, kind=kind, effective_on=effective_on, note=note, recorded_by=actor)
    db.session.add(change)
    db.session.flush()
    audit.record(
        actor, "registry.office_change", f"term_deputy:{deputy.id}",
        number=deputy.number, name=deputy.name, kind=kind, effective_on=effective_on.isoformat(),
    )
    return RecordedChange(change, dropped)


def set_deputy_grid(actor: str, deputy: TermDeputy, grid: Grid | None) -> None:
    """Link the deputy to a grid (None: to none); audited with the grid's code."""
    if deputy.grid_id == (grid.id if grid else None):
        return
    deputy.grid = grid
    db.session.flush()
    audit.record(actor, "registry.deputy_grid", f"term_deputy:{deputy.id}", number=deputy.number,
                 grid=grid.code if grid else "")


def add_elected_deputy(actor: str, term: Term, row: RosterRow, took_office_on: date, today: date, note: str = "") -> TermDeputy:
    """A deputy elected during the term (补选): added with the day they took office."""
    if db.session.scalar(select(TermDeputy.id).where(TermDeputy.term_id == term.id, TermDeputy.number == row.number)):
        raise OfficeChangeError(_l("Another deputy of this term has that number."), "number")
    deputy = TermDeputy(
        term=term, number=row.number, name=row.name, delegation=row.delegation, unit=row.unit,
        level=row.level or term.congress.level, contact=row.contact,
    )
    db.session.add(deputy)
    db.session.flush()
    record_office_change(actor, deputy, ELECTED, took_office_on, note, today)
    return deputy



# The term page's filters of the standing registry.
IN_OFFICE, LEFT_OFFICE = "in_office", "left"


@dataclass(frozen=True)
class RegistryCounts:
    total: int
    in_office: int
    left: int
    by_level: dict


def congresses() -> list[Congress]:
    return list(db.session.scalars(select(Congress).order_by(Congress.name)))


def registry_counts(term: Term, today: date) -> RegistryCounts:
    """How many deputies the term has, in office today and gone, and per level."""
    people = term.deputies
    in_office = sum(person.is_in_office_on(today) for person in people)
    by_level: dict = {}
    for person in people:
        by_level[person.level] = by_level.get(person.level, 0) + 1
    return RegistryCounts(len(people), in_office, sum(person.left_office_on is not None for person in people), by_level)


def delegations(term: Term) -> list[str]:
    return sorted({person.delegation for person in term.deputies if person.delegation})


def find_deputies(
    term: Term, today: date, query: str = "", status: str = "", level: str = "", delegation: str = ""
) -> list[TermDeputy]:
    """The term's deputies in roster order, narrowed by a search (roster.matches: name, delegation
    or whole number, spaces and width ignored), in office today or gone, level and delegation."""
    found = []
    for person in term.deputies:
        if query and not matches(query, person.number, person.name, person.delegation):
            continue
        if status == IN_OFFICE and not person.is_in_office_on(today):
            continue
        if status == LEFT_OFFICE and person.left_office_on is None:
            continue
        if (level and person.level != level) or (delegation and person.delegation != delegation):
            continue
        found.append(person)
    return in_roster_order(found)
