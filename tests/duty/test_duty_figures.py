"""Duty records: the attendance rule (pure), the figures read from the database (SQLite and
PostgreSQL), the pages, the export that matches them, and contacts only on request (audited)."""

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from tests.conftest import make_user, post, sign_in
from tests.duty.helpers import build_duty_world
from voting_app.registry import duty


def held(id_, day, is_held=True):
    return duty.SessionHeld(id_, f"第{id_}次会议", day, id_, is_held)


def entry(session_id, checked_in=False, ended_on=None, method="desk"):
    return duty.RosterEntry(1, session_id, datetime(2026, 1, 1, 1, 0) if checked_in else None,
                            method if checked_in else None, ended_on)


def test_attendance_counts_held_sessions_the_deputy_was_due_at():
    sessions = [held(1, date(2026, 1, 10)), held(2, date(2026, 7, 10)), held(3, date(2027, 1, 10), is_held=False)]
    record = duty.attendance(sessions, [entry(1, checked_in=True), entry(2), entry(3)])
    assert (record.attended, record.due, record.rate_text) == (1, 2, "50.0")
    assert [standing for _, standing in record.sessions] == [duty.ATTENDED, duty.ABSENT, duty.NOT_HELD]


def test_a_deputy_not_on_a_roster_or_out_of_office_is_not_absent():
    sessions = [held(1, date(2026, 1, 10)), held(2, date(2026, 7, 10))]
    # Left office on 1 March, kept on the second session's roster (voting had begun) with that day.
    left = duty.attendance(sessions, [entry(1, checked_in=True), entry(2, ended_on=date(2026, 3, 1))])
    assert (left.attended, left.due) == (1, 1)
    assert left.sessions[1][1] == duty.NOT_DUE
    # Left office during the session (after its first day): still due there.
    assert duty.attendance(sessions[1:], [entry(2, ended_on=date(2026, 7, 11))]).due == 1
    # Not on the first session's roster at all (took office later).
    assert duty.attendance(sessions, [entry(2, checked_in=True)]).due == 1


def test_rates_round_down_and_are_empty_without_sessions():
    assert duty.rate_tenths(2, 3) == 666
    assert duty.rate_tenths(0, 0) is None
    assert duty.attendance([], []).rate_text is None
    with pytest.raises(ValueError):
        duty.rate_tenths(3, 2)


def test_people_are_filtered_and_in_roster_order():
    def person(number, delegation, level="district"):
        return duty.Person(int(number), number, "某", delegation, "", level, None, None, "")

    people = [person("10", "甲"), person("2", "甲"), person("3", "乙", "municipal")]
    assert [p.number for p in duty.select_people(people)] == ["2", "3", "10"]
    assert [p.number for p in duty.select_people(people, delegation="甲")] == ["2", "10"]
    assert [p.number for p in duty.select_people(people, level="municipal")] == ["3"]


