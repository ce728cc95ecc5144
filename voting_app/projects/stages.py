"""Words shown to users for stages, stage dates and supervision states, in one place."""

from flask_babel import lazy_gettext as _l

from voting_app.projects.models import (
    ACCEPTED,
    APPROVED,
    AWAITING_ANSWER,
    AWAITING_VERDICT,
    IN_PROGRESS,
    NOT_SETTLED,
    NOTED,
    OPERATING,
    SETTLED,
)

STAGE_LABELS = {
    APPROVED: _l("Approved (立项)"),
    IN_PROGRESS: _l("Under way (实施)"),
    OPERATING: _l("In operation (运营)"),
    ACCEPTED: _l("Accepted (验收)"),
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

HISTORY_LABELS = {
    "milestone.added": _l("Milestone added"),
    "milestone.removed": _l("Milestone removed"),
    "milestone.done": _l("Milestone reached"),
    "supervision.recorded": _l("Supervision visit recorded"),
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
