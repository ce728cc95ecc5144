from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from voting_app.forms import Form, SealedTableForm
from voting_app.projects.forms import optional_id
from voting_app.registry.group_rules import AD_HOC, GROUP_KINDS, NAME_MAX, NOTE_MAX, PROFESSIONAL, REGIONAL

KIND_LABELS = {REGIONAL: _l("By place"), PROFESSIONAL: _l("Professional"), AD_HOC: _l("Ad hoc, for supervision")}


class GroupForm(Form):
    name = StringField(_l("Group name"), validators=[DataRequired(), Length(max=NAME_MAX)])
    kind = SelectField(_l("Group kind"), choices=[SelectChoice(kind, KIND_LABELS[kind]) for kind in GROUP_KINDS])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=NOTE_MAX)])
    convener_id = SelectField(_l("Convener"), coerce=optional_id, validate_choice=False)

    def offer_conveners(self, members) -> None:
        self.convener_id.choices = [SelectChoice("", str(_l("— Not chosen —")))] + [
            SelectChoice(deputy.id, f"{deputy.number} {deputy.name}") for deputy in members
        ]


class BulkMembersForm(Form):
    numbers = TextAreaField(
        _l("Deputy numbers, one a line"), validators=[DataRequired(message=_l("Paste at least one deputy number."))]
    )


class MembershipImportForm(Form):
    file = FileField(
        _l("Membership file (CSV or Excel .xlsx)"),
        validators=[
            FileRequired(_l("Choose a file to import.")),
            FileAllowed(["csv", "xlsx", "txt"], _l("Only CSV or Excel (.xlsx) files can be imported.")),
        ],
    )


MembershipConfirmForm = SealedTableForm
