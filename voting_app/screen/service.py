"""What the venue screen shows: the deck of a session, the current slide and its data, and a
fingerprint that changes whenever anything on the screen would. Services flush; callers commit."""

import hashlib
from dataclasses import dataclass

from sqlalchemy import func, select

from voting_app import audit
from voting_app.ballots.counting import SATISFACTION
from voting_app.ballots.models import Ballot, BallotMarker, Round
from voting_app.ballots.service import count_round
from voting_app.db import db, utcnow
from voting_app.projects.models import STAGES, Project, ProjectChange
from voting_app.projects.service import project_ratings, project_years, default_year, filtered_projects
from voting_app.screen import deck as decks
from voting_app.screen.models import ScreenState
from voting_app.sessions.models import CongressSession
from voting_app.sessions.service import presence


def session_rounds(congress: CongressSession) -> list[Round]:
    return list(db.session.scalars(select(Round).where(Round.session_id == congress.id).order_by(Round.id)))


def deck_of(congress: CongressSession) -> list[decks.Slide]:
    infos = []
    for round_ in session_rounds(congress):
        void = round_.state in decks.COUNTED_STATES and count_round(round_).void_round
        infos.append(decks.RoundInfo(round_.id, round_.state, void))
    return decks.build_deck(infos)


def state_of(congress: CongressSession) -> ScreenState:
    state = db.session.get(ScreenState, congress.id)
    if state is None:
        state = ScreenState(session_id=congress.id, slide_key=decks.TITLE, version=0)
        db.session.add(state)
        db.session.flush()
    return state


def current_slide(congress: CongressSession) -> tuple[list[decks.Slide], decks.Slide]:
    deck = deck_of(congress)
    state = db.session.get(ScreenState, congress.id)
    return deck, decks.resolve(deck, state.slide_key if state else None)


def move(actor: str, congress: CongressSession, to: str) -> decks.Slide:
    """`to` is "next", "prev" or a slide's key; an unknown key leaves the screen where it is."""
    deck, slide = current_slide(congress)
    if to in ("next", "prev"):
        target = decks.step(deck, slide.key, 1 if to == "next" else -1)
    else:
        target = next((candidate for candidate in deck if candidate.key == to), slide)
    state = state_of(congress)
    if state.slide_key != target.key:
        state.slide_key = target.key
        state.version += 1
        state.changed_at = utcnow()
        db.session.flush()
        audit.record(actor, "screen.show", f"session:{congress.id}", slide=target.key)
    return target


def fingerprint(congress: CongressSession, markers=()) -> str:
    """Cheap to compute on every poll: the stored slide, the rounds' states, presence, ballots
    returned, the projects' latest change, the announced assessments, and what other areas
    register (the residents' latest answer)."""
    state = db.session.get(ScreenState, congress.id)
    rounds = db.session.execute(select(Round.id, Round.state).where(Round.session_id == congress.id).order_by(Round.id)).all()
    returned = [  # paper ballots once keyed; electronic ones by their markers, as they are sealed until the count
        (table.__tablename__, *row)
        for table in (Ballot, BallotMarker)
        for row in db.session.execute(
            select(table.round_id, func.count()).join(Round, Round.id == table.round_id)
            .where(Round.session_id == congress.id, Round.state.in_(decks.IN_PROGRESS_STATES)).group_by(table.round_id)
        )
    ]
    figures = presence(congress.id)
    latest_change = db.session.scalar(select(func.max(ProjectChange.id)))
    assessments = db.session.scalar(select(func.count(Round.id)).where(Round.method == SATISFACTION, Round.state == "announced"))
    parts = (state.slide_key if state else "", state.version if state else 0, tuple(rounds), tuple(sorted(returned)),
             figures.roster, figures.present, latest_change, assessments, tuple(marker() for marker in markers))
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


@dataclass(frozen=True)
class ProjectLine:
    project: Project
    ratings: list


def year_projects(rating_sources) -> tuple[int | None, dict[str, list[ProjectLine]]]:
    """This year's projects (Beijing), grouped by stage in stage order, with their ratings."""
    year = default_year(project_years())
    ratings = project_ratings(rating_sources)
    by_stage: dict[str, list[ProjectLine]] = {stage: [] for stage in STAGES}
    for project in filtered_projects(year=year) if year else []:
        by_stage[project.stage].append(ProjectLine(project, ratings.get(project.id, [])))
    return year, by_stage


def rated_projects(rating_sources) -> list[ProjectLine]:
    """Projects with a satisfaction figure, of the latest year that has any, in id order."""
    ratings = project_ratings(rating_sources)
    projects = db.session.scalars(select(Project).where(Project.id.in_(list(ratings))).order_by(Project.id)).all()
    if not projects:
        return []
    year = max(project.year for project in projects)
    return [ProjectLine(project, ratings[project.id]) for project in projects if project.year == year]

