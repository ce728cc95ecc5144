"""A term with two sessions and a history, for the duty-record tests."""

from dataclasses import dataclass
from datetime import date


@dataclass
class DutyWorld:
    term_id: int
    first_id: int  # session held 2026-01-10
    second_id: int  # session held 2026-07-10
    people: dict  # label -> term_deputies.id
    project_id: int


def build_duty_world() -> DutyWorld:
    """Inside an app context; commits.

    Deputies 001-005 of one term. 003 resigned on 2026-03-01, between the sessions; 006 was
    elected in a by-election on 2026-04-01. First session: 001, 002, 003 check in (004, 005 absent).
    Second session: 001 at the desk, 002 by the venue code, 006 at the desk (004, 005 absent).
    001 records a supervision visit with each session's card (one asks for a rectification)."""
    from tests.conftest import fresh_term
    from voting_app.db import db
    from voting_app.projects import delivery
    from voting_app.projects.models import Project
    from voting_app.registry import service as registry
    from voting_app.registry.roster import RosterParse, RosterRow
    from voting_app.sessions import service as sessions

    term = fresh_term()
    first = sessions.create_session("test", "第一次会议", "会堂", date(2026, 1, 10), term=term, meeting_number=1)
    rows = [RosterRow(i + 2, f"{i + 1:03d}", name, delegation, "某单位")
            for i, (name, delegation) in enumerate([("甄士隐", "城区代表团"), ("贾雨村", "城区代表团"), ("林如海", "城区代表团"),
                                                    ("薛宝钗", "米公街道代表团"), ("史湘云", "米公街道代表团")])]
    sessions.import_roster("test", first, RosterParse(tuple(rows), ()))
    second = sessions.create_session("test", "第二次会议", "会堂", date(2026, 7, 10), term=term, meeting_number=2)
    people = {p.number: p for p in term.deputies}
    people["001"].contact = "13800000001"
    # Each change recorded on its day, before the second session: its roster follows them.
    sessions.record_office_change("test", people["003"], "resigned", date(2026, 3, 1), "调离本区", today=date(2026, 3, 1))
    elected = registry.add_elected_deputy("test", term, RosterRow(0, "006", "王熙凤", "城区代表团", "某单位"),
                                          date(2026, 4, 1), today=date(2026, 4, 1), note="补选")
    sessions.sync_term_sessions(term, today=date(2026, 4, 1))
    db.session.refresh(first)
    db.session.refresh(second)
    row = {(d.session_id, d.number): d for d in [*first.deputies, *second.deputies]}
    for number in ("001", "002", "003"):
        sessions.check_in(row[(first.id, number)], sessions.DESK)
    sessions.check_in(row[(second.id, "001")], sessions.DESK)
    sessions.check_in(row[(second.id, "002")], sessions.VENUE_CODE)
    sessions.check_in(row[(second.id, "006")], sessions.DESK)
    project = Project(name="农村公路桥梁新改建", year=2026, stage="in_progress")
    db.session.add(project)
    db.session.flush()
    delivery.record_supervision("test", row[(first.id, "001")], project, date(2026, 3, 2), "护栏缺失", "补装护栏",
                                date(2026, 3, 30), [], today=date(2026, 3, 2))
    delivery.record_supervision("test", row[(second.id, "001")], project, date(2026, 8, 2), "进度正常", "", None, [],
                                today=date(2026, 8, 2))
    db.session.commit()
    ids = {number: person.id for number, person in people.items()} | {"006": elected.id}
    return DutyWorld(term.id, first.id, second.id, ids, project.id)
