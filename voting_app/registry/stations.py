"""Liaison stations' deputies, reception calendars and duty rosters. Services flush; the caller commits."""

from dataclasses import dataclass
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from voting_app import audit
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.registry.models import LiaisonStation, ReceptionChange, ReceptionDuty, TermDeputy
from voting_app.registry.reception import (Change, ReceptionDay, calendar_from, check_move,
                                           reception_on)

REASON_MAX = 200
MOVE_ERRORS = {
    "reason": _l("Give the reason for moving or cancelling the reception day."),
    "same": _l("Choose a date other than the regular reception day."),
    "far": _l("A reception day can move at most into the month before or after."),
}


def changes_of(station: LiaisonStation) -> list[Change]:
    rows = db.session.scalars(select(ReceptionChange).where(ReceptionChange.station_id == station.id))
    return [Change(row.scheduled_on, row.moved_to, row.reason) for row in rows]


def station_calendar(station: LiaisonStation, start: date, months: int) -> list[ReceptionDay]:
    return calendar_from(start, months, station.reception_day, changes_of(station))


def reception_held_on(station: LiaisonStation, day: date) -> ReceptionDay | None:
    return reception_on(day, station.reception_day, changes_of(station))


def set_reception_day(actor: str, station: LiaisonStation, day_of_month: int) -> None:
    if not 1 <= day_of_month <= 31:
        raise DomainError(_l("The reception day is a day of the month, 1 to 31."))
    station.reception_day = day_of_month
    db.session.flush()
    audit.record(actor, "station.reception_day", f"station:{station.id}", day=day_of_month)


def change_reception(actor: str, station: LiaisonStation, scheduled_on: date, moved_to: date | None,
                     reason: str) -> ReceptionChange:
    """Move (moved_to a date) or cancel (None) one regular reception day, replacing an earlier change."""
    reason = " ".join((reason or "").split())[:REASON_MAX]
    if reception_on(scheduled_on, station.reception_day) is None:
        raise DomainError(_l("That date is not one of the station's regular reception days."))
    problem = check_move(scheduled_on, moved_to, reason)
    if problem is not None:
        raise DomainError(MOVE_ERRORS[problem])
    row = db.session.scalar(select(ReceptionChange).where(ReceptionChange.station_id == station.id,
                                                          ReceptionChange.scheduled_on == scheduled_on))
    if row is None:
        row = ReceptionChange(station_id=station.id, scheduled_on=scheduled_on, reason=reason)
        db.session.add(row)
    row.moved_to, row.reason, row.recorded_by = moved_to, reason, actor
    db.session.flush()
    audit.record(actor, "station.reception_change", f"station:{station.id}", scheduled_on=scheduled_on.isoformat(),
                 moved_to=moved_to.isoformat() if moved_to else None, reason=reason)
    return row


def restore_reception(actor: str, station: LiaisonStation, scheduled_on: date) -> None:
    row = db.session.scalar(select(ReceptionChange).where(ReceptionChange.station_id == station.id,
                                                          ReceptionChange.scheduled_on == scheduled_on))
    if row is not None:
        db.session.delete(row)
        db.session.flush()
        audit.record(actor, "station.reception_restore", f"station:{station.id}", scheduled_on=scheduled_on.isoformat())


def assign_station(actor: str, deputy: TermDeputy, station: LiaisonStation | None) -> None:
    """A deputy works at one station (进站代表): assigning moves them from any other."""
    deputy.station_id = station.id if station is not None else None
    db.session.flush()
    audit.record(actor, "station.deputy", f"term_deputy:{deputy.id}", station=deputy.station_id)


def duty_of(station: LiaisonStation, scheduled_on: date) -> list[TermDeputy]:
    return list(db.session.scalars(
        select(TermDeputy).join(ReceptionDuty, ReceptionDuty.term_deputy_id == TermDeputy.id)
        .where(ReceptionDuty.station_id == station.id, ReceptionDuty.scheduled_on == scheduled_on)
        .order_by(TermDeputy.number)))


def duties_by_day(station: LiaisonStation) -> dict[date, list[TermDeputy]]:
    rows = db.session.execute(
        select(ReceptionDuty.scheduled_on, TermDeputy).join(TermDeputy, ReceptionDuty.term_deputy_id == TermDeputy.id)
        .where(ReceptionDuty.station_id == station.id).order_by(TermDeputy.number))
    grouped: dict[date, list[TermDeputy]] = {}
    for day, deputy in rows:
        grouped.setdefault(day, []).append(deputy)
    return grouped


def set_duty(actor: str, station: LiaisonStation, scheduled_on: date, deputy_ids: list[int]) -> None:
    """The deputies on duty at one reception day, chosen among the station's deputies."""
    if reception_on(scheduled_on, station.reception_day) is None:
        raise DomainError(_l("That date is not one of the station's regular reception days."))
    own = {deputy.id for deputy in station.deputies}
    if not set(deputy_ids) <= own:
        raise DomainError(_l("Only the station's own deputies can be on duty there."))
    existing = db.session.scalars(select(ReceptionDuty).where(ReceptionDuty.station_id == station.id,
                                                              ReceptionDuty.scheduled_on == scheduled_on)).all()
    for row in existing:
        if row.term_deputy_id not in deputy_ids:
            db.session.delete(row)
    have = {row.term_deputy_id for row in existing}
    for deputy_id in sorted(set(deputy_ids) - have):
        db.session.add(ReceptionDuty(station_id=station.id, scheduled_on=scheduled_on, term_deputy_id=deputy_id))
    db.session.flush()
    audit.record(actor, "station.duty", f"station:{station.id}", scheduled_on=scheduled_on.isoformat(),
                 deputies=sorted(deputy_ids))


@dataclass(frozen=True)
class Duty:
    station: LiaisonStation
    reception: ReceptionDay


def duty_on(deputy: TermDeputy, day: date) -> Duty | None:
    """The station where this deputy is on duty on `day`, if a reception is held there that day."""
    rows = db.session.scalars(select(ReceptionDuty).where(ReceptionDuty.term_deputy_id == deputy.id)).all()
    for row in rows:
        station = db.session.get(LiaisonStation, row.station_id)
        reception = reception_held_on(station, day)
        if reception is not None and reception.scheduled_on == row.scheduled_on:
            return Duty(station, reception)
    return None


def next_duty(deputy: TermDeputy, after: date) -> Duty | None:
    """The deputy's first duty held on or after `after`."""
    found = []
    for row in db.session.scalars(select(ReceptionDuty).where(ReceptionDuty.term_deputy_id == deputy.id)):
        station = db.session.get(LiaisonStation, row.station_id)
        reception = next((r for r in station_calendar(station, row.scheduled_on, 1) if r.scheduled_on == row.scheduled_on),
                         None)
        if reception is not None and reception.on is not None and reception.on >= after:
            found.append(Duty(station, reception))
    return min(found, key=lambda duty: duty.reception.on) if found else None


def deputy_counts() -> dict[int, int]:
    return dict(db.session.execute(select(TermDeputy.station_id, func.count()).where(TermDeputy.station_id.is_not(None))
                                   .group_by(TermDeputy.station_id)).all())



