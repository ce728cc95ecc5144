"""Building surveys, taking responses and counting them. Services flush; the caller commits."""

import json
import secrets
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, bindparam, case, cast, delete, func, insert, null, select, update
from sqlalchemy.exc import IntegrityError

from surveys import rules, tallies
from surveys.frame_rules import MIN_HOUSEHOLDS_PER_CODE_GRID
from surveys.models import (
    MULTIPLE,
    AddressCount,
    DedupeKey,
    RATING,
    SATISFACTION,
    SINGLE,
    TEXT,
    TOKENED,
    Answer,
    HouseholdCode,
    Placement,
    Question,
    Response,
    Survey,
    SurveyTally,
)
from surveys.rates import SMALL_SAMPLE, SatisfactionRate, mean_rating, satisfaction_rate, shares
from voting_app import audit
from voting_app.audit import AuditEntry
from voting_app.ballots.counting import RATINGS
from voting_app.codes import new_code
from voting_app.db import db, dialect_insert, read_apart, scrub_after_commit, utcnow
from voting_app.errors import ConflictError, DomainError
from voting_app.projects.models import Project
from voting_app.projects.service import Rating
from voting_app.registry import grid_service
from voting_app.registry.models import Grid

def _unused_short_code(model, column) -> str:
    while True:
        code = new_code(6)
        if db.session.scalar(select(model.id).where(column == code)) is None:
            return code


# ---- building a survey ---------------------------------------------------------------


def create_survey(
    actor: str,
    title: str,
    intro: str = "",
    project_id: int | None = None,
    stage: str | None = None,
    mode: str = "open",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    threshold_percent: int = 60,
    hold_after: int | None = None,
    general_placement: str = "通用二维码",
) -> Survey:
    """`hold_after` defaults to the deployment's SURVEY_HOLD_AFTER and is then the survey's
    own: a later change of the default leaves existing surveys as they were."""
    _check_window(opens_at, closes_at)
    survey = Survey(
        title=title.strip(),
        intro=intro.strip(),
        project_id=project_id,
        stage=stage,
        mode=mode,
        opens_at=opens_at,
        closes_at=closes_at,
        threshold_percent=threshold_percent,
        hold_after=current_app.config["SURVEY_HOLD_AFTER"] if hold_after is None else hold_after,
        short_code=_unused_short_code(Survey, Survey.short_code),
    )
    db.session.add(survey)
    db.session.flush()
    add_placement(actor, survey, general_placement)
    audit.record(actor, "survey.create", f"survey:{survey.id}", title=survey.title, mode=mode)
    return survey


def _check_window(opens_at, closes_at) -> None:
    if opens_at and closes_at and closes_at <= opens_at:
        raise DomainError(_l("Closes at: the survey must close after it opens (Opens at)."))


def update_survey(actor: str, survey: Survey, **values) -> None:
    _check_window(values.get("opens_at"), values.get("closes_at"))
    if survey.mode != values.get("mode", survey.mode) and has_responses(survey.id):
        raise ConflictError(_l("The mode cannot change once residents have answered."))
    changed = {}
    for key, value in values.items():
        value = value.strip() if isinstance(value, str) and key in ("title", "intro") else value
        if getattr(survey, key) != value:
            changed[key] = value
            setattr(survey, key, value)
    db.session.flush()
    if changed:
        audit.record(actor, "survey.update", f"survey:{survey.id}", **changed)


@dataclass(frozen=True)
class TemplateQuestion:
    kind: str
    prompt: str
    prompt_en: str
    is_required: bool
    options: tuple[str, ...] = ()
    options_en: tuple[str, ...] = ()


# Residents answer in Chinese; the English text is what the survey shows when the interface is English.
SATISFACTION_TEMPLATE = (
    TemplateQuestion(SATISFACTION, "您对这个项目总体满意吗？", "Overall, are you satisfied with this project?", True),
    TemplateQuestion(
        SINGLE, "项目给您的生活带来了哪些变化？", "What has the project changed in your daily life?", False,
        ("明显改善", "有所改善", "没有变化", "变差了"), ("Clearly better", "Somewhat better", "No change", "Worse"),
    ),
    TemplateQuestion(
        RATING, "请为施工或运营期间的安全和文明程度打分（1分最低，5分最高）",
        "Rate how safe and orderly the works or the operation are (1 lowest, 5 highest)", False,
    ),
    TemplateQuestion(TEXT, "您还有什么意见或建议？", "Any other comments or suggestions?", False),
)


def create_from_template(actor: str, title: str, project_id: int | None, stage: str | None, **settings) -> Survey:
    """The ready-made satisfaction survey: overall 满意/基本满意/不满意, an effect, a rating, a comment."""
    survey = create_survey(actor, title, project_id=project_id, stage=stage, **settings)
    for item in SATISFACTION_TEMPLATE:
        add_question(actor, survey, item.kind, item.prompt, item.is_required, list(item.options),
                     prompt_en=item.prompt_en, options_en=list(item.options_en))
    return survey


def _english_labels(options_en: list[str] | None, count: int) -> list[str]:
    """The English options, one per Chinese option in the same order, or none at all."""
    labels = [label.strip() for label in options_en or [] if label.strip()]
    if labels and len(labels) != count:
        raise DomainError(_l("Give one English option per option, in the same order (%(count)s lines), or none.", count=count))
    if len(set(labels)) != len(labels):
        raise DomainError(_l("Two English options have the same text."))
    return labels


