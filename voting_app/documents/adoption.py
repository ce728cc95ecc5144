"""Whether a round's 票决办法 has been adopted, for the round as it stands now.

The draft 办法 is made from the round's own copy of the rules and from the round itself (its
places, candidates and method), so its content has a digest. An adoption record keeps the
digest it was made on; when the round changes after that, the record no longer covers it
and the 办法 is adopted again before the round may open.
"""

import hashlib
import json

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from voting_app.ballots.counting import SATISFACTION
from voting_app.ballots.models import Round
from voting_app.db import db
from voting_app.documents.models import Adoption
from voting_app.errors import DomainError

ADOPTED, STALE, MISSING, NOT_NEEDED = "adopted", "stale", "missing", "not_needed"


def draft_content(round_: Round) -> dict:
    """What the draft 办法 says: a change to any of it is a change to the 办法."""
    return {
        "title": round_.title,
        "method": round_.method,
        # An assessment fills no places: every project on it is rated.
        "seats": None if round_.method == SATISFACTION else round_.seats,
        "mode": round_.planned_mode,
        # The annex lists each candidate with its unit and investment.
        "candidates": [
            [candidate.name, candidate.department, str(candidate.investment) if candidate.investment is not None else None]
            for candidate in round_.candidates
        ],
        "rules": json.loads(round_.rules_json),
    }


def draft_digest(round_: Round) -> str:
    text = json.dumps(draft_content(round_), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def needs_adoption(round_: Round) -> bool:
    """Under its rules, whether the round waits for an adopted 办法. A runoff, a further round
    or a vote held again after a void one follows from a first round whose 办法 was adopted
    (its tie, shortfall and void-vote articles), so only a first round waits."""
    return round_.parent_id is None and round_.rules.requires_adoption


def latest_adoption(round_: Round) -> Adoption | None:
    return db.session.scalar(select(Adoption).where(Adoption.round_id == round_.id).order_by(Adoption.id.desc()).limit(1))


def adoptions(round_: Round) -> list[Adoption]:
    """Newest first."""
    return list(db.session.scalars(select(Adoption).where(Adoption.round_id == round_.id).order_by(Adoption.id.desc())))


def adoption_state(round_: Round) -> str:
    if not needs_adoption(round_):
        return NOT_NEEDED
    latest = latest_adoption(round_)
    if latest is None:
        return MISSING
    return ADOPTED if latest.digest == draft_digest(round_) else STALE


def require_adoption(round_: Round) -> None:
    """Refuse to open a round whose 办法 the rules want adopted and is not, for the round as it is."""
    state = adoption_state(round_)
    if state == MISSING:
        raise DomainError(
            _l(
                "The 票决办法 of this round has not been adopted yet. Record its adoption (by the presidium or the "
                "plenary meeting) before opening the round."
            )
        )
    if state == STALE:
        raise DomainError(
            _l(
                "The round has changed since its 票决办法 was adopted (title, places, candidates, method, voting mode "
                "or rules). The 票决办法 must be adopted again as it now stands before the round opens."
            )
        )
