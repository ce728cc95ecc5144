"""What residents and deputies type, made safe to show: no hidden character may reorder or
hide text on a staff page or in a spreadsheet (Trojan Source, CVE-2021-42574: a comment that
reads as something else).

The bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), the
direction marks (U+200E, U+200F, U+061C) and the invisible characters (U+200B, U+2060-U+2064,
U+FEFF) are shown as a visible `[U+202E]`, so staff see that something was there and where.
Line and paragraph separators (U+2028, U+2029, which phones paste from notes) become line
breaks. The zero-width joiner and non-joiner (U+200C, U+200D) stay: Uyghur and other Arabic-
script writing and emoji need them, and they cannot reorder text. Right-to-left letters need
nothing: the browser orders them, and each paragraph takes its direction from its first letter.

Stored text is left as it was typed (a record, and what the proposer reads back); it is
neutralised on the way out, in one place per kind of output: every `{{ ... }}` of a template,
the JSON a page embeds for its charts, and every spreadsheet cell.
"""

import re

_HIDDEN_CLASS = "\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
_SEPARATOR_CLASS = "\u2028\u2029"
HIDDEN = re.compile(f"[{_HIDDEN_CLASS}]")
SEPARATORS = re.compile(f"[{_SEPARATOR_CLASS}]")
_ANY = re.compile(f"[{_HIDDEN_CLASS}{_SEPARATOR_CLASS}]")


def _visible(match: re.Match) -> str:
    return f"[U+{ord(match.group()):04X}]"


def neutralise(text: str) -> str:
    """The text with every reordering or hidden character made visible; adds no <, > or &."""
    return HIDDEN.sub(_visible, SEPARATORS.sub("\n", text))


def needs_neutralising(text: str) -> bool:
    """One scan, for the hot path: most text has nothing to change."""
    return _ANY.search(text) is not None


def neutralise_all(value):
    """Every string inside dicts, lists and tuples (chart data), neutralised."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, dict):
        return {key: neutralise_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [neutralise_all(item) for item in value]
    return value
