"""Reading a deputy roster table: pure rules, no Flask, no database.

A roster file is checked whole before anything is stored: every bad row is reported with
its line number, and one bad row means nothing is imported.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

COLUMN_ALIASES = {
    "number": ("代表证号", "代表编号", "编号", "证号", "number", "deputy number", "card number"),
    "name": ("姓名", "代表姓名", "name"),
    "delegation": ("代表团", "所属代表团", "delegation"),
    "unit": ("工作单位", "单位", "职务", "unit", "work unit"),
}
REQUIRED_COLUMNS = ("number", "name")
MAX_LENGTHS = {"number": 32, "name": 64, "delegation": 100, "unit": 200}


@dataclass(frozen=True)
class RosterRow:
    line: int
    number: str
    name: str
    delegation: str
    unit: str


@dataclass(frozen=True)
class RowError:
    """`code` is one of: missing_column, empty_file, missing_value, too_long, duplicate_number."""

    line: int
    code: str
    column: str = ""
    value: str = ""


@dataclass(frozen=True)
class RosterParse:
    rows: tuple[RosterRow, ...]
    errors: tuple[RowError, ...]
    # The optional columns the file has: an import leaves the others as they are.
    columns: frozenset[str] = frozenset(COLUMN_ALIASES)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def _column_key(header: str) -> str | None:
    cleaned = " ".join(str(header or "").replace("\ufeff", "").split()).lower()
    for key, aliases in COLUMN_ALIASES.items():
        if cleaned in aliases:
            return key
    return None


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _header_positions(header: Sequence[object]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for position, title in enumerate(header):
        key = _column_key(title)
        if key and key not in positions:
            positions[key] = position
    return positions


HEADER_SEARCH_ROWS = 5


def parse_roster(table: Iterable[Sequence[object]]) -> RosterParse:
    """Check a table; its header is the first of the first few non-empty rows that names
    the required columns (offices often put a title row above it). Lines are 1-based."""
    lines = [(index, list(row)) for index, row in enumerate(table, start=1)]
    lines = [(index, row) for index, row in lines if any(_cell(value) for value in row)]
    if not lines:
        return RosterParse((), (RowError(1, "empty_file"),))
    header_index = next(
        (
            index
            for index, (_, row) in enumerate(lines[:HEADER_SEARCH_ROWS])
            if all(key in _header_positions(row) for key in REQUIRED_COLUMNS)
        ),
        0,
    )
    header_line, header = lines[header_index]
    positions = _header_positions(header)
    missing = [RowError(header_line, "missing_column", key) for key in REQUIRED_COLUMNS if key not in positions]
    if missing:
        return RosterParse((), tuple(missing))

    rows: list[RosterRow] = []
    errors: list[RowError] = []
    first_line_of: dict[str, int] = {}
    for line, raw in lines[header_index + 1 :]:
        values = {key: _cell(raw[position]) if position < len(raw) else "" for key, position in positions.items()}
        row_errors = [RowError(line, "missing_value", key) for key in REQUIRED_COLUMNS if not values.get(key)]
        row_errors += [
            RowError(line, "too_long", key, value)
            for key, value in values.items()
            if len(value) > MAX_LENGTHS[key]
        ]
        number = values.get("number", "")
        if number and number in first_line_of:
            row_errors.append(RowError(line, "duplicate_number", "number", number))
        elif number:
            first_line_of[number] = line
        if row_errors:
            errors += row_errors
            continue
        rows.append(
            RosterRow(line, number, values["name"], values.get("delegation", ""), values.get("unit", ""))
        )
    if not rows and not errors:
        errors.append(RowError(header_line + 1, "empty_file"))
    return RosterParse(tuple(rows), tuple(errors), frozenset(positions))
