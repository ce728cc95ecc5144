"""A congress's voting rules (票决办法) as data: pure rules, no Flask, no database, no I/O.

A congress adopts its own 实施办法, and they differ; the profile says in one small document
what this product otherwise fixed in code. A round keeps its own copy of the profile it was
created under, so a later edit never changes a round that exists.

The document is readable JSON, versioned by its `format`:

    {"format": "rule-profile/1",
     "quorum": {"rule": "more_than", "fraction": "1/2"},
     "pass_base": "roster",
     "pass_rule": {"rule": "more_than", "fraction": "1/2"},
     "margin": {"extra_candidates": 1, "extra_percent": 20},
     "tie": "runoff",
     "shortfall": "further_round",
     "methods": ["choose_up_to", "for_against", "satisfaction", "rank"],
     "assessment": {"grading": "bar", "satisfaction_bar": 60},
     "requires_adoption": true}

Every key is required and no other is allowed: a file that says less, or something this
version does not know, is refused with the problems listed, never half-read. Problems are
`(field, code)` pairs (field a dotted path such as "quorum.fraction"); the words for them are
the caller's, in the reader's language.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace

# The share, the tie and shortfall rules are the count's (counting applies them); they are
# named here too, as the profile's settings.
from voting_app.ballots.counting import (
    AT_LEAST,
    BAD_FRACTION,
    BASE_ROSTER,
    CHOOSE_UP_TO,
    DEFAULT_SATISFACTION_BAR,
    GRADING_BAR,
    GRADING_TIERS,
    GRADINGS,
    IMPOSSIBLE_SHARE,
    METHODS,
    MORE_THAN,
    MORE_THAN_HALF,
    RANK,
    SATISFACTION,
    SHARE_RULES,
    SHORTFALL_FURTHER,
    SHORTFALL_NONE,
    SHORTFALL_RULES,
    THRESHOLD_BASES,
    TIE_NONE,
    TIE_RULES,
    TIE_RUNOFF,
    Share,
    is_int,
)

FORMAT = "rule-profile/1"
# Methods that elect candidates to places, where the 差额 between them applies.
MARGIN_METHODS = (CHOOSE_UP_TO, RANK)

MAX_EXTRA_CANDIDATES = 100
MAX_EXTRA_PERCENT = 100
# Enough for any profile written by hand or exported here; a larger file is not one.
MAX_DOCUMENT_BYTES = 20_000

# Problem codes.
MISSING, UNKNOWN, NOT_OBJECT, NOT_TEXT, NOT_INTEGER, NOT_BOOLEAN, NOT_LIST = (
    "missing", "unknown", "not_object", "not_text", "not_integer", "not_boolean", "not_list",
)
CHOICE, RANGE, EMPTY, DUPLICATE, NOT_JSON, WRONG_FORMAT, TOO_LARGE = (
    "choice", "range", "empty", "duplicate", "not_json", "wrong_format", "too_large",
)
FRACTION, IMPOSSIBLE = BAD_FRACTION, IMPOSSIBLE_SHARE

Problem = tuple[str, str]




@dataclass(frozen=True)
class Margin:
    """The minimum 差额: candidates beyond the places, as a number AND as a share of the places.

    Default: at least one more candidate than places and at least 20% more. Most published
    实施办法 ask for 差额 of 20% or more, and the one-more rule keeps a vote a choice when the
    places are few (2 places: 20% more rounds up to 3 candidates, the same; 10 places: 12)."""

    extra_candidates: int = 1
    extra_percent: int = 20

    def minimum(self, places: int) -> int:
        """The fewest candidates for `places` places (20% of 7 places rounds up: 9)."""
        return max(places + self.extra_candidates, -(-places * (100 + self.extra_percent) // 100))


@dataclass(frozen=True)
class RuleProfile:
    """A congress's 票决办法. Each default says where it comes from:

    - quorum: more than half of the roster present before a ballot opens, as the Fancheng
      report describes and this product applied before profiles existed;
    - pass_base and pass_rule: more than half of the whole roster (全体代表的过半数), the usual
      rule of the local 实施办法 and the NPC's own rule for passing its bills; a congress may
      count on the ballots returned instead, or ask at least two thirds;
    - margin: see `Margin` (most 实施办法 ask 差额 of at least 20%);
    - tie: a new vote among exactly the tied candidates (再次投票), as in the Fancheng report;
    - shortfall: a further round (另行票决) from the remaining candidates, as in the Fancheng
      report, or none;
    - methods: every method this product counts;
    - grading: a bar of 60%, common practice though no published rule fixes it (the Zhenhai
      notice has none), or Zhenhai's three grades against the pass base, with no bar;
    - requires_adoption: the provincial rules (Shaanxi) have the 票决办法 adopted before the vote.
    """

    quorum: Share = MORE_THAN_HALF
    pass_base: str = BASE_ROSTER
    pass_rule: Share = MORE_THAN_HALF
    margin: Margin = field(default_factory=Margin)
    tie: str = TIE_RUNOFF
    shortfall: str = SHORTFALL_FURTHER
    methods: tuple[str, ...] = METHODS
    grading: str = GRADING_BAR
    # The bar (percent) under which a project goes to rectification; None with tiers.
    satisfaction_bar: int | None = DEFAULT_SATISFACTION_BAR
    requires_adoption: bool = True

    def allows(self, method: str) -> bool:
        return method in self.methods

    def grading_for(self, method: str) -> str:
        """How a round of `method` grades: the profile's grading for a satisfaction assessment,
        the bar (unused) for a round that fills places."""
        return self.grading if method == SATISFACTION else GRADING_BAR

    def for_round(self, threshold_base: str, satisfaction_bar: int | None) -> RuleProfile:
        """The copy a round keeps: this profile with the round's own choice of pass base and bar."""
        bar = satisfaction_bar if self.grading == GRADING_BAR else None
        return replace(self, pass_base=threshold_base, satisfaction_bar=bar)


