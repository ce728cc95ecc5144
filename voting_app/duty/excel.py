"""The duty records as an Excel workbook for the committee's duty-evaluation work (履职评价):
one sheet per table, each opening with a line naming the term and when it was exported (Beijing
time). Labels come translated from the view; times are Beijing time as Excel dates. Contacts
appear only when the caller passes them (staff ticked "include contacts", on the audit log)."""

import io
from datetime import datetime

from openpyxl import Workbook

from voting_app.duty.labels import CHECKIN_METHOD_LABELS, LEVEL_LABELS, OFFICE_CHANGE_LABELS, label
from voting_app.duty.service import DeputyRecord, DutyTable
from voting_app.spreadsheets import percent_cell, safe_row


def _sheet(workbook, title: str, heading: str, columns: list[str]):
    sheet = workbook.create_sheet(title)
    sheet.append(safe_row(sheet, [heading]))
    sheet.append(safe_row(sheet, columns))
    return sheet


def duty_workbook(table: DutyTable, records: list[DeputyRecord], labels: dict, exported_at: datetime,
                  local_time, supervision_status, contacts: dict[int, str] | None = None) -> bytes:
    """`records` are the deputies of the table's rows (same order); `local_time` turns a stored UTC
    time into Beijing time; `supervision_status` names where a supervision record stands."""
    workbook = Workbook(write_only=True)
    heading = labels["heading"].format(term=table.title, at=exported_at.strftime("%Y-%m-%d %H:%M"))
    figure_labels = [str(figure.label) for figure in table.figures]
    columns = [labels["number"], labels["name"], labels["delegation"], labels["unit"], labels["level"],
               labels["attended"], labels["due"], labels["rate"], labels["check_ins"], *figure_labels,
               labels["in_office"]]
    if contacts is not None:
        columns.append(labels["contact"])
    sheet = _sheet(workbook, labels["duty_sheet"], heading, columns)
    for row in table.rows:
        person, attendance = row.person, row.attendance
        cells = [person.number, person.name, person.delegation, person.unit, label(LEVEL_LABELS, person.level),
                 attendance.attended, attendance.due, percent_cell(sheet, attendance.rate_text), len(attendance.check_ins),
                 *(row.figures.get(figure.key, 0) for figure in table.figures),
                 labels["left"].format(day=person.left_office_on.isoformat()) if person.left_office_on else labels["serving"]]
        if contacts is not None:
            cells.append(contacts.get(person.id, ""))
        sheet.append(safe_row(sheet, cells))

    check_ins = _sheet(workbook, labels["checkin_sheet"], heading,
                       [labels["number"], labels["name"], labels["session"], labels["checked_in_at"], labels["method"]])
    for record in records:
        person = record.row.person
        for check_in in record.row.attendance.check_ins:
            check_ins.append(safe_row(check_ins, [person.number, person.name, check_in.session.name,
                                                  local_time(check_in.checked_in_at), label(CHECKIN_METHOD_LABELS, check_in.method)]))

    visits = _sheet(workbook, labels["supervision_sheet"], heading,
                    [labels["number"], labels["name"], labels["project"], labels["visited_on"], labels["findings"],
                     labels["rectification"], labels["status"]])
    for record in records:
        person = record.row.person
        for visit in record.supervisions:
            visits.append(safe_row(visits, [person.number, person.name, visit.project.name, visit.visited_on, visit.findings,
                                            "\n".join(issue.rectification for issue in visit.rectifications),
                                            labels["statuses"][supervision_status(visit)]]))

    changes = _sheet(workbook, labels["office_sheet"], heading,
                     [labels["number"], labels["name"], labels["change"], labels["effective_on"], labels["note"]])
    for record in records:
        person = record.row.person
        for change in record.changes:
            changes.append(safe_row(changes, [person.number, person.name, label(OFFICE_CHANGE_LABELS, change.kind),
                                              change.effective_on, change.note]))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
