"""Reception-day entry (接待日录入): the deputy on duty at a station enters several visitors' ideas at
once. All or nothing: one bad row rejects the whole batch with each row's errors, and nothing is
stored. Services flush; the view commits."""

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from voting_app.db import db, utcnow
from voting_app.errors import DomainError
from voting_app.proposals.models import RECEPTION_DAY, Proposal
from voting_app.proposals.service import BEIJING_OFFSET, THEMES, submit_proposal
from voting_app.registry.models import LiaisonStation, TermDeputy
from voting_app.registry.reception import month_counts
from voting_app.registry.stations import duty_on, why_off_duty

MAX_ROWS = 30


@dataclass
class Row:
    title: str = ""
    description: str = ""
    location: str = ""
    theme: str = ""
    errors: list = field(default_factory=list)

    @property
    def is_blank(self) -> bool:
        return not (self.title.strip() or self.description.strip() or self.location.strip() or self.theme)


class BatchError(DomainError):
    """Some rows are wrong; each row carries its own errors."""


def check_rows(rows: list[Row]) -> list[Row]:
    """The rows to store (blank rows dropped); each bad row gets its errors. Nothing is written."""
    filled = [row for row in rows if not row.is_blank]
    for row in filled:
        row.errors = []
        if len(" ".join(row.title.split())) < 4:
            row.errors.append(_l("Give the proposal a title of at least 4 characters."))
        if len(row.description.strip()) < 10:
            row.errors.append(_l("Describe the proposal in at least 10 characters."))
        if row.theme not in THEMES:
            row.errors.append(_l("Choose a theme."))
    if not filled:
        raise DomainError(_l("Enter at least one visitor's proposal."))
    if len(filled) > MAX_ROWS:
        raise DomainError(_l("Enter at most %(count)d proposals at once.", count=MAX_ROWS))
    if any(row.errors for row in filled):
        raise BatchError(_l("Nothing was stored: correct the rows marked below and send them again."))
    return filled


def enter_reception_batch(actor: str, deputy: TermDeputy, rows: list[Row], today: date) -> list[Proposal]:
    """Store the visitors' proposals of a reception day, entered by the deputy on duty today: on
    its roster, in office and still working at that station (`stations.duty_on`)."""
    duty = duty_on(deputy, today)
    if duty is None:
        raise DomainError(why_off_duty(deputy, today))
    filled = check_rows(rows)
    now = utcnow()
    proposals = []
    for row in filled:
        proposal = submit_proposal(duty.station, row.title, row.description, row.location, row.theme, "", [],
                                   channel=RECEPTION_DAY, entered_by=actor)
        proposal.entered_by_deputy_id = deputy.id
        proposal.entered_at = now
        proposals.append(proposal)
    db.session.flush()
    return proposals


def reception_counts(year: int) -> dict[int | None, dict[tuple[int, int], int]]:
    """Reception-day proposals per station per month (Beijing months) of a year."""
    rows = db.session.execute(select(Proposal.station_id, Proposal.created_at).where(
        Proposal.channel == RECEPTION_DAY,
        Proposal.created_at >= datetime(year, 1, 1) - BEIJING_OFFSET,
        Proposal.created_at < datetime(year + 1, 1, 1) - BEIJING_OFFSET))
    return month_counts((station_id, (created + BEIJING_OFFSET).date()) for station_id, created in rows)


def reception_years() -> list[int]:
    first, last = db.session.execute(select(func.min(Proposal.created_at), func.max(Proposal.created_at))
                                     .where(Proposal.channel == RECEPTION_DAY)).one()
    if first is None:
        return []
    return list(range((last + BEIJING_OFFSET).year, (first + BEIJING_OFFSET).year - 1, -1))


def stations_in_order() -> list[LiaisonStation]:
    return list(db.session.scalars(select(LiaisonStation).order_by(LiaisonStation.name)))