DEFAULT_PROFILE = RuleProfile()


@dataclass(frozen=True)
class MarginCheck:
    places: int
    candidates: int
    needed: int

    @property
    def is_met(self) -> bool:
        return self.candidates >= self.needed


def check_margin(places: int, candidates: int, profile: RuleProfile) -> MarginCheck:
    """Whether `candidates` for `places` places meet the profile's minimum 差额."""
    return MarginCheck(places, candidates, profile.margin.minimum(places))


@dataclass(frozen=True)
class QuorumCheck:
    """Roster, present and the quorum under a profile's rule: what the presence box shows."""

    roster: int
    present: int
    quorum: int

    @property
    def has_quorum(self) -> bool:
        return self.roster > 0 and self.present >= self.quorum

    @property
    def absent(self) -> int:
        return self.roster - self.present


def check_quorum(roster: int, present: int, profile: RuleProfile) -> QuorumCheck:
    return QuorumCheck(roster, present, profile.quorum.needed(roster))


# ---- validation ------------------------------------------------------------------------


def _share_problems(name: str, share: Share) -> list[Problem]:
    problems = [] if share.rule in SHARE_RULES else [(f"{name}.rule", CHOICE)]
    fault = share.fault()
    return problems + ([(f"{name}.fraction", fault)] if fault is not None else [])


def _within(value: object, low: int, high: int) -> bool:
    return is_int(value) and low <= value <= high


def validate(profile: RuleProfile) -> list[Problem]:
    """Everything wrong with a profile, field by field; empty when it can be stored."""
    problems = _share_problems("quorum", profile.quorum)
    if profile.pass_base not in THRESHOLD_BASES:
        problems.append(("pass_base", CHOICE))
    problems += _share_problems("pass_rule", profile.pass_rule)
    if not _within(profile.margin.extra_candidates, 0, MAX_EXTRA_CANDIDATES):
        problems.append(("margin.extra_candidates", RANGE))
    if not _within(profile.margin.extra_percent, 0, MAX_EXTRA_PERCENT):
        problems.append(("margin.extra_percent", RANGE))
    if profile.tie not in TIE_RULES:
        problems.append(("tie", CHOICE))
    if profile.shortfall not in SHORTFALL_RULES:
        problems.append(("shortfall", CHOICE))
    if not profile.methods:
        problems.append(("methods", EMPTY))
    elif any(method not in METHODS for method in profile.methods):
        problems.append(("methods", CHOICE))
    elif len(set(profile.methods)) != len(profile.methods):
        problems.append(("methods", DUPLICATE))
    if profile.grading not in GRADINGS:
        problems.append(("assessment.grading", CHOICE))
    elif profile.grading == GRADING_BAR and not _within(profile.satisfaction_bar, 0, 100):
        problems.append(("assessment.satisfaction_bar", MISSING if profile.satisfaction_bar is None else RANGE))
    elif profile.grading == GRADING_TIERS and profile.satisfaction_bar is not None:
        problems.append(("assessment.satisfaction_bar", UNKNOWN))  # tiers have no bar
    if type(profile.requires_adoption) is not bool:
        problems.append(("requires_adoption", NOT_BOOLEAN))
    return problems


