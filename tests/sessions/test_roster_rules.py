"""The roster parser (registry/roster.py): pure rules, checked on plain tables."""

import subprocess
import sys
from pathlib import Path

import pytest

from voting_app.registry.roster import (
    MAX_LENGTHS,
    IgnoredColumn,
    NumberClash,
    RosterParse,
    RosterRow,
    RowError,
    SkippedRow,
    in_roster_order,
    matches,
    number_clashes,
    number_sort_key,
    parse_roster,
    search_text,
)

ROOT = Path(__file__).resolve().parents[2]
CN_HEADER = ["代表证号", "姓名", "代表团", "工作单位"]


def test_chinese_headers_give_one_row_per_deputy_with_file_line_numbers():
    parsed = parse_roster(
        [
            CN_HEADER,
            ["001", "张三", "城区代表团", "樊城区某街道"],
            ["002", "李四", "农村代表团", "太平店镇"],
        ]
    )
    assert parsed == RosterParse(
        (
            RosterRow(2, "001", "张三", "城区代表团", "樊城区某街道"),
            RosterRow(3, "002", "李四", "农村代表团", "太平店镇"),
        ),
        (),
    )
    assert parsed.is_valid


def test_english_headers_ignore_case_extra_spaces_and_column_order():
    parsed = parse_roster(
        [
            ["Work  Unit", " NAME ", "Remarks", "Deputy Number", "Delegation"],
            ["Street office", "Zhang San", "ignored", "A-7", "Urban"],
        ]
    )
    assert parsed.errors == ()
    assert parsed.rows == (RosterRow(2, "A-7", "Zhang San", "Urban", "Street office"),)


@pytest.mark.parametrize("number_header", ["代表证号", "代表编号", "编号", "证号", "number", "Card Number"])
@pytest.mark.parametrize("name_header", ["姓名", "代表姓名", "Name"])
def test_every_alias_of_the_required_columns_is_understood(number_header, name_header):
    parsed = parse_roster([[name_header, number_header], ["王五", "9"]])
    assert parsed.rows == (RosterRow(2, "9", "王五", "", ""),)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["编号", "姓名", "所属代表团", "单位"], RosterRow(2, "1", "甲", "团", "位")),
        (["编号", "姓名", "代表团", "职务"], RosterRow(2, "1", "甲", "团", "位")),
        (["编号", "姓名", "delegation", "work unit"], RosterRow(2, "1", "甲", "团", "位")),
    ],
)
def test_aliases_of_the_optional_columns(header, expected):
    assert parse_roster([header, ["1", "甲", "团", "位"]]).rows == (expected,)


def test_a_byte_order_mark_on_the_first_header_is_ignored():
    parsed = parse_roster([["\ufeff代表证号", "姓名"], ["001", "张三"]])
    assert parsed.rows == (RosterRow(2, "001", "张三", "", ""),)


def test_only_the_first_column_of_a_kind_counts():
    parsed = parse_roster([["编号", "姓名", "代表姓名"], ["1", "first", "second"]])
    assert parsed.rows[0].name == "first"


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        (["姓名", "代表团"], ("number",)),
        (["代表证号", "代表团"], ("name",)),
        (["代表团", "工作单位"], ("number", "name")),
        (["序号", "名字"], ("number", "name")),
    ],
)
def test_a_missing_required_column_is_reported_on_the_header_line_and_nothing_is_read(header, missing):
    parsed = parse_roster([[], header, ["001", "张三"]])
    assert parsed.rows == ()
    assert parsed.errors == tuple(RowError(2, "missing_column", column) for column in missing)
    assert not parsed.is_valid


def test_missing_values_name_the_line_and_the_column():
    parsed = parse_roster(
        [
            CN_HEADER,
            ["001", "张三", "", ""],
            ["", "李四", "城区代表团", ""],
            ["003", "  ", "城区代表团", ""],
            ["004"],
        ]
    )
    assert parsed.errors == (
        RowError(3, "missing_value", "number"),
        RowError(4, "missing_value", "name"),
        RowError(5, "missing_value", "name"),
    )
    assert parsed.rows == (RosterRow(2, "001", "张三", "", ""),)
    assert not parsed.is_valid


