from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from voting_app.projects.models import STAGES
from voting_app.projects.stages import STAGE_LABELS


class ProjectForm(FlaskForm):
    name = StringField(_l("Project name"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=2000)])
    department = StringField(_l("Responsible department"), validators=[Optional(), Length(max=200)])
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    budget = DecimalField(_l("Budget (10,000 yuan)"), places=2, validators=[Optional(), NumberRange(min=0, max=10**9)])
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)])
    stage = SelectField(_l("Stage"), choices=[SelectChoice(stage, STAGE_LABELS[stage]) for stage in STAGES])
    progress_percent = IntegerField(_l("Progress (percent)"), default=0, validators=[Optional(), NumberRange(min=0, max=100)])
    spent = DecimalField(_l("Spent so far (10,000 yuan)"), places=2, validators=[Optional(), NumberRange(min=0, max=10**9)])

    def values(self) -> dict:
        return {
            "name": self.name.data.strip(),
            "summary": (self.summary.data or "").strip(),
            "department": (self.department.data or "").strip(),
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
    labels = {name: form_fields[name].args[0] for name in ("name", "summary", "department", "year", "budget", "location", "stage", "progress_percent", "spent")}
    return {"created": _l("Project created"), **labels}
