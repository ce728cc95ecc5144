from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, StringField
from wtforms.validators import DataRequired, Length, Optional

from voting_app.forms import Form, SealedTableForm


class SessionForm(Form):
    name = StringField(_l("Session name"), validators=[DataRequired(), Length(max=200)])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    starts_on = DateField(_l("Opening day"), validators=[Optional()])


class RosterImportForm(Form):
    file = FileField(
        _l("Roster file (CSV or Excel .xlsx)"),
        validators=[
            FileRequired(_l("Choose a file to import.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Only CSV or Excel (.xlsx) files can be imported.")),
        ],
    )


RosterConfirmForm = SealedTableForm


class CardScanForm(Form):
    card = StringField(_l("Scan or type the card code"), validators=[DataRequired(), Length(max=300)])


class VenueCodeForm(Form):
    code = StringField(_l("Check-in code"), validators=[DataRequired(), Length(max=20)])


class TermEndForm(Form):
    ended_on = DateField(_l("Term ended on"), validators=[DataRequired(_l("Give the date the term ended."))])
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Give the reason the term ended.")), Length(max=200)],
    )