def test_values_at_the_limit_pass_and_one_character_more_is_too_long():
    at_limit = {key: "字" * limit for key, limit in MAX_LENGTHS.items()}
    parsed = parse_roster(
        [
            ["代表证号", "姓名", "代表团", "工作单位"],
            [at_limit["number"], at_limit["name"], at_limit["delegation"], at_limit["unit"]],
            ["002", "名" * (MAX_LENGTHS["name"] + 1), "团", "位" * (MAX_LENGTHS["unit"] + 1)],
            ["9" * (MAX_LENGTHS["number"] + 1), "赵六", "", ""],
        ]
    )
    assert parsed.rows == (RosterRow(2, at_limit["number"], at_limit["name"], at_limit["delegation"], at_limit["unit"]),)
    assert parsed.errors == (
        RowError(3, "too_long", "name", "名" * 65),
        RowError(3, "too_long", "unit", "位" * 201),
        RowError(4, "too_long", "number", "9" * 33),
    )


@pytest.mark.parametrize("header", ["网格", "网格编码", "所属网格", "grid code", "（网格编码）"])
def test_a_grid_column_gives_each_deputy_a_stored_grid_code(header):
    parsed = parse_roster([["代表证号", "姓名", header], ["001", "张三", "C01U01G1"], ["002", "李四", ""]], ["C01U01G1", "C01"])
    assert parsed.errors == ()
    assert parsed.rows == (RosterRow(2, "001", "张三", "", "", grid="C01U01G1"), RosterRow(3, "002", "李四", "", ""))


def test_a_grid_code_not_stored_is_a_row_error_and_a_too_long_one_is_too_long():
    long_code = "C" * (MAX_LENGTHS["grid"] + 1)
    parsed = parse_roster(
        [["代表证号", "姓名", "网格编码"], ["001", "张三", "C01"], ["002", "李四", "C99"], ["003", "王五", "c01"],
         ["004", "赵六", long_code]],
        ["C01"],
    )
    assert [row.number for row in parsed.rows] == ["001"]
    assert parsed.errors == (
        RowError(3, "unknown_grid", "grid", "C99"),
        RowError(4, "unknown_grid", "grid", "c01"),
        RowError(5, "too_long", "grid", long_code),
    )
    assert parse_roster([["代表证号", "姓名", "网格"], ["001", "张三", "C01"]]).errors == (RowError(2, "unknown_grid", "grid", "C01"),)


def test_a_duplicate_number_is_an_error_on_the_second_line_only():
    parsed = parse_roster(
        [
            CN_HEADER,
            ["001", "张三", "", ""],
            ["002", "李四", "", ""],
            ["001", "张三丰", "", ""],
            ["002", "李四", "", ""],
        ]
    )
    assert parsed.errors == (
        RowError(4, "duplicate_number", "number", "001"),
        RowError(5, "duplicate_number", "number", "002"),
    )
    assert [row.line for row in parsed.rows] == [2, 3]


def test_numbers_are_compared_after_normalisation_so_3_and_3_point_0_clash():
    parsed = parse_roster([["编号", "姓名"], [3, "甲"], [3.0, "乙"], [" 3 ", "丙"]])
    assert parsed.errors == (
        RowError(3, "duplicate_number", "number", "3"),
        RowError(4, "duplicate_number", "number", "3"),
    )


def test_blank_rows_are_skipped_but_lines_keep_their_file_numbers():
    parsed = parse_roster(
        [
            [],
            ["", None, "  "],
            CN_HEADER,
            ["001", "张三", "", ""],
            ["", "", "", ""],
            [None, None, None, None],
            ["002", "李四", "", ""],
        ]
    )
    assert parsed.errors == ()
    assert [(row.line, row.number) for row in parsed.rows] == [(4, "001"), (7, "002")]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [(3.0, "3"), (1200.0, "1200"), (7, "7"), (3.5, "3.5"), ("003", "003"), ("3.0", "3.0")],
)
def test_numbers_from_excel_lose_the_float_point_but_text_stays_as_typed(cell, expected):
    assert parse_roster([["编号", "姓名"], [cell, "张三"]]).rows[0].number == expected


@pytest.mark.parametrize("table", [[], [[]], [["", None], [None]]])
def test_an_empty_file_is_one_error_on_line_1(table):
    assert parse_roster(table) == RosterParse((), (RowError(1, "empty_file"),))


def test_a_header_without_deputies_is_an_empty_file_error_after_the_header():
    assert parse_roster([CN_HEADER, ["", "", "", ""]]).errors == (RowError(2, "empty_file"),)


