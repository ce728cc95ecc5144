"""Storing a grid's household list: a checked file imported whole (new addresses added, those
already listed left as they are), and the counts per grid for the staff page."""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select

from voting_app import audit, table_files
from voting_app.db import db, utcnow
from voting_app.registry.grid_service import grid_codes
from voting_app.registry.households import HouseholdParse, RowError, address_key, parse_household_table
from voting_app.registry.models import Grid, Household

SALT = "household-import"


@dataclass(frozen=True)
class ImportSummary:
    added: int
    unchanged: int


def check_household_file(filename: str, data: bytes) -> tuple[list[list[str]], HouseholdParse]:
    return table_files.check_file(filename, data, _parse, lambda code: HouseholdParse((), (RowError(0, code),)))


def _parse(table: list[list[str]]) -> HouseholdParse:
    return parse_household_table(table, grid_codes())


def seal_table(secret: str, table: list[list[str]]) -> str:
    return table_files.seal_table(secret, SALT, table)


def _new_rows(parsed: HouseholdParse) -> tuple[list[tuple[int, str]], int]:
    grid_ids = dict(db.session.execute(select(Grid.code, Grid.id)).all())
    listed: dict[int, set[str]] = defaultdict(set)
    for grid_id, address in db.session.execute(select(Household.grid_id, Household.address)):
        listed[grid_id].add(address_key(address))
    new, unchanged = [], 0
    for row in parsed.rows:
        grid_id = grid_ids[row.grid]
        if address_key(row.address) in listed[grid_id]:
            unchanged += 1
        else:
            new.append((grid_id, row.address))
    return new, unchanged


def preview_import(parsed: HouseholdParse) -> ImportSummary:
    new, unchanged = _new_rows(parsed)
    return ImportSummary(len(new), unchanged)


def import_sealed(actor: str, secret: str, sealed: str) -> ImportSummary | None:
    """Import the table a preview sealed; None when the seal is not valid or the file no longer
    checks (a grid removed since): nothing is stored then."""
    return table_files.import_sealed(secret, SALT, sealed, _parse, lambda parsed: import_households(actor, parsed))


def import_households(actor: str, parsed: HouseholdParse) -> ImportSummary:
    new, unchanged = _new_rows(parsed)
    now = utcnow()
    db.session.add_all(Household(grid_id=grid_id, address=address, imported_at=now) for grid_id, address in new)
    db.session.flush()
    audit.record(actor, "household.import", "households", added=len(new), unchanged=unchanged)
    return ImportSummary(len(new), unchanged)


def counts_per_grid() -> list[tuple[Grid, int]]:
    """Every grid with a household list, and how many households it lists, by grid code."""
    rows = db.session.execute(
        select(Grid, func.count(Household.id)).join(Household, Household.grid_id == Grid.id).group_by(Grid.id).order_by(Grid.code)
    )
    return list(rows)


def total() -> int:
    return db.session.scalar(select(func.count(Household.id))) or 0
