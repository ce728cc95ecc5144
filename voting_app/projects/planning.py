"""A project's implementation plan: sub-items (子项) with their departments, funds, targets and
milestones, the progress computed from them, and the actual figures departments report.

Every edit of the plan goes through update_sub_item() and update_target(), which write the
project's history and the audit log field by field: the one place a later change control can
hold an edit of a published plan for the standing committee's decision. Services flush;
callers commit."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from voting_app import audit
from voting_app.db import db
from voting_app.errors import ConflictError, DomainError
from voting_app.projects import plans, schedule
from voting_app.projects.models import Department, Milestone, Project, ProjectChange, SubItem, Target, TargetReport
from voting_app.projects.service import require_decision, require_decision_to_restructure, set_computed_progress

SUB_ITEM_FIELDS = ("name", "department", "budget_yuan", "spent_yuan")
TARGET_FIELDS = ("name", "planned", "unit", "due_on")
# What a published plan changes only by an approved change request; names and units stay direct.
GATED_SUB_ITEM_FIELDS = ("department", "budget_yuan")
GATED_TARGET_FIELDS = ("planned", "due_on")


def _gated(obj, fields: tuple[str, ...], values: dict) -> list[str]:
    return [key for key in fields if key in values and values[key] != getattr(obj, key)]


class ForeignTargetError(DomainError):
    """A department reported on a target of another department's sub-item."""

    status = 403


def _history(project: Project, actor_name: str, field: str, old: str = "", new: str = "") -> None:
    project.changes.append(ProjectChange(actor_name=actor_name, field=field, old_value=old, new_value=new))


def _name(value: str | None) -> str:
    return " ".join((value or "").split())


