from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from voting_app.forms import Form, SealedTableForm, record_id
from voting_app.registry.labels import office_change_labels
from voting_app.registry.terms import LEAVING_KINDS, OTHER, term_label


def optional_id(value) -> int | None:
    return None if value in ("", None) else record_id(value)


class SessionForm(Form):
    name = StringField(_l("Session name"), validators=[DataRequired(), Length(max=200)])
    term_id = SelectField(_l("Term (届)"), coerce=optional_id)
    meeting_number = IntegerField(
        _l("Meeting of the term (第N次会议)"), validators=[Optional(), NumberRange(min=1, max=99)]
    )
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=200)])
    starts_on = DateField(_l("Opening day"), validators=[Optional()])

    def offer_terms(self, terms) -> None:
        """The terms newest first; the empty choice lets the session's name say its term."""
        self.term_id.choices = [SelectChoice("", str(_l("— As the session's name says, or the newest term —")))] + [
            SelectChoice(term.id, term_label(term.congress.name, term.number)) for term in terms
        ]


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
    kind = SelectField(
        _l("What ended it"),
        choices=lambda: [SelectChoice(kind, office_change_labels()[kind]) for kind in LEAVING_KINDS],
        default=OTHER,
    )
    ended_on = DateField(_l("Term ended on"), validators=[DataRequired(_l("Give the date the term ended."))])
    reason = StringField(
        _l("Reason"),
        validators=[DataRequired(_l("Give the reason the term ended.")), Length(max=200)],
    )
