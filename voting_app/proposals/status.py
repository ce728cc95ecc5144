"""Words for a proposal's status, in one place."""

from flask_babel import lazy_gettext as _l

from voting_app.proposals.models import ACCEPTED, DECLINED, MERGED, RECEIVED, RESERVED

STATUS_LABELS = {
    RECEIVED: _l("Received, being screened"),
    ACCEPTED: _l("Accepted as a candidate project"),
    MERGED: _l("Merged with a similar proposal"),
    DECLINED: _l("Not taken up"),
    RESERVED: _l("Kept in the reserve for next year"),
}
