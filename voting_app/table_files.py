"""Reading an uploaded table (a roster, a grid list, a household list): CSV or Excel into rows
of cell texts, with one kind of error for a file we cannot read; finding a table's header by
its column names; and the import pages' two steps: a file checked and its table sealed for the
preview's Import button, then that table checked again and stored. Pure: no Flask, no database."""

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from itsdangerous import BadSignature, URLSafeTimedSerializer
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


# ---- headers and cells ---------------------------------------------------------------

HEADER_SEARCH_ROWS = 5  # offices often put a title row or two above the header


def search_text(text: str) -> str:
    """Text as a search compares it: full-width and half-width alike (NFKC), any letter case,
    and without any kind of space or invisible character (U+3000, NBSP, thin spaces, tabs,
    zero-width spaces). "唐　军", "唐 军" and "唐军" are the same."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(
        char for char in folded if not char.isspace() and unicodedata.category(char) not in ("Zs", "Zl", "Zp", "Cf")
    ).casefold()


def header_forms(header: object) -> list[str]:
    """The header as typed, and without a note in brackets ("姓名（必填）") or brackets around it,
    each without spaces of any kind and letter case."""
    text = search_text(str(header or "").replace("\ufeff", ""))
    forms = [text, re.sub(r"\(.*?\)|\[.*?\]|【.*?】|〔.*?〕", "", text), text.strip("()[]【】〔〕*")]
    return [form for form in forms if form]


def alias_keys(aliases: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """{column key: its header aliases} as {folded alias: column key}, for `column_key`."""
    return {search_text(alias): key for key, names in aliases.items() for alias in names}


def column_key(header: object, keys: Mapping[str, str]) -> str | None:
    return next((keys[form] for form in header_forms(header) if form in keys), None)


def cell_text(value: object) -> str:
    """A cell's text with the spaces at its ends trimmed; the spaces inside stay as typed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def header_positions(header: Sequence[object], keys: Mapping[str, str]) -> dict[str, int]:
    """Where each known column stands; the first of two columns of a kind wins."""
    positions: dict[str, int] = {}
    for position, title in enumerate(header):
        key = column_key(title, keys)
        if key and key not in positions:
            positions[key] = position
    return positions


def find_header(lines: Sequence[tuple[int, Sequence[object]]], required: Sequence[str], keys: Mapping[str, str]) -> int:
    """The first of the first few rows that names every required column; else the one that
    names the most known columns (so a missing column is reported as what it is)."""
    candidates = lines[:HEADER_SEARCH_ROWS]
    for index, (_, row) in enumerate(candidates):
        if all(key in header_positions(row, keys) for key in required):
            return index
    counts = [len(header_positions(row, keys)) for _, row in candidates]
    return counts.index(max(counts))


# ---- the preview's Import button -----------------------------------------------------

PREVIEW_SECONDS = 3600  # a preview left open longer is checked again: the file may have changed since


def seal_table(secret: str, salt: str, table: list) -> str:
    """The checked table, signed and compressed, for the preview page to send back with its
    Import button: the import then stores exactly what the preview showed, and no upload is
    kept on the server in between. `salt` names what it is for (one session's roster, the grids)."""
    return URLSafeTimedSerializer(secret, salt=salt).dumps(table)


def unseal_table(secret: str, salt: str, sealed: str) -> list | None:
    """The table `seal_table` sealed with this salt; None when it is not one (altered, sealed
    for something else, or older than PREVIEW_SECONDS)."""
    try:
        return URLSafeTimedSerializer(secret, salt=salt).loads(sealed, max_age=PREVIEW_SECONDS)
    except BadSignature:
        return None


class Checked(Protocol):
    """What an import page's check makes of a table: stored only when valid."""

    @property
    def is_valid(self) -> bool: ...


C = TypeVar("C", bound=Checked)
R = TypeVar("R")


def check_file(filename: str, data: bytes, check: Callable[[list], C], unreadable: Callable[[str], C]) -> tuple[list, C]:
    """An upload's table (sealed for the Import button when it passes) and what `check` makes
    of it; a file read_table refuses gives an empty table and `unreadable(its code)`."""
    try:
        table = read_table(filename, data)
    except TableFileError as error:
        return [], unreadable(str(error))
    return table, check(table)


def import_sealed(secret: str, salt: str, sealed: str, check: Callable[[list], C], store: Callable[[C], R]) -> R | None:
    """The preview's Import button: the sealed table is checked again by `check` (the records
    may have changed since the preview) and handed to `store` only if it still passes. None, with
    nothing stored, when the seal is not one of `salt`'s (see unseal_table) or the table no
    longer passes: the page then asks for the file again."""
    table = unseal_table(secret, salt, sealed)
    if table is None:
        return None
    checked = check(table)
    return store(checked) if checked.is_valid else None
