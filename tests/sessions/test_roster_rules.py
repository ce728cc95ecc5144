"""The roster parser (sessions/roster.py): pure rules, checked on plain tables."""

import subprocess
import sys
from pathlib import Path

import pytest

from voting_app.sessions.roster import (
    MAX_LENGTHS,
    RosterParse,
    RosterRow,
    RowError,
    parse_roster,
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


def test_whitespace_is_trimmed_and_runs_of_it_become_one_space():
    parsed = parse_roster(
        [
            CN_HEADER,
            ["\t001 \n", "  欧阳   修 ", " 城区 \t 代表团", "樊城区\n某街道"],
        ]
    )
    assert parsed.rows == (RosterRow(2, "001", "欧阳 修", "城区 代表团", "樊城区 某街道"),)


def test_rows_shorter_than_the_header_get_empty_optional_values():
    parsed = parse_roster([CN_HEADER, ["001", "张三"]])
    assert parsed.rows == (RosterRow(2, "001", "张三", "", ""),)


def test_the_rule_modules_import_neither_flask_nor_sqlalchemy():
    script = (
        "import sys\n"
        "import voting_app.sessions.roster, voting_app.sessions.checkin_code, voting_app.sessions.presence\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'sqlalchemy', 'flask_sqlalchemy'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_a_title_row_above_the_header_is_skipped():
    parsed = parse_roster([["樊城区第十九届人大代表名册"], ["代表证号", "姓名"], ["001", "张三"]])
    assert parsed.is_valid and [(r.line, r.number, r.name) for r in parsed.rows] == [(3, "001", "张三")]
    assert parsed.columns == {"number", "name"}
