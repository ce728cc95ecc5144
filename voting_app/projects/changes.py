"""Change control of a published plan (issue 16): once staff publish a project's plan, its
targets, funds, departments and deadlines change, and the project is deferred or terminated,
only by a change request the standing committee approves. Staff or the project's department
ask, with a reason and the values proposed; staff record the committee's decision; approval
applies the values through the same service functions as a direct edit (history, audit and
progress alike), all or none, and only while the values are still those the request was based
on. Services flush; callers commit; who may call them is decided in voting_app.permissions."""

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from voting_app import audit
from voting_app.db import db, utcnow
from voting_app.errors import ConflictError, DomainError
from voting_app.projects import plans, schedule
from voting_app.projects.delivery import (
    PLAN_FIELDS,
    add_milestone,
    check_milestone,
    move_milestone,
    remove_milestone,
    set_stage_plans,
)
from voting_app.projects.models import (
    ACTIVE,
    APPROVED_CHANGE,
    DEFER,
    Milestone,
    EDIT,
    IN_PROGRESS,
    PENDING,
    REFUSED,
    STAGES,
    TERMINATE,
    TERMINATED,
    WITHDRAWN,
    ChangeRequest,
    Department,
    Project,
    ProjectChange,
    SubItem,
    Target,
)
from voting_app.projects.planning import add_target, check_target, remove_target, update_sub_item, update_target
from voting_app.projects.service import update_project
from voting_app.ballots.models import Candidate, Round
from voting_app.registry.models import Term
from voting_app.sessions.models import CongressSession

# The project's deadline: the planned end of its delivery (实施), where a candidate's planned completion goes.
DEADLINE = f"stage.{IN_PROGRESS}.planned_end"
STATUS = "status"


def _history(project: Project, actor_name: str, field: str, old: str = "", new: str = "") -> None:
    project.changes.append(ProjectChange(actor_name=actor_name, field=field, old_value=old, new_value=new))