def canonical_methods(methods) -> tuple[str, ...]:
    """The methods in the one order every page and file lists them."""
    return tuple(sorted(set(methods), key=lambda method: METHODS.index(method) if method in METHODS else len(METHODS)))


# ---- the document ----------------------------------------------------------------------


def to_document(profile: RuleProfile) -> dict:
    assessment = {"grading": profile.grading}
    if profile.grading == GRADING_BAR:
        assessment["satisfaction_bar"] = profile.satisfaction_bar
    return {
        "format": FORMAT,
        "quorum": {"rule": profile.quorum.rule, "fraction": profile.quorum.fraction},
        "pass_base": profile.pass_base,
        "pass_rule": {"rule": profile.pass_rule.rule, "fraction": profile.pass_rule.fraction},
        "margin": {"extra_candidates": profile.margin.extra_candidates, "extra_percent": profile.margin.extra_percent},
        "tie": profile.tie,
        "shortfall": profile.shortfall,
        "methods": list(profile.methods),
        "assessment": assessment,
        "requires_adoption": profile.requires_adoption,
    }


def to_json(profile: RuleProfile) -> str:
    """The readable file: indented, Chinese-safe, keys in the document's order."""
    return json.dumps(to_document(profile), ensure_ascii=False, indent=2) + "\n"