def add_question(
    actor: str,
    survey: Survey,
    kind: str,
    prompt: str,
    is_required: bool,
    options: list[str],
    max_length: int | None = None,
    prompt_en: str = "",
    options_en: list[str] | None = None,
) -> Question:
    labels = [label.strip() for label in options if label.strip()]
    if kind in (SINGLE, MULTIPLE) and len(labels) < 2:
        raise DomainError(_l("A choice question needs at least two options, one per line."))
    if len(set(labels)) != len(labels):
        raise DomainError(_l("Two options have the same text."))
    english = _english_labels(options_en, len(labels)) if kind in (SINGLE, MULTIPLE) else []
    if kind == TEXT and max_length is not None and not 1 <= max_length <= rules.MAX_TEXT_LENGTH:
        raise DomainError(_l("A text answer may be at most %(max)s characters long.", max=rules.MAX_TEXT_LENGTH))
    position = db.session.scalar(
        select(func.coalesce(func.max(Question.position), 0)).where(Question.survey_id == survey.id)
    )
    question = Question(
        survey_id=survey.id,
        position=position + 1,
        kind=kind,
        prompt=prompt.strip(),
        prompt_en=prompt_en.strip(),
        is_required=is_required,
        options=[
            {"key": new_code(5), "label": label, **({"label_en": english[index]} if english else {})}
            for index, label in enumerate(labels)
        ] if kind in (SINGLE, MULTIPLE) else [],
        max_length=(max_length or rules.DEFAULT_TEXT_LENGTH) if kind == TEXT else None,
    )
    db.session.add(question)
    db.session.flush()
    db.session.refresh(survey)
    audit.record(actor, "survey.question_add", f"survey:{survey.id}", question=question.id, kind=kind)
    return question


def translate_question(actor: str, survey: Survey, question: Question, prompt_en: str, options_en: list[str]) -> None:
    """Set a question's English text; the Chinese text and the options' keys stay as they
    are, so answers already given keep their meaning."""
    english = _english_labels(options_en, len(question.options)) if question.options else []
    question.prompt_en = prompt_en.strip()
    question.options = [
        {key: value for key, value in option.items() if key != "label_en"} | ({"label_en": english[index]} if english else {})
        for index, option in enumerate(question.options)
    ]
    db.session.flush()
    audit.record(actor, "survey.question_translate", f"survey:{survey.id}", question=question.id, prompt_en=question.prompt_en)


def move_question(actor: str, survey: Survey, question: Question, offset: int) -> None:
    ordered = list(survey.questions)
    index = ordered.index(question)
    target = index + offset
    if not 0 <= target < len(ordered):
        return
    ordered[index], ordered[target] = ordered[target], ordered[index]
    for position, item in enumerate(ordered, start=1):
        item.position = position
    db.session.flush()
    audit.record(actor, "survey.question_move", f"survey:{survey.id}", question=question.id, offset=offset)


def remove_question(actor: str, survey: Survey, question: Question) -> None:
    if db.session.scalar(select(Answer.id).where(Answer.question_id == question.id).limit(1)) is not None:
        raise ConflictError(_l("Residents have answered this question; it cannot be removed."))
    audit.record(actor, "survey.question_remove", f"survey:{survey.id}", question=question.id)
    db.session.delete(question)
    db.session.flush()
    db.session.refresh(survey)


def add_placement(actor: str, survey: Survey, name: str, grid_id: int | None = None) -> Placement:
    placement = Placement(survey_id=survey.id, name=name.strip(), code=_unused_short_code(Placement, Placement.code), grid_id=grid_id)
    db.session.add(placement)
    db.session.flush()
    audit.record(actor, "survey.placement_add", f"survey:{survey.id}", placement=placement.id, name=placement.name,
                 **({"grid": grid_id} if grid_id else {}))
    return placement


def set_placement_grid(actor: str, survey: Survey, placement: Placement, grid_id: int | None) -> None:
    """The grid a placement hangs in. Answers already given keep the grid they were given:
    a code moved to another grid does not move what was answered where it hung before."""
    if placement.grid_id == grid_id:
        return
    placement.grid_id = grid_id
    db.session.flush()
    audit.record(actor, "survey.placement_grid", f"survey:{survey.id}", placement=placement.id, grid=grid_id)


HOUSEHOLD_CODE_LENGTH = 8


