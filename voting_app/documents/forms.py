from flask_babel import lazy_gettext as _l
from wtforms import DateField, MultipleFileField, StringField
from wtforms.validators import DataRequired, Length

from voting_app.documents.service import ADOPTED_BY_MAX, MAX_REPORT_PHOTOS
from voting_app.forms import Form


class AdoptionForm(Form):
    adopted_on = DateField(_l("Adopted on"), validators=[DataRequired()])
    adopted_by = StringField(_l("Adopted by (the body)"), validators=[DataRequired(), Length(max=ADOPTED_BY_MAX)])


class ReportPhotoForm(Form):
    photos = MultipleFileField(_l("Photos of the signed report (JPEG, PNG or WebP, up to 4 at a time, %(most)s in all)",
                                  most=MAX_REPORT_PHOTOS))
