"""Storing and reading the grid hierarchy: imports by code, the hierarchy for the staff page,
and what any feature needs to split its figures by grid. Services flush; the caller commits."""

from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import case, func, select

from voting_app import audit, table_files
from voting_app.db import db
from voting_app.registry import grid_map
from voting_app.registry.grids import (
    CENTRE,
    GRID,
    LEVELS,
    UNIT,
    BoundaryParse,
    GridParse,
    RowError,
    StoredGrid,
    ancestors,
    parse_boundaries,
    parse_grid_table,
)
from voting_app.registry.models import Grid

SALT = "grid-import"


@dataclass(frozen=True)
class ImportSummary:
    added: int
    updated: int
    unchanged: int


def level_column(level: int):
    """The column a figure is grouped by to split it at `level`: every grid names its centre
    and its unit grid (itself at its own level), so any level is one GROUP BY."""
    if level == GRID:  # a centre or unit grid is no grid at this level
        return case((Grid.level == GRID, Grid.id), else_=None)
    return {CENTRE: Grid.centre_id, UNIT: Grid.unit_id}[level]


def stored_grids() -> list[StoredGrid]:
    parent = Grid.__table__.alias("parent")
    rows = db.session.execute(
        select(Grid.code, Grid.level, parent.c.code).outerjoin(parent, parent.c.id == Grid.parent_id)
    ).all()
    return [StoredGrid(code, level, parent_code or "") for code, level, parent_code in rows]


def grid_codes() -> list[str]:
    """Every stored grid's code: what a file naming grids is checked against."""
    return list(db.session.scalars(select(Grid.code)))


def check_grid_file(filename: str, data: bytes) -> tuple[list[list[str]], GridParse]:
    """The file's table (kept, sealed, for the import after the preview) and what it reads as."""
    return table_files.check_file(filename, data, _parse, lambda code: GridParse((), (RowError(0, code),)))


def _parse(table: list[list[str]]) -> GridParse:
    return parse_grid_table(table, stored_grids())


def seal_table(secret: str, table: list[list[str]]) -> str:
    return table_files.seal_table(secret, SALT, table)


def import_sealed(actor: str, secret: str, sealed: str) -> ImportSummary | None:
    """Import a table sealed by the preview, checked again against the grids as they are now;
    None when it is not one, is stale, or no longer passes."""
    return table_files.import_sealed(secret, SALT, sealed, _parse, lambda parsed: import_grids(actor, parsed))


def _changes(parsed: GridParse):
    existing = {grid.code: grid for grid in db.session.scalars(select(Grid))}
    parent_codes = {grid.id: grid.code for grid in existing.values()}
    for row in parsed.rows:
        grid = existing.get(row.code)
        differs = grid is None or (grid.name, grid.level, parent_codes.get(grid.parent_id, "")) != (row.name, row.level, row.parent)
        yield row, grid, differs


def preview_import(parsed: GridParse) -> ImportSummary:
    """How many grids a checked file adds, updates and leaves as they are. Reads only."""
    added = updated = unchanged = 0
    for _, grid, differs in _changes(parsed):
        if grid is None:
            added += 1
        elif differs:
            updated += 1
        else:
            unchanged += 1
    return ImportSummary(added, updated, unchanged)


def import_grids(actor: str, parsed: GridParse) -> ImportSummary:
    """Add new grids and update changed ones by code, then set every grid's parent, centre
    and unit grid; the same file twice changes nothing."""
    if not parsed.is_valid:
        raise ValueError("refusing to import a grid file with errors")
    added = updated = unchanged = 0
    for row, grid, differs in list(_changes(parsed)):
        if grid is None:
            db.session.add(Grid(code=row.code, name=row.name, level=row.level))
            added += 1
        elif differs:
            grid.name, grid.level = row.name, row.level
            updated += 1
        else:
            unchanged += 1
    db.session.flush()
    parents = {row.code: row.parent for row in parsed.rows}
    _link(parents)
    if added or updated:
        audit.record(actor, "grid.import", "grids", added=added, updated=updated)
    return ImportSummary(added, updated, unchanged)


def _link(parents: dict[str, str]) -> None:
    """Set parent_id (from the file's parent codes) and the ancestor columns of every grid."""
    grids = {grid.code: grid for grid in db.session.scalars(select(Grid))}
    for code, parent in parents.items():
        grids[code].parent_id = grids[parent].id if parent else None
    by_id = {grid.id: grid.code for grid in grids.values()}
    shapes = {code: StoredGrid(code, grid.level, by_id.get(grid.parent_id, "")) for code, grid in grids.items()}
    for code, (centre, unit) in ancestors(shapes).items():
        grid = grids[code]
        centre_id, unit_id = grids[centre].id if centre else None, grids[unit].id if unit else None
        if (grid.centre_id, grid.unit_id) != (centre_id, unit_id):
            grid.centre_id, grid.unit_id = centre_id, unit_id
    db.session.flush()