def issue_household_codes(actor: str, survey: Survey, count: int, secret: str, grid_id: int | None = None) -> list[str]:
    """One-time codes for a tokened survey, printed for one grid (or none); only their keyed
    hashes are kept. A batch for a grid holds at least as many codes as a sample frame needs
    before its codes carry a grid (frame_rules.MIN_HOUSEHOLDS_PER_CODE_GRID): the answers of
    a grid with a handful of codes would tell which few households gave them."""
    if survey.mode != TOKENED:
        raise DomainError(_l("Household codes are for surveys answered with a code."))
    if not 1 <= count <= 5000:
        raise DomainError(_l("Print between 1 and 5000 codes at a time."))
    if grid_id is not None and count < MIN_HOUSEHOLDS_PER_CODE_GRID:
        raise DomainError(_l("Codes for a grid are printed at least %(minimum)s at a time, so that no small group's answers can be picked out. Print more, or print them without a grid.",
                             minimum=MIN_HOUSEHOLDS_PER_CODE_GRID))
    codes: list[str] = []
    while len(codes) < count:
        code = new_code(HOUSEHOLD_CODE_LENGTH)
        if code not in codes:
            codes.append(code)
    db.session.add_all(
        HouseholdCode(survey_id=survey.id, code_hash=rules.code_hash(secret, code), grid_id=grid_id) for code in codes
    )
    db.session.flush()
    audit.record(actor, "survey.codes_issue", f"survey:{survey.id}", count=count, **({"grid": grid_id} if grid_id else {}))
    return [f"{code[:4]}-{code[4:]}" for code in codes]


# ---- answering -----------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectView:
    name: str
    summary: str


@dataclass(frozen=True)
class QuestionView:
    """A question as residents read and answer it: the model's fields, plain."""

    id: int
    kind: str
    prompt: str
    prompt_en: str
    is_required: bool
    options: tuple
    max_length: int | None

    prompt_in = Question.prompt_in
    option_labels_in = Question.option_labels_in


@dataclass(frozen=True)
class PlacementView:
    id: int
    name: str
    grid_id: int | None


@dataclass(frozen=True, eq=False)
class ResidentSurvey:
    """A survey as its answer page shows it and its answers are checked against: plain values,
    read in one statement and kept by the worker while those rows stay the same (compared by
    identity, so the web layer may keep what it renders of it alongside)."""

    id: int
    title: str
    intro: str
    mode: str
    opens_at: datetime | None
    closes_at: datetime | None
    hold_after: int
    short_code: str
    project_id: int | None
    project: ProjectView | None
    questions: tuple[QuestionView, ...]


# The tables' own columns, not the models' attributes: a plain Core statement skips the ORM's
# work per execution (half the time of this one). Statements of the answering path are built
# so, once per worker.
_S, _P, _Q, _J = Survey.__table__.c, Placement.__table__.c, Question.__table__.c, Project.__table__.c
_SURVEY_COLUMNS = (_S.id, _S.title, _S.intro, _S.mode, _S.opens_at, _S.closes_at, _S.hold_after, _S.short_code, _S.project_id,
                   _J.name, _J.summary)
# The options as the stored JSON text, so a row compares as plain values.
_QUESTION_COLUMNS = (_Q.id, _Q.kind, _Q.prompt, _Q.prompt_en, _Q.is_required, cast(_Q.options, Text), _Q.max_length)
_RESIDENT_CACHE_SIZE = 256  # codes kept per worker (each with its few rendered pages)


@cache
def _resident_select(by_placement: bool):
    """Every row of the answer page in one statement: the placement, its survey and project,
    one row per question in order (a survey with no questions still gives one row)."""
    placement = (_P.id, _P.name, _P.grid_id) if by_placement else (null(), null(), null())
    if by_placement:
        tables = Placement.__table__.join(Survey.__table__, _S.id == _P.survey_id)
        found = _P.code == bindparam("code")
    else:
        tables, found = Survey.__table__, _S.short_code == bindparam("code")
    tables = tables.outerjoin(Project.__table__, _J.id == _S.project_id).outerjoin(Question.__table__, _Q.survey_id == _S.id)
    return (select(*placement, *_SURVEY_COLUMNS, *_QUESTION_COLUMNS).select_from(tables).where(found)
            .order_by(_Q.position, _Q.id))


def resident_survey(code: str) -> tuple[ResidentSurvey, PlacementView | None] | None:
    """What a short code names (a placement, or the survey itself: household slips use that),
    as residents see it; None when it names nothing.

    The rows are read on every request and are their own version: the worker parses them
    again only when they differ from the ones it kept, so any change (a question, a text,
    the window, a placement's grid, the project's name) shows at once on every worker, with
    nothing for the services that change them to remember. They are read apart from the
    request's transaction (`read_apart`): the busiest page of a poster then never starts one."""
    code = code.upper()
    rows = None
    for by_placement in (True, False):
        rows = tuple(read_apart(_resident_select(by_placement), {"code": code}))
        if rows:
            break
    if not rows:
        return None
    kept = current_app.extensions.setdefault("surveys.resident", {})
    found = kept.get(code)
    if found is not None and found[0] == rows:
        return found[1]
    if len(kept) >= _RESIDENT_CACHE_SIZE:
        kept.clear()
    parsed = _parse_resident(rows)
    kept[code] = (rows, parsed)
    return parsed


def _parse_resident(rows) -> tuple[ResidentSurvey, PlacementView | None]:
    """From the driver's own values: SQLite gives a timestamp as text and a flag as 0 or 1."""
    first = rows[0]
    placement_id, placement_name, grid_id = first[:3]
    (survey_id, title, intro, mode, opens_at, closes_at, hold_after, short_code, project_id, project_name,
     project_summary) = first[3:3 + len(_SURVEY_COLUMNS)]
    opens_at, closes_at = _as_datetime(opens_at), _as_datetime(closes_at)
    questions = tuple(
        QuestionView(question_id, kind, prompt, prompt_en, bool(is_required), tuple(json.loads(options or "[]")), max_length)
        for question_id, kind, prompt, prompt_en, is_required, options, max_length in (
            row[3 + len(_SURVEY_COLUMNS):] for row in rows)
        if question_id is not None
    )
    survey = ResidentSurvey(
        survey_id, title, intro, mode, opens_at, closes_at, hold_after, short_code, project_id,
        ProjectView(project_name, project_summary or "") if project_id is not None else None, questions,
    )
    return survey, PlacementView(placement_id, placement_name, grid_id) if placement_id is not None else None


