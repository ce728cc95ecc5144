from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateTimeLocalField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from surveys.models import MULTIPLE, OPEN_MODE, RATING, SATISFACTION, SINGLE, TEXT, TOKENED
from voting_app.forms import Form
from voting_app.registry.grid_forms import fill_grid_choices, grid_field
from voting_app.projects.models import APPROVED, IN_PROGRESS, OPERATING

MODE_CHOICES = [
    SelectChoice(OPEN_MODE, _l("Open: anyone with the QR code, one answer per phone")),
    SelectChoice(TOKENED, _l("With household codes: each printed code answers once")),
]
STAGE_CHOICES = [
    SelectChoice("", _l("Not tied to a stage")),
    SelectChoice(APPROVED, _l("Approved (立项)")),
    SelectChoice(IN_PROGRESS, _l("Under way (实施)")),
    SelectChoice(OPERATING, _l("In operation (运营)")),
]
KIND_CHOICES = [
    SelectChoice(SATISFACTION, _l("Satisfied / mostly satisfied / dissatisfied")),
    SelectChoice(SINGLE, _l("Single choice")),
    SelectChoice(MULTIPLE, _l("Multiple choice")),
    SelectChoice(RATING, _l("Rating from 1 to 5")),
    SelectChoice(TEXT, _l("Free text")),
]


class SurveyForm(Form):
    title = StringField(_l("Survey title"), validators=[DataRequired(), Length(max=200)])
    intro = TextAreaField(_l("Introduction shown to residents"), validators=[Optional(), Length(max=1000)])
    project_id = SelectField(_l("Project"), coerce=lambda value: int(value) if value else None)
    stage = SelectField(_l("Project stage"), choices=STAGE_CHOICES)
    mode = SelectField(_l("Who may answer"), choices=MODE_CHOICES)
    opens_at = DateTimeLocalField(_l("Opens at (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    closes_at = DateTimeLocalField(_l("Closes at (Beijing time)"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    threshold_percent = IntegerField(
        _l("Rectification bar (%)"), default=60, validators=[DataRequired(), NumberRange(min=1, max=100)]
    )
    hold_after = IntegerField(
        _l("Answers counted per network address per day"),
        default=5,
        validators=[Optional(), NumberRange(min=1, max=1000)],
    )
    use_template = BooleanField(_l("Start from the satisfaction template"), default=True)


class QuestionForm(Form):
    kind = SelectField(_l("Kind"), choices=KIND_CHOICES)
    prompt = StringField(_l("Question"), validators=[DataRequired(), Length(max=500)])
    prompt_en = StringField(_l("Question in English (optional)"), validators=[Optional(), Length(max=500)])
    is_required = BooleanField(_l("Required"), default=True)
    options = TextAreaField(_l("Options, one per line (choice questions)"), validators=[Optional(), Length(max=4000)])
    options_en = TextAreaField(_l("Options in English, one per line in the same order (optional)"), validators=[Optional(), Length(max=4000)])
    max_length = IntegerField(_l("Longest answer in characters (free text)"), validators=[Optional(), NumberRange(min=1, max=2000)])


class QuestionEnglishForm(Form):
    prompt_en = StringField(_l("Question in English"), validators=[Optional(), Length(max=500)])
    options_en = TextAreaField(_l("Options in English, one per line in the same order"), validators=[Optional(), Length(max=4000)])


class PlacementForm(Form):
    name = StringField(_l("Where the QR code is posted"), validators=[DataRequired(), Length(max=200)])
    grid_id = grid_field(_l("Grid it hangs in"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fill_grid_choices(self.grid_id)


class CodesForm(Form):
    count = IntegerField(_l("How many household codes"), default=100, validators=[DataRequired(), NumberRange(min=1, max=5000)])
    grid_id = grid_field(_l("Grid of these households"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fill_grid_choices(self.grid_id)


class FrameForm(Form):
    """Draw a sample frame: its size (300 by default, the Zhenhai practice) and its grids."""

    size = IntegerField(_l("Households to draw"), default=300, validators=[DataRequired(), NumberRange(min=1, max=5000)])
    scope_id = grid_field(_l("From the households of"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fill_grid_choices(self.scope_id)
        self.scope_id.choices[0] = SelectChoice("", _l("Every grid"))
