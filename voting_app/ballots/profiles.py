"""A congress's 票决办法 kept as versions, and the words that show it. Services flush; the caller commits.

The rules themselves are in `profile_rules` (pure); this module stores them, says them in the
reader's language, and names what is wrong with a profile field by field."""

from dataclasses import dataclass

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from voting_app import audit
from voting_app.ballots import profile_rules as rules
from voting_app.ballots.models import RuleProfileVersion
from voting_app.ballots.profile_rules import Problem, RuleProfile, Share
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.labels import method_labels
from voting_app.registry.models import Congress
from voting_app.table_files import seal_table, unseal_table

NOTE_MAX = 200


class ProfileError(DomainError):
    """A profile that cannot be stored, with every problem (field, code) found in it."""

    def __init__(self, problems: list[Problem]):
        super().__init__(_l("The rule profile was not saved: correct the settings marked."))
        self.problems = problems


# ---- storage -------------------------------------------------------------------------------


def versions(congress: Congress) -> list[RuleProfileVersion]:
    """Newest first."""
    return list(
        db.session.scalars(
            select(RuleProfileVersion).where(RuleProfileVersion.congress_id == congress.id).order_by(RuleProfileVersion.number.desc())
        )
    )


def current_version(congress_id: int) -> RuleProfileVersion | None:
    return db.session.scalar(
        select(RuleProfileVersion)
        .where(RuleProfileVersion.congress_id == congress_id)
        .order_by(RuleProfileVersion.number.desc())
        .limit(1)
    )


def version(congress: Congress, number: int) -> RuleProfileVersion | None:
    return db.session.scalar(
        select(RuleProfileVersion).where(RuleProfileVersion.congress_id == congress.id, RuleProfileVersion.number == number)
    )


def profile_in_force(congress_id: int) -> tuple[RuleProfile, RuleProfileVersion | None]:
    """The congress's newest version and its profile; the defaults when it has none."""
    newest = current_version(congress_id)
    return (newest.profile if newest is not None else rules.DEFAULT_PROFILE), newest


def save_profile(actor: str, congress: Congress, profile: RuleProfile, note: str = "", action: str = "rule_profile.save") -> RuleProfileVersion:
    """Store `profile` as the congress's next version. Nothing is stored when it is not valid
    (ProfileError, with each problem) or when it is the profile already in force. Rounds that
    exist keep their own copies: nothing else changes."""
    problems = rules.validate(profile)
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        problems.append(("note", rules.RANGE))
    if problems:
        raise ProfileError(problems)
    before, newest = profile_in_force(congress.id)
    changed = rules.differences(before, profile)
    if newest is not None and not changed:
        raise DomainError(_l("This is the profile already in force: nothing to save."))
    number = db.session.scalar(
        select(func.coalesce(func.max(RuleProfileVersion.number), 0)).where(RuleProfileVersion.congress_id == congress.id)
    ) + 1
    saved = RuleProfileVersion(congress_id=congress.id, number=number, document=rules.to_json(profile), note=note, created_by=actor)
    db.session.add(saved)
    db.session.flush()
    audit.record(
        actor, action, f"congress:{congress.id}", version=number, changed=changed, note=note, profile=rules.to_document(profile)
    )
    return saved


# ---- import: the file, checked, then stored as the preview showed it -----------------------

PREVIEW_SALT = "rule-profile-import"


@dataclass(frozen=True)
class ImportPreview:
    """What importing a checked file would change, against the version it was checked on."""

    profile: RuleProfile
    changed: list[str]
    base_number: int  # 0: the congress had no version, so the defaults


def preview_import(congress: Congress, data: bytes) -> tuple[ImportPreview | None, list[Problem]]:
    profile, problems = rules.from_json(data)
    if profile is None:
        return None, problems
    before, newest = profile_in_force(congress.id)
    return ImportPreview(profile, rules.differences(before, profile), newest.number if newest else 0), []


def seal_preview(secret: str, congress: Congress, preview: ImportPreview) -> str:
    """The checked profile for the preview's Import button, tied to this congress and to the
    version it was compared with (`table_files.seal_table`)."""
    return seal_table(secret, f"{PREVIEW_SALT}:{congress.id}", [preview.base_number, rules.to_document(preview.profile)])


def import_sealed(actor: str, congress: Congress, secret: str, sealed: str, note: str = "") -> RuleProfileVersion | None:
    """Store the profile the preview showed; None when the preview is not one (altered, another
    congress's, too old) or the profile has changed since it was made, so its differences no
    longer tell the truth."""
    opened = unseal_table(secret, f"{PREVIEW_SALT}:{congress.id}", sealed)
    if not isinstance(opened, list) or len(opened) != 2:
        return None
    base_number, document = opened
    profile, problems = rules.from_document(document)
    newest = current_version(congress.id)
    if profile is None or base_number != (newest.number if newest else 0):
        return None
    return save_profile(actor, congress, profile, note, action="rule_profile.import")


