"""Answers held past a survey's daily count per address: staff see them by day and placement
(never an address), count them in or discard them in bulk, once each however often the
button is pressed; every figure residents or the public see leaves them out and says how
many there are; the allowance belongs to the survey; grid workers' paper answers are never
held and each one keyed is on the audit log."""

import csv
import html
import io
import re
import threading
from datetime import date, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from surveys.models import Answer, Response, Survey
from tests.conftest import csrf_token, post
from tests.surveys.helpers import (
    DISSATISFIED, MOSTLY, SATISFIED, build_survey, full_answer, recount, resident, tally_counts, text_of, user_client,
)
from voting_app.audit import AuditEntry
from voting_app.db import db, utcnow

NORTH = "桥北端"


def assert_tallies_equal_a_recount(app, survey_id: int) -> None:
    assert tally_counts(app, survey_id) == recount(app, survey_id)


def held_by_group(app, survey_id: int) -> dict:
    with app.app_context():
        rows = db.session.execute(
            select(Response.held_on, Response.placement_id, func.count())
            .where(Response.survey_id == survey_id, Response.held_on.is_not(None))
            .group_by(Response.held_on, Response.placement_id)
        ).all()
    return {(day, placement): number for day, placement, number in rows}


def audit_entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()
        db.session.expunge_all()
    return entries


def flood(app, built, *, days_ago: int, placement: str | None, count: int, rating: str = DISSATISFIED, address: str = "net-a") -> None:
    """`count` answers from one address on one day (through the service, to place them on past days)."""
    from surveys import service

    with app.app_context():
        survey = db.session.get(Survey, built.survey_id)
        where = next((p for p in survey.placements if p.name == placement), None)
        moment = utcnow() - timedelta(days=days_ago)
        answers = {built.questions["satisfaction"]: [rating], built.questions["text"]: ["同一个地址"]}
        for _ in range(count):
            service.submit_response(survey, where, answers, address=f"{address}-{days_ago}-{placement}", filled_at=moment)
        db.session.commit()


def beijing_day(days_ago: int) -> date:
    return (utcnow() + timedelta(hours=8) - timedelta(days=days_ago)).date()


# ---- review, release and discard ---------------------------------------------------------------


def test_staff_count_in_or_discard_held_answers_by_day_and_placement(app):
    built = build_survey(app, places=(NORTH,))
    flood(app, built, days_ago=1, placement=NORTH, count=12)   # 7 held
    flood(app, built, days_ago=1, placement=None, count=8)     # 3 held
    flood(app, built, days_ago=0, placement=NORTH, count=9)    # 4 held
    north = built.placement_ids[NORTH]
    yesterday, today = beijing_day(1), beijing_day(0)
    assert held_by_group(app, built.survey_id) == {(yesterday, north): 7, (yesterday, None): 3, (today, north): 4}
    assert_tallies_equal_a_recount(app, built.survey_id)

    staff = user_client(app, "staff")
    page = html.unescape(text_of(staff.get(f"/surveys/{built.survey_id}/held")))
    assert "Answers beyond 5 from one network address in one day are held" in page
    for day, number in ((yesterday, 7), (yesterday, 3), (today, 4)):
        assert re.search(rf"<td>{day.isoformat()}</td><td>[^<]*</td><td class=\"num\">{number}</td>", page), page
    before = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()
    assert (before["responses"], before["held"]) == (15, 14)

    released = post(staff, f"/surveys/{built.survey_id}/held", {"decision": "release", "day": yesterday.isoformat(), "placement": str(north)})
    assert released.status_code == 302
    assert "7 held answers are now counted." in html.unescape(text_of(staff.get(released.headers["Location"])))
    assert held_by_group(app, built.survey_id) == {(yesterday, None): 3, (today, north): 4}
    after = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()
    assert (after["responses"], after["held"], after["satisfaction"]["dissatisfied"]) == (22, 7, 22)
    assert_tallies_equal_a_recount(app, built.survey_id)

    discarded = post(staff, f"/surveys/{built.survey_id}/held", {"decision": "discard", "day": yesterday.isoformat(), "placement": "0"})
    assert discarded.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id)).where(Response.survey_id == built.survey_id)) == 26
        assert db.session.scalar(select(func.count(Answer.id)).where(Answer.survey_id == built.survey_id)) == 52
    assert held_by_group(app, built.survey_id) == {(today, north): 4}
    assert staff.get(f"/surveys/{built.survey_id}/results.json").get_json()["held"] == 4
    assert_tallies_equal_a_recount(app, built.survey_id)

    assert post(staff, f"/surveys/{built.survey_id}/held", {"decision": "release"}).status_code == 302
    final = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()
    assert (final["responses"], final["held"]) == (26, 0)
    assert held_by_group(app, built.survey_id) == {}
    assert_tallies_equal_a_recount(app, built.survey_id)
    assert "No answer is held." in html.unescape(text_of(staff.get(f"/surveys/{built.survey_id}/held")))

    settled = [(e.action, e.details["count"], e.details["day"], e.details["placement"]) for e in audit_entries(app, "survey.held_release")]
    settled += [(e.action, e.details["count"], e.details["day"], e.details["placement"]) for e in audit_entries(app, "survey.held_discard")]
    assert settled == [
        ("survey.held_release", 7, yesterday.isoformat(), north),
        ("survey.held_release", 4, None, None),
        ("survey.held_discard", 3, yesterday.isoformat(), 0),
    ]


