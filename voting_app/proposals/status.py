"""Words for a proposal's status and channel, in one place."""

from flask_babel import lazy_gettext as _l

from voting_app.proposals.models import (ACCEPTED, COURTYARD, DECLINED, FROM_DEPARTMENT, FROM_DEPUTY, MERGED, ONLINE,
                                         RECEIVED, RECEPTION_DAY, RESERVED, STATION_QR)

STATUS_LABELS = {
    RECEIVED: _l("Received, being screened"),
    ACCEPTED: _l("Accepted as a candidate project"),
    MERGED: _l("Merged with a similar proposal"),
    DECLINED: _l("Not taken up"),
    RESERVED: _l("Kept in the reserve for next year"),
}

CHANNEL_LABELS = {
    STATION_QR: _l("Liaison station QR code"),
    RECEPTION_DAY: _l("Reception day"),
    COURTYARD: _l("Courtyard meeting"),
    FROM_DEPUTY: _l("Gathered by a deputy"),
    FROM_DEPARTMENT: _l("Passed on by a department"),
    ONLINE: _l("Online"),
}

# Shown for a proposal declined before reasons were chosen from the list: its text stays.
UNCLASSIFIED = _l("Unclassified")
