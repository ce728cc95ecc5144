from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DecimalField,
    FormField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms import Form as SubForm
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from voting_app.forms import Form, record_id
from voting_app.projects.models import STAGES
from voting_app.projects.plans import number_text, parse_quantity, yuan_from_wan
from voting_app.projects.stages import CHECKPOINT_LABELS, PLAN_FIELD_LABELS, STAGE_LABELS


def optional_id(value) -> int | None:
    """A select's value as a row id, or None for its empty "choose" option."""
    return None if value in ("", None) else record_id(value)


class DepartmentChoice:
    """A department from the managed list, or a full name typed in to add one (no JavaScript);
    the service's chosen_department() turns the two into one department."""

    department_id = SelectField(_l("Choose from the list"), coerce=optional_id)
    new_department = StringField(_l("New responsible department"), validators=[Optional(), Length(max=200)])

    def offer_departments(self, none_label=_l("— Not decided yet —")) -> set[int]:
        """Offer the managed list, marking departments no officer serves; returns their ids."""
        from voting_app.projects.service import all_departments, unserved_department_ids

        unserved = unserved_department_ids()
        # Plain strings: a lazy string counts as markup, and the name is the user's text.
        self.department_id.choices = [SelectChoice("", str(none_label))] + [
            SelectChoice(department.id, str(_l("%(name)s (no officer)", name=department.name)) if department.id in unserved else department.name)
            for department in all_departments()
        ]
        return unserved

    def chosen_department(self, actor: str):
        """The department picked, or added by the name typed in (audited); None when neither."""
        from voting_app.projects.service import chosen_department

        return chosen_department(actor, self.department_id.data, self.new_department.data)

    def chosen_department_name(self, actor: str) -> str:
        department = self.chosen_department(actor)
        return department.name if department else ""


class GroupChoice:
    supervision_group_id = SelectField(_l("Supervision group"), coerce=optional_id)

    def offer_groups(self) -> None:
        """Every term's deputy groups, newest term first; a project may have none."""
        from voting_app.registry.groups import all_groups
        from voting_app.registry.terms import term_label

        groups = all_groups()
        several_terms = len({group.term_id for group in groups}) > 1
        self.supervision_group_id.choices = [SelectChoice("", str(_l("— None —")))] + [
            SelectChoice(group.id, f"{group.name}（{term_label(group.term.congress.name, group.term.number)}）"
                         if several_terms else group.name)
            for group in groups
        ]


