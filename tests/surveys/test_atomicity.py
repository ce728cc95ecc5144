"""A response is stored whole or not at all: when the database fails halfway through the
answers, nothing of the response stays, the household code stays unused, and the resident
is told plainly that nothing was saved."""

import html
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from surveys import rules
from surveys.models import Answer, HouseholdCode, Response
from tests.conftest import SECRET, post
from tests.surveys.helpers import (
    build_survey,
    count,
    full_answer,
    resident,
    rows,
    text_of,
)

UNAVAILABLE = "The database is busy or unavailable. Nothing was saved; please try again in a moment."
ANSWER_COLUMNS = 10  # response_id, question_id, survey_id, value, text, is_hidden, placement_id, week_start, is_assisted, is_flagged


def answer_rows(parameters) -> int:
    """How many survey_answers rows one driver call carries (one row, or a batch on PostgreSQL)."""
    if isinstance(parameters, dict):
        return sum(1 for key in parameters if key == "question_id" or key.startswith("question_id__"))
    if parameters and isinstance(parameters[0], (list, tuple, dict)):
        return sum(answer_rows(item) for item in parameters)
    return max(1, len(parameters) // ANSWER_COLUMNS)


@contextmanager
def database_fails_at_answer(app, nth: int):
    """The driver raises OperationalError on the INSERT that carries the nth answer row."""
    from voting_app.db import db

    with app.app_context():
        engine = db.engine
    state = {"rows": 0, "statements": 0, "failed": False, "response_inserted": False}

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SURVEY_RESPONSES"):
            state["response_inserted"] = True
        if not statement.lstrip().upper().startswith("INSERT INTO SURVEY_ANSWERS") or state["failed"]:
            return
        state["statements"] += 1
        state["rows"] += answer_rows(parameters)
        if state["rows"] >= nth:
            state["failed"] = True
            raise conn.dialect.loaded_dbapi.OperationalError("simulated failure: disk I/O error")

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield state
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


def test_a_failure_on_the_third_answer_stores_nothing_and_says_so(app):
    built = build_survey(app)
    phone = resident(app)
    with database_fails_at_answer(app, 3) as state:
        response = post(phone, f"/s/{built.placements['桥北端']}", full_answer(built))
    assert state["failed"] and state["response_inserted"], state
    assert response.status_code == 503
    assert UNAVAILABLE in html.unescape(text_of(response))
    assert count(app, Response) == 0
    assert count(app, Answer) == 0
    # no "already answered" cookie was handed out: the same phone answers again, whole
    again = post(phone, f"/s/{built.placements['桥北端']}", full_answer(built))
    assert again.status_code == 302
    assert count(app, Response) == 1 and count(app, Answer) == 4


def test_a_failure_halfway_leaves_the_household_code_unused(app):
    from surveys import service
    from surveys.models import Survey
    from voting_app.db import db

    built = build_survey(app, mode="tokened")
    with app.app_context():
        [code] = service.issue_household_codes("test", db.session.get(Survey, built.survey_id), 1, SECRET)
        db.session.commit()
    form = full_answer(built) | {"household_code": code}
    with database_fails_at_answer(app, 3) as state:
        response = post(resident(app), f"/s/{built.short_code}", form)
    assert state["failed"]
    assert response.status_code == 503
    assert UNAVAILABLE in html.unescape(text_of(response))
    assert count(app, Response) == 0 and count(app, Answer) == 0
    [household] = rows(app, HouseholdCode, HouseholdCode.code_hash == rules.code_hash(SECRET, code))
    assert household["used_at"] is None

    retry = post(resident(app), f"/s/{built.short_code}", form)
    assert retry.status_code == 302
    assert len(rows(app, Response, Response.survey_id == built.survey_id)) == 1
    assert count(app, Answer) == 4
    assert rows(app, HouseholdCode, HouseholdCode.id == household["id"])[0]["used_at"] is not None


@pytest.mark.parametrize("nth", [1, 4])
def test_a_failure_on_the_first_or_last_answer_also_stores_nothing(app, nth):
    built = build_survey(app)
    with database_fails_at_answer(app, nth) as state:
        response = post(resident(app), f"/s/{built.short_code}", full_answer(built))
    assert state["failed"] and response.status_code == 503
    assert count(app, Response) == 0 and count(app, Answer) == 0


def test_an_assisted_entry_is_all_or_nothing_too(app):
    from tests.surveys.helpers import user_client

    built = build_survey(app)
    worker = user_client(app, "grid_worker")
    with database_fails_at_answer(app, 2) as state:
        response = post(worker, f"/surveys/{built.survey_id}/assisted", full_answer(built))
    assert state["failed"] and response.status_code == 503
    assert count(app, Response) == 0 and count(app, Answer) == 0