def test_a_bad_decision_or_day_changes_nothing(app):
    built = build_survey(app)
    flood(app, built, days_ago=0, placement=None, count=7)
    staff = user_client(app, "staff")
    before = tally_counts(app, built.survey_id)
    refused = post(staff, f"/surveys/{built.survey_id}/held", {"decision": "delete-everything"})
    assert "Choose to count or to discard the held answers." in html.unescape(text_of(staff.get(refused.headers["Location"])))
    assert post(staff, f"/surveys/{built.survey_id}/held", {"decision": "release", "day": "yesterday"}).status_code == 400
    assert tally_counts(app, built.survey_id) == before and sum(held_by_group(app, built.survey_id).values()) == 2
    assert post(resident(app), f"/surveys/{built.survey_id}/held", {"decision": "release"}).status_code in (302, 403)
    assert post(user_client(app, "presiding"), f"/surveys/{built.survey_id}/held", {"decision": "release"}).status_code == 403
    assert sum(held_by_group(app, built.survey_id).values()) == 2


@pytest.mark.parametrize("decisions", [("release", "release"), ("discard", "discard"), ("release", "discard")])
def test_two_staff_settling_the_same_held_answers_at_once_settle_each_once(app, decisions):
    """Two clicks at the same moment: the conditional UPDATE lets one of them have each answer."""
    built = build_survey(app)
    flood(app, built, days_ago=0, placement=None, count=45)  # 40 held
    clients = [user_client(app, "staff") for _ in decisions]
    forms = [{"decision": decision, "csrf_token": csrf_token(client)} for decision, client in zip(decisions, clients)]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def settle(client, form):
        barrier.wait()
        statuses.append(client.post(f"/surveys/{built.survey_id}/held", data=form).status_code)

    threads = [threading.Thread(target=settle, args=pair) for pair in zip(clients, forms)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [302, 302]
    entries = audit_entries(app, "survey.held_release") + audit_entries(app, "survey.held_discard")
    assert sorted(entry.details["count"] for entry in entries) == [0, 40]
    with app.app_context():
        kept = db.session.scalar(select(func.count(Response.id)).where(Response.survey_id == built.survey_id))
    winner = next(entry.action for entry in entries if entry.details["count"] == 40)
    assert kept == (45 if winner == "survey.held_release" else 5)
    assert held_by_group(app, built.survey_id) == {}
    assert_tallies_equal_a_recount(app, built.survey_id)


def test_hiding_or_unflagging_a_held_answer_keeps_the_tallies_in_step(app):
    from surveys import service

    built = build_survey(app)
    flood(app, built, days_ago=0, placement=None, count=7)
    with app.app_context():
        survey = db.session.get(Survey, built.survey_id)
        held = db.session.scalars(select(Response).where(Response.held_on.is_not(None)).order_by(Response.id)).first()
        comment = next(answer for answer in held.answers if answer.text)
        service.set_comment_hidden("test", survey, comment, True)
        service.set_response_flag("test", survey, held, False)
        db.session.commit()
    assert_tallies_equal_a_recount(app, built.survey_id)
    staff = user_client(app, "staff")
    assert post(staff, f"/surveys/{built.survey_id}/held", {"decision": "release"}).status_code == 302
    data = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()
    assert (data["responses"], data["flagged"], data["held"]) == (7, 5, 0)
    assert_tallies_equal_a_recount(app, built.survey_id)


# ---- what is shown ------------------------------------------------------------------------------


def test_every_residents_figure_leaves_held_answers_out_and_says_how_many(app, world):
    """The project list, the project page, the reports (page and Excel), the venue screen, and
    the survey's own results and exports."""
    from tests.ballots.helpers import as_role
    from tests.screen.test_screen import go, slide

    built = build_survey(app)
    for n in range(4):
        assert post(resident(app, f"198.51.100.{n + 1}"), f"/s/{built.short_code}", full_answer(built, rating=SATISFIED)).status_code == 302
    for n in range(9):  # one address, nine answers: five count (one satisfied would be 9/9), four are held
        assert post(resident(app, "203.0.113.9", f"phone {n}"), f"/s/{built.short_code}",
                    full_answer(built, rating=MOSTLY if n < 5 else DISSATISFIED)).status_code == 302
    with app.app_context():
        project_id = db.session.get(Survey, built.survey_id).project_id
    staff = as_role(app, world, "staff")

    def plain(response) -> str:
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(text_of(response))))

    in_reports = "100.0% (95% interval 70.0%–100.0%, n=9) Fewer than 30 answers: for reference only (4 more held for review, not counted)"
    assert "Residents " + in_reports in plain(app.test_client().get("/projects/"))
    project_page = plain(app.test_client().get(f"/projects/{project_id}"))
    assert "Satisfaction rate 100.0%" in project_page and "Held for review (not counted) 4" in project_page
    assert in_reports in plain(staff.get(f"/reports/projects/{project_id}"))
    assert "Residents " + in_reports in plain(staff.get("/reports/projects?year=all"))
    sheet = openpyxl.load_workbook(io.BytesIO(staff.get("/reports/projects.xlsx?year=all").data)).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    held_column = rows[0].index("Residents’ answers held for review (not counted)")
    assert rows[1][held_column] == 4 and rows[1][rows[0].index("Residents’ satisfaction rate")] == 1.0

    presiding = as_role(app, world, "presiding")
    go(presiding, world.session_id, "satisfaction")
    assert in_reports in plain(slide(presiding, world.session_id))  # the screen's table reads as the reports do

    results = staff.get(f"/surveys/{built.survey_id}/results")
    assert '<dd data-key="responses">9</dd>' in text_of(results) and re.search(r'<dd data-key="held"><a [^>]+>4</a></dd>', text_of(results))
    workbook = openpyxl.load_workbook(io.BytesIO(staff.get(f"/surveys/{built.survey_id}/export.xlsx").data), read_only=True)
    assert list(next(workbook.worksheets[0].iter_rows(min_row=2, max_row=2, values_only=True)))[6:8] == ["Held for review (not counted)", 4]
    table = list(csv.reader(io.StringIO(staff.get(f"/surveys/{built.survey_id}/export.csv").data.decode("utf-8-sig"))))
    assert table[0][5] == "Held for review" and [row[5] for row in table[1:]] == ["No"] * 9 + ["Yes"] * 4


