"""Forms of the grid pages, and the grid and level choices other features' forms use."""

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice

from voting_app.forms import Form, record_id
from voting_app.labels import grid_level_labels
from voting_app.registry import grid_service
from voting_app.registry.grids import LEVELS, UNIT


class GridFileForm(Form):
    file = FileField(
        _l("Grid list (CSV or Excel .xlsx)"),
        validators=[
            FileRequired(_l("Choose a file to import.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Only CSV or Excel (.xlsx) files can be imported.")),
        ],
    )


class BoundaryFileForm(Form):
    file = FileField(
        _l("Grid boundaries (GeoJSON FeatureCollection)"),
        validators=[
            FileRequired(_l("Choose a file to import.")),
            FileAllowed(["geojson", "json"], _l("Only GeoJSON (.geojson or .json) files can be imported.")),
        ],
    )


def optional_grid(value):
    return record_id(value) if value not in (None, "", "None") else None


def grid_field(label=None) -> SelectField:
    """A select of every grid (or none), its choices set by `fill_grid_choices`."""
    return SelectField(label or _l("Grid"), coerce=optional_grid, validate_choice=True)


def fill_grid_choices(field) -> None:
    field.choices = [SelectChoice("", _l("No grid")),
                     *(SelectChoice(grid_id, label, optgroup=centre or None) for grid_id, label, centre in grid_service.choices())]


def level_choices() -> list[SelectChoice]:
    labels = grid_level_labels()
    return [SelectChoice(level, labels[level]) for level in LEVELS]


class LevelForm(Form):
    """The level a split by grid is shown at: a GET form, so no CSRF token."""

    class Meta:
        csrf = False

    level = SelectField(_l("Level"), coerce=int, default=UNIT)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.level.choices = level_choices()


class GridChoiceForm(Form):
    grid_id = grid_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        fill_grid_choices(self.grid_id)


def chosen_level(args) -> tuple[LevelForm, int]:
    """The level a page splits by, from its query string (`?level=1|2|3`); unit grids unless
    a valid one is asked for."""
    form = LevelForm(formdata=args)
    level = form.level.data if "level" in args and form.validate() else UNIT
    form.level.data = level
    return form, level


class HouseholdFileForm(Form):
    file = FileField(
        _l("Household list (CSV or Excel .xlsx: 地址, 网格编码)"),
        validators=[
            FileRequired(_l("Choose a file to import.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Only CSV or Excel (.xlsx) files can be imported.")),
        ],
    )