def _brief(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Values a published plan holds to, each under one key: "budget", "department", "year", "status",
# "stage.<stage>.planned_end", "sub_item.<id>.<budget_yuan|department>", "target.<id>.<planned|due_on>",
# "milestone.<id>.planned_on"; and what an edit adds or removes: "add_target.<n>" and "add_milestone.<n>"
# (the new one's values), "remove_target.<id>" and "remove_milestone.<id>".
ADD_TARGET, ADD_MILESTONE, REMOVE_TARGET, REMOVE_MILESTONE = "add_target", "add_milestone", "remove_target", "remove_milestone"
REMOVED = "removed"
# Values a request may not blank: an approved change would leave the plan without them.
REQUIRED_FIELDS = ("department", "planned_end", "due_on", "planned_on", "planned", "year")


@dataclass(frozen=True)
class Value:
    """One value a change request may change: its key, whose it is (a sub-item's or target's
    name, empty for the project's own), its field, and the value stored and shown."""

    key: str
    what: str
    field: str
    value: object

    @property
    def stored(self) -> str:
        return encode(self.value)

    @property
    def shown(self) -> str:
        return shown(self.field, self.value)


def encode(value) -> str:
    """A value as a request stores it, so the values compare exactly whatever the database returns."""
    if value is None:
        return ""
    if isinstance(value, (Department, SubItem)):
        return str(value.id)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return json.dumps({key: encode(item) for key, item in value.items()}, ensure_ascii=False, sort_keys=True)
    return str(value)


def shown(field: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, Department):
        return value.name
    if field in (REMOVE_TARGET, REMOVE_MILESTONE):
        return ""
    if field == ADD_TARGET:
        due = value["due_on"].isoformat() if value["due_on"] else ""
        return f"{value['sub_item'].name} · {value['name']}: {plans.number_text(value['planned'])} {value['unit']} ({due})"
    if field == ADD_MILESTONE:
        whose = f"{value['sub_item'].name} · " if value.get("sub_item") else ""
        return f"{whose}{value['name']} ({value['planned_on'].isoformat()})"
    if field == "budget_yuan":
        return plans.wan_text(value)
    if field in ("planned", "budget"):
        return plans.number_text(value)
    return encode(value)


def plan_values(project: Project) -> list[Value]:
    """Every value of the project that an edit request may change, in the order forms show them."""
    values = [Value("budget", "", "budget", project.budget), Value("department", "", "department", project.department),
              Value("year", "", "year", project.year)]
    for stage in STAGES:
        plan = project.plan_for(stage)
        values.append(Value(f"stage.{stage}.planned_end", "", "planned_end", plan.planned_end if plan else None))
    for item in project.sub_items:
        values += [Value(f"sub_item.{item.id}.department", item.name, "department", item.department),
                   Value(f"sub_item.{item.id}.budget_yuan", item.name, "budget_yuan", item.budget_yuan)]
        for target in item.targets:
            values += [Value(f"target.{target.id}.planned", f"{item.name} · {target.name}", "planned", target.planned),
                       Value(f"target.{target.id}.due_on", f"{item.name} · {target.name}", "due_on", target.due_on)]
    for milestone in project.milestones:
        if milestone.done_on is None:
            values.append(Value(f"milestone.{milestone.id}.planned_on", milestone.name, "planned_on", milestone.planned_on))
    return values


def removable(project: Project) -> list[Value]:
    """The targets and milestones an edit request may remove: those nothing was reported or reached on."""
    return ([Value(f"{REMOVE_TARGET}.{target.id}", f"{target.sub_item.name} · {target.name}", REMOVE_TARGET, "")
             for target in project.targets if not target.reports]
            + [Value(f"{REMOVE_MILESTONE}.{milestone.id}", f"{milestone.name} ({milestone.planned_on.isoformat()})",
                     REMOVE_MILESTONE, "") for milestone in project.milestones if milestone.done_on is None])


def _current(project: Project) -> dict[str, Value]:
    return ({value.key: value for value in plan_values(project) + removable(project)}
            | {STATUS: Value(STATUS, "", STATUS, project.status)})


def _addition(project: Project, key: str, new: dict) -> Value:
    """The empty value a proposed addition starts from, after checking what it adds: a target of
    one of the project's sub-items with its quantity, unit and due date, or a milestone with its date."""
    kind = key.partition(".")[0]
    if kind == ADD_TARGET:
        if new.get("sub_item") is None or new["sub_item"].project_id != project.id:
            raise DomainError(_l("Choose a sub-item of this project."))
        check_target(project, new)
        if new.get("due_on") is None:
            raise DomainError(_l("A new target needs its due date."))
        new.update(name=" ".join(new["name"].split()), unit=" ".join(new["unit"].split()))
    else:
        if new.get("sub_item") is not None and new["sub_item"].project_id != project.id:
            raise DomainError(_l("Choose a sub-item of this project."))
        new["name"] = check_milestone(project, new.get("name"), new.get("planned_on"))
    return Value(key, "", kind, None)


def parse_typed(field: str, text: str):
    """A value as typed in the change request form; ValueError when it cannot be one."""
    text = (text or "").strip()
    if field == "department":
        department = db.session.get(Department, int(text)) if text.isdigit() else None
        if text and department is None:
            raise ValueError("unknown department")
        return department
    if field in ("planned_end", "due_on", "planned_on"):
        return date.fromisoformat(text) if text else None
    if field == "year":
        if not text:
            return None
        year = int(text)
        if not 2000 <= year <= 2100:
            raise ValueError("not a year")
        return year
    if field == "planned":
        value = plans.parse_quantity(text)
        if value is not None and value <= 0:
            raise ValueError("not above zero")
        return value
    if field == "budget_yuan":
        try:
            value = Decimal(text.replace(",", "").replace("，", "")) if text else None
        except InvalidOperation as error:
            raise ValueError("not an amount") from error
        if value is not None and (not value.is_finite() or value < 0 or value > plans.MAX_WAN):
            raise ValueError("not an amount")
        return plans.yuan_from_wan(value)
    if field == "budget":
        value = plans.parse_quantity(text)
        return None if value is None else value.quantize(Decimal("0.01"))
    raise ValueError("not a value of the plan")


def publish_plan(actor: str, actor_name: str, project: Project, today: date | None = None) -> None:
    """From today the plan holds: its gated values change only by an approved change request."""
    if project.is_published:
        raise ConflictError(_l("This plan was published on %(day)s.", day=project.plan_published_on.isoformat()))
    project.plan_published_on = today or schedule.beijing_today()
    _history(project, actor_name, "plan.published", new=project.plan_published_on.isoformat())
    db.session.flush()
    audit.record(actor, "project.plan_publish", f"project:{project.id}", on=project.plan_published_on.isoformat())


def _entry(value: Value, new) -> dict:
    return {"what": value.what, "field": value.field, "old": value.stored, "new": encode(new),
            "old_text": value.shown, "new_text": shown(value.field, new)}


def _check_proposed(project: Project, current: dict[str, Value], proposed: dict) -> None:
    for key, new in proposed.items():
        field = current[key].field
        if field in REQUIRED_FIELDS and new is None:
            raise DomainError(_l("A change request cannot leave a department, a year, a quantity or a date empty: "
                                 "enter the new value, or leave the old one as it is."))
        if field in ("planned_end", "due_on", "planned_on") and new is not None and schedule.is_long_before_year(new, project.year):
            raise DomainError(_l("The date is long before the project’s year (%(year)s); check the year you typed.",
                                 year=project.year))
        if key.startswith("stage."):
            stage = key.split(".")[1]
            plan = project.plan_for(stage)
            if new is not None and plan is not None and plan.planned_start and new < plan.planned_start:
                raise DomainError(_l("A stage cannot end before it starts."))


def submit_change(actor: str, requester, project: Project, kind: str, reason: str, values: dict | None = None,
                  deadline: date | None = None) -> ChangeRequest:
    """A request, pending the committee's decision: an edit of the published plan's values (key
    -> new value), a deferral to a new deadline, or a termination. Nothing changes yet."""
    reason = (reason or "").strip()
    if kind not in (EDIT, DEFER, TERMINATE):
        raise DomainError(_l("Choose what the request asks for."))
    if project.is_terminated:
        raise ConflictError(_l("This project is terminated; nothing of it changes any more."))
    if not reason:
        raise DomainError(_l("Give the reason for the change."))
    current = _current(project)
    if kind == EDIT:
        if not project.is_published:
            raise DomainError(_l("This project’s plan is not published yet: edit it directly."))
        values = dict(values or {})
        for key in [key for key in values if key.partition(".")[0] in (ADD_TARGET, ADD_MILESTONE)]:
            current[key] = _addition(project, key, values[key])
        removals = [key for key in values if key.partition(".")[0] in (REMOVE_TARGET, REMOVE_MILESTONE)]
        values.update({key: REMOVED for key in removals if values[key]})
        values = {key: new for key, new in values.items() if key not in removals or new}
        unknown = set(values) - set(current) | ({STATUS} & set(values))
        if unknown:
            raise DomainError(_l("Choose values of this project’s plan."))
        proposed = {key: new for key, new in values.items() if encode(new) != current[key].stored}
        if not proposed:
            raise DomainError(_l("Change at least one value: the request proposes nothing new."))
    elif kind == DEFER:
        old_deadline = current[DEADLINE].value
        if deadline is None:
            raise DomainError(_l("Enter the new deadline."))
        if old_deadline is not None and deadline <= old_deadline:
            raise DomainError(_l("A deferral moves the deadline later than %(day)s.", day=old_deadline.isoformat()))
        proposed = {DEADLINE: deadline} | ({STATUS: "deferred"} if project.status == ACTIVE else {})
    else:
        proposed = {STATUS: TERMINATED}
    _check_proposed(project, current, proposed)
    request = ChangeRequest(kind=kind, reason=reason, requested_by_id=getattr(requester, "id", None),
                            requested_by_name=requester.label,
                            proposed={key: _entry(current[key], new) for key, new in proposed.items()})
    project.change_requests.append(request)
    db.session.flush()
    _history(project, requester.label, f"change.requested.{kind}", new=f"No. {request.id}: {_brief(reason)}")
    audit.record(actor, "project.change_request", f"project:{project.id}", request=request.id, kind=kind,
                 keys=sorted(proposed))
    return request


def stale_values(request: ChangeRequest) -> list[str]:
    """The keys whose value moved since the request was made: an approval would overwrite them unseen."""
    current = _current(request.project)
    return [key for key, entry in request.proposed.items()
            if (key not in current or current[key].stored != entry["old"]) if not _addition_holds(key, entry)]


def _addition_holds(key: str, entry: dict) -> bool:
    """A proposed new target still has its sub-item (a new milestone its sub-item, if any)."""
    if key.partition(".")[0] not in (ADD_TARGET, ADD_MILESTONE):
        return False
    sub_item = json.loads(entry["new"]).get("sub_item")
    return not sub_item or db.session.get(SubItem, int(sub_item)) is not None


def _decoded(field: str, stored: str):
    if field == "department":
        return db.session.get(Department, int(stored)) if stored else None
    if field in ("planned_end", "due_on", "planned_on"):
        return date.fromisoformat(stored) if stored else None
    if field == "year":
        return int(stored) if stored else None
    if field in (ADD_TARGET, ADD_MILESTONE):
        value = json.loads(stored)
        sub_item = db.session.get(SubItem, int(value["sub_item"])) if value.get("sub_item") else None
        return {"sub_item": sub_item, "name": value["name"],
                **({"planned": Decimal(value["planned"]), "unit": value["unit"], "due_on": date.fromisoformat(value["due_on"])}
                   if field == ADD_TARGET else {"planned_on": date.fromisoformat(value["planned_on"])})}
    if field in ("planned", "budget"):
        return Decimal(stored) if stored else None
    if field == "budget_yuan":
        return int(stored) if stored else None
    return stored


def _apply(actor: str, actor_name: str, request: ChangeRequest) -> None:
    project = request.project
    for key, entry in request.proposed.items():
        value = _decoded(entry["field"], entry["new"])
        kind, _, rest = key.partition(".")
        if key == STATUS:
            _history(project, actor_name, STATUS, project.status, value)
            project.status = value
        elif kind == "stage":
            stage = rest.split(".")[0]
            plan = project.plan_for(stage)
            dates = {field: getattr(plan, field) if plan else None for field in PLAN_FIELDS} | {"planned_end": value}
            set_stage_plans(actor, actor_name, project, {stage: dates}, approved=request)
        elif kind == "sub_item":
            item_id, field = rest.split(".")
            update_sub_item(actor, actor_name, db.session.get(SubItem, int(item_id)), approved=request, **{field: value})
        elif kind == "target":
            target_id, field = rest.split(".")
            update_target(actor, actor_name, db.session.get(Target, int(target_id)), approved=request, **{field: value})
        elif kind == "milestone":
            milestone = db.session.get(Milestone, int(rest.split(".")[0]))
            move_milestone(actor, actor_name, project, milestone, value, approved=request)
        elif kind == ADD_TARGET:
            add_target(actor, actor_name, value.pop("sub_item"), approved=request, **value)
        elif kind == ADD_MILESTONE:
            add_milestone(actor, actor_name, project, value["name"], value["planned_on"], value["sub_item"],
                          approved=request)
        elif kind == REMOVE_TARGET:
            remove_target(actor, actor_name, db.session.get(Target, int(rest)), approved=request)
        elif kind == REMOVE_MILESTONE:
            remove_milestone(actor, actor_name, project, db.session.get(Milestone, int(rest)), approved=request)
        else:
            update_project(actor, actor_name, project, approved=request, **{key: value})
    db.session.flush()


def decide_change(actor: str, staff, request: ChangeRequest, approve: bool, meeting: str, decided_on: date | None,
                  decision_number: str, today: date | None = None) -> None:
    """The standing committee's decision as staff record it. Approval applies every value, all or
    none, and refuses when a value moved since the request (the committee decided on other
    values); refusal leaves the project as it is. Both go into the public history."""
    today = today or schedule.beijing_today()
    meeting, decision_number = " ".join((meeting or "").split()), " ".join((decision_number or "").split())
    if not request.is_pending:
        raise ConflictError(_l("This request is already decided or withdrawn."))
    if not meeting or not decision_number or decided_on is None:
        raise DomainError(_l("Enter the meeting, the date and the number of the standing committee’s decision."))
    if decided_on > today:
        raise DomainError(_l("The decision date cannot be in the future."))
    project = request.project
    if approve and project.is_terminated:
        raise ConflictError(_l("This project is terminated: no change of it can be approved any more. Record the "
                               "decision as refused, or withdraw the request."))
    if approve:
        stale = stale_values(request)
        if stale:
            raise ConflictError(_l("The project changed since this request was made (%(count)d values are no longer "
                                   "those it proposes to change). Record the decision as refused, or ask for a new "
                                   "request on the current values.", count=len(stale)))
    request.state = APPROVED_CHANGE if approve else REFUSED
    request.meeting, request.decided_on, request.decision_number = meeting, decided_on, decision_number
    request.decided_by_id, request.decided_by_name, request.decided_at = getattr(staff, "id", None), staff.label, utcnow()
    db.session.flush()
    _history(project, staff.label, "change.approved" if approve else "change.refused", f"No. {request.id}",
             f"{decision_number} · {meeting} · {decided_on.isoformat()}")
    if approve:
        _apply(actor, staff.label, request)
    audit.record(actor, "project.change_decide", f"project:{project.id}", request=request.id, state=request.state,
                 decision_number=decision_number, decided_on=decided_on.isoformat())


def withdraw_change(actor: str, user, request: ChangeRequest) -> None:
    if not request.is_pending:
        raise ConflictError(_l("This request is already decided or withdrawn."))
    request.state = WITHDRAWN
    _history(request.project, user.label, "change.withdrawn", new=f"No. {request.id}")
    db.session.flush()
    audit.record(actor, "project.change_withdraw", f"project:{request.project_id}", request=request.id)


def pending_requests(department_id: int | None = None) -> list[ChangeRequest]:
    """Requests awaiting the committee, oldest first; with a department, those of its own projects."""
    query = select(ChangeRequest).join(Project).where(ChangeRequest.state == PENDING).order_by(ChangeRequest.id)
    if department_id is not None:
        query = query.where(Project.department_id == department_id)
    return list(db.session.scalars(query))


def decided_for_session(congress: CongressSession) -> list[ChangeRequest]:
    """What a session is told (向人代会报告): the requests decided since the congress's session
    before it began, up to the day before this one begins, on projects voted at a session of
    the same congress or entered by staff without a vote. A session without a date is told
    those decided since its congress's last dated session."""
    same_congress = (select(CongressSession.id).join(Term, Term.id == CongressSession.term_id)
                     .where(Term.congress_id == congress.term.congress_id))
    earlier = select(CongressSession.starts_on).where(CongressSession.id.in_(same_congress),
                                                      CongressSession.id != congress.id,
                                                      CongressSession.starts_on.is_not(None))
    if congress.starts_on is not None:
        earlier = earlier.where(CongressSession.starts_on < congress.starts_on)
    since = db.session.scalar(earlier.order_by(CongressSession.starts_on.desc()).limit(1))
    voted_here = (select(Candidate.project_id).join(Round, Round.id == Candidate.round_id)
                  .where(Round.session_id.in_(same_congress)))
    voted_anywhere = select(Candidate.project_id).where(Candidate.project_id.is_not(None))
    query = select(ChangeRequest).where(
        ChangeRequest.state.in_((APPROVED_CHANGE, REFUSED)),
        or_(ChangeRequest.project_id.in_(voted_here), ChangeRequest.project_id.not_in(voted_anywhere)))
    if since is not None:
        query = query.where(ChangeRequest.decided_on >= since)
    if congress.starts_on is not None:
        query = query.where(ChangeRequest.decided_on < congress.starts_on)
    return list(db.session.scalars(query.order_by(ChangeRequest.decided_on, ChangeRequest.id)))
