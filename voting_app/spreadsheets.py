"""Spreadsheet cells that open safely. openpyxl writes any string starting with "=" as a
formula, so such text (a name, a comment) is kept a plain string cell; it refuses the control
characters XML cannot carry, so those are left out of the cell rather than failing the export.
A CSV cell that a spreadsheet would run as a formula gets a leading apostrophe (OWASP, CSV
injection). In both, hidden characters that reorder text are made visible (`voting_app.text`).

Figures are cells of their own type: numbers as numbers, a rate as the very value the pages show
(rounded by the count's rule) with a percentage format of one decimal, times as Excel dates in
Beijing time (naive: Excel has no time zones, so the header names the zone)."""

from datetime import date, datetime
from decimal import Decimal

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from voting_app.text import neutralise

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PERCENT_FORMAT = "0.0%"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def percent_cell(sheet, text: str | None):
    """A rate as shown on the pages ("59.9", from `satisfaction_rate_text`), stored as 0.599 and
    displayed by Excel as 59.9%: the same figure, never rounded again. None stays empty."""
    if text is None:
        return None
    cell = WriteOnlyCell(sheet, value=float(Decimal(text) / 100))
    cell.number_format = PERCENT_FORMAT
    return cell


def bar_cell(sheet, bar_percent: int):
    """A whole-percent setting such as the 60% bar, as a number Excel shows as 60%."""
    cell = WriteOnlyCell(sheet, value=bar_percent / 100)
    cell.number_format = "0%"
    return cell


def date_cell(sheet, value: date | datetime | None):
    """A real Excel date (or date and time) with a date format; give it local time, naive."""
    if value is None:
        return None
    if isinstance(value, datetime) and value.tzinfo is not None:
        raise ValueError("Excel has no time zones: convert to local time and drop the zone first")
    cell = WriteOnlyCell(sheet, value=value)
    cell.number_format = DATETIME_FORMAT if isinstance(value, datetime) else DATE_FORMAT
    return cell


def safe_row(sheet, row: list) -> list:
    cells = []
    for value in row:
        if isinstance(value, (date, datetime)):
            value = date_cell(sheet, value)
        if isinstance(value, str):
            value = neutralise(ILLEGAL_CHARACTERS_RE.sub("", value))
        if isinstance(value, str) and value.startswith("="):
            value = WriteOnlyCell(sheet, value=value)
            value.data_type = "s"
        cells.append(value)
    return cells


def csv_cell(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if not isinstance(value, str):
        return value
    value = neutralise(value)
    return "'" + value if value.startswith(FORMULA_START) else value
