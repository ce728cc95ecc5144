"""The words the duty pages and the export use for stored codes."""

from flask_babel import lazy_gettext as _l

from voting_app.registry import duty
from voting_app.registry.terms import (
    DECEASED,
    DISTRICT,
    ELECTED,
    MOVED,
    MUNICIPAL,
    NATIONAL,
    OTHER,
    PROVINCIAL,
    RECALLED,
    RESIGNED,
    TOWN,
)

LEVEL_LABELS = {
    NATIONAL: _l("National"),
    PROVINCIAL: _l("Provincial"),
    MUNICIPAL: _l("Municipal"),
    DISTRICT: _l("District"),
    TOWN: _l("Town"),
}
OFFICE_CHANGE_LABELS = {
    ELECTED: _l("Elected in a by-election"),
    RESIGNED: _l("Resigned"),
    RECALLED: _l("Recalled"),
    DECEASED: _l("Deceased"),
    MOVED: _l("Moved away"),
    OTHER: _l("Other change in office"),
}
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
