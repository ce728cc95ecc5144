"""Pure rules of the registry's pages: levels as roster files write them, the labels of a term
and a meeting, and the roster parser's optional level and contact columns."""

import pytest

from voting_app.registry.roster import RosterRow, RowError, parse_roster
from voting_app.registry.terms import meeting_label, read_level, term_label


@pytest.mark.parametrize(
    ("cell", "level"),
    [("全国", "national"), ("省级", "provincial"), ("省人大代表", "provincial"), ("市", "municipal"),
     ("区级", "district"), ("区人大代表", "district"), ("乡镇", "town"), ("镇", "town"), ("Town", "town"),
     (" District ", "district"), ("村", None), ("", None)],
)
def test_levels_as_files_write_them(cell, level):
    assert read_level(cell) == level


def test_labels_of_a_term_and_a_meeting():
    assert meeting_label(19, 6) == "第十九届第六次会议"
    assert meeting_label(20, None) == "第二十届"
    assert term_label("樊城区人民代表大会", 19) == "樊城区第十九届人民代表大会"
    assert term_label("人大", 1) == "人大第一届"


def test_level_and_contact_columns_are_read_and_an_unknown_level_is_a_row_error():
    parsed = parse_roster(
        [
            ["代表证号", "姓名", "代表层级", "手机号码"],
            ["001", "张三", "区", "13800000000"],
            ["002", "李四", "", ""],
            ["003", "王五", "村级", "13900000000"],
        ]
    )
    assert parsed.errors == (RowError(4, "unknown_level", "level", "村级"),)
    assert {"level", "contact"} <= parsed.columns


def test_english_level_and_phone_headers():
    parsed = parse_roster([["Number", "Name", "Level", "Phone"], ["1", "Zhang San", "Provincial", "+86 138"]])
    assert parsed.rows == (RosterRow(2, "1", "Zhang San", "", "", "provincial", "+86 138"),)
