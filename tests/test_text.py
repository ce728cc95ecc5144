"""The rule that makes hidden reordering characters visible (`voting_app/text.py`)."""

import pytest

from voting_app.text import neutralise, neutralise_all

REORDERING = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200B, 0x200E, 0x200F, 0xFEFF, 0x061C,
                               0x2060)]


@pytest.mark.parametrize("character", REORDERING)
def test_every_reordering_or_hidden_character_is_shown_as_its_code(character):
    shown = neutralise(f"a{character}b")
    assert shown == f"a[U+{ord(character):04X}]b"
    assert character not in shown


def test_line_and_paragraph_separators_become_line_breaks():
    assert neutralise("one\u2028two\u2029three") == "one\ntwo\nthree"


def test_uyghur_chinese_and_emoji_text_is_left_as_it_is():
    """Arabic-script writing and emoji sequences need the joiners (U+200C, U+200D)."""
    for text in ("ياخشى ئىش، رەھمەت", "نامه\u200cها", "👨\u200d👩\u200d👧", "路灯很亮，谢谢！", "", "<b>&</b>"):
        assert neutralise(text) == text


def test_it_adds_no_markup_so_escaped_text_stays_escaped():
    shown = neutralise("&lt;\u202e&gt;")
    assert shown == "&lt;[U+202E]&gt;" and not set("<>&\"'") & (set(shown) - set("&lt;&gt;"))


def test_chart_data_is_neutralised_all_the_way_down():
    figure = {"data": [{"x": ["桥\u202e", 3], "name": ("a\u2066",)}], "layout": {"title": {"text": "\u200b"}}, "n": None}
    assert neutralise_all(figure) == {"data": [{"x": ["桥[U+202E]", 3], "name": ["a[U+2066]"]}],
                                      "layout": {"title": {"text": "[U+200B]"}}, "n": None}