def test_the_pure_rules_import_no_flask_and_no_database():
    import ast
    from pathlib import Path

    tree = ast.parse(Path(duty.__file__).read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not any(name.startswith(("flask", "sqlalchemy", "voting_app.db")) for name in names)


@pytest.fixture
def duty_world(app):
    with app.app_context():
        return build_duty_world()


def table_of(app, duty_world, **filters):
    from voting_app.db import db
    from voting_app.duty import service
    from voting_app.registry.models import Term

    with app.app_context():
        table = service.duty_table(db.session.get(Term, duty_world.term_id), **filters)
        return {row.person.number: row for row in table.rows}, table


def test_attendance_across_two_sessions_of_a_term(app, duty_world):
    rows, table = table_of(app, duty_world)
    figures = {number: (row.attendance.attended, row.attendance.due) for number, row in rows.items()}
    assert figures == {
        "001": (2, 2), "002": (2, 2),
        "003": (1, 1),  # resigned between the sessions: not absent from the second
        "004": (0, 2), "005": (0, 2),
        "006": (1, 1),  # elected after the first session: not absent from it
    }
    assert rows["004"].attendance.rate_text == "0.0" and rows["001"].attendance.rate_text == "100.0"
    assert (table.totals.attended, table.totals.due) == (6, 10)
    assert [s.id for s in table.sessions] == [duty_world.first_id, duty_world.second_id]


def test_check_ins_keep_their_method_and_time(app, duty_world):
    rows, _ = table_of(app, duty_world)
    assert rows["002"].attendance.methods() == {"desk": 1, "venue_code": 1}
    assert [c.session.id for c in rows["002"].attendance.check_ins] == [duty_world.first_id, duty_world.second_id]
    assert all(c.checked_in_at is not None for c in rows["002"].attendance.check_ins)


def test_supervision_visits_are_counted_across_sessions(app, duty_world):
    rows, table = table_of(app, duty_world)
    assert rows["001"].figures["supervision_visits"] == 2
    assert rows["001"].figures["rectifications_followed"] == 1
    assert rows["002"].figures["supervision_visits"] == 0
    assert [figure.key for figure in table.figures] == [
        "supervision_visits", "rectifications_followed", "proposals_entered", "groups"]
    assert all(row.figures["proposals_entered"] == 0 and row.figures["groups"] == 0 for row in rows.values())  # none yet


def test_proposals_entered_on_duty_count_for_the_deputy_who_entered_them(app, duty_world):
    from voting_app.db import db
    from voting_app.proposals import service as proposals
    from voting_app.proposals.models import RECEPTION_DAY
    from voting_app.registry.models import Term

    with app.app_context():
        term = db.session.get(Term, duty_world.term_id)
        people = {person.number: person for person in term.deputies}
        station = proposals.add_station("test", "米公社区人大代表联络站")
        for title in ("路口加装信号灯", "小区增设充电桩"):
            entered = proposals.submit_proposal(station, title, "接待日群众反映的意见建议，请尽快处理", "", "other", "", [], channel=RECEPTION_DAY)
            entered.entered_by_deputy_id = people["002"].id
        db.session.commit()
    rows, _ = table_of(app, duty_world)
    assert {number: row.figures["proposals_entered"] for number, row in rows.items()} == {
        "001": 0, "002": 2, "003": 0, "004": 0, "005": 0, "006": 0}


def test_groups_count_the_deputys_groups_of_the_term(app, duty_world):
    from voting_app.db import db
    from voting_app.registry import groups
    from voting_app.registry.models import Term

    with app.app_context():
        term = db.session.get(Term, duty_world.term_id)
        people = {person.number: person for person in term.deputies}
        by_place = groups.create_group("test", term, "城区代表小组")
        teaching = groups.create_group("test", term, "教育专业代表小组", kind="professional")
        for group, number in ((by_place, "001"), (by_place, "002"), (teaching, "001")):
            groups.add_member("test", group, people[number])
        db.session.commit()
    rows, _ = table_of(app, duty_world)
    assert {number: row.figures["groups"] for number, row in rows.items()} == {
        "001": 2, "002": 1, "003": 0, "004": 0, "005": 0, "006": 0}


def test_the_table_filters_by_delegation_and_level(app, duty_world):
    rows, table = table_of(app, duty_world, delegation="米公街道代表团")
    assert list(rows) == ["004", "005"]
    assert table.delegations == ["城区代表团", "米公街道代表团"]
    rows, _ = table_of(app, duty_world, level="municipal")
    assert rows == {}


def staff_client(app):
    client = app.test_client()
    with app.app_context():
        from voting_app.db import db

        sign_in(client, make_user("staff"))
        db.session.commit()
    return client


def test_the_duty_table_and_a_deputys_page(app, duty_world):
    client = staff_client(app)
    assert "/duty/terms/%d" % duty_world.term_id in client.get("/duty/").get_data(as_text=True)
    page = client.get(f"/duty/terms/{duty_world.term_id}").get_data(as_text=True)
    assert "甄士隐" in page and "2 / 2" in page and "0 / 2" in page and "100.0%" in page
    assert "13800000001" not in page
    filtered = client.get(f"/duty/terms/{duty_world.term_id}?delegation=米公街道代表团").get_data(as_text=True)
    assert "薛宝钗" in filtered and "甄士隐" not in filtered
    person = client.get(f"/duty/terms/{duty_world.term_id}/deputies/{duty_world.people['003']}").get_data(as_text=True)
    assert "林如海" in person and "Resigned" in person and "调离本区" in person and "Not on its roster" in person
    visits = client.get(f"/duty/terms/{duty_world.term_id}/deputies/{duty_world.people['001']}").get_data(as_text=True)
    assert "护栏缺失" in visits and "进度正常" in visits and "Venue screen code" not in visits
    venue = client.get(f"/duty/terms/{duty_world.term_id}/deputies/{duty_world.people['002']}").get_data(as_text=True)
    assert "Venue screen code" in venue and "At the desk" in venue


def test_a_deputy_of_another_term_is_not_found_under_this_one(app, duty_world):
    with app.app_context():
        other = build_duty_world()
    client = staff_client(app)
    assert client.get(f"/duty/terms/{duty_world.term_id}/deputies/{other.people['001']}").status_code == 404
    assert client.get("/duty/terms/999999").status_code == 404


def workbook(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))


