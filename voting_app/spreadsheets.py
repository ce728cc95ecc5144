"""Spreadsheet cells that open safely. openpyxl writes any string starting with "=" as a
formula, so such text (a name, a comment) is kept a plain string cell; it refuses the control
characters XML cannot carry, so those are left out of the cell rather than failing the export.
A CSV cell that a spreadsheet would run as a formula gets a leading apostrophe (OWASP, CSV
injection). In both, hidden characters that reorder text are made visible (`voting_app.text`)."""

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from voting_app.text import neutralise

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_row(sheet, row: list) -> list:
    cells = []
    for value in row:
        if isinstance(value, str):
            value = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
        if isinstance(value, str) and value.startswith("="):
            value = WriteOnlyCell(sheet, value=value)
            value.data_type = "s"
        cells.append(value)
    return cells


def csv_cell(value):
    if not isinstance(value, str):
        return value
    value = neutralise(value)
    return "'" + value if value.startswith(FORMULA_START) else value
