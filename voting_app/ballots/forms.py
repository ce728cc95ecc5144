from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from voting_app.ballots.counting import BASE_ROSTER, BASE_VOTERS, CHOOSE_UP_TO, FOR_AGAINST, RANK, SATISFACTION
from voting_app.ballots.models import ELECTRONIC, PAPER
from voting_app.ballots.profile_rules import RuleProfile
from voting_app.forms import Form, record_id
from voting_app.labels import method_labels
from voting_app.projects.forms import DepartmentChoice


# In the order the round form offers them; a congress's 票决办法 may allow fewer.
FORM_METHODS = (CHOOSE_UP_TO, FOR_AGAINST, RANK, SATISFACTION)
METHOD_CHOICES = [SelectChoice(method, method_labels()[method]) for method in FORM_METHODS]
BASE_CHOICES = [
    SelectChoice(BASE_ROSTER, _l("The whole roster (usual rule)")),
    SelectChoice(BASE_VOTERS, _l("The ballots returned")),
]
MODE_CHOICES = [
    SelectChoice(ELECTRONIC, _l("Electronic, on deputies' phones")),
    SelectChoice(PAPER, _l("Paper, keyed in by scrutineers")),
]


class RoundForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    method = SelectField(_l("Ballot method"), choices=METHOD_CHOICES)
    seats = IntegerField(_l("Seats (projects to decide)"), validators=[DataRequired(), NumberRange(min=1, max=500)])
    threshold_base = SelectField(_l("Base for passing"), choices=BASE_CHOICES)
    mode = SelectField(_l("Voting"), choices=MODE_CHOICES)
    satisfaction_bar = IntegerField(
        _l("Satisfaction bar (%), for assessments"), default=60, validators=[DataRequired(), NumberRange(min=1, max=100)]
    )

    def follow_rules(self, rules: RuleProfile, is_new: bool) -> None:
        """Offer only the methods the 票决办法 allows; a new round starts from its pass base and bar."""
        self.method.choices = [choice for choice in METHOD_CHOICES if rules.allows(choice.value)]
        if is_new:
            self.threshold_base.data = rules.pass_base
            if rules.satisfaction_bar is not None:
                self.satisfaction_bar.data = rules.satisfaction_bar


class CandidateForm(DepartmentChoice, Form):
    name = StringField(_l("Project name"), validators=[DataRequired(), Length(max=200)])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=2000)])
    investment = DecimalField(
        _l("Investment (10,000 yuan)"), places=2, validators=[Optional(), NumberRange(min=0, max=10**9)]
    )
    planned_completion = DateField(_l("Planned completion"), validators=[Optional()])


class CloseForm(Form):
    issued = IntegerField(_l("Paper ballots issued"), validators=[Optional(), NumberRange(min=0, max=100000)])


class ProjectCandidateForm(Form):
    project_id = SelectField(_l("Delivered project to assess"), coerce=record_id, validate_choice=False)


class KeyCeremonyForm(Form):
    """How the session's key is split: any `threshold` of `share_count` shares open the ballots."""

    threshold = IntegerField(
        _l("Shares needed to open the ballots"), default=2, validators=[DataRequired(), NumberRange(min=1, max=16)]
    )
    share_count = IntegerField(_l("Shares to print"), default=3, validators=[DataRequired(), NumberRange(min=1, max=16)])
    holders = TextAreaField(
        _l("Who holds each share (one name a line, in order; may be left empty)"),
        validators=[Optional(), Length(max=2000)],
    )


class PaperSwitchForm(Form):
    """The presiding officer's switch of an open round to paper; the service checks the reason."""

    reason = TextAreaField(_l("Why the round continues on paper"), validators=[Optional()])


class VoidRequestForm(Form):
    """The presiding officer's request to declare a round void; the service checks the reason."""

    reason = TextAreaField(_l("Why the round is to be declared void"), validators=[Optional()])