class _Reader:
    """Reads one object of the document, noting each problem instead of raising. Given None
    (the object is missing or not an object, which its parent has noted) it reads nothing."""

    def __init__(self, problems: list[Problem], value: dict | None, path: str, keys: tuple[str, ...]):
        self.problems, self.path, self.value = problems, path, value
        for key in value or ():
            if key not in keys:
                problems.append((self._name(str(key)), UNKNOWN))

    def _name(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def get(self, key: str, kind: str):
        """The value at `key` if present and of the kind; None (with a problem) otherwise."""
        if self.value is None:
            return None
        if key not in self.value:
            self.problems.append((self._name(key), MISSING))
            return None
        value = self.value[key]
        fits = {
            "text": isinstance(value, str),
            "integer": is_int(value),
            "boolean": type(value) is bool,
            "list": isinstance(value, list),
            "object": isinstance(value, dict),
        }[kind]
        if not fits:
            code = {"text": NOT_TEXT, "integer": NOT_INTEGER, "boolean": NOT_BOOLEAN, "list": NOT_LIST, "object": NOT_OBJECT}
            self.problems.append((self._name(key), code[kind]))
            return None
        return value

    def choice(self, key: str, allowed: tuple[str, ...]):
        value = self.get(key, "text")
        if value is not None and value not in allowed:
            self.problems.append((self._name(key), CHOICE))
            return None
        return value


def _read_share(problems: list[Problem], value: dict | None, path: str) -> Share | None:
    reader = _Reader(problems, value, path, ("rule", "fraction"))
    rule = reader.choice("rule", SHARE_RULES)
    text = reader.get("fraction", "text")
    share = Share.from_text(rule, text) if text is not None else None
    if text is not None and share is None:
        problems.append((f"{path}.fraction", FRACTION))
    if share is None:
        return None
    fault = share.fault()
    if fault is not None:
        problems.append((f"{path}.fraction", fault))
    return share if rule is not None and fault is None else None


def _read_methods(problems: list[Problem], methods: list | None) -> tuple[str, ...] | None:
    if methods is None:
        return None
    code = None
    if not all(isinstance(method, str) for method in methods):
        code = NOT_TEXT
    elif not methods:
        code = EMPTY
    elif any(method not in METHODS for method in methods):
        code = CHOICE
    elif len(set(methods)) != len(methods):
        code = DUPLICATE
    if code is not None:
        problems.append(("methods", code))
        return None
    return canonical_methods(methods)


_TOP_KEYS = (
    "format", "quorum", "pass_base", "pass_rule", "margin", "tie", "shortfall", "methods", "assessment",
    "requires_adoption",
)


def from_document(document: object) -> tuple[RuleProfile | None, list[Problem]]:
    """The profile a document describes, or None with every problem found.

    The format is checked first: a document of another format is not read any further, since
    its keys may mean other things."""
    problems: list[Problem] = []
    if not isinstance(document, dict):
        return None, [("", NOT_OBJECT)]
    if "format" not in document:
        return None, [("format", MISSING)]
    if document["format"] != FORMAT:
        return None, [("format", WRONG_FORMAT)]
    top = _Reader(problems, document, "", _TOP_KEYS)
    quorum = _read_share(problems, top.get("quorum", "object"), "quorum")
    pass_base = top.choice("pass_base", THRESHOLD_BASES)
    pass_rule = _read_share(problems, top.get("pass_rule", "object"), "pass_rule")
    margin = _Reader(problems, top.get("margin", "object"), "margin", ("extra_candidates", "extra_percent"))
    extra, percent = margin.get("extra_candidates", "integer"), margin.get("extra_percent", "integer")
    tie = top.choice("tie", TIE_RULES)
    shortfall = top.choice("shortfall", SHORTFALL_RULES)
    methods = _read_methods(problems, top.get("methods", "list"))
    value = top.get("assessment", "object")
    keys = ("grading", "satisfaction_bar") if value is not None and value.get("grading") == GRADING_BAR else ("grading",)
    assessment = _Reader(problems, value, "assessment", keys)
    grading = assessment.choice("grading", GRADINGS)
    bar = assessment.get("satisfaction_bar", "integer") if grading == GRADING_BAR else None
    adoption = top.get("requires_adoption", "boolean")
    # What was read is checked by the same rules as a profile built in code; what could not be
    # read stands in as the default, and is not named twice.
    default = DEFAULT_PROFILE
    profile = RuleProfile(
        quorum=quorum or default.quorum,
        pass_base=pass_base or default.pass_base,
        pass_rule=pass_rule or default.pass_rule,
        margin=Margin(
            default.margin.extra_candidates if extra is None else extra,
            default.margin.extra_percent if percent is None else percent,
        ),
        tie=tie or default.tie,
        shortfall=shortfall or default.shortfall,
        methods=methods or default.methods,
        grading=grading or default.grading,
        satisfaction_bar=bar if grading is not None else default.satisfaction_bar,
        requires_adoption=default.requires_adoption if adoption is None else adoption,
    )
    noted = {name for name, _ in problems}
    problems += [
        (name, code) for name, code in validate(profile)
        if name not in noted and name.split(".")[0] not in noted
    ]
    return (None, problems) if problems else (profile, [])


def from_json(text: str | bytes) -> tuple[RuleProfile | None, list[Problem]]:
    """Parse a profile file (UTF-8 JSON, with or without a byte-order mark)."""
    if len(text) > MAX_DOCUMENT_BYTES:
        return None, [("", TOO_LARGE)]
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8-sig")
        document = json.loads(text.lstrip("\ufeff"), parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)
    except _DuplicateKey as duplicate:
        return None, [(duplicate.key, DUPLICATE)]
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None, [("", NOT_JSON)]
    return from_document(document)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


class _DuplicateKey(Exception):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A key given twice would be read as its last value without a word: refuse it instead."""
    document = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


def loads(text: str) -> RuleProfile:
    """A stored copy, which was valid when written: a broken one is a fault, not input."""
    profile, problems = from_json(text)
    if profile is None:
        raise ValueError(f"stored rule profile is not valid: {problems}")
    return profile


# ---- what changed ------------------------------------------------------------------------


def settings(profile: RuleProfile) -> dict[str, object]:
    """The profile as flat named settings, in the document's order: what a change lists."""
    return {
        "quorum": profile.quorum,
        "pass_base": profile.pass_base,
        "pass_rule": profile.pass_rule,
        "margin": profile.margin,
        "tie": profile.tie,
        "shortfall": profile.shortfall,
        "methods": profile.methods,
        "assessment": (profile.grading, profile.satisfaction_bar),
        "requires_adoption": profile.requires_adoption,
    }


def differences(before: RuleProfile, after: RuleProfile) -> list[str]:
    """The settings that differ, by name, in the document's order."""
    old, new = settings(before), settings(after)
    return [name for name in old if old[name] != new[name]]
