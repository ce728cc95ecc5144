from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional


class SessionForm(FlaskForm):
    name = StringField(_l("Session name"), validators=[DataRequired(), Length(max=200)])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    starts_on = DateField(_l("Opening day"), validators=[Optional()])


class RosterImportForm(FlaskForm):
    file = FileField(
        _l("Roster file (CSV or Excel .xlsx)"),
        validators=[
            FileRequired(_l("Choose a file to import.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Only CSV or Excel (.xlsx) files can be imported.")),
        ],
    )


class RosterConfirmForm(FlaskForm):
    """The preview's Import button: carries the checked table, signed (service.seal_table)."""

    table = HiddenField(validators=[DataRequired()])


class CardScanForm(FlaskForm):
    card = StringField(_l("Scan or type the card code"), validators=[DataRequired(), Length(max=300)])


class VenueCodeForm(FlaskForm):
    code = StringField(_l("Check-in code"), validators=[DataRequired(), Length(max=20)])
