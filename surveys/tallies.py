"""Keeping SurveyTally in step: every response adds its keys, a flag, a hidden comment or a
held answer released moves them, and `rebuild` recounts a survey from its answers (after a
bulk load)."""

from collections import Counter
from functools import cache

from sqlalchemy import delete, text

from surveys.models import Answer, Response, SurveyTally
from voting_app.db import db, dialect_insert

RESPONSES = 0
COMMENT = ""
RESPONDENT = "*"
KEY = ("survey_id", "question_key", "value", "placement_key", "week_start", "is_assisted", "is_flagged", "is_hidden", "is_held")
FLAGGED, HIDDEN, HELD = KEY.index("is_flagged"), KEY.index("is_hidden"), KEY.index("is_held")


def keys_of(response: Response, answers: list[Answer], multiple_ids: set[int]) -> Counter:
    """The tally keys one response contributes to (a dict key per KEY order). `response` and
    `answers` may be any rows with the same attribute names (a RETURNING row will do)."""
    survey_id, placement, week = response.survey_id, response.placement_id or 0, response.week_start
    assisted, flagged, held = response.is_assisted, response.is_flagged, response.held_on is not None
    keys: Counter = Counter()
    keys[(survey_id, RESPONSES, "", placement, week, assisted, flagged, False, held)] += 1
    respondents = set()
    for answer in answers:
        if answer.value is None:
            keys[(survey_id, answer.question_id, COMMENT, placement, week, assisted, flagged, answer.is_hidden, held)] += 1
        else:
            keys[(survey_id, answer.question_id, answer.value, placement, week, assisted, flagged, False, held)] += 1
            if answer.question_id in multiple_ids:
                respondents.add(answer.question_id)
    for question_id in respondents:
        keys[(survey_id, question_id, RESPONDENT, placement, week, assisted, flagged, False, held)] += 1
    return keys


def moved(keys: Counter, position: int, value: bool) -> Counter:
    """The same counts with one boolean of the key set to `value` (where a flag or hold moves them)."""
    return Counter({(*key[:position], value, *key[position + 1:]): number for key, number in keys.items()})


def add(keys: Counter, sign: int = 1) -> None:
    """Add (or with sign -1 take away) counts: one upsert statement, run for every key. The
    statement itself never changes, so SQLAlchemy compiles it once per worker."""
    rows = [dict(zip(KEY, key), count=sign * number) for key, number in keys.items() if number]
    if rows:
        db.session.connection().execute(_upsert(db.session.get_bind().dialect.name), rows)


@cache
def _upsert(dialect: str):
    statement = dialect_insert(dialect)(SurveyTally.__table__)
    # The table's columns, not the model's: a plain Core statement, without the ORM's work per execution.
    return statement.on_conflict_do_update(index_elements=list(KEY), set_={"count": statement.table.c.count + statement.excluded.count})


def rebuild(survey_id: int) -> None:
    """Recount one survey's tallies from its responses and answers."""
    db.session.execute(delete(SurveyTally).where(SurveyTally.survey_id == survey_id))
    db.session.execute(text(REBUILD_SQL), {"survey_id": survey_id})


REBUILD_SQL = """
INSERT INTO survey_tallies (survey_id, question_key, value, placement_key, week_start, is_assisted, is_flagged, is_hidden,
                            is_held, count)
SELECT survey_id, 0, '', coalesce(placement_id, 0), week_start, is_assisted, is_flagged, false,
       CASE WHEN held_on IS NULL THEN false ELSE true END, count(*)
  FROM survey_responses WHERE survey_id = :survey_id
  GROUP BY survey_id, coalesce(placement_id, 0), week_start, is_assisted, is_flagged,
           CASE WHEN held_on IS NULL THEN false ELSE true END
UNION ALL
SELECT survey_id, question_id, coalesce(value, ''), coalesce(placement_id, 0), week_start, is_assisted, is_flagged,
       CASE WHEN value IS NULL THEN is_hidden ELSE false END, is_held, count(*)
  FROM survey_answers WHERE survey_id = :survey_id
  GROUP BY survey_id, question_id, coalesce(value, ''), coalesce(placement_id, 0), week_start, is_assisted, is_flagged,
           CASE WHEN value IS NULL THEN is_hidden ELSE false END, is_held
UNION ALL
SELECT a.survey_id, a.question_id, '*', coalesce(a.placement_id, 0), a.week_start, a.is_assisted, a.is_flagged, false,
       a.is_held, count(DISTINCT a.response_id)
  FROM survey_answers a JOIN survey_questions q ON q.id = a.question_id AND q.kind = 'multiple'
  WHERE a.survey_id = :survey_id AND a.value IS NOT NULL
  GROUP BY a.survey_id, a.question_id, coalesce(a.placement_id, 0), a.week_start, a.is_assisted, a.is_flagged, a.is_held
"""
