"""Survey answers as CSV (streamed) and Excel, safe to open in a spreadsheet: what a resident
typed never runs as a formula and never hides or reorders text (`voting_app.spreadsheets`)."""

import csv
import io
from collections.abc import Iterator

from openpyxl import Workbook

from surveys.models import Survey
from surveys.service import SurveyResults, export_rows
from voting_app.spreadsheets import csv_cell, safe_row

EXCEL_ROW_LIMIT = 1_048_575


def csv_chunks(survey: Survey) -> Iterator[str]:
    """A UTF-8 BOM (so Excel in China reads the Chinese), then one line per response."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for row in export_rows(survey):
        writer.writerow([csv_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def xlsx_bytes(survey: Survey, outcome: SurveyResults, labels: dict[str, str]) -> bytes:
    """An overview sheet (rates with their margins and sample sizes) and every response.
    Excel holds about a million rows; a larger survey is exported whole as CSV."""
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet(labels["overview"])
    summary.append(safe_row(summary, [survey.title]))
    summary.append([labels["responses"], outcome.responses, labels["flagged"], outcome.flagged, labels["assisted"], outcome.assisted,
                    labels["held"], outcome.held])
    rows = [(labels["all"], outcome.rate)] + [(placement.name if placement else "", rate) for placement, rate in outcome.by_placement]
    for name, rate in rows:
        if rate is not None and rate.valid:
            summary.append(
                safe_row(summary, [name, labels["rate"], _rounded(rate.rate), labels["margin"], _rounded(rate.margin), labels["valid"], rate.valid])
            )
    sheet = workbook.create_sheet(labels["responses"])
    for index, row in enumerate(export_rows(survey)):
        if index > EXCEL_ROW_LIMIT:
            break
        sheet.append(safe_row(sheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
