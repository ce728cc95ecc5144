"""Recording the adoption of a round's 票决办法, the count report's figures and photos, and the
number of the presidium's 公告. Services flush and never commit."""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, tuple_

from voting_app import audit
from voting_app.auth.models import User
from voting_app.ballots import count_checks
from voting_app.ballots.count_checks import Check
from voting_app.ballots.counting import CountResult
from voting_app.ballots.models import ANNOUNCED, CLOSED, CONFIRMED, DRAFT, Round
from voting_app.clock import beijing_today
from voting_app.db import db
from voting_app.documents.adoption import draft_digest
from voting_app.documents.models import Adoption
from voting_app.errors import ConflictError, DomainError
from voting_app.images import CleanImage
from voting_app.projects.delivery import photo_rows
from voting_app.projects.models import Photo

ADOPTED_BY_MAX = 200
# Both sides of a signed report and the tally sheets fit; more is not a photo of one report.
MAX_REPORT_PHOTOS = 6
# States in which a count exists for the scrutineers to sign.
COUNTED_STATES = (CLOSED, CONFIRMED, ANNOUNCED)


def _locked(round_: Round) -> Round:
    """Row-lock the round (PostgreSQL; SQLite serialises writers) and read it afresh."""
    db.session.execute(select(Round.id).where(Round.id == round_.id).with_for_update())
    db.session.refresh(round_)
    return round_


def record_adoption(actor_user: User, round_: Round, adopted_on: date | None, adopted_by: str) -> Adoption:
    """Record that `adopted_by` adopted the round's draft 办法 as it stands now, on `adopted_on`."""
    _locked(round_)
    if round_.state != DRAFT:
        raise ConflictError(_l("The round has opened: its 票决办法 can no longer be adopted."))
    body = (adopted_by or "").strip()
    if not body:
        raise DomainError(_l("Say which body adopted the 票决办法 (for example the presidium)."))
    if len(body) > ADOPTED_BY_MAX:
        raise DomainError(_l("The name of the body is too long (at most %(count)s characters).", count=ADOPTED_BY_MAX))
    if adopted_on is None:
        raise DomainError(_l("Give the date the 票决办法 was adopted."))
    if adopted_on > beijing_today():
        raise DomainError(_l("The date of adoption cannot be in the future."))
    record = Adoption(round_id=round_.id, adopted_on=adopted_on, adopted_by=body, recorded_by_id=actor_user.id,
                      digest=draft_digest(round_))
    db.session.add(record)
    db.session.flush()
    audit.record(audit.actor_label(actor_user), "round.adopt", f"round:{round_.id}", adopted_on=adopted_on.isoformat(),
                 adopted_by=body, digest=record.digest)
    return record


@dataclass(frozen=True)
class CountReport:
    """A round's 计票报告单: the count's figures and the arithmetic checks on them."""

    issued: int
    result: CountResult
    checks: list[Check]

    @property
    def all_hold(self) -> bool:
        return count_checks.all_hold(self.checks)

    @property
    def counts(self) -> dict[int, int]:
        return count_checks.report_counts(self.result)


def count_report(round_: Round, result: CountResult) -> CountReport:
    issued = round_.issued_count or 0
    return CountReport(issued, result, count_checks.checks_of(result, issued, round_.seats))


def report_photos(round_: Round) -> list[Photo]:
    return list(db.session.scalars(select(Photo).where(Photo.count_report_round_id == round_.id).order_by(Photo.id)))


def add_report_photos(actor_user: User, round_: Round, images: list[CleanImage]) -> list[Photo]:
    """Keep the photos of the signed paper report; all or none, and at most MAX_REPORT_PHOTOS a round."""
    _locked(round_)
    if round_.state not in COUNTED_STATES:
        raise ConflictError(_l("Photos of the signed count report are added once the round is closed."))
    if not images:
        raise DomainError(_l("Choose a photo of the signed count report."))
    held = db.session.scalar(select(func.count()).select_from(Photo).where(Photo.count_report_round_id == round_.id))
    if held + len(images) > MAX_REPORT_PHOTOS:
        raise DomainError(
            _l("A round keeps at most %(most)s photos of its count report; it has %(held)s, so %(room)s more can be added.",
               most=MAX_REPORT_PHOTOS, held=held, room=MAX_REPORT_PHOTOS - held)
        )
    photos = photo_rows(images, public=False)
    for photo in photos:
        photo.count_report_round_id = round_.id
        db.session.add(photo)
    db.session.flush()
    audit.record(audit.actor_label(actor_user), "count_report.photo", f"round:{round_.id}", photos=[p.token for p in photos])
    return photos


def notice_number(round_: Round) -> int:
    """The 公告's number: the session's announced rounds counted in order of announcement (第N号)."""
    if round_.state != ANNOUNCED:
        raise ConflictError(_l("A 公告 is issued once the result is announced."))
    return db.session.scalar(
        select(func.count())
        .select_from(Round)
        .where(
            Round.session_id == round_.session_id,
            Round.state == ANNOUNCED,
            tuple_(Round.announced_at, Round.id) <= tuple_(round_.announced_at, round_.id),
        )
    )
