"""Survey answers as CSV (streamed) and Excel, safe to open in a spreadsheet: what a resident
typed never runs as a formula and never hides or reorders text (`voting_app.spreadsheets`).

Both read as the pages do: headers in the reader's language, times in Beijing time with the
zone in the header (so an answer falls on the same day as on the pages), yes/no in words, a
1-5 rating as a number and every rate exactly as the pages round it."""

import csv
import io
from collections.abc import Iterator

from flask_babel import get_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select

from surveys.models import Answer, Response, Survey
from surveys.rules import RATING
from surveys.service import SurveyResults
from voting_app.db import db
from voting_app.labels import rating_labels, small_sample_note
from voting_app.spreadsheets import csv_cell, percent_cell, safe_row
from voting_app.web import local_time

EXCEL_ROW_LIMIT = 1_048_575


def _yes_no(value: bool) -> str:
    return _("Yes") if value else _("No")


def headers(survey: Survey) -> list[str]:
    return [_("Response number"), _("Submitted at (Beijing time)"), _("Placement"), _("Keyed in from paper"),
            _("Suspected repeat"), _("Held for review"), *[q.prompt_in(get_locale()) for q in survey.questions]]


def export_rows(survey: Survey) -> Iterator[list]:
    """The header, then one row per response: number, local time, placement, entry, flag, held,
    then one cell per question (a rating as a number; several choices joined by "; ")."""
    placements = {p.id: p.name for p in survey.placements}
    words = {key: str(label) for key, label in rating_labels().items()}
    labels = {q.id: q.option_labels_in(get_locale()) for q in survey.questions}
    ratings = {q.id for q in survey.questions if q.kind == RATING}
    hidden_text = _("[hidden]")
    yield headers(survey)
    query = (
        select(Response.id, Response.submitted_at, Response.placement_id, Response.is_assisted, Response.is_flagged, Response.held_on,
               Answer.question_id, Answer.value, Answer.text, Answer.is_hidden)
        .join(Answer, Answer.response_id == Response.id, isouter=True)
        .where(Response.survey_id == survey.id)
        .order_by(Response.id, Answer.id)
    )

    def finished(head, cells):
        return [*head, *[_cell(cells.get(q.id, [])) for q in survey.questions]]

    current, head, row = None, None, {}
    for rid, at, placement_id, assisted, flagged, held_on, question_id, value, text_, hidden in db.session.execute(query).yield_per(2000):
        if rid != current:
            if current is not None:
                yield finished(head, row)
            current, row = rid, {}
            head = [rid, local_time(at), placements.get(placement_id, ""), _yes_no(assisted), _yes_no(flagged),
                    _yes_no(held_on is not None)]
        if question_id is None:
            continue
        if text_ is not None:
            cell = hidden_text if hidden else text_
        elif question_id in ratings and value and value.isdigit():
            cell = int(value)
        else:
            cell = labels.get(question_id, {}).get(value) or words.get(value, value)
        row.setdefault(question_id, []).append(cell)
    if current is not None:
        yield finished(head, row)


def _cell(values: list):
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return "; ".join(str(value) for value in values)


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


def overview_headers() -> list[str]:
    return [_("Where"), _("Satisfaction rate"), _("Interval, lower end (95%)"), _("Interval, upper end (95%)"), _("Valid answers"), _("Note")]


def xlsx_bytes(survey: Survey, outcome: SurveyResults) -> bytes:
    """An overview sheet (rates with their 95% intervals and sample sizes) and every response.
    Excel holds about a million rows; a larger survey is exported whole as CSV."""
    workbook = Workbook(write_only=True)
    summary = workbook.create_sheet(_("Overview"))
    summary.append(safe_row(summary, [survey.title]))
    summary.append([_("Responses"), outcome.responses, _("Suspected repeats"), outcome.flagged, _("Keyed in from paper"),
                    outcome.assisted, _("Held for review (not counted)"), outcome.held])
    summary.append(overview_headers())
    rows = [(_("All answers"), outcome.rate)] + [(placement.name if placement else _("General QR code"), rate)
                                                 for placement, rate in outcome.by_placement]
    for name, rate in rows:
        if rate is not None and rate.valid:
            low, high = rate.interval_text
            note = str(small_sample_note()) if rate.is_small_sample else None
            summary.append(safe_row(summary, [name, percent_cell(summary, rate.rate_text), percent_cell(summary, low),
                                              percent_cell(summary, high), rate.valid, note]))
    sheet = workbook.create_sheet(_("Responses"))
    for index, row in enumerate(export_rows(survey)):
        if index > EXCEL_ROW_LIMIT:
            break
        sheet.append(safe_row(sheet, row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
