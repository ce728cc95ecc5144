"""The paging rule shared by the long lists: pure, correct on an empty list and on odd page numbers."""

import ast

from tests.conftest import ROOT
from voting_app.paging import Page, page_of, search_words


def test_an_empty_list_has_one_empty_page():
    page = page_of(0, None)
    assert (page.number, page.pages, page.total, page.offset, page.has_prev, page.has_next) == (1, 1, 0, 0, False, False)
    assert page.links == [1]


def test_page_numbers_out_of_range_show_the_nearest_page():
    assert page_of(74, 0).number == 1
    assert page_of(74, 99).number == 4 and page_of(74, 99).offset == 60
    assert page_of(40, 2) == Page(number=2, pages=2, total=40, per_page=20)
    assert page_of(41, 3, per_page=20).pages == 3


def test_links_show_the_ends_and_the_pages_around_the_current_one():
    assert page_of(74, 1).links == [1, 2, 3, 4]
    assert page_of(400, 10).links == [1, None, 8, 9, 10, 11, 12, None, 20]
    assert page_of(400, 4).links == [1, 2, 3, 4, 5, 6, None, 20]
    assert page_of(400, 20).links == [1, None, 18, 19, 20]


def test_search_words_split_at_any_space_and_are_bounded():
    assert search_words("路灯　加装  米公") == ["路灯", "加装", "米公"]
    assert search_words(None) == [] and search_words("   ") == []
    assert search_words("x" * 500) == ["x" * 100]


def test_the_paging_rule_imports_no_flask_and_no_database():
    tree = ast.parse((ROOT / "voting_app" / "paging.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"dataclasses"}
