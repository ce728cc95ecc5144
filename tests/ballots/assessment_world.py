"""An announced satisfaction assessment of three delivered projects, graded in tiers (镇海区) or
against the bar, for the tests of every output that shows its verdicts and overall rate."""

import secrets
from dataclasses import dataclass

from tests.ballots.helpers import announce_round, close_round, confirm_round, open_round
from tests.conftest import World, build_world

BRIDGE, LIGHTS, CORRIDOR = "农村公路桥梁新改建", "“一号公路”亮化工程", "市百货站小区文化长廊改造"

# Nine deputies on the roster, eight rate. On the roster (more than half: 5 votes):
# the bridge is 满意 (5 satisfied), the lights 基本满意 (3 + 3), and the corridor 不满意:
# only 4 deputies rated it, all satisfied, so its rate is 100% and it meets any bar, but
# 4 votes are not more than half of the roster, so under tiers it goes to rectification.
# Overall: 7 + 6 + 4 = 17 satisfied or mostly satisfied of 8 + 8 + 4 = 20 ratings, 85.0%.
S, M, D = "satisfied", "mostly_satisfied", "dissatisfied"
RATINGS = {
    BRIDGE: (S, S, S, S, S, M, M, D),
    LIGHTS: (S, S, S, M, M, M, D, D),
    CORRIDOR: (S, S, S, S, None, None, None, None),
}
OVERALL_TEXT = "85.0%"
# With `unrated`: a fourth project on the ballot that no deputy rated. Under tiers it is graded
# 不满意 on the roster all the same, and every output says it had no ratings.
UNRATED = "背街小巷改造"


@dataclass
class Assessment:
    world: World
    project_ids: dict  # project name -> project id
    candidate_ids: dict  # project name -> candidate id


def announced_assessment(app, grading: str = "tiers", bar: int = 60, unrated: bool = False) -> Assessment:
    """Build, vote, count and announce the assessment; `grading` comes from the congress's
    票决办法, which the round copies when staff create it."""
    from voting_app.ballots import profiles
    from voting_app.ballots import service as ballots
    from voting_app.ballots.models import Round
    from voting_app.ballots.profile_rules import RuleProfile
    from voting_app.db import db
    from voting_app.projects.models import Project
    from voting_app.projects.service import department_named
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        world = build_world(deputies=9, candidates=0)
        congress = db.session.get(CongressSession, world.session_id)
        profile = RuleProfile(grading="tiers", satisfaction_bar=None) if grading == "tiers" else RuleProfile(satisfaction_bar=bar)
        profiles.save_profile("test", congress.term.congress, profile)
        projects = {name: Project(name=name, year=2026, department=department_named("区交通运输局"), stage="operating")
                    for name in [*RATINGS, *([UNRATED] if unrated else [])]}
        db.session.add_all(projects.values())
        db.session.flush()
        round_ = ballots.create_round("test", congress, "2025年民生实事项目满意度测评", "satisfaction", 1, None, "electronic")
        assert round_.grading == grading
        candidates = {name: ballots.add_candidate("test", round_, name, project_id=project.id).id
                      for name, project in projects.items()}
        db.session.commit()
        world.round_id = round_.id
        project_ids = {name: project.id for name, project in projects.items()}
    open_round(app, world)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        deputies = sorted(round_.session.deputies, key=lambda deputy: deputy.id)
        for index, deputy in enumerate(deputies[:8]):
            choices = {candidates[name]: given[index] for name, given in RATINGS.items() if given[index]}
            ballots.cast_ballot(deputy, round_, choices, ballots.new_receipt(), secrets.token_hex(16))
        db.session.commit()
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)
    return Assessment(world, project_ids, candidates)