# ---- words -----------------------------------------------------------------------------------

SETTING_LABELS = {
    "quorum": _l("Quorum"),
    "pass_base": _l("Base for passing"),
    "pass_rule": _l("Votes to pass"),
    "margin": _l("Minimum 差额"),
    "tie": _l("Tie for the last place"),
    "shortfall": _l("Fewer pass than there are places"),
    "methods": _l("Ballot methods allowed"),
    "assessment": _l("Satisfaction assessment"),
    "requires_adoption": _l("Adoption before the vote"),
}
FIELD_LABELS = {
    "": _l("The file"),
    "format": _l("Format"),
    "quorum.rule": _l("Quorum: more than or at least"),
    "quorum.fraction": _l("Quorum: fraction of the roster"),
    "pass_rule.rule": _l("Votes to pass: more than or at least"),
    "pass_rule.fraction": _l("Votes to pass: fraction of the base"),
    "margin.extra_candidates": _l("Minimum 差额: candidates more than places"),
    "margin.extra_percent": _l("Minimum 差额: percent more than places"),
    "assessment.grading": _l("Satisfaction assessment: grading"),
    "assessment.satisfaction_bar": _l("Satisfaction assessment: bar (%)"),
    "note": _l("Note"),
    **SETTING_LABELS,
}


def field_label(field: str) -> str:
    """A setting's name for a list of problems; a key this version does not know, as written."""
    return str(FIELD_LABELS.get(field, field))


_CHOICE_MESSAGES = {
    "quorum.rule": _l("Choose “more than” (more_than) or “at least” (at_least)."),
    "pass_rule.rule": _l("Choose “more than” (more_than) or “at least” (at_least)."),
    "pass_base": _l("Choose the whole roster (roster) or the ballots returned (voters)."),
    "tie": _l("Choose a further vote among the tied (runoff) or none."),
    "shortfall": _l("Choose a further round (further_round) or none."),
    "methods": _l("Unknown ballot method: the methods are choose_up_to, for_against, satisfaction and rank."),
    "assessment.grading": _l("Choose the bar (bar) or the three grades (tiers)."),
}


def problem_message(field: str, code: str) -> str:
    """What is wrong, in the reader's language, for one (field, code) of `profile_rules`."""
    if code == rules.CHOICE:
        return str(_CHOICE_MESSAGES.get(field, _l("This value is not one of the choices.")))
    if code == rules.UNKNOWN and field == "assessment.satisfaction_bar":
        return str(_l("An assessment graded in three grades has no bar: leave the bar out."))
    if code == rules.RANGE and field == "note":
        return str(_l("Keep the note to %(count)s characters.", count=NOTE_MAX))
    if code == rules.RANGE and field == "margin.extra_candidates":
        return str(_l("A whole number from 0 to %(max)s.", max=rules.MAX_EXTRA_CANDIDATES))
    if code == rules.RANGE:
        return str(_l("A whole percentage from 0 to 100."))
    if code == rules.NOT_OBJECT and field == "":
        return str(_l("The file must hold one rule profile in braces { }."))
    if code == rules.DUPLICATE and field == "methods":
        return str(_l("A method is listed twice."))
    messages = {
        rules.MISSING: _l("This setting is missing."),
        rules.UNKNOWN: _l("This is not a setting of a rule profile."),
        rules.NOT_OBJECT: _l("This must be a group of settings in braces { }."),
        rules.NOT_TEXT: _l("This must be text in quotes."),
        rules.NOT_INTEGER: _l("This must be a whole number."),
        rules.NOT_BOOLEAN: _l("This must be true or false."),
        rules.NOT_LIST: _l("This must be a list in brackets [ ]."),
        rules.FRACTION: _l("Write a fraction such as 1/2 or 2/3: whole numbers, the top no larger than the bottom, the bottom at most 100."),
        rules.IMPOSSIBLE: _l("“More than” all of them can never be reached: choose a smaller fraction, or “at least”."),
        rules.EMPTY: _l("Allow at least one ballot method."),
        rules.DUPLICATE: _l("This setting is given twice in the file."),
        rules.NOT_JSON: _l("This file cannot be read as a rule profile (JSON, UTF-8). Export a profile to see the form it takes."),
        rules.WRONG_FORMAT: _l("This file is not a rule profile of the form this version reads (format rule-profile/1)."),
        rules.TOO_LARGE: _l("This file is too large to be a rule profile."),
    }
    return str(messages.get(code, _l("This value is not valid.")))