def test_releasing_held_answers_redraws_the_venue_screen(app, world):
    from tests.ballots.helpers import as_role
    from tests.screen.test_screen import slide

    built = build_survey(app)
    flood(app, built, days_ago=0, placement=None, count=7)
    presiding = as_role(app, world, "presiding")
    etag = slide(presiding, world.session_id).headers["ETag"]
    assert slide(presiding, world.session_id, etag).status_code == 304
    assert post(user_client(app, "staff"), f"/surveys/{built.survey_id}/held", {"decision": "release"}).status_code == 302
    assert slide(presiding, world.session_id, etag).status_code == 200


# ---- the allowance belongs to the survey ---------------------------------------------------------


def test_the_allowance_is_the_surveys_own_and_staff_may_change_it(app):
    first = build_survey(app, title="第一份")
    app.config["SURVEY_HOLD_AFTER"] = 2
    second = build_survey(app, title="第二份")
    with app.app_context():
        assert [db.session.get(Survey, built.survey_id).hold_after for built in (first, second)] == [5, 2]

    staff = user_client(app, "staff")
    new_form = text_of(staff.get("/surveys/new"))
    assert re.search(r'name="hold_after"[^>]*value="2"', new_form)
    edit = text_of(staff.get(f"/surveys/{first.survey_id}/edit"))
    assert re.search(r'name="hold_after"[^>]*value="5"', edit)
    form = {"title": "第一份", "intro": "", "project_id": "", "stage": "", "mode": "open", "threshold_percent": "60"}
    refused = post(staff, f"/surveys/{first.survey_id}/edit", form | {"hold_after": "0"})
    assert refused.status_code == 200 and "Number must be between 1 and 1000." in html.unescape(text_of(refused))
    assert post(staff, f"/surveys/{first.survey_id}/edit", form | {"hold_after": "1"}).status_code == 302
    with app.app_context():
        assert db.session.get(Survey, first.survey_id).hold_after == 1
    assert [e.details.get("hold_after") for e in audit_entries(app, "survey.update")] == [1]

    for n in range(3):
        assert post(resident(app, "198.51.100.77", f"phone {n}"), f"/s/{first.short_code}", full_answer(first)).status_code == 302
    assert sum(held_by_group(app, first.survey_id).values()) == 2