def _as_datetime(value: datetime | str | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def question_specs(survey: Survey) -> list[rules.QuestionSpec]:
    return [
        rules.QuestionSpec(
            q.id, q.kind, q.is_required, tuple(option["key"] for option in q.options), q.max_length
        )
        for q in survey.questions
    ]


def has_responses(survey_id: int) -> bool:
    return db.session.scalar(select(Response.id).where(Response.survey_id == survey_id).limit(1)) is not None


class AnswerErrors(DomainError):
    """The answers as submitted break a rule; `errors` maps question ids to the reason."""

    def __init__(self, errors):
        super().__init__(_l("Some answers need your attention."))
        self.errors = errors


def submit_response(
    survey: Survey | ResidentSurvey, placement: Placement | PlacementView | None, submitted: dict[int, list[str]], **options
) -> Response:
    """`store_response` (the same options), then the stored response as a model (for staff
    pages and scripts)."""
    return db.session.get(Response, store_response(survey, placement, submitted, **options))


def store_response(
    survey: Survey | ResidentSurvey,
    placement: Placement | PlacementView | None,
    submitted: dict[int, list[str]],
    *,
    household_code: str | None = None,
    secret: str = "",
    address: str | None = None,
    entered_by_id: int | None = None,
    filled_at: datetime | None = None,
    zone: str = "Asia/Shanghai",
) -> int:
    """Store a response whole or not at all (the caller's transaction covers every row);
    returns its id.

    A tokened survey claims its household code with one conditional UPDATE, which the
    database runs atomically: of two submissions racing with one code, one finds it unused.
    The response keeps no link to the code, so the slips cannot be traced to answers.
    `filled_at` is when a paper answer was filled in (assisted entry, imports): it must fall
    while the survey was open, and keying it in may come after the close.
    `address` is `address_key(...)` of where an open survey's answer came from: its count for
    the day, one upsert, decides whether the answer is a suspected repeat or held for review.

    Core statements, not the unit of work: a resident's answer is the busiest write a poster
    brings, and is a handful of statements (the count, the response, its answers in one
    executemany, the tallies in another), each compiled once per worker.
    """
    now = utcnow()
    moment = filled_at or now
    if moment > now:
        raise DomainError(_l("The date the paper was filled in cannot be in the future."))
    if rules.availability(survey.opens_at, survey.closes_at, moment) != rules.OPEN:
        raise ConflictError(_l("This survey is not open for answers."))
    checked = rules.check_answers(question_specs(survey), submitted)
    if not checked.is_valid:
        raise AnswerErrors(dict(checked.errors))
    grid_id = placement.grid_id if placement else None
    if survey.mode == TOKENED and entered_by_id is None:
        grid_id = _claim_household_code(survey, household_code or "", secret) or grid_id
    local = moment.replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    seen = 1
    if address and survey.mode != TOKENED and entered_by_id is None:
        seen = _count_arrival(local.date(), address)
    arrival = rules.arrival(seen, survey.hold_after)
    is_flagged = arrival.is_flagged
    response = StoredResponse(
        survey_id=survey.id,
        placement_id=placement.id if placement else None,
        week_start=rules.week_start(local),
        is_assisted=entered_by_id is not None,
        is_flagged=is_flagged,
        held_on=local.date() if arrival.is_held else None,
    )
    response_id = db.session.connection().execute(_response_insert(), {
        **response._asdict(), "grid_id": grid_id, "submitted_at": moment, "entered_by_id": entered_by_id,
        "flag_reason": "same_address_same_day" if is_flagged else None,
    }).scalar_one()
    answers = [
        StoredAnswer(answer.question_id, answer.value, answer.text, False)
        for answer in checked.answers
    ]
    if answers:
        # response.answers loads them when anyone asks.
        db.session.connection().execute(_answer_insert(), [
            {
                **answer._asdict(),
                "response_id": response_id,
                "survey_id": survey.id,
                "placement_id": response.placement_id,
                "grid_id": grid_id,
                "week_start": response.week_start,
                "is_assisted": response.is_assisted,
                "is_flagged": is_flagged,
                "is_held": arrival.is_held,
            }
            for answer in answers
        ])
    tallies.add(tallies.keys_of(response, answers, _multiple_ids(survey)))
    return response_id


class StoredResponse(NamedTuple):
    """The fields of a new response its tallies are keyed by (tallies.keys_of reads them)."""

    survey_id: int
    placement_id: int | None
    week_start: date
    is_assisted: bool
    is_flagged: bool
    held_on: date | None


class StoredAnswer(NamedTuple):
    question_id: int
    value: str | None
    text: str | None
    is_hidden: bool


@cache
def _response_insert():
    return insert(Response.__table__).returning(Response.__table__.c.id)


@cache
def _answer_insert():
    return insert(Answer.__table__)


def _multiple_ids(survey: Survey) -> set[int]:
    return {question.id for question in survey.questions if question.kind == MULTIPLE}


def enter_paper_answer(
    actor: str, user_id: int, survey: Survey, placement: Placement | None, submitted: dict[int, list[str]], *,
    filled_at: datetime | None = None, zone: str = "Asia/Shanghai",
) -> Response:
    """A grid worker keys in a resident's paper answer: signed-in staff work, so never held,
    and on the audit log with how many this worker has keyed into this survey that day. The
    entry names no response: the log says who keyed how many and when, not what was answered."""
    response = submit_response(survey, placement, submitted, entered_by_id=user_id, filled_at=filled_at, zone=zone)
    midnight = datetime.combine(district_today(zone), datetime.min.time(), ZoneInfo(zone))
    since = midnight.astimezone(UTC).replace(tzinfo=None)
    keyed = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "survey.assisted_entry", AuditEntry.target == f"survey:{survey.id}",
                                                AuditEntry.actor == actor, AuditEntry.at >= since)
    )
    audit.record(actor, "survey.assisted_entry", f"survey:{survey.id}", count=1, keyed_today=keyed + 1,
                 placement=placement.id if placement else None, filled_on=response.submitted_at.date())
    return response