def test_the_export_opens_and_matches_the_page(app, duty_world):
    client = staff_client(app)
    book = workbook(client.get(f"/duty/terms/{duty_world.term_id}/duty.xlsx"))
    assert book.sheetnames == ["Duty records", "Check-ins", "Supervision visits", "Changes in office"]
    rows, table = table_of(app, duty_world)
    for sheet in book.worksheets:
        heading = sheet.cell(1, 1).value
        assert table.title in heading and "Beijing time" in heading and str(date.today().year) in heading
    sheet = book["Duty records"]
    header = [cell.value for cell in sheet[2]]
    assert "Contact (staff only)" not in header
    lines = {line[0]: dict(zip(header, line)) for line in sheet.iter_rows(min_row=3, values_only=True)}
    assert list(lines) == list(rows)
    for number, row in rows.items():
        line = lines[number]
        assert (line["Sessions attended"], line["Sessions held while in office"]) == (row.attendance.attended, row.attendance.due)
        assert line["Supervision visits"] == row.figures["supervision_visits"]
        assert line["Check-ins"] == len(row.attendance.check_ins)
    assert lines["001"]["Attendance rate"] == 1.0 and lines["004"]["Attendance rate"] == 0.0
    assert sheet.cell(3, 8).number_format == "0.0%"
    assert lines["003"]["In office"] == "Left office on 2026-03-01"
    check_ins = list(book["Check-ins"].iter_rows(min_row=3, values_only=True))
    assert len(check_ins) == 6 and all(isinstance(line[3], datetime) for line in check_ins)
    assert ("002", "贾雨村", "第二次会议") == check_ins[[c[:3] for c in check_ins].index(("002", "贾雨村", "第二次会议"))][:3]
    assert {line[4] for line in check_ins} == {"At the desk", "Venue screen code"}
    visits = list(book["Supervision visits"].iter_rows(min_row=3, values_only=True))
    assert [line[0] for line in visits] == ["001", "001"]
    changes = list(book["Changes in office"].iter_rows(min_row=3, values_only=True))
    assert {(line[0], line[2]) for line in changes} == {("003", "Resigned"), ("006", "Elected in a by-election")}
    filtered = workbook(client.get(f"/duty/terms/{duty_world.term_id}/duty.xlsx?delegation=米公街道代表团"))
    assert [line[0] for line in filtered["Duty records"].iter_rows(min_row=3, values_only=True)] == ["004", "005"]


def audit_actions(app):
    from sqlalchemy import select

    from voting_app.audit import AuditEntry
    from voting_app.db import db

    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action)))


def test_contacts_only_when_ticked_and_then_audited(app, duty_world):
    client = staff_client(app)
    url = f"/duty/terms/{duty_world.term_id}/duty.xlsx"
    plain = workbook(post(client, url, {"delegation": "", "level": ""}))
    assert "Contact (staff only)" not in [cell.value for cell in plain["Duty records"][2]]
    assert "duty.export_contacts" not in audit_actions(app)
    book = workbook(post(client, url, {"delegation": "城区代表团", "level": "", "include_contacts": "y"}))
    header = [cell.value for cell in book["Duty records"][2]]
    lines = [dict(zip(header, line)) for line in book["Duty records"].iter_rows(min_row=3, values_only=True)]
    assert [line["Number"] for line in lines] == ["001", "002", "003", "006"]
    assert lines[0]["Contact (staff only)"] == "13800000001"
    assert audit_actions(app).count("duty.export_contacts") == 1
    assert client.post(url, data={"include_contacts": "y"}).status_code == 400  # no CSRF token: nothing exported


def test_the_export_speaks_chinese(app, duty_world):
    client = staff_client(app)
    client.set_cookie("lang", "zh_CN")
    book = workbook(client.get(f"/duty/terms/{duty_world.term_id}/duty.xlsx"))
    assert book.sheetnames == ["履职档案", "签到", "督办次数", "代表资格变动"]
    assert "北京时间" in book["履职档案"].cell(1, 1).value
