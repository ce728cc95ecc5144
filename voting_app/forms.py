"""Forms shared by several areas, and the base every form of the app derives from."""

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired

from voting_app.web import MAX_ID


class Form(FlaskForm):
    """Every form of the app. A page often carries many forms (a button per row), and each
    renders the same hidden CSRF token: without an id, so the page keeps its ids unique."""

    class Meta:
        def render_field(self, field, render_kw):
            if field.type == "CSRFTokenField":
                render_kw = {**render_kw, "id": False}
            return super().render_field(field, render_kw)


class ButtonForm(Form):
    """A form with nothing but the CSRF token, for POST buttons."""


class SealedTableForm(Form):
    """An import preview's Import button: carries the checked table, signed
    (voting_app.table_files.seal_table), so the import stores exactly what the preview showed."""

    table = HiddenField(validators=[DataRequired()])


def record_id(value) -> int:
    """Coerce a select's value to a row id; one beyond what an INTEGER column holds names no row
    (WTForms reports the ValueError as an invalid choice) instead of overflowing the driver."""
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError("not a row id")
    return number
