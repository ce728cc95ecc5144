"""Words for changes in office, deputies' levels and congress levels, in the reader's language,
in one place: every page, form and export of the registry takes them from here."""

from flask_babel import lazy_gettext as _l

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


def office_change_labels() -> dict:
    """补选, 辞职, 罢免, 去世, 迁出, 其他: the kinds of terms.OFFICE_CHANGE_KINDS."""
    return {
        ELECTED: _l("Elected in a by-election"),
        RESIGNED: _l("Resigned"),
        RECALLED: _l("Recalled"),
        DECEASED: _l("Deceased"),
        MOVED: _l("Moved away"),
        OTHER: _l("Other"),
    }


def deputy_level_labels() -> dict:
    """The level of a deputy (全国/省/市/区/乡镇人大代表)."""
    return {
        NATIONAL: _l("National"),
        PROVINCIAL: _l("Provincial"),
        MUNICIPAL: _l("Municipal"),
        DISTRICT: _l("District"),
        TOWN: _l("Township"),
    }


def congress_level_labels() -> dict:
    """The level of a congress: a district's (区) or a township's (乡镇)."""
    return {DISTRICT: _l("District congress"), TOWN: _l("Township congress")}
