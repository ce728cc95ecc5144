"""Reading an uploaded table (a roster, a grid list, a household list): CSV or Excel into rows
of cell texts, with one kind of error for a file we cannot read. Pure: no Flask, no database."""

import csv
import io

from openpyxl import load_workbook

from voting_app.number_formats import displayed


class TableFileError(ValueError):
    """The file is not a CSV or Excel table we can read: `str(error)` is unreadable_xlsx,
    unreadable_csv or unknown_type."""


def read_table(filename: str, data: bytes) -> list[list[str]]:
    """CSV (UTF-8, or GB18030 as Excel saves it in China) or .xlsx into rows of cell texts;
    an Excel cell reads as the sheet shows it (1 formatted `000` is "001")."""
    lowered = filename.lower()
    if lowered.endswith(".xlsx"):
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = workbook.worksheets[0]
            rows = [[displayed(cell.value, cell.number_format) for cell in row] for row in sheet.iter_rows()]
        except Exception as error:  # openpyxl raises many kinds for a damaged file
            raise TableFileError("unreadable_xlsx") from error
        workbook.close()
        if any("\x00" in value for row in rows for value in row):
            raise TableFileError("unreadable_xlsx")  # a NUL no database text column can hold
        return rows
    if lowered.endswith(".csv") or lowered.endswith(".txt"):
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise TableFileError("unreadable_csv")
        if "\x00" in text:  # UTF-16 ("Unicode text") or binary; and no database text column holds a NUL
            raise TableFileError("unreadable_csv")
        try:
            return [row for row in csv.reader(io.StringIO(text))]
        except csv.Error as error:
            raise TableFileError("unreadable_csv") from error
    raise TableFileError("unknown_type")
