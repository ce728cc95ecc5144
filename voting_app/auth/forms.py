from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Regexp

from voting_app.forms import Form
from voting_app.permissions import ACCOUNT_ROLES, DEPARTMENT_OFFICER, GRID_WORKER, PRESIDING, SCRUTINEER, STAFF
from voting_app.projects.forms import DepartmentChoice


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])


class PinForm(Form):
    pin = PasswordField(
        _l("PIN"),
        validators=[DataRequired(), Regexp(r"^\s*\d{4,8}\s*$", message=_l("The PIN is the digits printed on your PIN slip."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


ROLE_LABELS = {
    STAFF: _l("Committee staff"),
    PRESIDING: _l("Presiding officer"),
    SCRUTINEER: _l("Scrutineer"),
    GRID_WORKER: _l("Community grid worker"),
    DEPARTMENT_OFFICER: _l("Department officer (承办单位)"),
}
ROLE_CHOICES = [SelectChoice(role, ROLE_LABELS[role]) for role in ACCOUNT_ROLES]


class AccountForm(DepartmentChoice, Form):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64), Regexp(r"^[A-Za-z0-9_.-]+$")])
    display_name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=10, max=200)])


class CodeForm(Form):
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(), Regexp(r"^\s*[0-9]{3}\s?[0-9]{3}\s*$", message=_l("The code is the six digits your authenticator app shows."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "8"},
    )


class SecondFactorForm(CodeForm):
    """Turning the code on or off: the password too, so a session alone cannot do it."""

    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
