"""Deputy groups (代表小组): pure rules for reading pasted deputy numbers and a membership table.
No Flask, no database: the service checks what these read against the term's registry."""

import re
import unicodedata
from dataclasses import dataclass

from voting_app.registry.roster import search_text

REGIONAL, PROFESSIONAL = "regional", "professional"
# A group formed for the supervision of one project (临时督办小组), of the term's deputies.
AD_HOC = "ad_hoc"
GROUP_KINDS = (REGIONAL, PROFESSIONAL, AD_HOC)
NAME_MAX, NOTE_MAX = 100, 200
BULK_LINES_MAX = 1000

# Headers of a membership file, compared as search_text folds them.
NUMBER_HEADERS = ("代表证号", "代表编号", "编号", "证号", "number", "deputynumber")
GROUP_HEADERS = ("代表小组", "小组", "所在小组", "小组名称", "group", "deputygroup")

_SEPARATORS = re.compile(r"[\s,，;；、]+")


def clean_name(text: str) -> str:
    """A group's name as stored: full-width letters and digits folded, runs of spaces as one."""
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


@dataclass(frozen=True)
class PastedLine:
    line: int
    number: str  # the first item on the line: what a column copied from Excel gives


def read_pasted_numbers(text: str) -> list[PastedLine]:
    """Deputy numbers pasted one a line (a name or more after the number is ignored, as a copied
    roster gives it); empty lines are skipped and keep their line numbers."""
    lines = []
    for position, raw in enumerate((text or "").splitlines(), start=1):
        items = [item for item in _SEPARATORS.split(unicodedata.normalize("NFKC", raw).strip()) if item]
        if items:
            lines.append(PastedLine(position, items[0]))
    return lines


@dataclass(frozen=True)
class MembershipRow:
    line: int
    number: str
    group: str


@dataclass(frozen=True)
class TableProblem:
    line: int  # 0: the file as a whole
    code: str  # missing_column, missing_value, too_long, empty_file, or a TableFileError code
    column: str = ""
    value: str = ""


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    folded = [search_text(str(cell or "").replace("\ufeff", "")) for cell in header]
    return next((index for index, cell in enumerate(folded) if cell in names), None)


def read_membership_table(table: list[list[str]]) -> tuple[list[MembershipRow], list[TableProblem]]:
    """Rows of (deputy number, group name) from a table whose first row names the columns
    代表证号 and 代表小组. Blank rows are skipped; a row repeated is read once."""
    if not table:
        return [], [TableProblem(0, "empty_file")]
    header, problems = table[0], []
    number_at, group_at = _column(header, NUMBER_HEADERS), _column(header, GROUP_HEADERS)
    if number_at is None:
        problems.append(TableProblem(0, "missing_column", "number"))
    if group_at is None:
        problems.append(TableProblem(0, "missing_column", "group"))
    if problems:
        return [], problems
    rows, seen = [], set()
    for line, cells in enumerate(table[1:], start=2):
        number = unicodedata.normalize("NFKC", cells[number_at] if number_at < len(cells) else "").strip()
        group = clean_name(cells[group_at] if group_at < len(cells) else "")
        if not number and not group:
            continue
        if not number:
            problems.append(TableProblem(line, "missing_value", "number"))
        elif not group:
            problems.append(TableProblem(line, "missing_value", "group"))
        elif len(group) > NAME_MAX:
            problems.append(TableProblem(line, "too_long", "group", group))
        elif (number, group) not in seen:
            seen.add((number, group))
            rows.append(MembershipRow(line, number, group))
    if not rows and not problems:
        problems.append(TableProblem(0, "empty_file"))
    return rows, problems
