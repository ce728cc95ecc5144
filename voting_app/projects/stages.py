"""Stage names shown to users, in one place."""

from flask_babel import lazy_gettext as _l

from voting_app.projects.models import ACCEPTED, APPROVED, IN_PROGRESS, OPERATING

STAGE_LABELS = {
    APPROVED: _l("Approved (立项)"),
    IN_PROGRESS: _l("Under way (实施)"),
    OPERATING: _l("In operation (运营)"),
    ACCEPTED: _l("Accepted (验收)"),
}
