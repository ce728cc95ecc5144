"""Demo grids: a made-up district the size of Fancheng's (10 grid centres, 128 unit grids, 625
grids) with rectangles for boundaries, so every run draws the same map; a district-wide
survey answered with household codes printed per grid (never fewer in a batch than the
sample frames' minimum for a grid), some grids with 30 answers or more and many with fewer; and the demo's placements and proposals placed in grids.

The survey's answers go in with bulk inserts and one recount of its tallies, so seeding stays fast."""

import random
import secrets
from datetime import timedelta

from sqlalchemy import insert, select, update

from surveys import service as surveys
from surveys import tallies
from surveys.frame_rules import MIN_HOUSEHOLDS_PER_CODE_GRID
from surveys.models import TOKENED, Answer, HouseholdCode, Response
from surveys.rules import week_start
from voting_app.ballots.counting import RATE_DISSATISFIED, RATE_MOSTLY, RATE_SATISFIED
from voting_app.db import db, utcnow
from voting_app.proposals.models import Proposal
from voting_app.registry import grid_service
from voting_app.registry.grids import GRID, BoundaryParse, GridParse, GridRow, synthetic_district
from voting_app.registry.models import Grid

SURVEY_TITLE = "樊城区民生实事项目群众满意度调查（按网格入户）"
SEED = 625


def seed_grids(actor: str) -> list[int]:
    """Import the synthetic district as a staff member would (list, then boundaries); the ids
    of its 625 grids (level 3) in code order."""
    district = synthetic_district()
    rows = tuple(GridRow(line, code, name, parent, level) for line, (code, name, level, parent, _) in enumerate(district, start=2))
    grid_service.import_grids(actor, GridParse(rows, ()))
    grid_service.import_boundaries(actor, BoundaryParse({code: boundary for code, _, _, _, boundary in district}, ()))
    return list(db.session.scalars(select(Grid.id).where(Grid.level == GRID).order_by(Grid.code)))


def grid_for(grid_ids: list[int], index: int) -> int:
    """A grid for the index-th placement or proposal: spread over the district, the same every run."""
    return grid_ids[(index * 97 + 13) % len(grid_ids)]


def link_deputies(term, grid_ids: list[int]) -> None:
    """Each of the term's deputies is linked to a grid (网格联系代表), spread over the district."""
    for index, person in enumerate(sorted(term.deputies, key=lambda person: person.id)):
        person.grid_id = grid_for(grid_ids, index)
    db.session.flush()


def place_proposals(grid_ids: list[int]) -> None:
    for index, proposal_id in enumerate(db.session.scalars(select(Proposal.id).order_by(Proposal.id))):
        db.session.execute(update(Proposal).where(Proposal.id == proposal_id).values(grid_id=grid_for(grid_ids, index)))


def _answers_in(rng: random.Random, grid_index: int, centre_index: int) -> int:
    """How many households of a grid answered: about one grid in six has 30 to 60 answers,
    the rest from none to two dozen, so the map shows both rates and 样本不足."""
    if grid_index % 6 == centre_index % 6:
        return rng.randint(30, 60)
    return rng.randint(0, 24)


def seed_grid_survey(actor: str, project_id: int | None) -> None:
    """A district-wide tokened survey: a batch of household codes per grid (only their hashes,
    as always), the used ones answered. Satisfaction leans by grid centre, so centres differ."""
    rng = random.Random(SEED)
    opened = utcnow() - timedelta(weeks=5)
    survey = surveys.create_from_template(actor, SURVEY_TITLE, project_id, None, mode=TOKENED, opens_at=opened)
    satisfaction = survey.questions[0]
    grids = db.session.execute(select(Grid.id, Grid.centre_id).where(Grid.level == GRID).order_by(Grid.code)).all()
    centres = sorted({centre_id for _, centre_id in grids})
    # Satisfaction (满意 + 基本满意) by centre, from 50% in the first to 95% in the last; 满意 is 60% of it.
    leaning = {centre_id: 0.5 + 0.05 * index for index, centre_id in enumerate(centres)}
    codes, responses = [], []
    for index, (grid_id, centre_id) in enumerate(grids):
        answered = _answers_in(rng, index, centres.index(centre_id))
        printed = max(answered + rng.randint(5, 20), MIN_HOUSEHOLDS_PER_CODE_GRID)
        for number in range(printed):
            used_at = opened + timedelta(minutes=rng.randrange(4 * 7 * 24 * 60)) if number < answered else None
            codes.append({"survey_id": survey.id, "code_hash": secrets.token_hex(32), "used_at": used_at, "grid_id": grid_id,
                          "created_at": opened})
            if used_at is not None:
                roll = rng.random()
                value = (RATE_SATISFIED if roll < 0.6 * leaning[centre_id] else RATE_MOSTLY if roll < leaning[centre_id]
                         else RATE_DISSATISFIED)
                responses.append((grid_id, used_at, value))
    db.session.execute(insert(HouseholdCode), codes)
    rows = [{"survey_id": survey.id, "grid_id": grid_id, "submitted_at": at, "week_start": week_start(at), "is_assisted": False,
             "is_flagged": False} for grid_id, at, _ in responses]
    ids = db.session.scalars(insert(Response).returning(Response.id, sort_by_parameter_order=True), rows).all()
    db.session.execute(insert(Answer), [
        {"response_id": response_id, "question_id": satisfaction.id, "survey_id": survey.id, "value": value, "grid_id": grid_id,
         "week_start": week_start(at), "is_assisted": False, "is_flagged": False, "is_held": False, "is_hidden": False}
        for response_id, (grid_id, at, value) in zip(ids, responses)
    ])
    tallies.rebuild(survey.id)
    db.session.flush()
