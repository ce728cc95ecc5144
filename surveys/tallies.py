"""Keeping SurveyTally in step: every response adds its keys, a flag or a hidden comment
moves them, and `rebuild` recounts a survey from its answers (after a bulk load)."""

from collections import Counter
from functools import cache

from sqlalchemy import delete, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from surveys.models import Answer, Response, SurveyTally
from voting_app.db import db

RESPONSES = 0
COMMENT = ""
RESPONDENT = "*"
KEY = ("survey_id", "question_key", "value", "placement_key", "week_start", "is_assisted", "is_flagged", "is_hidden")


def _base(response: Response) -> tuple:
    return (response.survey_id, response.placement_id or 0, response.week_start, response.is_assisted, response.is_flagged)


def keys_of(response: Response, answers: list[Answer], multiple_ids: set[int]) -> Counter:
    """The tally keys one response contributes to (a dict key per KEY order)."""
    survey_id, placement, week, assisted, flagged = _base(response)
    keys: Counter = Counter()
    keys[(survey_id, RESPONSES, "", placement, week, assisted, flagged, False)] += 1
    respondents = set()
    for answer in answers:
        if answer.value is None:
            keys[(survey_id, answer.question_id, COMMENT, placement, week, assisted, flagged, answer.is_hidden)] += 1
        else:
            keys[(survey_id, answer.question_id, answer.value, placement, week, assisted, flagged, False)] += 1
            if answer.question_id in multiple_ids:
                respondents.add(answer.question_id)
    for question_id in respondents:
        keys[(survey_id, question_id, RESPONDENT, placement, week, assisted, flagged, False)] += 1
    return keys


def add(keys: Counter, sign: int = 1) -> None:
    """Add (or with sign -1 take away) counts: one upsert statement, run for every key. The
    statement itself never changes, so SQLAlchemy compiles it once per worker."""
    rows = [dict(zip(KEY, key), count=sign * number) for key, number in keys.items() if number]
    if rows:
        db.session.execute(_upsert(db.session.get_bind().dialect.name), rows)


@cache
def _upsert(dialect: str):
    insert = sqlite_insert if dialect == "sqlite" else postgresql_insert
    statement = insert(SurveyTally.__table__)
    return statement.on_conflict_do_update(index_elements=list(KEY), set_={"count": SurveyTally.count + statement.excluded.count})


def rebuild(survey_id: int) -> None:
    """Recount one survey's tallies from its responses and answers."""
    db.session.execute(delete(SurveyTally).where(SurveyTally.survey_id == survey_id))
    db.session.execute(text(REBUILD_SQL), {"survey_id": survey_id})


REBUILD_SQL = """
INSERT INTO survey_tallies (survey_id, question_key, value, placement_key, week_start, is_assisted, is_flagged, is_hidden, count)
SELECT survey_id, 0, '', coalesce(placement_id, 0), week_start, is_assisted, is_flagged, false, count(*)
  FROM survey_responses WHERE survey_id = :survey_id
  GROUP BY survey_id, coalesce(placement_id, 0), week_start, is_assisted, is_flagged
UNION ALL
SELECT survey_id, question_id, coalesce(value, ''), coalesce(placement_id, 0), week_start, is_assisted, is_flagged,
       CASE WHEN value IS NULL THEN is_hidden ELSE false END, count(*)
  FROM survey_answers WHERE survey_id = :survey_id
  GROUP BY survey_id, question_id, coalesce(value, ''), coalesce(placement_id, 0), week_start, is_assisted, is_flagged,
           CASE WHEN value IS NULL THEN is_hidden ELSE false END
UNION ALL
SELECT a.survey_id, a.question_id, '*', coalesce(a.placement_id, 0), a.week_start, a.is_assisted, a.is_flagged, false,
       count(DISTINCT a.response_id)
  FROM survey_answers a JOIN survey_questions q ON q.id = a.question_id AND q.kind = 'multiple'
  WHERE a.survey_id = :survey_id AND a.value IS NOT NULL
  GROUP BY a.survey_id, a.question_id, coalesce(a.placement_id, 0), a.week_start, a.is_assisted, a.is_flagged
"""
