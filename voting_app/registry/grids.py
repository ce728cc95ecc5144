"""The grid hierarchy (网格中心 -> 单元网格 -> 网格): reading its table and its boundaries, and
checking them whole. Pure rules: no Flask, no database.

A grid file is checked against the grids already stored (a file may name a stored grid as a
parent) before anything is stored: every bad row is reported with its line number, and one
bad row means nothing is imported. A grid centre (level 1) has no parent; every other grid
has a parent exactly one level up. Importing is by code, so the same file twice changes nothing.
"""

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from voting_app.table_files import alias_keys, cell_text, find_header, header_positions, search_text

CENTRE, UNIT, GRID = 1, 2, 3
LEVELS = (CENTRE, UNIT, GRID)

COLUMN_ALIASES = {
    "code": ("网格编码", "网格编号", "网格代码", "编码", "编号", "代码", "code", "grid code"),
    "name": ("网格名称", "名称", "网格名", "name", "grid name"),
    "parent": ("上级网格编码", "上级编码", "上级网格编号", "上级网格", "上级", "父级编码", "parent", "parent code"),
    "level": ("层级", "级别", "网格层级", "网格级别", "level"),
}
REQUIRED_COLUMNS = ("code", "name", "level")
MAX_LENGTHS = {"code": 32, "name": 100, "parent": 32, "level": 20}
_KEYS = alias_keys(COLUMN_ALIASES)
# How a level may be written in a file: its number, its Chinese name or an English word.
LEVEL_WORDS = {
    **{str(level): level for level in LEVELS},
    "网格中心": CENTRE, "中心": CENTRE, "centre": CENTRE, "center": CENTRE,
    "单元网格": UNIT, "单元": UNIT, "unit": UNIT, "unitgrid": UNIT,
    "网格": GRID, "grid": GRID,
}


@dataclass(frozen=True)
class GridRow:
    line: int
    code: str
    name: str
    parent: str  # the parent's code; "" for a grid centre
    level: int


@dataclass(frozen=True)
class RowError:
    """`code` is one of: missing_column, empty_file, missing_value, too_long, bad_level,
    duplicate_code, unknown_parent, wrong_level, parent_of_centre, cycle, orphaned_child, and the
    table_files codes unreadable_xlsx, unreadable_csv, unknown_type."""

    line: int
    code: str
    column: str = ""
    value: str = ""


@dataclass(frozen=True)
class GridParse:
    rows: tuple[GridRow, ...]
    errors: tuple[RowError, ...]

    @property
    def is_valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class StoredGrid:
    """A grid already stored, as the checks need it."""

    code: str
    level: int
    parent: str  # "" when none


def parse_level(text: str) -> int | None:
    return LEVEL_WORDS.get(search_text(text))


def parse_grid_table(table: Iterable[Sequence[object]], stored: Iterable[StoredGrid] = ()) -> GridParse:
    """Read and check a grid table (header among the first few non-empty rows; lines 1-based)
    against the grids already stored."""
    lines = [(index, [cell_text(value) for value in row]) for index, row in enumerate(table, start=1)]
    lines = [(index, row) for index, row in lines if any(row)]
    if not lines:
        return GridParse((), (RowError(1, "empty_file"),))
    header_index = find_header(lines, REQUIRED_COLUMNS, _KEYS)
    header_line, header = lines[header_index]
    positions = header_positions(header, _KEYS)
    missing = [RowError(header_line, "missing_column", key) for key in REQUIRED_COLUMNS if key not in positions]
    if missing:
        return GridParse((), tuple(missing))
    rows: list[GridRow] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    for line, cells in lines[header_index + 1:]:
        values = {key: cells[position] if position < len(cells) else "" for key, position in positions.items()}
        row_errors = [RowError(line, "missing_value", key) for key in REQUIRED_COLUMNS if not values.get(key)]
        row_errors += [RowError(line, "too_long", key, value) for key, value in values.items() if len(value) > MAX_LENGTHS[key]]
        level = parse_level(values.get("level", ""))
        if values.get("level") and level is None:
            row_errors.append(RowError(line, "bad_level", "level", values["level"]))
        code = values.get("code", "")
        if code and code in first_line_of:
            row_errors.append(RowError(line, "duplicate_code", "code", code))
        elif code:
            first_line_of[code] = line
        if row_errors:
            errors += row_errors
            continue
        rows.append(GridRow(line, code, values["name"], values.get("parent", ""), level))
    if not rows and not errors:
        errors.append(RowError(header_line + 1, "empty_file"))
    errors += hierarchy_errors(rows, stored)
    return GridParse(tuple(rows), tuple(sorted(errors, key=lambda error: error.line)))