_DIGITS = "零一二三四五六七八九"


def chinese_number(number: int) -> str:
    """1..100 as written in a fraction (三分之二, 十分之一, 二十分之三)."""
    if number == 100:
        return "一百"
    tens, units = divmod(number, 10)
    if tens == 0:
        return _DIGITS[units]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[units] if units else "")


def in_chinese() -> bool:
    return str(get_locale()).startswith("zh")


def fraction_words(share: Share) -> str:
    """二分之一 in Chinese, 1/2 in English."""
    if in_chinese():
        return f"{chinese_number(share.denominator)}分之{chinese_number(share.numerator)}"
    return share.fraction


def pass_rule_words(profile: RuleProfile) -> str:
    """How a candidate passes under a round's copy of the rules, in words: its pass rule on its
    base ("passes with at least 2/3 of the roster", 以不少于全体应到代表三分之二通过). The usual
    rule keeps its own words (more than half, 过半数)."""
    roster = profile.pass_base == rules.BASE_ROSTER
    share = profile.pass_rule
    if share == rules.MORE_THAN_HALF:
        return str(
            _l("passes with more than half of the roster") if roster else _l("passes with more than half of the ballots returned")
        )
    fraction = fraction_words(share)
    if share.rule == rules.MORE_THAN:
        words = (
            _l("passes with more than %(fraction)s of the roster", fraction=fraction)
            if roster
            else _l("passes with more than %(fraction)s of the ballots returned", fraction=fraction)
        )
    else:
        words = (
            _l("passes with at least %(fraction)s of the roster", fraction=fraction)
            if roster
            else _l("passes with at least %(fraction)s of the ballots returned", fraction=fraction)
        )
    return str(words)


def method_list(methods) -> str:
    """Ballot methods by name, listed as the reader's language lists things."""
    labels = method_labels()
    return ("、" if in_chinese() else "; ").join(str(labels.get(method, method)) for method in methods)


def describe(profile: RuleProfile) -> dict[str, str]:
    """Each setting of the profile in plain words, by the names `profile_rules.settings` uses."""
    fraction = fraction_words(profile.quorum)
    quorum = (
        _l("More than %(fraction)s of the roster present", fraction=fraction)
        if profile.quorum.rule == rules.MORE_THAN
        else _l("At least %(fraction)s of the roster present", fraction=fraction)
    )
    fraction = fraction_words(profile.pass_rule)
    pass_rule = (
        _l("More than %(fraction)s of the base", fraction=fraction)
        if profile.pass_rule.rule == rules.MORE_THAN
        else _l("At least %(fraction)s of the base", fraction=fraction)
    )
    margin = profile.margin
    if margin.extra_candidates == 0 and margin.extra_percent == 0:
        margin_words = _l("None: as many candidates as places is allowed (等额)")
    else:
        margin_words = _l(
            "At least %(extra)s more candidates than places, and at least %(percent)s%% more",
            extra=margin.extra_candidates,
            percent=margin.extra_percent,
        )
    if profile.grading == rules.GRADING_BAR:
        assessment = _l("A project rated under %(bar)s%% goes to rectification (整改)", bar=profile.satisfaction_bar)
    else:
        assessment = _l(
            "Three grades on the base: 满意 with more than half of it, otherwise 基本满意 with 满意 and 基本满意 together "
            "more than half, otherwise 不满意, which goes to rectification (整改)"
        )
    return {
        "quorum": str(quorum),
        "pass_base": str(
            _l("The whole roster (全体代表)") if profile.pass_base == rules.BASE_ROSTER else _l("The ballots returned")
        ),
        "pass_rule": str(pass_rule),
        "margin": str(margin_words),
        "tie": str(
            _l("A further vote among exactly the tied candidates")
            if profile.tie == rules.TIE_RUNOFF
            else _l("No further vote among the tied candidates")
        ),
        "shortfall": str(
            _l("A further round may fill the rest from the remaining candidates")
            if profile.shortfall == rules.SHORTFALL_FURTHER
            else _l("No further round: the places stay unfilled")
        ),
        "methods": method_list(profile.methods),
        "assessment": str(assessment),
        "requires_adoption": str(
            _l("The 票决办法 must be adopted before a round opens")
            if profile.requires_adoption
            else _l("No adoption needed before a round opens")
        ),
    }


def described_settings(profile: RuleProfile) -> list[tuple[str, str]]:
    """(label, words) for each setting, in the document's order: the profile in plain words."""
    words = describe(profile)
    return [(str(SETTING_LABELS[name]), words[name]) for name in rules.settings(profile)]
