"""The running tallies that results read always equal a recount from the answers, through
submissions, assisted entries, multiple choice, comments, flags and hidden comments."""

import random
from datetime import timedelta

from sqlalchemy import select

from surveys import service, tallies
from surveys.models import Answer, Response, Survey, SurveyTally
from tests.conftest import make_user
from tests.surveys.helpers import build_survey
from voting_app.db import db, utcnow


def snapshot(survey_id: int) -> dict:
    rows = db.session.execute(select(SurveyTally).where(SurveyTally.survey_id == survey_id)).scalars()
    return {tuple(getattr(row, name) for name in tallies.KEY): row.count for row in rows if row.count}


def test_tallies_follow_every_write_and_equal_a_recount(app):
    built = build_survey(app, places=("桥北端", "桥南端"))
    rng = random.Random(7)
    with app.app_context():
        survey = db.session.get(Survey, built.survey_id)
        service.add_question("test", survey, "multiple", "哪些方面需要改进？", False, ["照明", "排水", "绿化"])
        db.session.refresh(survey)
        worker = make_user("grid_worker")
        placements = [None, *survey.placements]
        for number in range(60):
            answers = {}
            for question in survey.questions:
                if question.kind == "satisfaction":
                    answers[question.id] = [rng.choice(["satisfied", "mostly_satisfied", "dissatisfied"])]
                elif question.kind == "single":
                    answers[question.id] = [rng.choice(question.options)["key"]]
                elif question.kind == "multiple":
                    answers[question.id] = rng.sample([o["key"] for o in question.options], rng.randint(0, 3))
                elif question.kind == "rating":
                    answers[question.id] = [str(rng.randint(1, 5))]
                else:
                    answers[question.id] = ["路灯很亮"] if rng.random() < 0.4 else []
            assisted = number % 5 == 0
            service.submit_response(survey, rng.choice(placements), answers, entered_by_id=worker.id if assisted else None,
                                    filled_at=utcnow() - timedelta(days=rng.randint(0, 20)) if assisted else None)
        db.session.flush()
        responses = db.session.scalars(select(Response).where(Response.survey_id == survey.id)).all()
        for response in rng.sample(responses, 12):
            service.set_response_flag("test", survey, response, True)
        for response in rng.sample(responses, 5):
            service.set_response_flag("test", survey, response, False)
        comments = db.session.scalars(select(Answer).where(Answer.survey_id == survey.id, Answer.text.is_not(None))).all()
        for comment in rng.sample(comments, min(6, len(comments))):
            service.set_comment_hidden("test", survey, comment, True)
        service.set_comment_hidden("test", survey, comments[0], False)
        db.session.flush()
        kept = snapshot(survey.id)
        tallies.rebuild(survey.id)
        assert snapshot(survey.id) == kept
        result = service.results(survey)
        assert result.responses == 60 and result.assisted == 12
        multiple = next(q for q in result.questions if q.question.kind == "multiple")
        answered = db.session.scalar(select(db.func.count(db.func.distinct(Answer.response_id))).where(Answer.question_id == multiple.question.id))
        assert multiple.answered == answered