def hierarchy_errors(rows: Sequence[GridRow], stored: Iterable[StoredGrid] = ()) -> tuple[RowError, ...]:
    """What is wrong with the hierarchy once the file's rows replace the stored grids of the
    same code: a parent nobody knows, a parent not one level up, a centre with a parent, a
    grid that is its own ancestor, and a stored grid the file would leave under a parent of
    the wrong level (reported on the parent's line)."""
    merged: dict[str, StoredGrid] = {grid.code: grid for grid in stored}
    stored_codes = set(merged)
    merged.update({row.code: StoredGrid(row.code, row.level, row.parent) for row in rows})
    errors: list[RowError] = []
    for row in rows:
        if row.parent and _in_cycle(row.code, merged):
            errors.append(RowError(row.line, "cycle", "parent", row.parent))
        elif row.level == CENTRE:
            if row.parent:
                errors.append(RowError(row.line, "parent_of_centre", "parent", row.parent))
        elif not row.parent:
            errors.append(RowError(row.line, "missing_value", "parent"))
        elif row.parent not in merged:
            errors.append(RowError(row.line, "unknown_parent", "parent", row.parent))
        elif merged[row.parent].level != row.level - 1:
            errors.append(RowError(row.line, "wrong_level", "parent", row.parent))
    line_of = {row.code: row.line for row in rows}
    for code in sorted(stored_codes - set(line_of)):
        grid = merged[code]
        if grid.parent in line_of and merged[grid.parent].level != grid.level - 1:
            errors.append(RowError(line_of[grid.parent], "orphaned_child", "code", code))
    return tuple(sorted(errors, key=lambda error: error.line))


def _in_cycle(code: str, grids: Mapping[str, StoredGrid]) -> bool:
    seen = {code}
    parent = grids[code].parent
    while parent:
        if parent in seen:
            return True
        seen.add(parent)
        parent = grids[parent].parent if parent in grids else ""
    return False


def ancestors(grids: Mapping[str, StoredGrid]) -> dict[str, tuple[str, str]]:
    """For each code, (its centre's code, its unit grid's code), a grid naming itself at its
    own level; "" where it has none (a centre has no unit grid). For a checked hierarchy."""
    found: dict[str, tuple[str, str]] = {}
    for code, grid in grids.items():
        chain = {grid.level: code}
        parent = grid.parent
        while parent and parent in grids:
            chain[grids[parent].level] = parent
            parent = grids[parent].parent
        found[code] = (chain.get(CENTRE, ""), chain.get(UNIT, ""))
    return found


# ---- boundaries (GeoJSON) ------------------------------------------------------------

CODE_PROPERTIES = ("code", "网格编码", "grid_code", "编码")
GEOMETRY_TYPES = ("Polygon", "MultiPolygon")


@dataclass(frozen=True)
class FeatureError:
    """`code`: not_json, not_collection, no_code, unknown_code, bad_geometry, duplicate_code,
    no_features. `index` is the feature's place in the file, from 1 (0: the file as a whole)."""

    index: int
    code: str
    grid_code: str = ""


@dataclass(frozen=True)
class BoundaryParse:
    boundaries: dict  # {grid code: GeoJSON geometry}
    errors: tuple[FeatureError, ...]

    @property
    def is_valid(self) -> bool:
        return not self.errors


