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


def assign_station(actor: str, deputy: TermDeputy, station: LiaisonStation | None, today: date) -> int:
    """A deputy works at one station (进站代表): assigning moves them from any other. Leaving a
    station drops their duties there still to come (`drop_future_duties`); returns how many."""
    new_id = station.id if station is not None else None
    dropped = 0 if deputy.station_id == new_id else drop_future_duties(actor, deputy, today, keep_station_id=new_id)
    deputy.station_id = new_id
    db.session.flush()
    audit.record(actor, "station.deputy", f"term_deputy:{deputy.id}", station=deputy.station_id)
    return dropped


def _held_on(scheduled_on: date, changes: list[Change]) -> date:
    """The day a duty's reception is held (a moved day's new date); a cancelled one's regular day."""
    change = next((change for change in changes if change.scheduled_on == scheduled_on), None)
    return change.moved_to if change is not None and change.moved_to is not None else scheduled_on


def future_duties(deputy: TermDeputy, today: date, keep_station_id: int | None = None) -> list[ReceptionDuty]:
    """The deputy's duties at receptions held after `today`, at any station but `keep_station_id`."""
    rows = [row for row in db.session.scalars(select(ReceptionDuty).where(ReceptionDuty.term_deputy_id == deputy.id)
                                              .order_by(ReceptionDuty.scheduled_on))
            if row.station_id != keep_station_id]
    changes = {station_id: changes_of(db.session.get(LiaisonStation, station_id))
               for station_id in {row.station_id for row in rows}}
    return [row for row in rows if _held_on(row.scheduled_on, changes[row.station_id]) > today]


def drop_future_duties(actor: str, deputy: TermDeputy, today: date, keep_station_id: int | None = None) -> int:
    """A deputy who leaves a station or office cannot serve its coming reception days: their
    duties held after `today` go from the rosters. Earlier ones, today's included (it may have
    been served already), stay as the record of who was on duty. Returns how many were dropped."""
    rows = future_duties(deputy, today, keep_station_id)
    for row in rows:
        db.session.delete(row)
    if rows:
        db.session.flush()
        audit.record(actor, "station.duties_dropped", f"term_deputy:{deputy.id}",
                     duties=[[row.station_id, row.scheduled_on.isoformat()] for row in rows])
    return len(rows)


def dropped_duties_note(name: str, count: int):
    """What staff are told when a deputy's leaving dropped coming duties; None when it dropped none."""
    if not count:
        return None
    return _l("%(count)d coming reception duties of %(name)s were taken off the stations’ rosters; "
              "earlier ones stay on record.", count=count, name=name)


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


def _reception_of(station: LiaisonStation, scheduled_on: date) -> ReceptionDay:
    return station_calendar(station, scheduled_on, 1)[0]


def duty_choices(station: LiaisonStation, scheduled_on: date) -> list[TermDeputy]:
    """Who may be put on a reception day's roster: the station's deputies in office on the day it
    is held, and whoever is on it already."""
    held = _reception_of(station, scheduled_on).on or scheduled_on
    on_roster = {deputy.id for deputy in duty_of(station, scheduled_on)}
    return [deputy for deputy in station.deputies if deputy.id in on_roster or deputy.is_in_office_on(held)]


def set_duty(actor: str, station: LiaisonStation, scheduled_on: date, deputy_ids: list[int]) -> None:
    """The deputies on duty at one reception day, chosen among the station's deputies in office that day."""
    if reception_on(scheduled_on, station.reception_day) is None:
        raise DomainError(_l("That date is not one of the station's regular reception days."))
    own = {deputy.id: deputy for deputy in station.deputies}
    if not set(deputy_ids) <= set(own):
        raise DomainError(_l("Only the station's own deputies can be on duty there."))
    existing = db.session.scalars(select(ReceptionDuty).where(ReceptionDuty.station_id == station.id,
                                                              ReceptionDuty.scheduled_on == scheduled_on)).all()
    have = {row.term_deputy_id for row in existing}
    held = _reception_of(station, scheduled_on).on or scheduled_on
    for deputy_id in sorted(set(deputy_ids) - have):
        if not own[deputy_id].is_in_office_on(held):
            raise DomainError(_l("%(name)s is not in office on %(day)s and cannot be on duty that day.",
                                 name=own[deputy_id].name, day=held.isoformat()))
    for row in existing:
        if row.term_deputy_id not in deputy_ids:
            db.session.delete(row)
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
    """The station where this deputy is on duty on `day`: a reception is held there that day with
    the deputy on its roster, and they are in office that day (terms.in_office_on) and still work
    at that station. A roster row left from before they moved or left office gives no duty."""
    if deputy.station_id is None or not deputy.is_in_office_on(day):
        return None
    station = db.session.get(LiaisonStation, deputy.station_id)
    reception = reception_held_on(station, day)
    if reception is None:
        return None
    on_roster = db.session.scalar(select(ReceptionDuty.id).where(
        ReceptionDuty.station_id == station.id, ReceptionDuty.scheduled_on == reception.scheduled_on,
        ReceptionDuty.term_deputy_id == deputy.id))
    return Duty(station, reception) if on_roster is not None else None


def why_off_duty(deputy: TermDeputy, day: date):
    """Why `duty_on` gives the deputy no duty on `day`, in their words."""
    if not deputy.is_in_office_on(day):
        return _l("You are not in office on %(day)s: only deputies in office enter visitors' proposals.",
                  day=day.isoformat())
    for row in db.session.scalars(select(ReceptionDuty).where(ReceptionDuty.term_deputy_id == deputy.id)):
        if row.station_id == deputy.station_id:
            continue
        station = db.session.get(LiaisonStation, row.station_id)
        reception = reception_held_on(station, day)
        if reception is not None and reception.scheduled_on == row.scheduled_on:
            return _l("You no longer work at %(station)s: its reception day is entered by the deputies on duty there.",
                      station=station.name)
    return _l("You are not on duty at a liaison station’s reception day today (%(today)s).", today=day.isoformat())


def next_duty(deputy: TermDeputy, after: date) -> Duty | None:
    """The deputy's first duty held on or after `after` that `duty_on` will accept that day."""
    if deputy.station_id is None:
        return None
    station = db.session.get(LiaisonStation, deputy.station_id)
    found = []
    for row in db.session.scalars(select(ReceptionDuty).where(ReceptionDuty.term_deputy_id == deputy.id,
                                                              ReceptionDuty.station_id == station.id)):
        reception = _reception_of(station, row.scheduled_on)
        if (reception.scheduled_on == row.scheduled_on and reception.on is not None and reception.on >= after
                and deputy.is_in_office_on(reception.on)):
            found.append(Duty(station, reception))
    return min(found, key=lambda duty: duty.reception.on) if found else None


def deputy_counts() -> dict[int, int]:
    return dict(db.session.execute(select(TermDeputy.station_id, func.count()).where(TermDeputy.station_id.is_not(None))
                                   .group_by(TermDeputy.station_id)).all())



