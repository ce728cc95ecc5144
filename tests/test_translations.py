"""The Chinese catalog is complete: every UI string in the code has a reviewed translation.

When a test here fails after you added or changed a string, run `scripts/update-translations`,
translate the entries it lists in translations/zh_Hans_CN/LC_MESSAGES/messages.po, and remove
any `#, fuzzy` flag once the translation is checked (see translations/README.md).
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel import Locale
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "translations"
# Flask-Babel looks a locale up by babel's normalised name: "zh_CN" becomes "zh_Hans_CN".
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
# Keep in step with scripts/update-translations.
EXTRACT_KEYWORDS = ["-k", "_l", "-k", "lazy_gettext", "-k", "lazy_ngettext:1,2", "-k", "lazy_pgettext:1c,2"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdifr]")


def _key(message) -> tuple:
    msgid = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
    return (message.context, msgid)


def _label(key: tuple) -> str:
    context, msgid = key
    return f"[{context}] {msgid}" if context else msgid


@pytest.fixture(scope="module")
def zh_catalog():
    with ZH_PO.open("rb") as f:
        return read_po(f)


def _messages(catalog):
    return [m for m in catalog if m.id]


def test_catalogs_sit_where_flask_babel_looks_for_them():
    from voting_app.extensions import LANGUAGES

    for code in LANGUAGES:
        name = str(Locale.parse(code))
        assert (TRANSLATIONS / name / "LC_MESSAGES" / "messages.po").is_file(), (
            f"locale {code!r} is looked up as translations/{name}/; no catalog there"
        )


def test_every_chinese_message_is_translated_and_reviewed(zh_catalog):
    messages = _messages(zh_catalog)
    assert messages, "the Chinese catalog is empty"
    assert not zh_catalog.fuzzy, "the catalog header is marked fuzzy"

    def empty(m):
        return not all(m.string) if isinstance(m.string, (list, tuple)) else not m.string

    untranslated = [_label(_key(m)) for m in messages if empty(m)]
    fuzzy = [_label(_key(m)) for m in messages if m.fuzzy]
    assert not untranslated, "untranslated in zh_Hans_CN:\n  " + "\n  ".join(untranslated)
    assert not fuzzy, "fuzzy (unreviewed) in zh_Hans_CN:\n  " + "\n  ".join(fuzzy)


def test_placeholders_survive_translation(zh_catalog):
    wrong = []
    for m in _messages(zh_catalog):
        ids = m.id if isinstance(m.id, (list, tuple)) else [m.id]
        strings = m.string if isinstance(m.string, (list, tuple)) else [m.string]
        expected = set().union(*(PLACEHOLDER.findall(i) for i in ids))
        for s in strings:
            found = set(PLACEHOLDER.findall(s))
            if found != expected:
                wrong.append(f"{ids[0]!r}: msgid has {sorted(expected)}, msgstr {s!r} has {sorted(found)}")
    assert not wrong, "placeholders differ:\n  " + "\n  ".join(wrong)


def test_every_string_in_the_code_is_in_the_chinese_catalog(zh_catalog, tmp_path):
    pybabel = Path(sys.executable).parent / "pybabel"
    pot = tmp_path / "messages.pot"
    subprocess.run(
        [str(pybabel), "-q", "extract", "-F", "babel.cfg", *EXTRACT_KEYWORDS, "-o", str(pot), "."],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    with pot.open("rb") as f:
        extracted = {_key(m): m for m in read_po(f) if m.id}
    assert extracted, "extraction found no strings: check babel.cfg"

    known = {_key(m) for m in _messages(zh_catalog)}
    missing = sorted(key for key in extracted if key not in known)
    assert not missing, (
        "strings missing from translations/zh_Hans_CN (run scripts/update-translations, then translate):\n  "
        + "\n  ".join(f"{_label(k)}  ({extracted[k].locations[0][0]}:{extracted[k].locations[0][1]})" for k in missing)
    )


def test_no_translation_has_a_bare_percent_sign(zh_catalog):
    """Templates format every message (newstyle gettext), so a lone % breaks the page."""
    bare = re.compile(r"%(?!\(\w+\)[sd]|%)")

    def texts(value) -> list[str]:
        return list(value) if isinstance(value, (list, tuple)) else [value]

    wrong = [
        str(m.id)
        for m in zh_catalog
        if m.id and m.string
        and max(len(bare.findall(text)) for text in texts(m.string)) > min(len(bare.findall(text)) for text in texts(m.id))
    ]
    assert not wrong, "a bare % in: " + "; ".join(wrong)