def parse_boundaries(data: bytes, known_codes: Iterable[str]) -> BoundaryParse:
    """A GeoJSON FeatureCollection whose features carry a grid's code in their properties
    (code or 网格编码) and a Polygon or MultiPolygon geometry. Checked whole."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        return BoundaryParse({}, (FeatureError(0, "not_json"),))
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" or not isinstance(document.get("features"), list):
        return BoundaryParse({}, (FeatureError(0, "not_collection"),))
    known = set(known_codes)
    boundaries: dict = {}
    errors: list[FeatureError] = []
    for index, feature in enumerate(document["features"], start=1):
        properties = feature.get("properties") if isinstance(feature, dict) else None
        properties = properties if isinstance(properties, dict) else {}
        code = next((cell_text(properties[key]) for key in CODE_PROPERTIES if cell_text(properties.get(key))), "")
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not code:
            errors.append(FeatureError(index, "no_code"))
        elif code not in known:
            errors.append(FeatureError(index, "unknown_code", code))
        elif code in boundaries:
            errors.append(FeatureError(index, "duplicate_code", code))
        if not is_valid_geometry(geometry):
            errors.append(FeatureError(index, "bad_geometry", code))
        elif code in known and code not in boundaries:
            boundaries[code] = {"type": geometry["type"], "coordinates": geometry["coordinates"]}
    if not document["features"]:
        errors.append(FeatureError(0, "no_features"))
    return BoundaryParse(boundaries if not errors else {}, tuple(errors))


def _is_ring(ring) -> bool:
    """At least four positions of two finite numbers, the last the same as the first."""
    if not isinstance(ring, list) or len(ring) < 4:
        return False
    for position in ring:
        if not isinstance(position, list) or len(position) < 2:
            return False
        if not all(isinstance(number, (int, float)) and not isinstance(number, bool) and math.isfinite(number) for number in position[:2]):
            return False
    return ring[0][:2] == ring[-1][:2]


def _is_polygon(rings) -> bool:
    return isinstance(rings, list) and len(rings) >= 1 and all(_is_ring(ring) for ring in rings)


def is_valid_geometry(geometry) -> bool:
    if not isinstance(geometry, dict) or geometry.get("type") not in GEOMETRY_TYPES:
        return False
    coordinates = geometry.get("coordinates")
    if geometry["type"] == "Polygon":
        return _is_polygon(coordinates)
    return isinstance(coordinates, list) and len(coordinates) >= 1 and all(_is_polygon(polygon) for polygon in coordinates)


def polygons(geometry: dict) -> list:
    """A geometry's polygons (each a list of rings), whether Polygon or MultiPolygon."""
    return [geometry["coordinates"]] if geometry["type"] == "Polygon" else list(geometry["coordinates"])


# ---- a synthetic district for the demo -----------------------------------------------

def split_counts(total: int, parts: int) -> list[int]:
    """`total` children shared out over `parts` parents as evenly as can be, the larger shares first."""
    return [total // parts + (1 if index < total % parts else 0) for index in range(parts)]


def _cut(box: tuple[float, float, float, float], parts: int) -> list[tuple[float, float, float, float]]:
    """A rectangle cut into `parts` rectangles on a near-square grid of columns and rows."""
    west, south, east, north = box
    columns = max(1, round(math.sqrt(parts * (east - west) / (north - south))))
    columns = min(columns, parts)
    rows = math.ceil(parts / columns)
    cells = []
    for row in range(rows):
        in_row = min(columns, parts - row * columns)
        for column in range(in_row):
            cells.append((
                west + (east - west) * column / in_row, north - (north - south) * (row + 1) / rows,
                west + (east - west) * (column + 1) / in_row, north - (north - south) * row / rows,
            ))
    return cells


def rectangle(box: tuple[float, float, float, float]) -> dict:
    west, south, east, north = (round(value, 6) for value in box)
    return {"type": "Polygon", "coordinates": [[[west, south], [east, south], [east, north], [west, north], [west, south]]]}


def synthetic_district(
    centres: int = 10, units: int = 128, grids: int = 625, box: tuple[float, float, float, float] = (112.05, 32.00, 112.25, 32.12),
) -> list[tuple[str, str, int, str, dict]]:
    """A made-up hierarchy the size of Fancheng's (10 centres, 128 unit grids, 625 grids) with
    rectangles for boundaries: the district's box cut into its centres, each cut into its unit
    grids, each into its grids. Deterministic: (code, name, level, parent code, boundary)."""
    out = []
    unit_shares = split_counts(units, centres)
    grid_shares = split_counts(grids, units)
    unit_number = 0
    for centre_index, centre_box in enumerate(_cut(box, centres), start=1):
        centre_code = f"C{centre_index:02d}"
        out.append((centre_code, f"第{centre_index}网格中心", CENTRE, "", rectangle(centre_box)))
        for unit_index, unit_box in enumerate(_cut(centre_box, unit_shares[centre_index - 1]), start=1):
            unit_code = f"{centre_code}U{unit_index:02d}"
            out.append((unit_code, f"第{centre_index}中心{unit_index}号单元网格", UNIT, centre_code, rectangle(unit_box)))
            for grid_index, grid_box in enumerate(_cut(unit_box, grid_shares[unit_number]), start=1):
                out.append((f"{unit_code}G{grid_index}", f"{centre_index}-{unit_index}-{grid_index}网格", GRID, unit_code, rectangle(grid_box)))
            unit_number += 1
    return out
