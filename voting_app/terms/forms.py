from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from voting_app.forms import Form
from voting_app.registry.grid_forms import fill_grid_choices, grid_field
from voting_app.registry.labels import congress_level_labels, deputy_level_labels, office_change_labels
from voting_app.registry.terms import CONGRESS_LEVELS, DEPUTY_LEVELS, OFFICE_CHANGE_KINDS


class CongressForm(Form):
    name = StringField(
        _l("Name of the congress"), validators=[DataRequired(_l("Give the congress's name.")), Length(max=200)]
    )
    level = SelectField(
        _l("Level"), choices=lambda: [SelectChoice(level, congress_level_labels()[level]) for level in CONGRESS_LEVELS]
    )


class TermForm(Form):
    number = IntegerField(
        _l("Term number (届)"),
        validators=[DataRequired(_l("Give the term's number, e.g. 19.")), NumberRange(min=1, max=99)],
    )
    starts_on = DateField(_l("First day"), validators=[Optional()])
    ends_on = DateField(_l("Last day"), validators=[Optional()])

    def validate_ends_on(self, field) -> None:
        if field.data and self.starts_on.data and field.data < self.starts_on.data:
            raise ValidationError(_l("A term cannot end before it starts."))


class OfficeChangeForm(Form):
    """A change in office; `confirmed` is set by the confirmation page's button."""

    kind = SelectField(
        _l("What changed"),
        choices=lambda: [SelectChoice(kind, office_change_labels()[kind]) for kind in OFFICE_CHANGE_KINDS],
    )
    effective_on = DateField(_l("Effective on"), validators=[DataRequired(_l("Give the date the change took effect."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    confirmed = HiddenField()


class ElectedDeputyForm(Form):
    """A deputy elected in a by-election (补选) during the term."""

    number = StringField(_l("Deputy number"), validators=[DataRequired(_l("Give the deputy number.")), Length(max=32)])
    name = StringField(_l("Name"), validators=[DataRequired(_l("Give the deputy's name.")), Length(max=64)])
    delegation = StringField(_l("Delegation"), validators=[Optional(), Length(max=100)])
    unit = StringField(_l("Work unit"), validators=[Optional(), Length(max=200)])
    level = SelectField(
        _l("Level"), choices=lambda: [SelectChoice(level, deputy_level_labels()[level]) for level in DEPUTY_LEVELS]
    )
    contact = StringField(_l("Contact (staff only)"), validators=[Optional(), Length(max=100)])
    took_office_on = DateField(_l("Took office on"), validators=[DataRequired(_l("Give the day the deputy took office."))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    confirmed = HiddenField()


class DeputyGridForm(Form):
    grid_id = grid_field(_l("Grid the deputy is linked to"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fill_grid_choices(self.grid_id)
