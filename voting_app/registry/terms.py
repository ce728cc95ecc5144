"""Terms and office: pure rules, no Flask, no database.

A deputy holds office from the day they took it (the term's first day when not recorded) until
the day they left it, that day excluded: a deputy who resigned on 1 March is not on the roster
of a session held on 1 March. Leaving office is recorded, never done by deleting anyone
(《代表法》第四十九条 lists how a deputy's office ends: moving away, resigning, recall, loss of
rights, death)."""

import re
from datetime import date

# Changes in office (代表资格变动). ELECTED: came into office during the term (补选); the others end it.
ELECTED, RESIGNED, RECALLED, DECEASED, MOVED, OTHER = "elected", "resigned", "recalled", "deceased", "moved", "other"
LEAVING_KINDS = (RESIGNED, RECALLED, DECEASED, MOVED, OTHER)
OFFICE_CHANGE_KINDS = (ELECTED, *LEAVING_KINDS)

# Deputies of four levels meet in a district's stations and groups (樊城区: 721 deputies of
# four levels); a session's roster holds the deputies of the congress's own level only.
NATIONAL, PROVINCIAL, MUNICIPAL, DISTRICT, TOWN = "national", "provincial", "municipal", "district", "town"
DEPUTY_LEVELS = (NATIONAL, PROVINCIAL, MUNICIPAL, DISTRICT, TOWN)
CONGRESS_LEVELS = (DISTRICT, TOWN)

_DIGITS = "零一二三四五六七八九"


def in_office_on(day: date, took_office_on: date | None, left_office_on: date | None) -> bool:
    return (took_office_on is None or took_office_on <= day) and (left_office_on is None or day < left_office_on)


def chinese_number(number: int) -> str:
    """1..99 as written in a term's name: 19 is 十九, 20 is 二十, 21 is 二十一."""
    if not 0 < number < 100:
        return str(number)
    tens, ones = divmod(number, 10)
    text = ("" if tens == 1 else _DIGITS[tens]) + "十" if tens else ""
    return text + (_DIGITS[ones] if ones else "")


def parse_chinese_number(text: str) -> int | None:
    """The inverse of chinese_number, and plain digits: 十九 and 19 are 19."""
    text = text.strip()
    if text.isdecimal():
        return int(text)
    if not text or any(char not in _DIGITS + "十" for char in text) or text.count("十") > 1:
        return None
    if "十" not in text:
        return _DIGITS.index(text) if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_DIGITS.index(tens) if tens else 1) * 10 + (_DIGITS.index(ones) if ones else 0)


_SESSION_NAME = re.compile(r"^(?P<place>.*?)第(?P<term>[0-9零一二三四五六七八九十]+)届(?P<body>.*?人民代表大会)(?:第(?P<meeting>[0-9零一二三四五六七八九十]+)次会议)?")


def read_session_name(name: str) -> tuple[str, int | None, int | None]:
    """What a session's usual name says: "樊城区第十九届人民代表大会第六次会议" is the congress
    "樊城区人民代表大会", term 19, meeting 6. A name of another form gives ("", None, None)."""
    found = _SESSION_NAME.match(name.strip())
    if not found:
        return "", None, None
    meeting = found["meeting"]
    return (
        found["place"] + found["body"],
        parse_chinese_number(found["term"]),
        parse_chinese_number(meeting) if meeting else None,
    )


# How a roster file writes a deputy's level (代表层级): the usual words, with or without 级 or
# 人大代表, and English. Compared as a search compares text (width, case and spaces ignored).
LEVEL_WORDS = {
    NATIONAL: ("全国", "全国人大", "全国人大代表", "国家级", "national", "npc"),
    PROVINCIAL: ("省", "省级", "省人大", "省人大代表", "provincial", "province"),
    MUNICIPAL: ("市", "市级", "市人大", "市人大代表", "municipal", "city"),
    DISTRICT: ("区", "区级", "区人大", "区人大代表", "县", "县级", "县人大代表", "district", "county"),
    TOWN: ("乡镇", "乡", "镇", "乡级", "镇级", "乡镇级", "乡镇人大代表", "镇人大代表", "乡人大代表", "town", "township"),
}


def read_level(text: str, fold=lambda text: text.strip().casefold()) -> str | None:
    """The level a cell names ("区级", "省人大代表", "Town"), or None when it names none."""
    wanted = fold(text)
    return next((level for level, words in LEVEL_WORDS.items() if wanted in {fold(word) for word in words}), None)


def meeting_label(term_number: int | None, meeting_number: int | None) -> str:
    """A session's place in its term as the congress writes it: 第十九届第六次会议."""
    term = f"第{chinese_number(term_number)}届" if term_number else ""
    meeting = f"第{chinese_number(meeting_number)}次会议" if meeting_number else ""
    return term + meeting


def term_label(congress_name: str, term_number: int) -> str:
    """樊城区人民代表大会 and 19 give 樊城区第十九届人民代表大会, as the congress names its term."""
    place, body = congress_name, ""
    if congress_name.endswith("人民代表大会"):
        place, body = congress_name[: -len("人民代表大会")], "人民代表大会"
    return f"{place}第{chinese_number(term_number)}届{body}"