def test_spaces_at_the_ends_are_trimmed_and_spaces_inside_stay_as_typed():
    parsed = parse_roster(
        [
            CN_HEADER,
            ["\t001 \n", "\u3000唐\u3000军 ", " 城区 \t 代表团", "樊城区\n某街道"],
            ["002", "欧阳   修", "", ""],
        ]
    )
    assert parsed.rows == (
        RosterRow(2, "001", "唐\u3000军", "城区 \t 代表团", "樊城区\n某街道"),
        RosterRow(3, "002", "欧阳   修", "", ""),
    )


def test_rows_shorter_than_the_header_get_empty_optional_values():
    parsed = parse_roster([CN_HEADER, ["001", "张三"]])
    assert parsed.rows == (RosterRow(2, "001", "张三", "", ""),)


def test_the_rule_modules_import_neither_flask_nor_sqlalchemy():
    script = (
        "import sys\n"
        "import voting_app.registry.roster, voting_app.sessions.checkin_code, voting_app.sessions.presence\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'flask_sqlalchemy'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_a_title_row_above_the_header_is_skipped():
    parsed = parse_roster([["樊城区第十九届人大代表名册"], ["代表证号", "姓名"], ["001", "张三"]])
    assert parsed.is_valid and [(r.line, r.number, r.name) for r in parsed.rows] == [(3, "001", "张三")]
    assert parsed.columns == {"number", "name"}


# ---- headers: the variants offices use, and every column left out ------------------


@pytest.mark.parametrize(
    ("header", "key"),
    [
        ("代表团", "delegation"), ("代表组", "delegation"), ("所属代表团", "delegation"), ("代表小组", "delegation"),
        ("工作单位及职务", "unit"), ("工作单位", "unit"), ("单位职务", "unit"), ("职务", "unit"),
        ("代表证号", "number"), ("证号", "number"), ("代表编号", "number"), ("编号", "number"),
        ("姓名", "name"), ("代表姓名", "name"),
        (" 代表组 ", "delegation"), ("姓\u3000\u3000名", "name"), ("代表证号（必填）", "number"),
        ("（代表团）", "delegation"), ("工作单位(职务)", "unit"), ("\ufeff编号", "number"),
    ],
)
def test_header_variants_with_spaces_and_full_width_brackets_are_recognised(header, key):
    other = {"number": ["姓名"], "name": ["编号"]}.get(key, ["编号", "姓名"])
    table = [[header, *other], ["值", *("1" if h == "编号" else "甲" for h in other)]]
    parsed = parse_roster(table)
    assert parsed.errors == ()
    assert key in parsed.columns
    assert getattr(parsed.rows[0], key) == "值"
    assert parsed.ignored == ()


def test_every_column_left_out_is_listed_by_its_header_with_why():
    parsed = parse_roster(
        [
            ["序号", "代表证号", "姓名", "性别", "代表组", "手机号码", "联系电话", "代表姓名", "爱好", "", "工作单位及职务"],
            ["1", "001", "张三", "男", "城区组", "13800000000", "", "张三", "书法", "", "某街道主任"],
        ]
    )
    # The first phone column is the deputy's contact (for staff); a second is listed as repeated.
    assert parsed.rows == (RosterRow(2, "001", "张三", "城区组", "某街道主任", contact="13800000000"),)
    assert parsed.ignored == (
        IgnoredColumn("序号", "not_kept"),
        IgnoredColumn("性别", "not_kept"),
        IgnoredColumn("联系电话", "repeated"),
        IgnoredColumn("代表姓名", "repeated"),
        IgnoredColumn("爱好", "unknown"),
    )


@pytest.mark.parametrize(
    ("header", "missing"),
    [(["姓名", "代表团"], ("number",)), (["代表证号", "代表团"], ("name",)), (["代表团", "工作单位"], ("number", "name"))],
)
def test_under_a_title_row_a_missing_column_is_named_alone(header, missing):
    parsed = parse_roster([["樊城区第十九届人大代表名册"], header, ["001", "张三"]])
    assert parsed.errors == tuple(RowError(2, "missing_column", column) for column in missing)


# ---- footers and notes are skipped, and said so -------------------------------------


def test_footer_and_note_rows_are_skipped_and_listed():
    parsed = parse_roster(
        [
            ["代表证号", "姓名", "代表团", "工作单位"],
            ["001", "张三", "城区代表团", "某街道"],
            ["城区代表团（2人）"],
            ["002", "李四", "城区代表团", ""],
            ["", "", "", "2026年1月5日"],
            ["制表：王五", "", "审核：赵六", ""],
            ["制表人", "王五"],
            ["审核：", "", "", ""],
            ["填表日期", "2026-01-05"],
            ["合计", "2人"],
            ["注：名单按代表证号排列"],
        ]
    )
    assert parsed.errors == ()
    assert [row.number for row in parsed.rows] == ["001", "002"]
    assert parsed.skipped == (
        SkippedRow(3, "城区代表团（2人）"),
        SkippedRow(5, "2026年1月5日"),
        SkippedRow(6, "制表：王五 审核：赵六"),
        SkippedRow(7, "制表人 王五"),
        SkippedRow(8, "审核："),
        SkippedRow(9, "填表日期 2026-01-05"),
        SkippedRow(10, "合计 2人"),
        SkippedRow(11, "注：名单按代表证号排列"),
    )


def test_a_lone_name_or_number_is_a_deputy_missing_a_value_not_a_note():
    parsed = parse_roster([["代表证号", "姓名", "代表团"], ["001", "张三", ""], ["", "李四", ""], ["A-3", "", ""]])
    assert parsed.errors == (RowError(3, "missing_value", "number"), RowError(4, "missing_value", "name"))
    assert parsed.skipped == ()


def test_a_row_missing_its_number_names_the_number_only():
    parsed = parse_roster([["代表证号", "姓名", "代表团"], ["", "李四", "城区代表团"]])
    assert parsed.errors == (RowError(2, "missing_value", "number"),)


# ---- searching ignores every kind of space ------------------------------------------


@pytest.mark.parametrize(
    "stored",
    ["唐\u3000军", "唐 军", "唐\u00a0军", "唐\u2009军", "唐\u202f军", "唐\t军", "唐\u200b军", "唐\u2002\u2003军", "唐军"],
)
@pytest.mark.parametrize("typed", ["唐军", "唐 军", "唐\u3000军", " 唐军 "])
def test_a_name_is_found_whatever_spaces_it_or_the_query_has(stored, typed):
    assert matches(typed, "001", stored, "城区代表团")
    assert search_text(stored) == "唐军"


@pytest.mark.parametrize(
    ("query", "found"),
    [("ＡＢ", True), ("ab", True), ("城区", True), ("1", True), ("001", True), ("０１", True), ("00", False), ("", False), ("\u3000", False)],
)
def test_search_ignores_width_and_case_and_finds_whole_numbers(query, found):
    assert matches(query, "001", "Ab Cd", "城区代表团") is found


# ---- numbers sort as numbers ---------------------------------------------------------


def test_deputy_numbers_sort_as_numbers():
    numbers = ["A3", "101", "10", "2", "11", "001", "1", "a10", "B-2", "", "９"]
    assert sorted(numbers, key=number_sort_key) == ["", "001", "1", "2", "９", "10", "11", "101", "A3", "a10", "B-2"]
    assert [d["number"] for d in in_roster_order([{"number": n} for n in ("10", "2")], lambda d: d["number"])] == ["2", "10"]


# ---- the same person under another number -------------------------------------------


def test_a_new_number_for_a_name_and_delegation_on_the_roster_is_a_clash():
    roster = [("1", "张三", "城区代表团"), ("2", "李四", "城区代表团"), ("3", "王五", "")]
    rows = (
        RosterRow(2, "001", "张三", "城区代表团", ""),  # was imported as 1 from Excel
        RosterRow(3, "2", "李四", "城区代表团", ""),  # the same number: an update, no clash
        RosterRow(4, "004", "李四", "农村代表团", ""),  # another delegation: another person
        RosterRow(5, "003", "王\u3000五", "", ""),  # spaces do not hide the clash
    )
    assert number_clashes(rows, roster) == (
        NumberClash(2, "001", "张三", "城区代表团", "1"),
        NumberClash(5, "003", "王\u3000五", "", "3"),
    )


def test_two_lines_of_one_file_with_one_person_under_two_numbers_clash():
    rows = (RosterRow(2, "1", "张三", "城区", ""), RosterRow(3, "2", "李四", "城区", ""), RosterRow(4, "001", "张三", "城区", ""))
    assert number_clashes(rows, []) == (NumberClash(4, "001", "张三", "城区", "1", 2),)


def test_namesakes_already_on_the_roster_under_their_own_numbers_do_not_clash():
    roster = [("5", "张伟", "城区"), ("9", "张伟", "城区")]
    rows = (RosterRow(2, "5", "张伟", "城区", ""), RosterRow(3, "9", "张伟", "城区", ""))
    assert number_clashes(rows[:1], roster) == ()
