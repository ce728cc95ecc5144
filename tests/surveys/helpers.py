"""Shared helpers for the survey tests: building a survey in the database, the clients a
resident and a staff member use, and counting rows (QR codes are decoded by tests.qr_decode)."""

import html
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import url_for
from sqlalchemy import MetaData, Table, func, inspect, select

from tests.conftest import make_user, post, sign_in

SATISFIED, MOSTLY, DISSATISFIED = "satisfied", "mostly_satisfied", "dissatisfied"


def url(app, endpoint, **values) -> str:
    with app.app_context():
        return url_for(endpoint, _external=False, **values)


def text_of(response) -> str:
    return response.get_data(as_text=True)


def user_client(app, role: str):
    """A browser signed in with a new account of the role (the lang=en cookie is set)."""
    from voting_app.db import db

    client = app.test_client()
    with app.app_context():
        user = make_user(role)
        db.session.commit()
        sign_in(client, user)
        client.user_id = user.id
    return client


def resident(app, address: str = "198.51.100.10", agent: str = "Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0"):
    """A phone with no account, seen from `address` with the user agent `agent`."""
    client = app.test_client()
    client.environ_base.update({"REMOTE_ADDR": address, "HTTP_USER_AGENT": agent})
    return client


@dataclass
class Built:
    """Ids and codes of a survey made in the database, for tests to aim at."""

    survey_id: int
    short_code: str
    placements: dict[str, str]  # name -> short code
    placement_ids: dict[str, int]
    questions: dict[str, int]  # kind -> id of the first question of that kind
    options: dict[str, list[str]] = field(default_factory=dict)  # kind -> option keys


def build_survey(app, *, title: str = "一号公路亮化满意度", mode: str = "open", places=("桥北端",), project=True,
                 opens_at=None, closes_at=None, threshold_percent: int = 60) -> Built:
    """The satisfaction template (satisfaction, single, rating, text) with extra placements."""
    from surveys import service
    from voting_app.db import db
    from voting_app.projects.models import Project
    from voting_app.projects.service import department_named

    with app.app_context():
        project_id = None
        if project:
            item = Project(name="“一号公路”亮化工程", summary="沿线安装路灯 1200 盏，夜间出行更安全", year=2026, department=department_named("区住建局"))
            db.session.add(item)
            db.session.flush()
            project_id = item.id
        survey = service.create_from_template(
            "test", title, project_id, "operating", mode=mode, opens_at=opens_at, closes_at=closes_at,
            threshold_percent=threshold_percent,
        )
        for place in places:
            service.add_placement("test", survey, place)
        db.session.commit()
        db.session.refresh(survey)
        questions: dict[str, int] = {}
        options: dict[str, list[str]] = {}
        for question in survey.questions:
            questions.setdefault(question.kind, question.id)
            options.setdefault(question.kind, [option["key"] for option in question.options])
        return Built(
            survey_id=survey.id,
            short_code=survey.short_code,
            placements={p.name: p.code for p in survey.placements},
            placement_ids={p.name: p.id for p in survey.placements},
            questions=questions,
            options=options,
        )


def full_answer(built: Built, rating: str = SATISFIED, comment: str | None = "路灯很亮", score: str = "4") -> dict:
    """A form answering every template question."""
    data = {
        f"q{built.questions['satisfaction']}": rating,
        f"q{built.questions['single']}": built.options["single"][0],
        f"q{built.questions['rating']}": score,
    }
    if comment is not None:
        data[f"q{built.questions['text']}"] = comment
    return data


def answer(client, code: str, data: dict, query: str = ""):
    return post(client, f"/s/{code}{query}", data)


def count(app, model, **where) -> int:
    from voting_app.db import db

    with app.app_context():
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return db.session.scalar(query)


def rows(app, model, *conditions, order=None):
    """Every row of a model as plain dicts (so they outlive the app context)."""
    from voting_app.db import db

    with app.app_context():
        query = select(model).where(*conditions).order_by(order if order is not None else model.id)
        result = []
        for item in db.session.scalars(query):
            result.append({column.key: getattr(item, column.key) for column in model.__table__.columns})
        return result


def scan_database(app, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, needle) wherever a needle appears in any column of any table."""
    from voting_app.db import db

    hits = []
    with app.app_context():
        connection = db.session.connection()
        for name in inspect(connection).get_table_names():
            table = Table(name, MetaData(), autoload_with=connection)
            for row in db.session.execute(select(table)).mappings():
                for column, value in row.items():
                    if value is None or isinstance(value, (datetime, date, int, float)):
                        continue
                    if isinstance(value, bytes):
                        text = value.decode("utf-8", "replace")
                    elif isinstance(value, str):
                        text = value
                    else:
                        text = json.dumps(value, ensure_ascii=False, default=str)
                    for needle in needles:
                        # Random bytes (keys, sealed ballots, photos) hold any short needle by chance.
                        if isinstance(value, bytes) and len(needle) < 4:
                            continue
                        if needle in text:
                            hits.append((name, column, needle))
        db.session.rollback()
    return hits


def error_flash(page: str) -> list[str]:
    return [html.unescape(m) for m in re.findall(r'<p class="flash flash-error" role="alert">(.*?)</p>', page, re.DOTALL)]



def tally_counts(app, survey_id: int) -> dict:
    """The survey's running tallies, by key (surveys.tallies.KEY), zero counts left out."""
    from surveys import tallies
    from surveys.models import SurveyTally
    from voting_app.db import db

    with app.app_context():
        rows = db.session.scalars(select(SurveyTally).where(SurveyTally.survey_id == survey_id))
        return {tuple(getattr(row, key) for key in tallies.KEY): row.count for row in rows if row.count}


def recount(app, survey_id: int) -> dict:
    """What the tallies would be if rebuilt from the stored answers (rolled back afterwards)."""
    from surveys import tallies
    from surveys.models import SurveyTally
    from voting_app.db import db

    with app.app_context():
        tallies.rebuild(survey_id)
        rows = db.session.scalars(select(SurveyTally).where(SurveyTally.survey_id == survey_id))
        counts = {tuple(getattr(row, key) for key in tallies.KEY): row.count for row in rows if row.count}
        db.session.rollback()
        return counts
