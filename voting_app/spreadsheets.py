"""Excel rows that open safely: openpyxl writes any string starting with "=" as a formula,
so such text (a name, a comment) is kept a plain string cell."""

from openpyxl.cell import WriteOnlyCell


def safe_row(sheet, row: list) -> list:
    cells = []
    for value in row:
        if isinstance(value, str) and value.startswith("="):
            value = WriteOnlyCell(sheet, value=value)
            value.data_type = "s"
        cells.append(value)
    return cells
