"""Demo sample frame: a household list for the demo district's grids (made-up addresses, 8 per
grid), and a tokened survey of a delivered project with one frame of 300 households drawn from
it, printed, and about two in five of its codes answered, so the results show a response rate."""

import random
from datetime import timedelta

from flask import current_app
from sqlalchemy import insert, select

from surveys import frames
from surveys import service as surveys
from surveys.models import TOKENED
from voting_app.ballots.counting import RATE_DISSATISFIED, RATE_MOSTLY, RATE_SATISFIED
from voting_app.db import db, utcnow
from voting_app.projects.models import OPERATING
from voting_app.registry.grids import GRID
from voting_app.registry.models import Grid, Household

PER_GRID = 8
STREETS = ("幸福路", "和平街", "人民路", "解放路", "长虹路", "前进路", "建设路", "春园路", "米公路", "新华路")


def seed_households() -> int:
    """Eight households per grid, addresses only: 5,000 for the 625 demo grids."""
    grids = db.session.execute(select(Grid.id, Grid.code).where(Grid.level == GRID).order_by(Grid.code)).all()
    now = utcnow()
    rows = [
        {"grid_id": grid_id, "address": f"{STREETS[index % len(STREETS)]}{index + 1}号{1 + number // 4}单元{101 + number % 4}室",
         "imported_at": now}
        for index, (grid_id, _) in enumerate(grids) for number in range(PER_GRID)
    ]
    db.session.execute(insert(Household), rows)
    return len(rows)


def seed_frame(actor: str, project) -> None:
    rng = random.Random(300)
    survey = surveys.create_from_template(actor, f"{project.name}入户满意度调查（抽样300户）", project.id, OPERATING,
                                          mode=TOKENED, opens_at=utcnow() - timedelta(weeks=3))
    frame = frames.draw_frame(actor, survey, 300, None)
    slips = frames.print_frame(actor, frame, current_app.config["SECRET_KEY"])
    satisfaction = survey.questions[0]
    others = {question.id: [] for question in survey.questions[1:]}
    for slip in slips:
        if rng.random() < 0.42:
            roll = rng.random()
            value = RATE_SATISFIED if roll < 0.55 else RATE_MOSTLY if roll < 0.85 else RATE_DISSATISFIED
            surveys.submit_response(survey, None, {satisfaction.id: [value], **others}, household_code=slip.code,
                                    secret=current_app.config["SECRET_KEY"])
