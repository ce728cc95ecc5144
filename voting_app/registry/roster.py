"""Reading a deputy roster table, finding and ordering deputies: pure rules, no Flask, no database.

A roster file is checked whole before anything is stored: every bad row is reported with
its line number, and one bad row means nothing is imported. Rows that are not deputies
(a footer such as "制表：…", a one-cell note) are skipped and listed, never refused, and every
column the roster does not keep is listed by its header.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from voting_app.registry.terms import read_level
from voting_app.table_files import alias_keys, cell_text, column_key, find_header, header_forms, header_positions, search_text

COLUMN_ALIASES = {
    "number": (
        "代表证号", "代表证号码", "代表证编号", "证号", "代表编号", "编号", "代表号",
        "number", "deputy number", "card number", "deputy no.",
    ),
    "name": ("姓名", "代表姓名", "name", "deputy name"),
    "delegation": (
        "代表团", "代表组", "所属代表团", "所属代表组", "所在代表团", "所在代表组", "代表小组",
        "所属代表小组", "代表团组", "所属代表团组", "delegation", "deputy group",
    ),
    "unit": (
        "工作单位及职务", "工作单位和职务", "工作单位职务", "现工作单位及职务", "单位及职务", "单位和职务",
        "单位职务", "工作单位", "单位", "职务", "unit", "work unit", "occupation",
    ),
    # Optional: the deputy's level (全国/省/市/区/乡镇), read by terms.read_level.
    "level": ("代表层级", "层级", "代表级别", "级别", "代表类别", "level", "deputy level"),
    # Optional, for the committee's staff only: never on a public page, a screen or another's export.
    "contact": (
        "联系电话", "手机", "手机号", "手机号码", "电话", "电话号码", "移动电话", "联系方式",
        "phone", "mobile", "contact", "telephone",
    ),
    # Optional: the code of the grid the deputy is linked to (网格联系代表), as in the grid list.
    "grid": ("网格", "网格编码", "网格编号", "网格代码", "所属网格", "所在网格", "联系网格", "grid", "grid code"),
}
# Columns rosters often carry that this roster does not keep: recognised, listed as ignored.
NOT_KEPT = (
    "序号", "性别", "民族", "出生年月", "出生日期", "年龄", "党派", "政治面貌", "学历", "身份证号", "身份证号码", "备注",
)
REQUIRED_COLUMNS = ("number", "name")
MAX_LENGTHS = {"number": 32, "name": 64, "delegation": 100, "unit": 200, "level": 20, "contact": 100, "grid": 32}
# A row whose first filled cell starts so is a footer or a note under the table, not a deputy.
NOTE_STARTS = (
    "制表", "审核", "审批", "复核", "填表", "填报", "合计", "总计", "共计", "小计", "备注", "说明", "签字", "签名",
    "盖章", "负责人", "联系人", "打印", "日期", "以上", "注:", "注：", "注、",
)
PLAUSIBLE_NUMBER = re.compile(r"[0-9A-Za-z][0-9A-Za-z\-_/.#]*")


@dataclass(frozen=True)
class RosterRow:
    line: int
    number: str
    name: str
    delegation: str
    unit: str
    # A level code of terms.DEPUTY_LEVELS, "" when the file gives none; contact and grid (a
    # grid's code) "" likewise.
    level: str = ""
    contact: str = ""
    grid: str = ""


@dataclass(frozen=True)
class RowError:
    """`code` is one of: missing_column, empty_file, missing_value, too_long, duplicate_number,
    unknown_level, unknown_grid."""

    line: int
    code: str
    column: str = ""
    value: str = ""


@dataclass(frozen=True)
class IgnoredColumn:
    """A header the import leaves out. `reason`: not_kept (a column rosters carry that this one
    does not keep, such as 手机号码), repeated (a second column of a kind), unknown."""

    header: str
    reason: str


@dataclass(frozen=True)
class SkippedRow:
    """A footer or note row under (or inside) the table, with its text."""

    line: int
    text: str


@dataclass(frozen=True)
class RosterParse:
    rows: tuple[RosterRow, ...]
    errors: tuple[RowError, ...]
    # The optional columns the file has: an import leaves the others as they are.
    columns: frozenset[str] = frozenset(("number", "name", "delegation", "unit"))
    ignored: tuple[IgnoredColumn, ...] = ()
    skipped: tuple[SkippedRow, ...] = ()

    @property
    def is_valid(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class NumberClash:
    """The same name and delegation under another number: on the roster (`other_line` 0) or
    on another line of the file. Importing would add a second entry for the same person."""

    line: int
    number: str
    name: str
    delegation: str
    other_number: str
    other_line: int = 0


def matches(query: str, number: str, name: str, delegation: str) -> bool:
    """The desk's and the roster page's search: part of a name or delegation, or a whole
    deputy number ("1" finds 001; "00" finds nobody)."""
    wanted = search_text(query)
    if not wanted:
        return False
    if wanted in search_text(name) or wanted in search_text(delegation):
        return True
    number = search_text(number)
    return number == wanted or (number.isdecimal() and wanted.isdecimal() and int(number) == int(wanted))


def number_sort_key(number: str) -> tuple:
    """Roster order: deputy numbers as numbers, so "001" < "2" < "10" < "101" < "A3" < "a10".
    Runs of digits compare by value, letters without case and width; numbers equal so far
    ("001", "1") fall back to the text."""
    folded = unicodedata.normalize("NFKC", number.strip()).casefold()
    parts = tuple(
        (0, int(run), "") if run.isdecimal() else (1, 0, run) for run in re.findall(r"\d+|\D+", folded)
    )
    return (parts, number)


def in_roster_order(deputies: Iterable, number=lambda deputy: deputy.number) -> list:
    """Deputies (or anything with a deputy number) in roster order."""
    return sorted(deputies, key=lambda deputy: number_sort_key(number(deputy)))


_ALIAS_KEYS = alias_keys(COLUMN_ALIASES)
_NOT_KEPT = {search_text(alias) for alias in NOT_KEPT}


def _column_key(header: object) -> str | None:
    return column_key(header, _ALIAS_KEYS)


def _header_positions(header: Sequence[object]) -> dict[str, int]:
    return header_positions(header, _ALIAS_KEYS)


def _ignored_columns(header: Sequence[object], positions: dict[str, int]) -> tuple[IgnoredColumn, ...]:
    used = set(positions.values())
    ignored = []
    for position, title in enumerate(header):
        text = cell_text(title).replace("\ufeff", "")
        if position in used or not text:
            continue
        if _column_key(title):
            reason = "repeated"
        elif any(form in _NOT_KEPT for form in header_forms(title)):
            reason = "not_kept"
        else:
            reason = "unknown"
        ignored.append(IgnoredColumn(text, reason))
    return tuple(ignored)


def _is_note(cells: list[str], positions: dict[str, int]) -> bool:
    """A footer or note, not a deputy: it starts with a footer word (制表, 审核, 合计…), or it
    has one filled cell only, which is neither a name nor a plausible deputy number."""
    filled = [(position, text) for position, text in enumerate(cells) if text]
    first = search_text(filled[0][1])
    if first.startswith(tuple(search_text(start) for start in NOTE_STARTS)):
        return True
    if len(filled) != 1:
        return False
    position, text = filled[0]
    if position == positions["name"]:
        return False
    return not (position == positions["number"] and PLAUSIBLE_NUMBER.fullmatch(unicodedata.normalize("NFKC", text)))


def parse_roster(table: Iterable[Sequence[object]], grid_codes: Iterable[str] = ()) -> RosterParse:
    """Check a table; its header is found among the first few non-empty rows (offices often
    put a title row above it). Lines are 1-based. A grid cell must hold one of `grid_codes`
    (the grids stored), as typed."""
    known_grids = set(grid_codes)
    lines = [(index, [cell_text(value) for value in row]) for index, row in enumerate(table, start=1)]
    lines = [(index, row) for index, row in lines if any(row)]
    if not lines:
        return RosterParse((), (RowError(1, "empty_file"),))
    header_index = find_header(lines, REQUIRED_COLUMNS, _ALIAS_KEYS)
    header_line, header = lines[header_index]
    positions = _header_positions(header)
    ignored = _ignored_columns(header, positions)
    missing = [RowError(header_line, "missing_column", key) for key in REQUIRED_COLUMNS if key not in positions]
    if missing:
        return RosterParse((), tuple(missing), frozenset(positions), ignored)

    rows: list[RosterRow] = []
    errors: list[RowError] = []
    skipped: list[SkippedRow] = []
    first_line_of: dict[str, int] = {}
    for line, cells in lines[header_index + 1 :]:
        if _is_note(cells, positions):
            skipped.append(SkippedRow(line, " ".join(text for text in cells if text)))
            continue
        values = {key: cells[position] if position < len(cells) else "" for key, position in positions.items()}
        row_errors = [RowError(line, "missing_value", key) for key in REQUIRED_COLUMNS if not values.get(key)]
        row_errors += [
            RowError(line, "too_long", key, value)
            for key, value in values.items()
            if len(value) > MAX_LENGTHS[key]
        ]
        level = read_level(values.get("level", ""), search_text) if values.get("level") else ""
        if level is None:
            row_errors.append(RowError(line, "unknown_level", "level", values["level"]))
        grid = values.get("grid", "")
        if grid and grid not in known_grids and len(grid) <= MAX_LENGTHS["grid"]:
            row_errors.append(RowError(line, "unknown_grid", "grid", grid))
        number = values.get("number", "")
        if number and number in first_line_of:
            row_errors.append(RowError(line, "duplicate_number", "number", number))
        elif number:
            first_line_of[number] = line
        if row_errors:
            errors += row_errors
            continue
        rows.append(
            RosterRow(
                line, number, values["name"], values.get("delegation", ""), values.get("unit", ""),
                level, values.get("contact", ""), grid,
            )
        )
    if not rows and not errors:
        errors.append(RowError(header_line + 1, "empty_file"))
    return RosterParse(tuple(rows), tuple(errors), frozenset(positions), ignored, tuple(skipped))


def number_clashes(rows: Sequence[RosterRow], roster: Iterable[tuple[str, str, str]]) -> tuple[NumberClash, ...]:
    """Rows whose name and delegation (compared as a search compares them) already stand on
    the roster, or on an earlier line of the file, under another number. A row whose number is
    on the roster updates that entry and is not a clash: two deputies may share a name."""
    on_roster: dict[tuple[str, str], list[str]] = {}
    numbers = set()
    for number, name, delegation in roster:
        numbers.add(number)
        on_roster.setdefault((search_text(name), search_text(delegation)), []).append(number)
    in_file: dict[tuple[str, str], RosterRow] = {}
    clashes = []
    for row in rows:
        person = (search_text(row.name), search_text(row.delegation))
        earlier = in_file.setdefault(person, row)
        if earlier is not row and earlier.number != row.number:
            clashes.append(NumberClash(row.line, row.number, row.name, row.delegation, earlier.number, earlier.line))
        elif row.number not in numbers:
            other = next((number for number in on_roster.get(person, ()) if number != row.number), None)
            if other is not None:
                clashes.append(NumberClash(row.line, row.number, row.name, row.delegation, other))
    return tuple(clashes)
