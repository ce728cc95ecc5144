"""Words shown to users for stages, stage dates and supervision states, in one place."""

from flask_babel import lazy_gettext as _l

from voting_app.projects.models import (
    ACCEPTED,
    ACTIVE,
    APPROVED,
    APPROVED_CHANGE,
    AWAITING_ANSWER,
    AWAITING_VERDICT,
    DEFER,
    DEFERRED,
    EDIT,
    EFFECT_CHECK,
    IN_PROGRESS,
    NOT_SETTLED,
    NOTED,
    OPERATING,
    PENDING,
    PLAN_CHECK,
    PROGRESS_CHECK,
    REFUSED,
    SETTLED,
    TERMINATE,
    TERMINATED,
    WITHDRAWN,
)

STAGE_LABELS = {
    APPROVED: _l("Approved (立项)"),
    IN_PROGRESS: _l("Under way (实施)"),
    OPERATING: _l("In operation (运营)"),
    ACCEPTED: _l("Accepted (验收)"),
}

# The yearly supervision cycle: 年初问计划、年中问进度、年底问效果.
CHECKPOINT_LABELS = {
    PLAN_CHECK: _l("Plan (年初问计划)"),
    PROGRESS_CHECK: _l("Progress (年中问进度)"),
    EFFECT_CHECK: _l("Effect (年底问效果)"),
}

PLAN_FIELD_LABELS = {
    "planned_start": _l("Planned start"),
    "planned_end": _l("Planned end"),
    "actual_start": _l("Actual start"),
    "actual_end": _l("Actual end"),
}

SUPERVISION_STATUS_LABELS = {
    NOTED: _l("Recorded, no rectification asked"),
    AWAITING_ANSWER: _l("Awaiting the department’s answer"),
    AWAITING_VERDICT: _l("Answered, awaiting the deputy"),
    SETTLED: _l("Settled"),
    NOT_SETTLED: _l("Not settled"),
}

STATUS_LABELS = {
    ACTIVE: _l("Being delivered"),
    DEFERRED: _l("Deferred (延期)"),
    TERMINATED: _l("Terminated (终止)"),
}

CHANGE_KIND_LABELS = {
    EDIT: _l("Change of the plan"),
    DEFER: _l("Deferral"),
    TERMINATE: _l("Termination"),
}

CHANGE_STATE_LABELS = {
    PENDING: _l("Awaiting the standing committee"),
    APPROVED_CHANGE: _l("Approved"),
    REFUSED: _l("Refused"),
    WITHDRAWN: _l("Withdrawn"),
}

# The ledger's filter (voting_app.projects.ledger.STATES).
LEDGER_STATE_LABELS = {
    "open": _l("Open (not settled yet)"),
    "overdue": _l("Rectification overdue"),
    SETTLED: _l("Settled"),
    NOT_SETTLED: _l("Not settled"),
    NOTED: _l("Recorded, no rectification asked"),
}

# What a reminder letter (提醒函) is about (voting_app.projects.overdue.KINDS).
REMINDER_KIND_LABELS = {
    "milestone": _l("milestone"),
    "target": _l("target"),
    "rectification": _l("rectification"),
}

HISTORY_LABELS = {
    "plan.published": _l("Plan published"),
    "status": _l("Status"),
    "change.requested.edit": _l("Change of the plan requested"),
    "change.requested.defer": _l("Deferral requested"),
    "change.requested.terminate": _l("Termination requested"),
    "change.approved": _l("Standing committee approved the change"),
    "change.refused": _l("Standing committee refused the change"),
    "change.withdrawn": _l("Change request withdrawn"),
    "milestone.added": _l("Milestone added"),
    "milestone.removed": _l("Milestone removed"),
    "milestone.done": _l("Milestone reached"),
    "milestone.planned_on": _l("Milestone’s planned date"),
    "supervision.recorded": _l("Supervision visit recorded"),
    "supervision.issue_added": _l("Issue added to a supervision visit"),
    "supervision.answered": _l("Department answered the supervision"),
    "supervision.settled": _l("Deputy: rectification settled"),
    "supervision.not_settled": _l("Deputy: rectification not settled"),
    "sub_item.added": _l("Sub-item added"),
    "sub_item.removed": _l("Sub-item removed"),
    "sub_item.name": _l("Sub-item renamed"),
    "sub_item.department": _l("Sub-item’s responsible department"),
    "sub_item.budget_yuan": _l("Sub-item’s funds planned (10,000 yuan)"),
    "sub_item.spent_yuan": _l("Sub-item’s funds spent (10,000 yuan)"),
    "target.added": _l("Target added"),
    "target.removed": _l("Target removed"),
    "target.name": _l("Target renamed"),
    "target.planned": _l("Target’s planned quantity"),
    "target.unit": _l("Target’s unit"),
    "target.due_on": _l("Target’s due date"),
    "target.actual": _l("Actual figure reported"),
}


CHANGE_VALUE_LABELS = {
    "budget": _l("Budget (10,000 yuan)"),
    "department": _l("Responsible department"),
    "status": _l("Status"),
    "budget_yuan": _l("Funds planned (10,000 yuan)"),
    "planned": _l("Quantity planned"),
    "due_on": _l("Due date"),
    "year": _l("Year"),
    "planned_on": _l("Planned date"),
    "add_target": _l("New target"),
    "add_milestone": _l("New milestone"),
    "remove_target": _l("Target removed"),
    "remove_milestone": _l("Milestone removed"),
}


def change_value_label(key: str, what: str = "") -> str:
    """How a value a change request changes reads: "stage · planned end", or whose it is and the field."""
    parts = key.split(".")
    if parts[0] == "stage" and parts[1] in STAGE_LABELS:
        return f"{STAGE_LABELS[parts[1]]} · {PLAN_FIELD_LABELS[parts[2]]}"
    label = str(CHANGE_VALUE_LABELS.get(parts[-1]) or CHANGE_VALUE_LABELS.get(parts[0], parts[-1]))
    return f"{what} · {label}" if what else label


def history_field_label(field: str, form_labels: dict) -> str:
    """How a history line's field reads: a form field, a milestone event, or "stage · date"."""
    if field in form_labels:
        return str(form_labels[field])
    if field in HISTORY_LABELS:
        return str(HISTORY_LABELS[field])
    stage, _, date_field = field.partition(".")
    if stage in STAGE_LABELS and date_field in PLAN_FIELD_LABELS:
        return f"{STAGE_LABELS[stage]} · {PLAN_FIELD_LABELS[date_field]}"
    return field


# The kinds of a project's timeline (voting_app.projects.story), as the page names them.
STORY_KIND_LABELS = {
    "proposals": _l("Proposals"),
    "vote": _l("Deputies’ vote"),
    "created": _l("Project"),
    "plan": _l("Plan"),
    "stage": _l("Stage"),
    "milestone": _l("Milestone"),
    "report": _l("Progress report"),
    "visit": _l("Supervision"),
    "answer": _l("Supervision"),
    "verdict": _l("Supervision"),
    "changes": _l("Changes"),
    "residents": _l("Residents’ survey"),
    "deputies": _l("Deputies’ assessment"),
}
