"""Forms shared by several areas."""

from flask_wtf import FlaskForm

from voting_app.web import MAX_ID


class ButtonForm(FlaskForm):
    """A form with nothing but the CSRF token, for POST buttons."""


def record_id(value) -> int:
    """Coerce a select's value to a row id; one beyond what an INTEGER column holds names no row
    (WTForms reports the ValueError as an invalid choice) instead of overflowing the driver."""
    number = int(value)
    if not 0 < number <= MAX_ID:
        raise ValueError("not a row id")
    return number
