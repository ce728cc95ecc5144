from flask_babel import lazy_gettext as _l
from wtforms import (DateField, DecimalField, FileField, IntegerField, SelectField, SelectMultipleField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from voting_app.forms import Form
from voting_app.projects.forms import DepartmentChoice
from voting_app.proposals.models import CHANNELS
from voting_app.proposals.service import THEMES
from voting_app.proposals.status import CHANNEL_LABELS

THEME_LABELS = {
    "roads_transport": _l("Roads and transport"),
    "water_power": _l("Water, power and gas"),
    "education": _l("Education"),
    "health": _l("Health care"),
    "elderly_childcare": _l("Elderly care and childcare"),
    "environment": _l("Environment and greenery"),
    "culture_sports": _l("Culture and sports"),
    "community": _l("Community services"),
    "other": _l("Other"),
}


class ProposalForm(Form):
    title = StringField(_l("Your proposal in one line"), validators=[DataRequired(), Length(min=4, max=200, message=_l("Give the proposal a title of 4 to 200 characters."))])
    description = TextAreaField(_l("What should be done, and why"), validators=[DataRequired(), Length(min=10, max=4000, message=_l("Describe the proposal in 10 to 4,000 characters."))])
    location = StringField(_l("Where (street, estate, village)"), validators=[Optional(), Length(max=200)])
    theme = SelectField(_l("Theme"), choices=[SelectChoice("", _l("Choose…"))] + [SelectChoice(key, THEME_LABELS[key]) for key in THEMES],
                        validators=[DataRequired(message=_l("Choose a theme."))])
    photo = FileField(_l("Photo (optional)"))
    contact = StringField(_l("Phone or WeChat (optional, seen only by the committee staff)"), validators=[Optional(), Length(max=100)])


class AcceptForm(DepartmentChoice, Form):
    round_id = SelectField(_l("Deputies’ vote"), coerce=int, validators=[DataRequired()])
    investment = DecimalField(_l("Investment (10,000 yuan)"), places=2, validators=[Optional(), NumberRange(min=0, max=10**9)])
    planned_completion = DateField(_l("Planned completion"), validators=[Optional()])


class MergeForm(Form):
    into = StringField(_l("Tracking code of the proposal it repeats"), validators=[
        DataRequired(message=_l("Enter the tracking code of the proposal it repeats.")),
        Length(max=20, message=_l("A tracking code has 10 letters and digits."))])


class EntryForm(ProposalForm):
    """Staff enter a proposal on a resident's behalf: how it reached them, and the station if any."""

    channel = SelectField(_l("How it reached you"), choices=[SelectChoice("", _l("Choose…"))] + [SelectChoice(key, CHANNEL_LABELS[key]) for key in CHANNELS],
                          validators=[DataRequired(message=_l("Choose how the proposal reached you."))])
    station_id = SelectField(_l("Liaison station"), coerce=int, validators=[Optional()])
    contact = StringField(_l("Proposer’s phone or WeChat (optional, staff only)"), validators=[Optional(), Length(max=100)])

    def offer_stations(self, stations) -> None:
        self.station_id.choices = [SelectChoice(0, _l("No station"))] + [SelectChoice(s.id, s.name) for s in stations]


class DeclineForm(Form):
    reasons = SelectMultipleField(_l("Reasons (the proposer reads them)"), coerce=int,
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
                                  validators=[DataRequired(message=_l("Choose at least one reason from the list."))])
    explanation = TextAreaField(_l("Explanation (optional, the proposer reads it)"), validators=[Optional(), Length(max=2000)])

    def offer_reasons(self, reasons) -> None:
        self.reasons.choices = [SelectChoice(r.id, r.label) for r in reasons]


class ReasonForm(Form):
    label = StringField(_l("Reason (Chinese)"), validators=[DataRequired(), Length(max=100)])
    label_en = StringField(_l("Reason in English (optional)"), validators=[Optional(), Length(max=100)])


class StationForm(Form):
    name = StringField(_l("Station name"), validators=[DataRequired(), Length(max=200)])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)])


class ReserveForm(Form):
    note = TextAreaField(_l("Why it is kept (staff only)"), validators=[DataRequired(), Length(min=4, max=2000)])


class WindowForm(Form):
    year = IntegerField(_l("Year"), validators=[DataRequired(), NumberRange(min=2000, max=2100)])
    opens_on = DateField(_l("Collection opens"), validators=[DataRequired()])
    closes_on = DateField(_l("Collection closes"), validators=[DataRequired()])