class ProjectForm(DepartmentChoice, GroupChoice, Form):
    name = StringField(_l("Project name"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=2000)])
    year = IntegerField(_l("Project year"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    budget = DecimalField(_l("Budget (10,000 yuan)"), places=2, validators=[Optional(), NumberRange(min=0, max=10**9)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    stage = SelectField(_l("Stage"), choices=[SelectChoice(stage, STAGE_LABELS[stage]) for stage in STAGES])
    progress_percent = IntegerField(_l("Progress (percent)"), default=0, validators=[Optional(), NumberRange(min=0, max=100)])
    spent = DecimalField(_l("Spent so far (10,000 yuan)"), places=2, validators=[Optional(), NumberRange(min=0, max=10**9)])
    def values(self) -> dict:
        """The project's fields; the department is chosen apart (service.chosen_department)."""
        return {
            "name": self.name.data.strip(),
            "summary": (self.summary.data or "").strip(),
            "year": self.year.data,
            "budget": self.budget.data,
            "location": (self.location.data or "").strip(),
            "stage": self.stage.data,
            "progress_percent": self.progress_percent.data or 0,
            "spent": self.spent.data,
        }


def field_labels() -> dict:
    """How each field reads in a project's history."""
    form_fields = ProjectForm.__dict__
    labels = {name: form_fields[name].args[0] for name in ("name", "summary", "year", "budget", "location", "stage", "progress_percent", "spent")}
    return {"created": _l("Project created"), "department": _l("Responsible department"),
            "supervision_group": _l("Supervision group"), **labels}


class ProjectFromCandidateForm(Form):
    """The one question when an elected candidate becomes a project: which year it belongs to."""

    year = IntegerField(_l("Project year"), validators=[
        DataRequired(message=_l("Project year: enter the year the project belongs to, e.g. 2029.")),
        NumberRange(min=2000, max=2100, message=_l("Project year: enter a year from 2000 to 2100."))])


class DepartmentForm(Form):
    name = StringField(_l("Department’s full name"), validators=[DataRequired(), Length(max=200)])


class StageDatesForm(SubForm):
    """One stage's four dates, inside the schedule form (which carries the CSRF token)."""

    planned_start = DateField(PLAN_FIELD_LABELS["planned_start"], validators=[Optional()])
    planned_end = DateField(PLAN_FIELD_LABELS["planned_end"], validators=[Optional()])
    actual_start = DateField(PLAN_FIELD_LABELS["actual_start"], validators=[Optional()])
    actual_end = DateField(PLAN_FIELD_LABELS["actual_end"], validators=[Optional()])


class ScheduleForm(Form):
    """Every stage's dates in one form with one save button: fields are named `<stage>-<field>`."""

    approved = FormField(StageDatesForm)
    in_progress = FormField(StageDatesForm)
    operating = FormField(StageDatesForm)
    accepted = FormField(StageDatesForm)

    def plans(self) -> dict[str, dict]:
        return {stage: dict(self[stage].data) for stage in STAGES}


class MilestoneForm(Form):
    name = StringField(_l("Milestone"), validators=[DataRequired(), Length(max=200)])
    planned_on = DateField(_l("Planned date"), validators=[DataRequired()])
    sub_item_id = SelectField(_l("Sub-item"), coerce=optional_id, validators=[Optional()])

    def offer_sub_items(self, project) -> None:
        """A milestone belongs to the whole project or to one of its sub-items."""
        self.sub_item_id.choices = [SelectChoice("", str(_l("— The whole project —")))] + [
            SelectChoice(item.id, item.name) for item in project.sub_items
        ]

    def chosen_sub_item(self, project):
        return next((item for item in project.sub_items if item.id == self.sub_item_id.data), None)


class MilestoneDoneForm(Form):
    done_on = DateField(_l("Reached on"), validators=[DataRequired()])


class ProgressNoteForm(Form):
    body = TextAreaField(_l("What has been done"), validators=[DataRequired(), Length(max=4000)])
    progress_percent = IntegerField(_l("Progress now (percent)"), validators=[Optional(), NumberRange(min=0, max=100)])
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP, up to 4)"))


class ResponsibleDepartment:
    """The department responsible for an issue: the project's unless another is picked."""

    def offer_departments(self) -> None:
        from voting_app.projects.service import all_departments

        self.department_id.choices = [SelectChoice("", str(_l("The project’s department")))] + [
            SelectChoice(department.id, department.name) for department in all_departments()
        ]

    def chosen_department(self):
        from voting_app.projects.service import chosen_department

        return chosen_department("", self.department_id.data, None)  # the list only: no department is added


class SupervisionForm(ResponsibleDepartment, Form):
    visited_on = DateField(_l("Visit date"), validators=[DataRequired()])
    findings = TextAreaField(_l("What you found"), validators=[DataRequired(), Length(max=4000)])
    department_id = SelectField(_l("Responsible department"), coerce=optional_id, validate_choice=False)
    rectification = TextAreaField(_l("Rectification asked for (leave empty if none)"), validators=[Optional(), Length(max=2000)])
    rectification_due = DateField(_l("Rectification due by"), validators=[Optional()])
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP, up to 4)"))


class IssueForm(ResponsibleDepartment, Form):
    """One more issue found at a visit (a line of the ledger)."""

    problem = TextAreaField(_l("Issue found"), validators=[DataRequired(), Length(max=4000)])
    department_id = SelectField(_l("Responsible department"), coerce=optional_id, validate_choice=False)
    rectification = TextAreaField(_l("Rectification asked for (leave empty if none)"), validators=[Optional(), Length(max=2000)])
    due_on = DateField(_l("Rectification due by"), validators=[Optional()])


class AnswerForm(Form):
    answer = TextAreaField(_l("The department’s answer"), validators=[DataRequired(), Length(max=4000)])


class VerdictForm(Form):
    settled = HiddenField(validators=[AnyOf(("yes", "no"))])



class Quantity(StringField):
    """A quantity typed as people write it ("7,000", "3.2"): a non-negative number with at
    most two decimals (plans.parse_quantity), None when left empty."""

    def process_formdata(self, valuelist):
        self.raw_text = valuelist[0] if valuelist else ""
        try:
            self.data = parse_quantity(self.raw_text)
        except ValueError:
            self.data = None
            raise ValueError(_l("Enter a number, zero or more, with at most two decimals (e.g. 7000 or 3.2).")) from None

    def _value(self):
        return self.raw_text if getattr(self, "raw_text", None) is not None else number_text(self.data)


class WanAmount(DecimalField):
    """An amount in 万元 with at most four decimals (exact yuan), as the sub-item stores it."""

    def __init__(self, label, **kwargs):
        super().__init__(label, places=None, validators=[Optional(), NumberRange(min=0, max=10**8,
                         message=_l("Enter an amount from 0 to 100,000,000 (10,000 yuan)."))], **kwargs)

    def pre_validate(self, form):
        try:
            yuan_from_wan(self.data)
        except ValueError:
            raise ValidationError(_l("Enter the amount in 10,000 yuan with at most four decimals (one yuan).")) from None

    @property
    def yuan(self) -> int | None:
        return yuan_from_wan(self.data)


class SubItemForm(DepartmentChoice, Form):
    name = StringField(_l("Sub-item"), validators=[DataRequired(message=_l("Enter the sub-item's name.")), Length(max=200)])
    budget = WanAmount(_l("Funds planned (10,000 yuan)"))
    spent = WanAmount(_l("Funds spent (10,000 yuan)"))

    def values(self, actor: str) -> dict:
        return {"name": self.name.data, "department": self.chosen_department(actor),
                "budget_yuan": self.budget.yuan, "spent_yuan": self.spent.yuan}


class TargetForm(Form):
    """Fields named `target-<field>`: the sub-item's page carries this form beside its own."""

    name = StringField(_l("Target"), validators=[
        DataRequired(message=_l("Enter what the target counts, e.g. new school places.")), Length(max=200)])
    planned = Quantity(_l("Quantity planned"), validators=[InputRequired(message=_l("Enter the planned quantity."))])
    unit = StringField(_l("Unit"), validators=[DataRequired(message=_l("Enter the target's unit, e.g. 所 or 盏.")), Length(max=20)])
    due_on = DateField(_l("Due date"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, prefix="target", **kwargs)

    def values(self) -> dict:
        return {"name": self.name.data, "planned": self.planned.data, "unit": self.unit.data, "due_on": self.due_on.data}


class ChangeRequestForm(Form):
    """A change request's reason, and for a deferral the new deadline; an edit's values are
    fields named `value-<key>` (projects.changes.plan_values), read by the view."""

    reason = TextAreaField(_l("Reason for the change"), validators=[
        DataRequired(message=_l("Give the reason for the change.")), Length(max=4000)])
    deadline = DateField(_l("New deadline"), validators=[Optional()])


class DecisionForm(Form):
    """The standing committee's decision on a change request, as staff record it."""

    outcome = RadioField(_l("Decision"), choices=[SelectChoice("approved", _l("Approved")), SelectChoice("refused", _l("Refused"))],
                         validators=[InputRequired(message=_l("Choose whether the committee approved or refused."))])
    meeting = StringField(_l("Meeting of the standing committee"), validators=[
        DataRequired(message=_l("Enter the meeting, e.g. 区人大常委会第二十三次会议.")), Length(max=200)])
    decided_on = DateField(_l("Date of the decision"), validators=[DataRequired(message=_l("Enter the date of the decision."))])
    decision_number = StringField(_l("Decision number"), validators=[
        DataRequired(message=_l("Enter the decision's number, e.g. 樊人常决〔2026〕12号.")), Length(max=100)])


class SupervisionGroupForm(GroupChoice, Form):
    """Choose the project's supervising group among the deputy groups (ad-hoc ones included)."""


class AdHocGroupForm(Form):
    name = StringField(_l("Group name"), validators=[DataRequired(), Length(max=100)])
    numbers = TextAreaField(_l("Members' deputy numbers, one a line"),
                            validators=[DataRequired(message=_l("Paste at least one deputy number."))])
    leader = StringField(_l("Leader's deputy number (optional)"), validators=[Optional(), Length(max=40)])


class CheckpointDaysForm(Form):
    plan = DateField(CHECKPOINT_LABELS["plan"], validators=[InputRequired()])
    progress = DateField(CHECKPOINT_LABELS["progress"], validators=[InputRequired()])
    effect = DateField(CHECKPOINT_LABELS["effect"], validators=[InputRequired()])
