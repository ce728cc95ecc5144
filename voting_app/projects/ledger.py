"""The supervision ledger (问题、责任、整改台账): every issue found at the deputies' visits with
its responsible department, rectification, due date, answer and verdict, filtered for the staff
and a department, and exported as Excel."""

import io
from datetime import date

from openpyxl import Workbook
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from voting_app.db import db
from voting_app.projects import schedule
from voting_app.projects.delivery import rectification_overdue, supervision_status
from voting_app.projects.models import NOT_SETTLED, NOTED, SETTLED, Project, SupervisionIssue, SupervisionRecord
from voting_app.spreadsheets import safe_row

OPEN, OVERDUE = "open", "overdue"
STATES = (OPEN, OVERDUE, SETTLED, NOT_SETTLED, NOTED)


def in_state(issue: SupervisionIssue, state: str | None, today: date) -> bool:
    """Open: a rectification not yet settled; overdue: one past its due date."""
    if state is None:
        return True
    if state == OVERDUE:
        return rectification_overdue(issue, today)
    status = supervision_status(issue)
    if state == OPEN:
        return status not in (SETTLED, NOTED)
    return status == state


def issues(year: int | None = None, department_id: int | None = None, state: str | None = None,
           today: date | None = None) -> list[SupervisionIssue]:
    """The ledger's lines, newest visit first; the year is the project's."""
    today = today or schedule.beijing_today()
    query = (select(SupervisionIssue).join(SupervisionRecord, SupervisionRecord.id == SupervisionIssue.record_id)
             .join(Project, Project.id == SupervisionRecord.project_id)
             .options(selectinload(SupervisionIssue.department),
                      selectinload(SupervisionIssue.record).selectinload(SupervisionRecord.project))
             .order_by(SupervisionRecord.visited_on.desc(), SupervisionIssue.id.desc()))
    if year is not None:
        query = query.where(Project.year == year)
    if department_id is not None:
        query = query.where(SupervisionIssue.department_id == department_id)
    return [issue for issue in db.session.scalars(query) if in_state(issue, state, today)]


def workbook(lines: list[SupervisionIssue], labels: dict, heading: str, today: date) -> bytes:
    """One sheet: a heading line, the column names, one row per issue. Labels come translated."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(labels["sheet"])
    sheet.append(safe_row(sheet, [heading]))
    sheet.append(safe_row(sheet, [labels[key] for key in (
        "project", "year", "visited_on", "deputy", "problem", "department", "rectification", "due_on", "answer",
        "answered_on", "status", "overdue")]))
    for issue in lines:
        record = issue.record
        sheet.append(safe_row(sheet, [
            record.project.name, record.project.year, record.visited_on, record.deputy_name, issue.problem,
            issue.department_name, issue.rectification, issue.due_on, issue.answer,
            issue.answered_at.date() if issue.answered_at else None, labels["statuses"][supervision_status(issue)],
            labels["yes"] if rectification_overdue(issue, today) else "",
        ]))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
