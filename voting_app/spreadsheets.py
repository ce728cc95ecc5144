"""Excel rows that open safely: openpyxl writes any string starting with "=" as a formula,
so such text (a name, a comment) is kept a plain string cell; and it refuses the control
characters XML cannot carry, so those are left out of the cell rather than failing the export."""

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE


def safe_row(sheet, row: list) -> list:
    cells = []
    for value in row:
        if isinstance(value, str):
            value = ILLEGAL_CHARACTERS_RE.sub("", value)
        if isinstance(value, str) and value.startswith("="):
            value = WriteOnlyCell(sheet, value=value)
            value.data_type = "s"
        cells.append(value)
    return cells
