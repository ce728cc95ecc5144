"""Setting up the supervision cycle: the days of a year's three checkpoints, and the group that
supervises a project (a deputy group, or an ad-hoc group formed for it). Services flush;
callers commit; who may call them is decided in voting_app.permissions."""

from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from voting_app import audit
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.projects.models import CHECKPOINT_KINDS, Project, SupervisionCheckpoint
from voting_app.projects.service import update_project
from voting_app.registry import groups
from voting_app.registry.group_rules import AD_HOC
from voting_app.registry.models import DeputyGroup, Term


class CheckpointDaysError(DomainError):
    """A checkpoint's day is refused; `field` names the kind it belongs to."""

    def __init__(self, message, field: str):
        super().__init__(message)
        self.field = field


def set_checkpoint_days(actor: str, year: int, days: dict[str, date | None]) -> list[str]:
    """Set the three days of a year's checkpoints at once: each in the year, in the order plan,
    progress, effect. All are stored, or none."""
    for kind in CHECKPOINT_KINDS:
        day = days.get(kind)
        if day is None:
            raise CheckpointDaysError(_l("Enter the day of each checkpoint."), kind)
        if day.year != year:
            raise CheckpointDaysError(_l("The day must be in %(year)s.", year=year), kind)
    for earlier, later in zip(CHECKPOINT_KINDS, CHECKPOINT_KINDS[1:]):
        if days[later] <= days[earlier]:
            raise CheckpointDaysError(_l("The checkpoints follow each other: plan, then progress, then effect."), later)
    rows = {row.kind: row for row in db.session.scalars(select(SupervisionCheckpoint).where(SupervisionCheckpoint.year == year))}
    changed = []
    for kind in CHECKPOINT_KINDS:
        row = rows.get(kind)
        if row is None:
            db.session.add(SupervisionCheckpoint(year=year, kind=kind, held_on=days[kind]))
        elif row.held_on != days[kind]:
            row.held_on = days[kind]
        else:
            continue
        changed.append(kind)
    db.session.flush()
    if changed:
        audit.record(actor, "checkpoint.days", f"checkpoints:{year}", **{kind: days[kind].isoformat() for kind in changed})
    return changed


def set_supervision_group(actor: str, actor_name: str, project: Project, group: DeputyGroup | None) -> list[str]:
    """The project's supervising group; the history and the audit log show the change."""
    return update_project(actor, actor_name, project, supervision_group=group)


def form_ad_hoc_group(actor: str, actor_name: str, project: Project, term: Term, name: str, numbers: str,
                      leader_number: str = "") -> DeputyGroup:
    """An ad-hoc group of the term's deputies, pasted by number, led by one of them if named,
    made the project's supervising group. Any refused line or name stores nothing."""
    group = groups.create_group(actor, term, name, AD_HOC, str(_l("Supervises %(project)s", project=project.name))[:200])
    groups.add_members_by_numbers(actor, group, numbers)
    leader_number = (leader_number or "").strip()
    if leader_number:
        leader = next((deputy for deputy in group.members_in_roster_order
                       if groups.same_number(deputy.number, leader_number)), None)
        if leader is None:
            raise groups.GroupError(_l("The leader must be one of the numbers listed as members."), "leader")
        groups.update_group(actor, group, group.name, group.kind, group.note, leader)
    set_supervision_group(actor, actor_name, project, group)
    return group
