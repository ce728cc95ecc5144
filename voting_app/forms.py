"""Forms shared by several areas."""

from flask_wtf import FlaskForm


class ButtonForm(FlaskForm):
    """A form with nothing but the CSRF token, for POST buttons."""
