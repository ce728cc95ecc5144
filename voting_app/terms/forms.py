from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, HiddenField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from voting_app.ballots.counting import BASE_ROSTER, BASE_VOTERS, GRADING_BAR, GRADING_TIERS
from voting_app.ballots.profile_rules import (
    AT_LEAST,
    FORMAT,
    MORE_THAN,
    SHORTFALL_FURTHER,
    SHORTFALL_NONE,
    TIE_NONE,
    TIE_RUNOFF,
    RuleProfile,
)
from voting_app.forms import Form
from voting_app.labels import method_labels
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


# ---- the 票决办法 (rule profile) of a congress ------------------------------------------------


def _share_choices():
    return [SelectChoice(MORE_THAN, _l("More than")), SelectChoice(AT_LEAST, _l("At least"))]


def _whole_number(text: str | None):
    """A typed whole number as a number; anything else as typed, which the rules then name."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 9 else text


class RuleProfileForm(Form):
    """The profile's settings. Every check is the rules' own (`profile_rules.from_document`),
    so the form and an imported file are held to the same rules with the same words."""

    quorum_rule = SelectField(_l("Quorum: present"), choices=_share_choices, validate_choice=False)
    quorum_fraction = StringField(_l("Quorum: fraction of the roster"), validators=[Length(max=10)])
    pass_base = SelectField(
        _l("Base for passing"),
        choices=lambda: [SelectChoice(BASE_ROSTER, _l("The whole roster (全体代表)")), SelectChoice(BASE_VOTERS, _l("The ballots returned"))],
        validate_choice=False,
    )
    pass_rule = SelectField(_l("Votes to pass"), choices=_share_choices, validate_choice=False)
    pass_fraction = StringField(_l("Votes to pass: fraction of the base"), validators=[Length(max=10)])
    extra_candidates = StringField(_l("Candidates at least this many more than places"), validators=[Length(max=10)])
    extra_percent = StringField(_l("Candidates at least this percent more than places"), validators=[Length(max=10)])
    tie = SelectField(
        _l("Tie for the last place"),
        choices=lambda: [
            SelectChoice(TIE_RUNOFF, _l("A further vote among exactly the tied candidates")),
            SelectChoice(TIE_NONE, _l("No further vote among the tied candidates")),
        ],
        validate_choice=False,
    )
    shortfall = SelectField(
        _l("Fewer pass than there are places"),
        choices=lambda: [
            SelectChoice(SHORTFALL_FURTHER, _l("A further round may fill the rest from the remaining candidates")),
            SelectChoice(SHORTFALL_NONE, _l("No further round: the places stay unfilled")),
        ],
        validate_choice=False,
    )
    methods = SelectMultipleField(
        _l("Ballot methods allowed"),
        choices=lambda: [SelectChoice(method, label) for method, label in method_labels().items()],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
        validate_choice=False,
    )
    grading = SelectField(
        _l("Satisfaction assessment: grading"),
        choices=lambda: [
            SelectChoice(GRADING_BAR, _l("A bar: under it, rectification (整改)")),
            SelectChoice(GRADING_TIERS, _l("Three grades 满意 / 基本满意 / 不满意 on the base (Zhenhai)")),
        ],
        validate_choice=False,
    )
    satisfaction_bar = StringField(_l("Satisfaction assessment: bar (%)"), validators=[Length(max=10)])
    requires_adoption = BooleanField(_l("The 票决办法 must be adopted before a round opens"))
    note = StringField(_l("Note (what changed and on whose decision)"), validators=[Optional(), Length(max=200)])

    # Where each setting of the document is entered.
    FIELDS = {
        "quorum": "quorum_fraction",
        "quorum.rule": "quorum_rule",
        "quorum.fraction": "quorum_fraction",
        "pass_base": "pass_base",
        "pass_rule": "pass_fraction",
        "pass_rule.rule": "pass_rule",
        "pass_rule.fraction": "pass_fraction",
        "margin.extra_candidates": "extra_candidates",
        "margin.extra_percent": "extra_percent",
        "tie": "tie",
        "shortfall": "shortfall",
        "methods": "methods",
        "assessment.grading": "grading",
        "assessment.satisfaction_bar": "satisfaction_bar",
        "requires_adoption": "requires_adoption",
        "note": "note",
    }

    def fill(self, profile: RuleProfile) -> None:
        self.quorum_rule.data, self.quorum_fraction.data = profile.quorum.rule, profile.quorum.fraction
        self.pass_base.data = profile.pass_base
        self.pass_rule.data, self.pass_fraction.data = profile.pass_rule.rule, profile.pass_rule.fraction
        self.extra_candidates.data = str(profile.margin.extra_candidates)
        self.extra_percent.data = str(profile.margin.extra_percent)
        self.tie.data, self.shortfall.data = profile.tie, profile.shortfall
        self.methods.data = list(profile.methods)
        self.grading.data = profile.grading
        self.satisfaction_bar.data = "" if profile.satisfaction_bar is None else str(profile.satisfaction_bar)
        self.requires_adoption.data = profile.requires_adoption

    def document(self) -> dict:
        """The settings as a profile document, for `profile_rules.from_document` to check."""
        assessment = {"grading": self.grading.data}
        if self.grading.data == GRADING_BAR and (self.satisfaction_bar.data or "").strip():
            assessment["satisfaction_bar"] = _whole_number(self.satisfaction_bar.data)
        return {
            "format": FORMAT,
            "quorum": {"rule": self.quorum_rule.data, "fraction": (self.quorum_fraction.data or "").strip()},
            "pass_base": self.pass_base.data,
            "pass_rule": {"rule": self.pass_rule.data, "fraction": (self.pass_fraction.data or "").strip()},
            "margin": {
                "extra_candidates": _whole_number(self.extra_candidates.data),
                "extra_percent": _whole_number(self.extra_percent.data),
            },
            "tie": self.tie.data,
            "shortfall": self.shortfall.data,
            "methods": list(self.methods.data or []),
            "assessment": assessment,
            "requires_adoption": bool(self.requires_adoption.data),
        }

    def show_problems(self, problems, message) -> None:
        """Put each problem beside the field it belongs to, in the reader's words."""
        for path, code in problems:
            self[self.FIELDS.get(path, "note")].errors.append(message(path, code))


class RuleProfileImportForm(Form):
    file = FileField(_l("Rule profile file (.json)"), validators=[FileRequired(_l("Choose a file to import."))])


class RuleProfileConfirmForm(Form):
    """The preview's Import button: the checked profile, signed, and a note."""

    profile = HiddenField(validators=[DataRequired()])
    # Its length is the service's to check (profiles.NOTE_MAX), as for a profile saved from the form.
    note = StringField(_l("Note (what changed and on whose decision)"))
