from flask_babel import lazy_gettext as _l
from wtforms import DateField, HiddenField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from voting_app.forms import Form, record_id


class ReceptionDayForm(Form):
    reception_day = IntegerField(_l("Reception day of the month"), validators=[
        DataRequired(message=_l("The reception day is a day of the month, 1 to 31.")),
        NumberRange(min=1, max=31, message=_l("The reception day is a day of the month, 1 to 31."))])


class StationDeputyForm(Form):
    """A deputy named by a term (each congress's newest is offered) and their number in it."""

    term_id = SelectField(_l("Term"), coerce=record_id)
    number = StringField(_l("Deputy number"), validators=[
        DataRequired(message=_l("Enter the deputy's number.")), Length(max=32)])


class RemoveDeputyForm(Form):
    term_deputy_id = HiddenField(validators=[DataRequired()])


class ReceptionChangeForm(Form):
    action = RadioField(_l("What happens to this reception day"), choices=[
        SelectChoice("move", _l("Move it to another date")), SelectChoice("cancel", _l("Cancel it")),
        SelectChoice("restore", _l("Hold it on its regular day"))], default="move",
        validators=[DataRequired(message=_l("Choose what happens to this reception day."))])
    moved_to = DateField(_l("New date"), validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class DutyForm(Form):
    deputies = SelectMultipleField(_l("Deputies on duty"), coerce=record_id, option_widget=CheckboxInput(),
                                   widget=ListWidget(prefix_label=False), validate_choice=True)


class ReceptionEntryForm(Form):
    """Only the CSRF token and the number of rows: the rows are read by their indexed names."""

    rows = HiddenField()
