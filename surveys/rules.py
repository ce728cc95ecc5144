"""What makes a survey answer acceptable, when a survey is open, the rotating per-address
hash and what an address's n-th answer of the day becomes: pure rules, no Flask, no database."""

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from voting_app.ballots.counting import RATINGS

SATISFACTION, SINGLE, MULTIPLE, RATING, TEXT = "satisfaction", "single", "multiple", "rating", "text"
RATING_VALUES = ("1", "2", "3", "4", "5")
DEFAULT_TEXT_LENGTH = 500
MAX_TEXT_LENGTH = 2000
NOT_YET_OPEN, OPEN, CLOSED = "not_yet_open", "open", "closed"


@dataclass(frozen=True)
class QuestionSpec:
    id: int
    kind: str
    is_required: bool
    option_keys: tuple[str, ...] = ()
    max_length: int | None = None

    def allowed_values(self) -> tuple[str, ...]:
        if self.kind == SATISFACTION:
            return RATINGS
        if self.kind == RATING:
            return RATING_VALUES
        return self.option_keys


@dataclass(frozen=True)
class CleanAnswer:
    question_id: int
    value: str | None
    text: str | None


@dataclass(frozen=True)
class Checked:
    answers: tuple[CleanAnswer, ...]
    errors: Mapping[int, str]  # question id -> required | unknown_choice | too_long | too_many

    @property
    def is_valid(self) -> bool:
        return not self.errors


def check_answers(questions: Sequence[QuestionSpec], submitted: Mapping[int, Sequence[str]]) -> Checked:
    """Every answer is checked before anything is stored; a response is whole or refused."""
    answers: list[CleanAnswer] = []
    errors: dict[int, str] = {}
    for question in questions:
        raw = [value for value in submitted.get(question.id, ()) if value is not None]
        if question.kind == TEXT:
            text = "\n".join(raw).replace("\r\n", "\n").strip()
            limit = question.max_length or DEFAULT_TEXT_LENGTH
            if not text:
                if question.is_required:
                    errors[question.id] = "required"
            elif len(text) > limit:
                errors[question.id] = "too_long"
            else:
                answers.append(CleanAnswer(question.id, None, text))
            continue
        values = [value.strip() for value in raw if value.strip()]
        if not values:
            if question.is_required:
                errors[question.id] = "required"
            continue
        if question.kind != MULTIPLE and len(values) > 1:
            errors[question.id] = "too_many"
            continue
        if len(set(values)) != len(values) or any(value not in question.allowed_values() for value in values):
            errors[question.id] = "unknown_choice"
            continue
        answers.extend(CleanAnswer(question.id, value, None) for value in values)
    return Checked(tuple(answers), errors)


def availability(opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> str:
    if opens_at is not None and now < opens_at:
        return NOT_YET_OPEN
    if closes_at is not None and now >= closes_at:
        return CLOSED
    return OPEN


def week_start(moment: datetime) -> date:
    """Monday of the week, the key results are split by."""
    day = moment.date()
    return day - timedelta(days=day.weekday())


def network_of(address: str) -> str:
    """The part of an address one household holds: an IPv4 address whole, an IPv6 address's
    /64 prefix. A home or phone is handed a whole /64 (RFC 6177, RFC 7934) and picks new
    addresses inside it at will (RFC 8981), so counting whole IPv6 addresses would let one
    phone answer as many times as it likes."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if parsed.version == 6 and parsed.ipv4_mapped is not None:
        return str(parsed.ipv4_mapped)
    if parsed.version == 6:
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


def address_hash(day_key: bytes, survey_id: int, address: str) -> str:
    """A keyed hash of the network an answer came from, per survey, to count answers per
    address per day. The browser is left out on purpose: it is whatever the sender says.

    The key is random, lives for a day and is then deleted, so a stored value can never be
    turned back into an address nor matched across days or surveys.
    """
    return hmac.new(day_key, f"{survey_id}|{network_of(address)}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Arrival:
    """What one address's n-th answer to a survey today is: the first counts plainly; up to
    `hold_after` count as suspected repeats (a household of several phones); past it they are
    held until staff release them."""

    is_flagged: bool
    is_held: bool


def arrival(seen: int, hold_after: int) -> Arrival:
    """`seen`: this answer's number from its address today, itself included."""
    return Arrival(is_flagged=seen > 1, is_held=seen > hold_after)


def code_hash(secret: str, code: str) -> str:
    """Household codes are short enough to guess offline, so they are stored keyed."""
    normalised = code.strip().upper().replace("-", "").replace(" ", "")
    return hmac.new(secret.encode(), f"household:{normalised}".encode(), hashlib.sha256).hexdigest()