# ---- answers that are never held ----------------------------------------------------------------


def test_grid_workers_paper_answers_are_never_held_and_each_is_on_the_audit_log(app):
    built = build_survey(app)
    worker = user_client(app, "grid_worker")
    worker.environ_base.update({"REMOTE_ADDR": "198.51.100.50"})
    placement_id = built.placement_ids[NORTH]
    yesterday = beijing_day(1)
    for n in range(8):
        entered = post(worker, f"/surveys/{built.survey_id}/assisted?placement={placement_id}",
                       full_answer(built, comment=None) | {"filled_on": yesterday.isoformat()})
        assert entered.status_code == 302
    assert held_by_group(app, built.survey_id) == {}
    entries = audit_entries(app, "survey.assisted_entry")
    assert [e.details["keyed_today"] for e in entries] == list(range(1, 9))
    assert all(e.target == f"survey:{built.survey_id}" and e.actor == f"user:{worker.user_id}" and e.details["count"] == 1
               and e.details["placement"] == placement_id and e.details["filled_on"] == yesterday.isoformat() for e in entries)
    assert all(abs(e.at - utcnow()) < timedelta(minutes=5) for e in entries)
    assert all(set(e.details) == {"count", "keyed_today", "placement", "filled_on"} for e in entries)  # no answer, no response id


def test_household_code_answers_are_never_held_one_address_many_codes(app):
    """A code already answers once per household; an estate's shared Wi-Fi may carry them all."""
    from surveys import service
    from tests.conftest import SECRET

    built = build_survey(app, mode="tokened")
    with app.app_context():
        codes = service.issue_household_codes("test", db.session.get(Survey, built.survey_id), 8, SECRET)
        db.session.commit()
    for code in codes:
        form = full_answer(built) | {"household_code": code}
        assert post(resident(app, "198.51.100.90"), f"/s/{built.short_code}", form).status_code == 302
    assert held_by_group(app, built.survey_id) == {}
    with app.app_context():
        assert db.session.scalar(select(func.count(Response.id)).where(Response.is_flagged)) == 0


# ---- forgetting addresses ----------------------------------------------------------------------


def test_the_daily_command_forgets_past_keys_and_counts_on_a_day_no_one_answers(app):
    from surveys.models import AddressCount, DedupeKey

    today = beijing_day(0)
    with app.app_context():
        for days_ago in (0, 1, 3):
            day = today - timedelta(days=days_ago)
            db.session.add(DedupeKey(day=day, key=bytes([days_ago]) * 32))
            db.session.add(AddressCount(day=day, address_hash=f"{days_ago:064x}", count=7))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["survey-forget-addresses"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalars(select(DedupeKey.day)).all() == [today]
        assert db.session.scalars(select(AddressCount.day)).all() == [today]
