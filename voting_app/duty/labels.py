"""The words the duty pages and the export use for stored codes."""

from flask_babel import lazy_gettext as _l

from voting_app.registry import duty
from voting_app.registry.labels import deputy_level_labels, office_change_labels

# The registry's words, one home (voting_app.registry.labels).
LEVEL_LABELS = deputy_level_labels()
OFFICE_CHANGE_LABELS = office_change_labels()
# Check-in methods (sessions.service DESK, VENUE_CODE): the desk, or the code on the venue screen (kiosk).
CHECKIN_METHOD_LABELS = {
    "desk": _l("At the desk"),
    "venue_code": _l("Venue screen code"),
}
STANDING_LABELS = {
    duty.ATTENDED: _l("Attended"),
    duty.ABSENT: _l("Absent"),
    duty.NOT_DUE: _l("Not on its roster"),
    duty.NOT_HELD: _l("No check-in held yet"),
}


def label(labels: dict, code: str | None) -> str:
    """The label of a code, or the code itself when it has none (an older or newer value)."""
    return str(labels.get(code, code or ""))