def district_today(zone: str = "Asia/Shanghai") -> date:
    """The district's calendar day: the day the hold counts answers in and a key lives for."""
    return utcnow().replace(tzinfo=UTC).astimezone(ZoneInfo(zone)).date()


def address_key(survey: Survey, address: str, zone: str = "Asia/Shanghai") -> str:
    """The per-address hash under today's random key."""
    return rules.address_hash(_dedupe_key(district_today(zone)), survey.id, address)


def forget_addresses_before(day: date) -> None:
    """Delete every key and per-address count older than `day`: after that no stored value can
    be matched to an address. The first answer of a day runs it; so does the daily
    `flask survey-forget-addresses`, for the days no answer comes. Deleted rows are then scrubbed
    from the files too (SQLite's WAL, PostgreSQL's dead tuples, whose transaction ids match the
    answers they counted)."""
    keys = db.session.execute(delete(DedupeKey).where(DedupeKey.day < day))
    counts = db.session.execute(delete(AddressCount).where(AddressCount.day < day))
    if keys.rowcount or counts.rowcount:
        scrub_after_commit(DedupeKey.__tablename__, AddressCount.__tablename__)


def _count_arrival(day: date, address: str) -> int:
    """One upsert that counts this answer and says which it is from its address today; the
    database serialises two at once, so each gets its own number."""
    return db.session.connection().scalar(_arrival_upsert(db.session.get_bind().dialect.name), {"day": day, "address_hash": address, "count": 1})


@cache
def _arrival_upsert(dialect: str):
    statement = dialect_insert(dialect)(AddressCount.__table__)
    columns = AddressCount.__table__.c
    return statement.on_conflict_do_update(
        index_elements=["day", "address_hash"], set_={"count": columns.count + 1}
    ).returning(columns.count)


def _dedupe_key(day: date) -> bytes:
    """Today's key; the first answer of a day deletes every older key and count with it."""
    key = db.session.connection().scalar(_dedupe_select(), {"day": day})
    if key is not None:
        return key
    forget_addresses_before(day)
    try:
        with db.session.begin_nested():
            key = DedupeKey(day=day, key=secrets.token_bytes(32))
            db.session.add(key)
    except IntegrityError:
        key = db.session.get(DedupeKey, day, populate_existing=True)
    return key.key


@cache
def _dedupe_select():
    columns = DedupeKey.__table__.c
    return select(columns.key).where(columns.day == bindparam("day"))


