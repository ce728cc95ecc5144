"""What the rest of the registry holds of a term's deputy, for deleting one entered by mistake.

A reception day already held with the deputy on duty is a record of work done: it keeps the
deputy (their end of term is recorded instead). Group memberships, a group's convener role,
reception days still to come or cancelled, the station and the grid are assignments: they go
with the deputy. Services flush; the caller audits what went and commits."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select, update

from voting_app.db import db
from voting_app.registry.models import (
    DeputyGroup,
    GroupMembership,
    LiaisonStation,
    ReceptionChange,
    ReceptionDuty,
    TermDeputy,
)
from voting_app.registry.reception import Change, held_on


@dataclass(frozen=True)
class DutyDay:
    """A reception day the deputy is on duty at: the station, its regular day, and the day it is
    held (None: cancelled)."""

    station: str
    scheduled_on: date
    held_on: date | None

    def is_done(self, today: date) -> bool:
        """Held before today: the deputy's duty is part of the station's record."""
        return self.held_on is not None and self.held_on < today


@dataclass(frozen=True)
class RegistryTies:
    groups: tuple[str, ...]  # the groups the deputy is a member of
    convened: tuple[str, ...]  # the groups the deputy convenes
    duties_done: tuple[DutyDay, ...]  # records: they keep the deputy
    duties_ahead: tuple[DutyDay, ...]  # assignments: they go with the deputy
    station: str  # the station the deputy works at, "" for none
    grid: str  # the grid the deputy is linked to, "" for none
    office_changes: int


def _duty_days(person: TermDeputy) -> list[tuple[ReceptionDuty, DutyDay]]:
    found = []
    for duty, station in db.session.execute(
        select(ReceptionDuty, LiaisonStation)
        .join(LiaisonStation, LiaisonStation.id == ReceptionDuty.station_id)
        .where(ReceptionDuty.term_deputy_id == person.id)
        .order_by(ReceptionDuty.scheduled_on, LiaisonStation.name)
    ).all():
        changes = [
            Change(row.scheduled_on, row.moved_to, row.reason)
            for row in db.session.scalars(
                select(ReceptionChange).where(
                    ReceptionChange.station_id == station.id, ReceptionChange.scheduled_on == duty.scheduled_on
                )
            )
        ]
        found.append((duty, DutyDay(station.name, duty.scheduled_on, held_on(duty.scheduled_on, changes))))
    return found


def ties_of(person: TermDeputy, today: date) -> RegistryTies:
    """Everything of the registry that names the deputy, records and assignments apart. Reads only."""
    days = [day for _, day in _duty_days(person)]
    return RegistryTies(
        groups=tuple(
            db.session.scalars(
                select(DeputyGroup.name)
                .join(GroupMembership, GroupMembership.group_id == DeputyGroup.id)
                .where(GroupMembership.term_deputy_id == person.id)
                .order_by(DeputyGroup.name)
            )
        ),
        convened=tuple(
            db.session.scalars(select(DeputyGroup.name).where(DeputyGroup.convener_id == person.id).order_by(DeputyGroup.name))
        ),
        duties_done=tuple(day for day in days if day.is_done(today)),
        duties_ahead=tuple(day for day in days if not day.is_done(today)),
        station=person.station.name if person.station is not None else "",
        grid=person.grid.code if person.grid is not None else "",
        office_changes=len(person.changes),
    )


def delete_deputy(person: TermDeputy, today: date) -> None:
    """Delete the deputy from the registry with their assignments and office history. The caller
    has taken them off every roster and checked that nothing of the record names them
    (`ties_of(...).duties_done` empty, and the features' own records)."""
    duties = _duty_days(person)
    if any(day.is_done(today) for _, day in duties):
        raise ValueError("refusing to delete a deputy whose reception duty was held")
    for membership in db.session.scalars(select(GroupMembership).where(GroupMembership.term_deputy_id == person.id)).all():
        membership.group.memberships.remove(membership)
    db.session.execute(update(DeputyGroup).where(DeputyGroup.convener_id == person.id).values(convener_id=None))
    for duty, _ in duties:
        db.session.delete(duty)
    for change in list(person.changes):
        db.session.delete(change)
    db.session.flush()
    db.session.delete(person)
    db.session.flush()