def _shown(key: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, Department):
        return value.name
    if key.endswith("_yuan"):
        return plans.wan_text(value)
    if isinstance(value, Decimal):
        return plans.number_text(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _check_sub_item(values: dict) -> None:
    if "name" in values and not _name(values["name"]):
        raise DomainError(_l("Enter the sub-item's name."))
    for key in ("budget_yuan", "spent_yuan"):
        if values.get(key) is not None and values[key] < 0:
            raise DomainError(_l("Amounts cannot be negative."))


def check_target(project: Project, values: dict) -> None:
    if "name" in values and not _name(values["name"]):
        raise DomainError(_l("Enter what the target counts, e.g. new school places."))
    if "unit" in values and not _name(values["unit"]):
        raise DomainError(_l("Enter the target's unit, e.g. 所 or 盏."))
    if "planned" in values and (values["planned"] is None or values["planned"] <= 0):
        raise DomainError(_l("The planned quantity is a number above zero."))
    due_on = values.get("due_on")
    if due_on is not None and schedule.is_long_before_year(due_on, project.year):
        raise DomainError(_l("%(field)s: %(problem)s", field=_l("Due date"), problem=_l(
            "The date is long before the project’s year (%(year)s); check the year you typed.", year=project.year)))


def measures(project: Project) -> list[plans.Measure]:
    """What the project's progress is computed from: every target, and every milestone."""
    return ([plans.target_measure(target.planned, target.actual) for target in project.targets]
            + [plans.milestone_measure(milestone.done_on) for milestone in project.milestones])


def refresh_progress(actor: str, actor_name: str, project: Project) -> None:
    """Set a planned project's progress from its plan (the history shows it); a project without
    sub-items keeps the progress staff or its department type."""
    if project.has_plan:
        set_computed_progress(actor, actor_name, project, plans.progress_percent(measures(project)))


def add_sub_item(actor: str, actor_name: str, project: Project, name: str, department: Department | None,
                 budget_yuan: int | None = None, spent_yuan: int | None = None) -> SubItem:
    """A published plan takes a new sub-item only by a change request (require_decision_to_restructure)."""
    values = {"name": name, "budget_yuan": budget_yuan, "spent_yuan": spent_yuan}
    _check_sub_item(values)
    require_decision_to_restructure(project, None)
    item = SubItem(name=_name(name), department=department, budget_yuan=budget_yuan, spent_yuan=spent_yuan)
    project.sub_items.append(item)
    db.session.flush()
    _history(project, actor_name, "sub_item.added", new=item.name)
    audit.record(actor, "project.sub_item_add", f"project:{project.id}", sub_item=item.id, name=item.name)
    refresh_progress(actor, actor_name, project)
    return item


def update_sub_item(actor: str, actor_name: str, item: SubItem, *, approved=None, **values) -> list[str]:
    """Change the given fields of a sub-item, each into the history and the audit log; a published
    plan's department and funds planned only with an approved change request."""
    _check_sub_item(values)
    require_decision(item.project, _gated(item, GATED_SUB_ITEM_FIELDS, values), approved)
    if "name" in values:
        values["name"] = _name(values["name"])
    changed = []
    for key in SUB_ITEM_FIELDS:
        if key not in values or getattr(item, key) == values[key]:
            continue
        _history(item.project, actor_name, f"sub_item.{key}", f"{item.name}: {_shown(key, getattr(item, key))}",
                 f"{values.get('name', item.name)}: {_shown(key, values[key])}")
        setattr(item, key, values[key])
        changed.append(key)
    db.session.flush()
    if changed:
        audit.record(actor, "project.sub_item_update", f"project:{item.project_id}", sub_item=item.id, fields=changed)
    return changed


def remove_sub_item(actor: str, actor_name: str, item: SubItem) -> None:
    """Only an empty sub-item goes: targets and milestones are removed first, one by one; from a
    published plan only by a change request."""
    require_decision_to_restructure(item.project, None)
    if item.targets or item.milestones:
        raise ConflictError(_l("Remove the sub-item's targets and milestones first."))
    project = item.project
    _history(project, actor_name, "sub_item.removed", old=item.name)
    project.sub_items.remove(item)
    db.session.flush()
    audit.record(actor, "project.sub_item_remove", f"project:{project.id}", sub_item=item.id)
    if project.has_plan:
        refresh_progress(actor, actor_name, project)


def add_target(actor: str, actor_name: str, item: SubItem, name: str, planned: Decimal | None, unit: str,
               due_on: date | None, *, approved=None) -> Target:
    """A published plan takes a new target only as an approved change request adds it."""
    check_target(item.project, {"name": name, "planned": planned, "unit": unit, "due_on": due_on})
    require_decision_to_restructure(item.project, approved)
    target = Target(name=_name(name), planned=planned, unit=_name(unit), due_on=due_on)
    item.targets.append(target)
    db.session.flush()
    _history(item.project, actor_name, "target.added",
             new=f"{item.name} · {target.name}: {plans.number_text(planned)} {target.unit}")
    audit.record(actor, "project.target_add", f"project:{item.project_id}", target_id=target.id, name=target.name)
    refresh_progress(actor, actor_name, item.project)
    return target


def update_target(actor: str, actor_name: str, target: Target, *, approved=None, **values) -> list[str]:
    """Change the given fields of a target; a published plan's quantity and due date only with an
    approved change request."""
    project = target.sub_item.project
    check_target(project, values)
    require_decision(project, _gated(target, GATED_TARGET_FIELDS, values), approved)
    for key in ("name", "unit"):
        if key in values:
            values[key] = _name(values[key])
    changed = []
    for key in TARGET_FIELDS:
        if key not in values or getattr(target, key) == values[key]:
            continue
        _history(project, actor_name, f"target.{key}", f"{target.name}: {_shown(key, getattr(target, key))}",
                 f"{values.get('name', target.name)}: {_shown(key, values[key])}")
        setattr(target, key, values[key])
        changed.append(key)
    db.session.flush()
    if changed:
        audit.record(actor, "project.target_update", f"project:{project.id}", target_id=target.id, fields=changed)
        refresh_progress(actor, actor_name, project)
    return changed


def remove_target(actor: str, actor_name: str, target: Target, *, approved=None) -> None:
    """A target a department has reported on stays on the record, as a reached milestone does; a
    published plan's target goes only as an approved change request removes it."""
    require_decision_to_restructure(target.sub_item.project, approved)
    if target.reports:
        raise ConflictError(_l("A target with reported figures stays on the record."))
    item = target.sub_item
    _history(item.project, actor_name, "target.removed", old=f"{item.name} · {target.name}")
    item.targets.remove(target)
    db.session.flush()
    audit.record(actor, "project.target_remove", f"project:{item.project_id}", target_id=target.id)
    refresh_progress(actor, actor_name, item.project)


def set_milestone_sub_item(milestone: Milestone, item: SubItem | None) -> None:
    if item is not None and item.project_id != milestone.project_id:
        raise DomainError(_l("Choose a sub-item of this project."))
    milestone.sub_item = item


def own_targets(department_id: int | None, project: Project) -> list[Target]:
    """The targets a department reports on: those of its own sub-items of the project."""
    if department_id is None:
        return []
    return [target for item in project.sub_items if item.department_id == department_id for target in item.targets]


def record_actuals(actor: str, actor_name: str, department_id: int | None, project: Project, note,
                   actuals: dict[int, Decimal], today: date) -> list[TargetReport]:
    """Store the figures a department reported with a note, all or none: a target that is not
    of its own sub-items, or a figure that is not a non-negative quantity, refuses them all."""
    own = {target.id: target for target in own_targets(department_id, project)}
    foreign = sorted(set(actuals) - set(own))
    if foreign:
        raise ForeignTargetError(_l("You can report only on the targets of your own department's sub-items."))
    for value in actuals.values():
        if value is None or value < 0 or value > plans.MAX_QUANTITY:
            raise DomainError(_l("An actual figure is a number, zero or more."))
    reports = []
    for target_id in sorted(actuals):
        target, value = own[target_id], actuals[target_id]
        report = TargetReport(actual=value, reported_on=today)
        target.reports.append(report)
        report.note = note
        _history(project, actor_name, "target.actual", f"{target.name}: {_shown('actual', target.actual)}",
                 f"{target.name}: {plans.number_text(value)} {target.unit}")
        target.actual = value
        reports.append(report)
    db.session.flush()
    if reports:
        audit.record(actor, "project.target_actuals", f"project:{project.id}", note=note.id,
                     targets={str(report.target_id): plans.number_text(report.actual) for report in reports})
        refresh_progress(actor, actor_name, project)
    return reports


@dataclass(frozen=True)
class TargetLine:
    """A target as public pages show it: planned and actual side by side."""

    target: Target
    planned: str
    actual: str
    percent: int
    is_overdue: bool  # past its due date and not reached


@dataclass(frozen=True)
class SubItemLine:
    item: SubItem
    targets: list[TargetLine]
    budget: str
    spent: str


def funds_text(project: Project) -> tuple[str, str]:
    """The sub-items' funds planned and spent, summed in yuan and shown in 万元, beside the
    project's own budget figure (which staff keep on the project's edit page)."""
    budget = sum(item.budget_yuan or 0 for item in project.sub_items)
    spent = sum(item.spent_yuan or 0 for item in project.sub_items)
    return plans.wan_text(budget), plans.wan_text(spent)


def plan_lines(project: Project, today: date | None = None) -> list[SubItemLine]:
    today = today or schedule.beijing_today()
    return [
        SubItemLine(
            item,
            [TargetLine(t, plans.number_text(t.planned), plans.number_text(t.actual), plans.share_percent(t.planned, t.actual),
                        project.is_late(t.due_on, plans.share_percent(t.planned, t.actual) == 100, today))
             for t in item.targets],
            plans.wan_text(item.budget_yuan),
            plans.wan_text(item.spent_yuan),
        )
        for item in project.sub_items
    ]


def projects_reported_by(department_id: int) -> list[Project]:
    """The projects a department reports on (permissions.reports_on_project), newest year first."""
    own_item = select(SubItem.project_id).where(SubItem.department_id == department_id)
    return list(db.session.scalars(
        select(Project).where(or_(Project.department_id == department_id, Project.id.in_(own_item)))
        .order_by(Project.year.desc(), Project.id)
    ))
