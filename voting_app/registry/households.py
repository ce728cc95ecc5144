"""Reading a grid's household list (地址, 网格编码): address and grid only, never a name.
Pure: no Flask, no database. Errors: missing_column, empty_file, missing_value, too_long,
unknown_grid, duplicate_address (the same address twice in one grid of the file), and the
table_files codes unreadable_xlsx, unreadable_csv, unknown_type."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from voting_app.table_files import alias_keys, cell_text, find_header, header_positions, search_text

ALIASES = {"address": ("地址", "住址", "门牌", "address"), "grid": ("网格编码", "网格", "grid", "grid code")}
REQUIRED_COLUMNS = ("address", "grid")
MAX_ADDRESS = 200
_KEYS = alias_keys(ALIASES)


@dataclass(frozen=True)
class HouseholdRow:
    line: int
    address: str
    grid: str  # the grid's code


@dataclass(frozen=True)
class RowError:
    line: int
    code: str
    column: str = ""
    value: str = ""


@dataclass(frozen=True)
class HouseholdParse:
    rows: tuple[HouseholdRow, ...]
    errors: tuple[RowError, ...]

    @property
    def is_valid(self) -> bool:
        return not self.errors


def address_key(address: str) -> str:
    """Two addresses that differ only in spaces, width or letter case are the same household."""
    return search_text(address)


def parse_household_table(table: Iterable[Sequence[object]], grid_codes: Iterable[str]) -> HouseholdParse:
    known = set(grid_codes)
    lines = [(index, [cell_text(value) for value in row]) for index, row in enumerate(table, start=1)]
    lines = [(index, row) for index, row in lines if any(row)]
    if not lines:
        return HouseholdParse((), (RowError(1, "empty_file"),))
    header_index = find_header(lines, REQUIRED_COLUMNS, _KEYS)
    header_line, header = lines[header_index]
    positions = header_positions(header, _KEYS)
    missing = [RowError(header_line, "missing_column", key) for key in REQUIRED_COLUMNS if key not in positions]
    if missing:
        return HouseholdParse((), tuple(missing))
    rows: list[HouseholdRow] = []
    errors: list[RowError] = []
    seen: set[tuple[str, str]] = set()
    for line, cells in lines[header_index + 1:]:
        values = {key: cells[position] if position < len(cells) else "" for key, position in positions.items()}
        address, grid = values["address"], values["grid"]
        row_errors = [RowError(line, "missing_value", key) for key in REQUIRED_COLUMNS if not values[key]]
        if len(address) > MAX_ADDRESS:
            row_errors.append(RowError(line, "too_long", "address", address[:40]))
        if grid and grid not in known:
            row_errors.append(RowError(line, "unknown_grid", "grid", grid))
        key = (grid, address_key(address))
        if address and grid and key in seen:
            row_errors.append(RowError(line, "duplicate_address", "address", address))
        seen.add(key)
        if row_errors:
            errors += row_errors
            continue
        rows.append(HouseholdRow(line, address, grid))
    if not rows and not errors:
        errors.append(RowError(header_line + 1, "empty_file"))
    return HouseholdParse(tuple(rows), tuple(errors))