def check_boundary_file(data: bytes) -> BoundaryParse:
    return parse_boundaries(data, db.session.scalars(select(Grid.code)))


def import_boundaries(actor: str, parsed: BoundaryParse) -> int:
    """Store each feature's geometry as its grid's boundary; returns how many changed."""
    if not parsed.is_valid:
        raise ValueError("refusing to import boundaries with errors")
    changed = 0
    for grid in db.session.scalars(select(Grid).where(Grid.code.in_(list(parsed.boundaries)))):
        if grid.boundary != parsed.boundaries[grid.code]:
            grid.boundary = parsed.boundaries[grid.code]
            changed += 1
    db.session.flush()
    if changed:
        audit.record(actor, "grid.boundaries", "grids", changed=changed)
    return changed


# ---- reading ------------------------------------------------------------------------


def level_counts() -> dict[int, int]:
    counts = dict(db.session.execute(select(Grid.level, func.count()).group_by(Grid.level)).all())
    return {level: counts.get(level, 0) for level in LEVELS}


def with_boundary() -> int:
    return db.session.scalar(select(func.count()).where(Grid.boundary.is_not(None))) or 0


def children(parent_id: int | None) -> list[tuple[Grid, int]]:
    """The grids under a parent (None: the centres), each with how many grids stand under it."""
    grids = db.session.scalars(
        select(Grid).where(Grid.parent_id.is_(None) if parent_id is None else Grid.parent_id == parent_id).order_by(Grid.code)
    ).all()
    counts = dict(db.session.execute(
        select(Grid.parent_id, func.count()).where(Grid.parent_id.in_([grid.id for grid in grids])).group_by(Grid.parent_id)
    ).all()) if grids else {}
    return [(grid, counts.get(grid.id, 0)) for grid in grids]


def lineage(grid: Grid) -> list[Grid]:
    """The grid's ancestors, the centre first, then the grid."""
    chain = [grid]
    while chain[0].parent is not None:
        chain.insert(0, chain[0].parent)
    return chain


def at_level(level: int) -> list[Grid]:
    return list(db.session.scalars(select(Grid).where(Grid.level == level).order_by(Grid.code)))


def choices() -> list[tuple[int, str, str]]:
    """Every grid for a select: (id, label, the grid centre it lies in), in code order, so a
    select of some 760 grids groups them under their centre (optgroup) and its unit grids read
    as headings of the grids after them (a grid's label is indented)."""
    rows = db.session.execute(select(Grid.id, Grid.code, Grid.name, Grid.level, Grid.centre_id).order_by(Grid.code)).all()
    centres = {grid_id: f"{name}（{code}）" for grid_id, code, name, level, _ in rows if level == CENTRE}
    indent = "\u3000"
    return [(grid_id, f"{indent * max(level - 2, 0)}{name}（{code}）", centres.get(centre_id or grid_id, ""))
            for grid_id, code, name, level, centre_id in rows]


def shapes_at(level: int) -> dict[int, tuple[dict, ...]]:
    """What to draw for each grid at `level`: its own boundary, or else its grids' (the union
    of its children drawn as one region)."""
    own: dict[int, tuple[dict, ...]] = {}
    for grid_id, boundary in db.session.execute(select(Grid.id, Grid.boundary).where(Grid.level == level)):
        own[grid_id] = (boundary,) if boundary else ()
    missing = [grid_id for grid_id, shape in own.items() if not shape]
    if missing and level < GRID:
        column = {CENTRE: Grid.centre_id, UNIT: Grid.unit_id}[level]
        found = defaultdict(list)
        for key, boundary in db.session.execute(
            select(column, Grid.boundary).where(column.in_(missing), Grid.level == GRID, Grid.boundary.is_not(None))
        ):
            found[key].append(boundary)
        own.update({key: tuple(value) for key, value in found.items()})
    return own


def draw_map(level: int, values: dict[int, tuple[str, int | None]], title: str, suppressed_label: str) -> str:
    """The SVG choropleth of the grids at `level`: `values` gives each grid's value as shown
    and its colour class (None: hatched, too few answers); a grid missing from it is hatched."""
    shapes = shapes_at(level)
    regions = [
        grid_map.Region(grid.id, grid.name, *values.get(grid.id, ("", None)), shapes.get(grid.id, ()))
        for grid in at_level(level)
    ]
    return grid_map.draw(regions, title, suppressed_label)
