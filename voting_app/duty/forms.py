from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField
from wtforms.validators import Length

from voting_app.forms import Form


class DutyExportForm(Form):
    """The Excel export of the duty table as filtered; contacts only when ticked (audited)."""

    delegation = HiddenField(validators=[Length(max=100)])
    level = HiddenField(validators=[Length(max=20)])
    include_contacts = BooleanField(_l("Include the deputies’ contacts (recorded in the audit log)"))