def _claim_household_code(survey: Survey, code: str, secret: str) -> int | None:
    """Mark the code used; returns the grid of its batch (a grid, shared by hundreds of
    households, is all the response learns of the code)."""
    if not code.strip():
        raise DomainError(_l("Type the code printed on your household's slip."))
    digest = rules.code_hash(secret, code)
    found = db.session.execute(
        select(HouseholdCode.id, HouseholdCode.grid_id).where(HouseholdCode.survey_id == survey.id, HouseholdCode.code_hash == digest)
    ).first()
    if found is None:
        raise DomainError(_l("This code is not valid for this survey. Check the code on your slip."))
    code_id, grid_id = found
    claimed = db.session.execute(
        update(HouseholdCode)
        .where(HouseholdCode.id == code_id, HouseholdCode.used_at.is_(None))
        .values(used_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise ConflictError(_l("This code has already been used: each household answers once."))
    return grid_id


# ---- moderation ----------------------------------------------------------------------


def set_comment_hidden(actor: str, survey: Survey, answer: Answer, hidden: bool) -> None:
    """Hidden, never deleted, and always on the audit log. The change is one conditional
    UPDATE, so two staff clicking at once move the tallies once."""
    if answer.text is None:
        raise DomainError(_l("Only comments can be hidden."))
    changed = db.session.execute(
        update(Answer).where(Answer.id == answer.id, Answer.is_hidden != hidden).values(is_hidden=hidden)
        .returning(Answer.id).execution_options(synchronize_session=False)
    ).first()
    if changed:
        key = (survey.id, answer.question_id, tallies.COMMENT, answer.placement_id or 0, answer.week_start, answer.is_assisted,
               answer.is_flagged)
        tallies.add(Counter({(*key, not hidden, answer.is_held): -1, (*key, hidden, answer.is_held): 1}))
    db.session.refresh(answer)
    audit.record(actor, "survey.comment_hide" if hidden else "survey.comment_show", f"survey:{survey.id}", answer=answer.id)


def set_response_flag(actor: str, survey: Survey, response: Response, flagged: bool) -> None:
    """One conditional UPDATE decides whether the flag changes, so a double click or two
    staff at once move the response's tallies once."""
    changed = db.session.execute(
        update(Response).where(Response.id == response.id, Response.is_flagged != flagged)
        .values(is_flagged=flagged, flag_reason=(response.flag_reason or "staff") if flagged else None)
        .returning(Response.id).execution_options(synchronize_session=False)
    ).first()
    if changed:
        db.session.execute(update(Answer).where(Answer.response_id == response.id).values(is_flagged=flagged)
                           .execution_options(synchronize_session=False))
        db.session.refresh(response)
        for answer in response.answers:
            db.session.refresh(answer)
        now = tallies.keys_of(response, response.answers, _multiple_ids(survey))
        tallies.add(tallies.moved(now, tallies.FLAGGED, not flagged), -1)
        tallies.add(now)
    db.session.flush()
    audit.record(actor, "survey.response_flag" if flagged else "survey.response_unflag", f"survey:{survey.id}", response=response.id)


# ---- answers held for review ---------------------------------------------------------


@dataclass(frozen=True)
class HeldGroup:
    """Held answers of one day at one placement: what staff judge together (never an address)."""

    day: date
    placement: Placement | None
    count: int


def held_groups(survey: Survey) -> list[HeldGroup]:
    placements = {p.id: p for p in survey.placements}
    rows = db.session.execute(
        select(Response.held_on, Response.placement_id, func.count())
        .where(Response.survey_id == survey.id, Response.held_on.is_not(None))
        .group_by(Response.held_on, Response.placement_id)
        .order_by(Response.held_on.desc(), Response.placement_id)
    )
    return [HeldGroup(day, placements.get(placement_id), number) for day, placement_id, number in rows]


RELEASE, DISCARD = "release", "discard"
_CHUNK = 500


def settle_held(actor: str, survey: Survey, decision: str, day: date | None = None, placement_id: int | None = None) -> int:
    """Release (count) or discard (delete) the held answers of a survey, of one day and one
    placement when given (0: answers without a placement). Returns how many were settled.

    One conditional UPDATE claims the held responses, and each is claimed once: under a second
    click or a second member of staff at the same moment, the database makes the later UPDATE
    wait and then find nothing still held, so the tallies move exactly once."""
    if decision not in (RELEASE, DISCARD):
        raise DomainError(_l("Choose to count or to discard the held answers."))
    conditions = [Response.survey_id == survey.id, Response.held_on.is_not(None)]
    if day is not None:
        conditions.append(Response.held_on == day)
    if placement_id is not None:
        conditions.append(Response.placement_id.is_(None) if placement_id == 0 else Response.placement_id == placement_id)
    claimed = db.session.execute(
        update(Response).where(*conditions).values(held_on=None)
        .returning(Response.id, Response.survey_id, Response.placement_id, Response.week_start, Response.is_assisted,
                   Response.is_flagged, Response.held_on)
        .execution_options(synchronize_session=False)
    ).all()
    multiple_ids = _multiple_ids(survey)
    for start in range(0, len(claimed), _CHUNK):
        chunk = claimed[start:start + _CHUNK]
        ids = [row.id for row in chunk]
        answer_columns = (Answer.response_id, Answer.question_id, Answer.value, Answer.is_hidden)
        if decision == RELEASE:
            answers = db.session.execute(
                update(Answer).where(Answer.response_id.in_(ids)).values(is_held=False).returning(*answer_columns)
                .execution_options(synchronize_session=False)
            ).all()
        else:
            answers = db.session.execute(
                delete(Answer).where(Answer.response_id.in_(ids)).returning(*answer_columns)
                .execution_options(synchronize_session=False)
            ).all()
            db.session.execute(delete(Response).where(Response.id.in_(ids)).execution_options(synchronize_session=False))
        by_response = defaultdict(list)
        for answer in answers:
            by_response[answer.response_id].append(answer)
        held = Counter()
        for row in chunk:  # RETURNING gives the new held_on (NULL): the keys were taken as held
            held += tallies.moved(tallies.keys_of(row, by_response[row.id], multiple_ids), tallies.HELD, True)
        tallies.add(held, -1)
        if decision == RELEASE:
            tallies.add(tallies.moved(held, tallies.HELD, False))
    db.session.flush()
    db.session.expire_all()
    audit.record(actor, "survey.held_release" if decision == RELEASE else "survey.held_discard", f"survey:{survey.id}",
                 count=len(claimed), day=day, placement=placement_id)
    return len(claimed)


# ---- results -------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answered: int
    shares: list
    rate: SatisfactionRate | None = None
    mean: float | None = None
    comments: int = 0


@dataclass(frozen=True)
class SurveyResults:
    survey: Survey
    responses: int
    flagged: int
    assisted: int
    include_flagged: bool
    held: int
    questions: list[QuestionResult]
    rate: SatisfactionRate | None
    by_placement: list[tuple[Placement | None, SatisfactionRate]] = field(default_factory=list)
    by_week: list[tuple[date, SatisfactionRate]] = field(default_factory=list)
    by_entry: list[tuple[bool, SatisfactionRate]] = field(default_factory=list)

    @property
    def needs_rectification(self) -> bool:
        return self.rate is not None and self.rate.is_below(self.survey.threshold_percent)


def _tally_filter(survey: Survey, include_flagged: bool):
    conditions = [SurveyTally.survey_id == survey.id, SurveyTally.is_held.is_(False)]
    if not include_flagged:
        conditions.append(SurveyTally.is_flagged.is_(False))
    return conditions


def results(survey: Survey, include_flagged: bool = True) -> SurveyResults:
    """Every figure is a GROUP BY over the survey's running tallies (surveys.tallies), which
    stay a few hundred rows at a million responses; nothing loops over responses.

    Held answers never count until released; they are only counted apart, to be said. Suspected
    repeats within the survey's hold_after count by default: the hold is where the survey says
    how many answers one address may believably send, and a household or a mobile carrier puts
    several phones behind one address. `include_flagged=False` shows the figures without them."""
    conditions = _tally_filter(survey, include_flagged)
    total = func.sum(SurveyTally.count)
    responses, assisted = db.session.execute(
        select(func.coalesce(total, 0), func.coalesce(func.sum(case((SurveyTally.is_assisted, SurveyTally.count), else_=0)), 0))
        .where(*conditions, SurveyTally.question_key == tallies.RESPONSES)
    ).one()
    flagged, held = db.session.execute(
        select(func.coalesce(func.sum(case((SurveyTally.is_held.is_(False) & SurveyTally.is_flagged, SurveyTally.count), else_=0)), 0),
               func.coalesce(func.sum(case((SurveyTally.is_held, SurveyTally.count), else_=0)), 0))
        .where(SurveyTally.survey_id == survey.id, SurveyTally.question_key == tallies.RESPONSES)
    ).one()
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    texts: dict[int, tuple[int, int]] = {}
    respondents: dict[int, int] = {}
    for question_id, value, hidden, number in db.session.execute(
        select(SurveyTally.question_key, SurveyTally.value, SurveyTally.is_hidden, total)
        .where(*conditions, SurveyTally.question_key != tallies.RESPONSES)
        .group_by(SurveyTally.question_key, SurveyTally.value, SurveyTally.is_hidden)
    ):
        if value == tallies.COMMENT:
            all_texts, visible = texts.get(question_id, (0, 0))
            texts[question_id] = (all_texts + number, visible + (0 if hidden else number))
        elif value == tallies.RESPONDENT:
            respondents[question_id] = respondents.get(question_id, 0) + number
        elif number:
            counts[question_id][value] = counts[question_id].get(value, 0) + number
    comments = {question_id: visible for question_id, (_, visible) in texts.items()}
    # One answer per respondent, except multiple choice: its respondents are tallied apart.
    answered = {question_id: sum(values.values()) for question_id, values in counts.items()}
    answered.update({question_id: all_texts for question_id, (all_texts, _) in texts.items()})
    answered.update(respondents)
    question_results = []
    main_rate = None
    main_question = None
    for question in survey.questions:
        these = counts.get(question.id, {})
        if question.kind == SATISFACTION:
            rate = satisfaction_rate(these)
            if main_question is None:
                main_question, main_rate = question, rate
            question_results.append(QuestionResult(question, answered.get(question.id, 0), shares(these, list(RATINGS), rate.valid), rate=rate))
        elif question.kind == RATING:
            question_results.append(
                QuestionResult(question, answered.get(question.id, 0), shares(these, list(rules.RATING_VALUES), answered.get(question.id, 0)), mean=mean_rating(these))
            )
        elif question.kind in (SINGLE, MULTIPLE):
            keys = [option["key"] for option in question.options]
            question_results.append(QuestionResult(question, answered.get(question.id, 0), shares(these, keys, answered.get(question.id, 0))))
        else:
            question_results.append(QuestionResult(question, answered.get(question.id, 0), [], comments=comments.get(question.id, 0)))
    splits = {}
    if main_question is not None:
        splits = _rate_splits(survey, main_question, conditions)
    return SurveyResults(
        survey=survey,
        responses=responses,
        flagged=flagged,
        assisted=assisted,
        include_flagged=include_flagged,
        held=held,
        questions=question_results,
        rate=main_rate,
        **splits,
    )


def _rate_splits(survey: Survey, question: Question, conditions) -> dict:
    def grouped(column):
        table: dict[object, dict[str, int]] = defaultdict(dict)
        for key, value, number in db.session.execute(
            select(column, SurveyTally.value, func.sum(SurveyTally.count))
            .where(*conditions, SurveyTally.question_key == question.id)
            .group_by(column, SurveyTally.value)
        ):
            if number:
                table[key][value] = number
        return table

    placements = {p.id: p for p in survey.placements}
    by_placement = {key or None: value for key, value in grouped(SurveyTally.placement_key).items()}
    by_week = grouped(SurveyTally.week_start)
    by_entry = grouped(SurveyTally.is_assisted)
    return {
        "by_placement": [
            (placements.get(key), satisfaction_rate(value))
            for key, value in sorted(by_placement.items(), key=lambda item: (item[0] is None, item[0] or 0))
        ],
        "by_week": [(key, satisfaction_rate(value)) for key, value in sorted(by_week.items())],
        "by_entry": [(bool(key), satisfaction_rate(value)) for key, value in sorted(by_entry.items())],
    }


# A grid's cell with fewer valid answers than this shows no rate, only 样本不足 (too few to
# say). The line is the one the survey rates already draw (surveys.rates.SMALL_SAMPLE, 30:
# below it a rate is for reference only); a grid, unlike a whole survey, is small enough
# that a rate under it would be read as a verdict on a few dozen households, so it is held back.
GRID_MIN_ANSWERS = SMALL_SAMPLE


@dataclass(frozen=True)
class GridCell:
    """One grid's satisfaction at the chosen level; `grid` None: answers with no grid at that level."""

    grid: Grid | None
    rate: SatisfactionRate

    @property
    def is_suppressed(self) -> bool:
        return self.rate.valid < GRID_MIN_ANSWERS


def grid_results(survey: Survey, level: int, include_flagged: bool = True) -> list[GridCell]:
    """The survey's satisfaction rate by grid at `level` (centre, unit grid or grid), for
    every grid of that level. One statement: the answers to the satisfaction question counted
    by grid and value from their index alone (ix_survey_answers_question_grid, grouped in its
    order), then those few thousand rows summed by the grid's ancestor of that level."""
    question = next((q for q in survey.questions if q.kind == SATISFACTION), None)
    grids = grid_service.at_level(level)
    if question is None or not grids:  # no grids listed: nothing to split by, and no need to read the answers
        return []
    conditions = [Answer.question_id == question.id, Answer.value.is_not(None), Answer.is_held.is_(False)]
    if not include_flagged:
        conditions.append(Answer.is_flagged.is_(False))
    by_grid = (
        select(Answer.grid_id, Answer.value, func.count().label("number"))
        .where(*conditions).group_by(Answer.grid_id, Answer.value).subquery()
    )
    column = grid_service.level_column(level)
    counts: dict[int | None, dict[str, int]] = defaultdict(dict)
    for key, value, number in db.session.execute(
        select(column, by_grid.c.value, func.sum(by_grid.c.number))
        .select_from(by_grid.outerjoin(Grid, Grid.id == by_grid.c.grid_id))
        .group_by(column, by_grid.c.value)
    ):
        counts[key][value] = int(number)
    cells = [GridCell(grid, satisfaction_rate(counts.get(grid.id, {}))) for grid in grids]
    if counts.get(None):
        cells.append(GridCell(None, satisfaction_rate(counts[None])))
    return cells


def visible_comments(survey: Survey, page: int = 1, per_page: int = 50, include_hidden: bool = False):
    query = select(Answer).where(Answer.survey_id == survey.id, Answer.text.is_not(None))
    if not include_hidden:
        query = query.where(Answer.is_hidden.is_(False))
    return db.paginate(query.order_by(Answer.id.desc()), page=page, per_page=per_page, error_out=False)


def residents_ratings() -> dict[int, Rating]:
    """Each project's residents' satisfaction: its latest survey that has answers, rated by that
    survey's main question (the first satisfaction question, as on the results page), from the
    tallies, leaving out held answers and saying how many there are."""
    rows = db.session.execute(
        select(Survey.project_id, Survey.id, Survey.threshold_percent, Question.position, Question.id, SurveyTally.value,
               func.sum(SurveyTally.count))
        .join(SurveyTally, SurveyTally.survey_id == Survey.id)
        .join(Question, Question.id == SurveyTally.question_key)
        .where(Survey.project_id.is_not(None), Question.kind == SATISFACTION, SurveyTally.value != tallies.COMMENT,
               SurveyTally.is_held.is_(False))
        .group_by(Survey.project_id, Survey.id, Survey.threshold_percent, Question.position, Question.id, SurveyTally.value)
    ).all()
    held = dict(db.session.execute(
        select(SurveyTally.survey_id, func.sum(SurveyTally.count))
        .where(SurveyTally.question_key == tallies.RESPONSES, SurveyTally.is_held.is_(True))
        .group_by(SurveyTally.survey_id)
    ).all())
    latest: dict[int, tuple[int, int]] = {}
    main: dict[int, tuple[int, int]] = {}
    counts: dict[tuple[int, int], dict[str, int]] = defaultdict(dict)
    for project_id, survey_id, bar, position, question_id, value, number in rows:
        if not number:
            continue
        if survey_id >= latest.get(project_id, (0, 0))[0]:
            latest[project_id] = (survey_id, bar)
        main[survey_id] = min(main.get(survey_id, (position, question_id)), (position, question_id))
        counts[(survey_id, question_id)][value] = number
    ratings = {}
    for project_id, (survey_id, bar) in latest.items():
        rate = satisfaction_rate(counts[(survey_id, main[survey_id][1])])
        ratings[project_id] = Rating("residents", rate.rate_text, rate.valid, rate.is_below(bar), held=held.get(survey_id) or 0,
                                     interval=rate.interval_text, is_small_sample=rate.is_small_sample)
    return ratings
