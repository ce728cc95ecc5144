"""The public ballot board and the `python -m voting_app.verify` recount."""

import copy
import hashlib
import io
import json
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voting_app.ballots.board import (
    BoardError,
    DigestMismatch,
    board_digest,
    build_board,
    loads_board,
    parse_board,
)
from voting_app.ballots.counting import (
    CHOOSE_UP_TO,
    FOR_AGAINST,
    GRADING_BAR,
    GRADING_TIERS,
    MARKS,
    METHODS,
    RANK,
    RATINGS,
    SATISFACTION,
    THRESHOLD_BASES,
    RoundRules,
    count,
)
from voting_app.verify import main

ROOT = Path(__file__).resolve().parents[2]

ROUND = {
    "id": 7,
    "title": "2025年民生实事项目票决",
    "method": CHOOSE_UP_TO,
    "seats": 2,
    "threshold_base": "roster",
    "roster": 5,
    "present": 5,
    "issued": 5,
}
CANDIDATES = [
    {"id": 1, "name": "农村公路桥梁新改建"},
    {"id": 2, "name": "“一号公路”亮化工程"},
    {"id": 3, "name": "市百货站小区文化长廊改造"},
]
BALLOTS = [("r4", [1]), ("r2", [1, 3]), ("r5", None), ("r1", [1, 2]), ("r3", [2, 3])]
SAMPLE_DIGEST = "sha256:879e4e5011c19957d7e519793f16c63b6e609dedb47cd294b78934933af61df2"


def sample_board(**round_changes):
    return build_board({**ROUND, **round_changes}, CANDIDATES, BALLOTS)


def write(tmp_path, board, name="board.json"):
    path = tmp_path / name
    path.write_text(json.dumps(board, ensure_ascii=False, indent=1), encoding="utf-8")
    return str(path)


# --- building and digest ----------------------------------------------------------------


def test_build_board_shape():
    board = sample_board()
    assert list(board) == ["format", "round", "candidates", "ballots", "digest"]
    assert board["format"] == "ballot-board/1"
    assert board["round"] == ROUND
    assert board["candidates"] == CANDIDATES
    assert [b["receipt"] for b in board["ballots"]] == ["r1", "r2", "r3", "r4", "r5"]
    assert board["ballots"][4] == {"receipt": "r5", "choices": None}


def test_digest_is_pinned_and_follows_the_documented_recipe():
    board = sample_board()
    body = {k: v for k, v in board.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert board["digest"] == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert board["digest"] == SAMPLE_DIGEST
    assert board_digest(board) == SAMPLE_DIGEST


def test_digest_ignores_key_order_and_the_digest_key():
    board = sample_board()
    reordered = {key: board[key] for key in reversed(list(board))}
    assert board_digest(reordered) == board_digest({**board, "digest": "anything"})


def test_build_board_writes_for_against_keys_as_sorted_strings():
    board = build_board(
        {**ROUND, "method": FOR_AGAINST},
        [{"id": 2, "name": "b"}, {"id": 10, "name": "c"}, {"id": 1, "name": "a"}],
        [("x", {10: "for", 2: "against", 1: "abstain"}), ("y", {"2": "for"})],
    )
    first = board["ballots"][0]["choices"]
    assert list(first.items()) == [("1", "abstain"), ("2", "against"), ("10", "for")]
    assert board["ballots"][1]["choices"] == {"2": "for"}


def test_build_board_drops_fields_the_board_does_not_publish():
    board = build_board(
        {**ROUND, "state": "announced"},
        [{**c, "summary": "..."} for c in CANDIDATES],
        BALLOTS,
    )
    assert board["digest"] == SAMPLE_DIGEST


@pytest.mark.parametrize(
    "round_info, ballots, message",
    [
        ({k: v for k, v in ROUND.items() if k != "issued"}, BALLOTS, "'issued'"),
        (ROUND, BALLOTS + [("r1", [])], "receipt 'r1' appears more than once"),
        (ROUND, [("r1", (1,))], "choices must be an array"),
        (ROUND, [(1, [1])], "receipt must be a string"),
        ({**ROUND, "method": FOR_AGAINST}, [("r1", {1: "for", "1": "for"})], "twice"),
        ({**ROUND, "seats": 0}, [], "seats"),
    ],
)
def test_build_board_refuses_what_it_could_not_publish(round_info, ballots, message):
    with pytest.raises(BoardError, match=message):
        build_board(round_info, CANDIDATES, ballots)


# --- parsing ----------------------------------------------------------------------------


def test_parse_board_gives_counting_inputs():
    parsed = parse_board(sample_board())
    assert parsed.rules == RoundRules(CHOOSE_UP_TO, 2, "roster", 5, 5, 5, (1, 2, 3))
    assert parsed.round == ROUND
    assert [(c.id, c.name) for c in parsed.candidates] == [(c["id"], c["name"]) for c in CANDIDATES]
    assert parsed.receipts == ("r1", "r2", "r3", "r4", "r5")
    assert parsed.ballots == ([1, 2], [1, 3], [2, 3], [1], None)
    result = count(parsed.rules, parsed.ballots)
    assert dict(result.votes) == {1: 3, 2: 2, 3: 2}
    assert (result.valid, result.void, result.elected, result.shortfall) == (4, 1, (1,), 1)


def test_digest_is_optional():
    board = sample_board()
    del board["digest"]
    assert parse_board(board).receipts[0] == "r1"


def test_rule_breaking_ballots_are_void_not_malformed():
    board = sample_board()
    del board["digest"]
    board["ballots"] = [
        {"receipt": "a", "choices": [1, 2, 3]},
        {"receipt": "b", "choices": [99]},
        {"receipt": "c", "choices": {"1": "for"}},
        {"receipt": "d", "choices": ["1"]},
        {"receipt": "e", "choices": [1]},
    ]
    parsed = parse_board(board)
    result = count(parsed.rules, parsed.ballots)
    assert (result.valid, result.void) == (1, 4)


def _set(path, value):
    def change(board):
        target = board
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path):
    def change(board):
        target = board
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


@pytest.mark.parametrize(
    "change, message",
    [
        (_set(["format"], "ballot-board/2"), "format must be 'ballot-board/1'"),
        (_delete(["format"]), "board is missing 'format'"),
        (_delete(["round"]), "board is missing 'round'"),
        (_delete(["candidates"]), "board is missing 'candidates'"),
        (_delete(["ballots"]), "board is missing 'ballots'"),
        (_set(["extra"], 1), "unknown key"),
        (_set(["round"], []), "round must be a JSON object"),
        (_delete(["round", "seats"]), "round is missing 'seats'"),
        (_set(["round", "colour"], "red"), "round has unknown key"),
        (_set(["round", "seats"], "2"), "round.seats must be an integer"),
        (_set(["round", "seats"], True), "round.seats must be an integer"),
        (_set(["round", "roster"], 5.0), "round.roster must be an integer"),
        (_set(["round", "id"], None), "round.id must be an integer"),
        (_set(["round", "title"], 7), "round.title must be a string"),
        (_set(["round", "method"], "borda"), "unknown ballot method"),
        (_set(["round", "threshold_base"], "present"), "unknown threshold base"),
        (_set(["round", "seats"], 0), "seats"),
        (_set(["round", "issued"], -1), "issued"),
        (_set(["candidates"], {}), "candidates must be a JSON array"),
        (_set(["candidates", 0], "x"), r"candidates\[0\] must be a JSON object"),
        (_set(["candidates", 1, "id"], "2"), r"candidates\[1\].id must be an integer"),
        (_set(["candidates", 1, "id"], True), r"candidates\[1\].id must be an integer"),
        (_set(["candidates", 1, "id"], 1), "candidate id 1 appears twice"),
        (_set(["candidates", 2, "name"], None), r"candidates\[2\].name must be a string"),
        (_delete(["candidates", 0, "name"]), "is missing 'name'"),
        (_set(["ballots"], None), "ballots must be a JSON array"),
        (_set(["ballots", 0], [1, 2]), r"ballots\[0\] must be a JSON object"),
        (_delete(["ballots", 0, "receipt"]), "is missing 'receipt'"),
        (_delete(["ballots", 0, "choices"]), "is missing 'choices'"),
        (_set(["ballots", 0, "receipt"], 1), r"ballots\[0\].receipt must be a string"),
        (_set(["ballots", 1, "receipt"], "r1"), "receipt 'r1' appears more than once"),
        (_set(["ballots", 0, "choices"], "1,2"), "choices must be an array, an object or null"),
        (_set(["ballots", 0, "choices"], 3), "choices must be an array, an object or null"),
        (_set(["ballots", 0, "choices"], True), "choices must be an array, an object or null"),
        (_set(["ballots", 0, "time"], "09:00"), "unknown key"),
    ],
)
def test_malformed_boards_are_refused_precisely(change, message):
    board = sample_board()
    del board["digest"]
    change(board)
    with pytest.raises(BoardError, match=message) as caught:
        parse_board(board)
    assert not isinstance(caught.value, DigestMismatch)


@pytest.mark.parametrize("data", [None, [], "board", 3])
def test_non_objects_are_not_boards(data):
    with pytest.raises(BoardError, match="board must be a JSON object"):
        parse_board(data)


@pytest.mark.parametrize(
    "change",
    [
        _set(["ballots", 0, "choices"], [1, 3]),
        _set(["ballots", 4, "choices"], []),
        _set(["ballots", 2, "receipt"], "r3x"),
        _set(["candidates", 0, "name"], "另一个项目"),
        _set(["round", "roster"], 6),
        _set(["round", "title"], "x"),
        _delete(["ballots", 4]),
        _set(["digest"], SAMPLE_DIGEST.upper().replace("SHA256", "sha256")),
        _set(["digest"], "sha256:"),
    ],
)
def test_any_edit_breaks_the_digest(change):
    board = sample_board()
    change(board)
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        parse_board(board)


def test_a_digest_that_is_not_text_is_malformed():
    board = sample_board()
    board["digest"] = 123
    with pytest.raises(BoardError, match="digest must be a string"):
        parse_board(board)


def test_digest_mismatch_is_a_board_error_and_a_value_error():
    assert issubclass(DigestMismatch, BoardError)
    assert issubclass(BoardError, ValueError)


@pytest.mark.parametrize(
    "text, message",
    [
        ('{"a": 1, "a": 2}', "repeats a key"),
        ('{"a": NaN}', "NaN is not a JSON number"),
        ('{"a": Infinity}', "Infinity is not a JSON number"),
        ("{", "invalid JSON"),
        (b"\xff\xfe{", "invalid JSON"),
    ],
)
def test_loads_board_refuses_ambiguous_json(text, message):
    with pytest.raises(BoardError, match=message):
        loads_board(text)


def test_loads_board_reads_bytes_and_text():
    text = json.dumps(sample_board(), ensure_ascii=False)
    assert loads_board(text.encode("utf-8")) == loads_board(text) == sample_board()


# --- board properties -------------------------------------------------------------------

plain_text = st.text(st.characters(codec="utf-8"), max_size=8)


@st.composite
def published_rounds(draw):
    """Round settings, candidates and stored ballots (valid, void and junk) for a board."""
    method = draw(st.sampled_from(METHODS))
    ids = draw(st.lists(st.integers(1, 30), unique=True, max_size=5))
    some_id = st.sampled_from(ids + [77]) if ids else st.just(77)
    choose = st.lists(st.one_of(some_id, some_id, st.text(max_size=1), st.booleans()), max_size=4)
    marks = st.dictionaries(
        st.one_of(some_id.map(str), st.sampled_from(["x", "01", "-1"])),
        st.sampled_from(MARKS + RATINGS + ("yes",)),
        max_size=5,
    )
    choices = st.one_of(st.none(), choose, marks)
    receipts = draw(st.lists(plain_text, unique=True, max_size=20))
    ballots = [(receipt, draw(choices)) for receipt in receipts]
    round_info = {
        "id": draw(st.integers(1, 10**6)),
        "title": draw(plain_text),
        "method": method,
        "seats": draw(st.integers(1, 3)),
        "threshold_base": draw(st.sampled_from(THRESHOLD_BASES)),
        "roster": draw(st.integers(0, 30)),
        "present": draw(st.integers(0, 30)),
        "issued": draw(st.one_of(st.integers(0, 30), st.just(len(ballots)))),
    }
    if method == SATISFACTION:
        grading = draw(st.sampled_from([None, GRADING_BAR, GRADING_TIERS]))
        if grading is not None:
            round_info["grading"] = grading
        if grading != GRADING_TIERS or draw(st.booleans()):
            round_info["satisfaction_bar"] = draw(st.integers(1, 100))
    candidates = [{"id": cid, "name": draw(plain_text)} for cid in ids]
    return round_info, candidates, ballots


def rules_for(round_info, candidates):
    return RoundRules(
        method=round_info["method"],
        seats=round_info["seats"],
        threshold_base=round_info["threshold_base"],
        roster=round_info["roster"],
        present=round_info["present"],
        issued=round_info["issued"],
        candidate_ids=tuple(c["id"] for c in candidates),
        satisfaction_bar=round_info.get("satisfaction_bar", 60),
        grading=round_info.get("grading", GRADING_BAR),
    )


@settings(max_examples=300)
@given(published_rounds())
def test_board_round_trip_counts_the_same(case):
    round_info, candidates, ballots = case
    expected = count(rules_for(round_info, candidates), [choices for _, choices in ballots])
    board = build_board(round_info, candidates, ballots)
    assert count(*_inputs(parse_board(board))) == expected
    text = json.dumps(board, ensure_ascii=False)
    assert count(*_inputs(parse_board(loads_board(text)))) == expected
    assert sorted(parse_board(board).receipts) == list(parse_board(board).receipts)


def _inputs(parsed):
    return parsed.rules, parsed.ballots


def _canonical_text(board):
    return json.dumps(board, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _detected(text):
    """True when the edited text is refused as JSON or as a board."""
    try:
        parse_board(loads_board(text))
    except BoardError:
        return True
    return False


@settings(max_examples=400)
@given(published_rounds(), st.data())
def test_any_single_character_change_is_detected(case, data):
    text = _canonical_text(build_board(*case))
    position = data.draw(st.integers(0, len(text) - 1))
    new = data.draw(st.characters(codec="utf-8").filter(lambda c: c != text[position]))
    assert _detected(text[:position] + new + text[position + 1 :])


@settings(max_examples=400)
@given(published_rounds(), st.data())
def test_any_single_character_change_to_a_ballot_is_detected(case, data):
    text = _canonical_text(build_board(*case))
    start = text.index('"ballots":[') + len('"ballots":[')
    end = text.index('],"candidates":')
    if start == end:
        return
    position = data.draw(st.integers(start, end - 1))
    new = data.draw(
        st.sampled_from('0123456789abcdefr[]{}",: -_xyz').filter(lambda c: c != text[position])
    )
    assert _detected(text[:position] + new + text[position + 1 :])


# --- the verify command -----------------------------------------------------------------


EXPECTED_JSON = {
    "returned": 5,
    "valid": 4,
    "void": 1,
    "void_round": False,
    "votes": {"1": 3, "2": 2, "3": 2},
    "passed": [1],
    "elected": [1],
    "runoff": None,
    "shortfall": 1,
}


def test_verify_prints_a_readable_table(tmp_path, capsys):
    assert main([write(tmp_path, sample_board())]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Round 7: 2025年民生实事项目票决"
    assert "Roster 5   Present 5   Issued 5   Returned 5" in out
    assert "Valid 4   Void 1" in out
    assert "Pass line: more than half of the roster (5), at least 3 votes" in out
    assert "   1      3  yes     elected  #1 农村公路桥梁新改建" in out
    assert "   2      2  no               #2 “一号公路”亮化工程" in out
    assert "   2      2  no               #3 市百货站小区文化长廊改造" in out
    assert any(line.startswith("Shortfall: 1 seat not filled") for line in out)
    assert out[-1] == f"Digest: {SAMPLE_DIGEST} matches the content"


def test_verify_json(tmp_path, capsys):
    assert main([write(tmp_path, sample_board()), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == EXPECTED_JSON


def test_verify_reads_stdin(monkeypatch, capsys):
    text = json.dumps(sample_board(), ensure_ascii=False).encode("utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text), encoding="utf-8"))
    assert main(["-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == EXPECTED_JSON


def test_verify_states_a_runoff(tmp_path, capsys):
    ballots = [(f"r{i}", [1, 2] if i < 3 else [1, 3]) for i in range(6)]
    board = build_board({**ROUND, "issued": 6}, CANDIDATES, ballots)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out
    assert "Runoff: #2, #3 are tied for the last 1 seat" in out
    assert "   2      3  yes     runoff   #2" in out
    assert "Shortfall" not in out


def test_verify_states_a_void_round(tmp_path, capsys):
    board = sample_board(issued=4)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out
    assert "VOID ROUND: 5 ballots returned but only 4 issued." in out
    assert "Rank" not in out
    assert main([write(tmp_path, board), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["void_round"] is True
    assert (result["valid"], result["void"], result["shortfall"]) == (None, None, None)


def test_verify_escapes_control_characters_in_board_text(tmp_path, capsys):
    candidates = [{"id": 1, "name": "bridge\nElected: #9 fake\x1b[2J"}, *CANDIDATES[1:]]
    board = build_board({**ROUND, "title": "t\u2028x"}, candidates, BALLOTS)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out
    assert "Round 7: t\\u2028x\n" in out
    assert "#1 bridge\\nElected: #9 fake\\x1b[2J\n" in out
    assert "\x1b" not in out


def test_verify_without_a_digest_says_so(tmp_path, capsys):
    board = sample_board()
    del board["digest"]
    assert main([write(tmp_path, board)]) == 0
    assert "Digest: none on this board" in capsys.readouterr().out


def _refused(capsys, argv, message):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert captured.err.count("\n") == 1


def test_verify_refuses_a_missing_file(tmp_path, capsys):
    _refused(capsys, [str(tmp_path / "nope.json")], "cannot read")


def test_verify_refuses_invalid_json(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    _refused(capsys, [str(path)], "invalid JSON")


def test_verify_refuses_a_malformed_board(tmp_path, capsys):
    board = sample_board()
    del board["digest"]
    board["round"]["seats"] = "two"
    _refused(capsys, [write(tmp_path, board)], "malformed board: round.seats must be an integer")


def test_verify_refuses_a_digest_mismatch(tmp_path, capsys):
    board = sample_board()
    board["ballots"][0]["choices"] = [1, 3]
    _refused(capsys, [write(tmp_path, board)], "digest mismatch")


def _run(*args, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", "voting_app.verify", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        timeout=60,
    )


def test_verify_as_a_module(tmp_path):
    path = write(tmp_path, sample_board())
    done = _run(path, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == EXPECTED_JSON
    tampered = copy.deepcopy(sample_board())
    tampered["ballots"][1]["receipt"] = "r2x"
    done = _run("-", stdin=json.dumps(tampered).encode("utf-8"))
    assert done.returncode == 2
    assert b"digest mismatch" in done.stderr
    assert done.stdout == b""


def test_recount_code_loads_no_web_framework():
    probe = (
        "import voting_app.verify, voting_app.ballots.board, voting_app.ballots.counting, sys; "
        "print([m for m in sys.modules if m.split('.')[0] in ('flask','sqlalchemy','werkzeug')])"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


# --- satisfaction assessment boards (满意度测评) ----------------------------------------

SAT_ROUND = {
    "id": 12,
    "title": "2025年民生实事项目满意度测评",
    "method": SATISFACTION,
    "seats": 3,
    "threshold_base": "roster",
    "roster": 6,
    "present": 6,
    "issued": 6,
    "satisfaction_bar": 60,
}
SAT_CANDIDATES = [*CANDIDATES, {"id": 10, "name": "社区养老服务站"}]
SAT_BALLOTS = [
    ("s5", {"2": "dissatisfied", "1": "satisfied", "10": "satisfied"}),
    ("s1", {1: "satisfied", 2: "satisfied", 3: "dissatisfied"}),
    ("s3", {"1": "mostly_satisfied", "2": "dissatisfied", "3": "dissatisfied"}),
    ("s2", {"1": "dissatisfied", "2": "mostly_satisfied", "10": "dissatisfied"}),
    ("s4", {"1": "satisfied", "3": "meh"}),
    ("s6", {}),
]
SAT_DIGEST = "sha256:d1c91632e966b4413459e5733ca8ebe441f92b01c956c9639c0e2a4ff282951e"


def sat_board(**round_changes):
    return build_board({**SAT_ROUND, **round_changes}, SAT_CANDIDATES, SAT_BALLOTS)


def test_satisfaction_board_shape_and_sorted_keys():
    board = sat_board()
    assert list(board) == ["format", "round", "candidates", "ballots", "digest"]
    assert board["round"] == SAT_ROUND
    assert list(board["round"])[-1] == "satisfaction_bar"
    assert [b["receipt"] for b in board["ballots"]] == ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert list(board["ballots"][0]["choices"].items()) == [
        ("1", "satisfied"),
        ("2", "satisfied"),
        ("3", "dissatisfied"),
    ]
    assert list(board["ballots"][4]["choices"]) == ["1", "2", "10"]
    assert board["ballots"][5]["choices"] == {}


def test_satisfaction_digest_is_pinned_and_covers_the_bar():
    board = sat_board()
    body = {k: v for k, v in board.items() if k != "digest"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert '"satisfaction_bar":60' in text
    assert board["digest"] == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert board["digest"] == SAT_DIGEST
    assert sat_board(satisfaction_bar=61)["digest"] != SAT_DIGEST


@pytest.mark.parametrize(
    "change",
    [
        _set(["round", "satisfaction_bar"], 50),
        _set(["ballots", 0, "choices", "3"], "mostly_satisfied"),
        _delete(["ballots", 0, "choices", "3"]),
        _set(["ballots", 5, "choices"], {"1": "satisfied"}),
        _set(["round", "method"], FOR_AGAINST),
    ],
)
def test_any_edit_to_a_satisfaction_board_breaks_the_digest(change):
    board = sat_board()
    change(board)
    with pytest.raises(DigestMismatch, match="digest mismatch"):
        parse_board(board)


def test_satisfaction_board_round_trip():
    board = sat_board()
    parsed = parse_board(loads_board(json.dumps(board, ensure_ascii=False)))
    assert parsed.rules == RoundRules(
        SATISFACTION, 3, "roster", 6, 6, 6, (1, 2, 3, 10), satisfaction_bar=60
    )
    assert parsed.round == SAT_ROUND
    result = count(parsed.rules, parsed.ballots)
    assert result == count(parsed.rules, [choices for _, choices in SAT_BALLOTS])
    assert (result.valid, result.void) == (5, 1)
    assert dict(result.votes) == {1: 3, 2: 2, 3: 0, 10: 1}
    assert result.passed == (1,)
    assert result.below_bar() == (2, 3, 10)


def test_build_board_publishes_the_bar_only_for_satisfaction():
    assert sample_board(satisfaction_bar=60)["digest"] == SAMPLE_DIGEST
    assert "satisfaction_bar" not in sample_board(satisfaction_bar=60)["round"]
    with pytest.raises(BoardError, match="cannot build a board without 'satisfaction_bar'"):
        build_board({k: v for k, v in SAT_ROUND.items() if k != "satisfaction_bar"}, [], [])
    with pytest.raises(BoardError, match="satisfaction_bar must be an integer from 1 to 100"):
        sat_board(satisfaction_bar=0)
    with pytest.raises(BoardError, match="round.satisfaction_bar must be an integer"):
        sat_board(satisfaction_bar=None)
    with pytest.raises(BoardError, match="twice"):
        build_board(SAT_ROUND, SAT_CANDIDATES, [("x", {1: "satisfied", "1": "satisfied"})])


@pytest.mark.parametrize(
    "change, message",
    [
        (_delete(["round", "satisfaction_bar"]), "round is missing 'satisfaction_bar'"),
        (_set(["round", "satisfaction_bar"], "60"), "round.satisfaction_bar must be an integer"),
        (_set(["round", "satisfaction_bar"], True), "round.satisfaction_bar must be an integer"),
        (_set(["round", "satisfaction_bar"], 60.0), "round.satisfaction_bar must be an integer"),
        (_set(["round", "satisfaction_bar"], None), "round.satisfaction_bar must be an integer"),
        (_set(["round", "satisfaction_bar"], 0), "satisfaction_bar must be an integer from 1"),
        (_set(["round", "satisfaction_bar"], 101), "satisfaction_bar must be an integer from 1"),
        (_set(["round", "method"], FOR_AGAINST), "allowed only when round.method is"),
        (_set(["round", "method"], CHOOSE_UP_TO), "allowed only when round.method is"),
        (_set(["round", "bar"], 60), "round has unknown key"),
    ],
)
def test_malformed_satisfaction_boards_are_refused_precisely(change, message):
    board = sat_board()
    del board["digest"]
    change(board)
    with pytest.raises(BoardError, match=message) as caught:
        parse_board(board)
    assert not isinstance(caught.value, DigestMismatch)


def test_other_boards_may_not_carry_a_bar():
    board = sample_board()
    del board["digest"]
    board["round"]["satisfaction_bar"] = 60
    with pytest.raises(BoardError, match="round.satisfaction_bar is allowed only when"):
        parse_board(board)


def test_rule_breaking_satisfaction_ballots_are_void_not_malformed():
    board = sat_board()
    del board["digest"]
    board["ballots"] = [
        {"receipt": "a", "choices": {"99": "satisfied"}},
        {"receipt": "b", "choices": {"1": "for"}},
        {"receipt": "c", "choices": {"01": "satisfied"}},
        {"receipt": "d", "choices": [1]},
        {"receipt": "e", "choices": None},
        {"receipt": "f", "choices": {"1": "satisfied"}},
    ]
    parsed = parse_board(board)
    result = count(parsed.rules, parsed.ballots)
    assert (result.valid, result.void) == (1, 5)


SAT_EXPECTED_JSON = {
    "returned": 6,
    "valid": 5,
    "void": 1,
    "void_round": False,
    "votes": {"1": 3, "2": 2, "3": 0, "10": 1},
    "passed": [1],
    "elected": [],
    "runoff": None,
    "shortfall": 0,
    "ratings": {
        "1": {"satisfied": 2, "mostly_satisfied": 1, "dissatisfied": 1},
        "2": {"satisfied": 1, "mostly_satisfied": 1, "dissatisfied": 2},
        "3": {"satisfied": 0, "mostly_satisfied": 0, "dissatisfied": 2},
        "10": {"satisfied": 1, "mostly_satisfied": 0, "dissatisfied": 1},
    },
    "overall": {"satisfied_and_mostly": 6, "rated": 12},
}


def test_verify_prints_a_satisfaction_table(tmp_path, capsys):
    candidates = [*SAT_CANDIDATES, {"id": 11, "name": "未测评项目"}]
    board = build_board(SAT_ROUND, candidates, SAT_BALLOTS)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Round 12: 2025年民生实事项目满意度测评"
    assert out[1] == (
        "Method: satisfaction assessment of 5 projects "
        "(satisfied / mostly satisfied / dissatisfied); bar 60%"
    )
    assert "Roster 6   Present 6   Issued 6   Returned 6" in out
    assert "Valid 5   Void 1" in out
    assert any(line.startswith("Bar: 60% - a project passes when") for line in out)
    header = out.index(
        "Rank  Satisfied  Mostly  Dissatisfied  Rated  Rate %  "
        "Result                     Project"
    )
    # By grade, then satisfied votes, then satisfied + mostly: #2 (1 + 1) before #10 (1 + 0).
    assert out[header + 1 : header + 6] == [
        "   1          2       1             1      4    75.0  " + "passed                     #1 农村公路桥梁新改建",
        "   2          1       1             2      4    50.0  " + "below bar — rectification  #2 “一号公路”亮化工程",
        "   2          1       0             1      2    50.0  " + "below bar — rectification  #10 社区养老服务站",
        "   4          0       0             2      2     0.0  " + "below bar — rectification  #3 市百货站小区文化长廊改造",
        "   -          0       0             0      0       -  " + "not rated                  #11 未测评项目",
    ]
    assert "Passed the bar: 1 project" in out
    assert "Below the bar, to rectification: 3 projects (#2, #3, #10)" in out
    assert "Not rated on any valid ballot: 1 project (#11)" in out
    assert not any(line.startswith(("Elected", "Runoff", "Shortfall", "Pass line")) for line in out)
    assert out[-1].startswith("Digest: sha256:")


def test_verify_shows_a_rate_just_under_the_bar_rounded_down(tmp_path, capsys):
    # 1799 of 3000 = 59.97%: rounded to nearest it would read "60.0" beside "below bar".
    ballots = [(f"r{i:04}", {"1": "satisfied" if i < 1799 else "dissatisfied"}) for i in range(3000)]
    board = build_board({**SAT_ROUND, "issued": 3000}, [{"id": 1, "name": "桥"}], ballots)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out
    assert "   3000    59.9  below bar — rectification  #1 桥" in out


def test_verify_satisfaction_json(tmp_path, capsys):
    assert main([write(tmp_path, sat_board()), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == SAT_EXPECTED_JSON
    assert out == json.dumps(SAT_EXPECTED_JSON, indent=2) + "\n"


def test_verify_satisfaction_void_round(tmp_path, capsys):
    board = sat_board(issued=5)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out
    assert "bar 60%" in out
    assert "VOID ROUND: 6 ballots returned but only 5 issued." in out
    assert "Rank" not in out
    assert main([write(tmp_path, board), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["void_round"] is True
    assert result["ratings"] is None
    assert (result["valid"], result["void"], result["shortfall"]) == (None, None, None)


def test_verify_json_for_the_other_methods_is_byte_for_byte_unchanged(tmp_path, capsys):
    assert main([write(tmp_path, sample_board()), "--json"]) == 0
    assert capsys.readouterr().out == json.dumps(EXPECTED_JSON, indent=2) + "\n"
    board = build_board({**ROUND, "method": FOR_AGAINST}, CANDIDATES, [("a", {"1": "for"})])
    assert main([write(tmp_path, board), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"ratings"' not in out
    assert list(json.loads(out)) == list(EXPECTED_JSON)


def _verify_json(board):
    """What `python -m voting_app.verify - --json` prints for this board, as data."""
    text = json.dumps(board, ensure_ascii=False).encode("utf-8")
    stdin, sys.stdin = sys.stdin, io.TextIOWrapper(io.BytesIO(text), encoding="utf-8")
    out = io.StringIO()
    try:
        with redirect_stdout(out):
            assert main(["-", "--json"]) == 0
    finally:
        sys.stdin = stdin
    return json.loads(out.getvalue())


@settings(max_examples=400)
@given(published_rounds())
def test_the_recount_equals_the_count_for_every_method(case):
    """The verifier's output is the in-app count of the same ballots, key for key."""
    round_info, candidates, ballots = case
    expected = count(rules_for(round_info, candidates), [choices for _, choices in ballots])
    assert _verify_json(build_board(round_info, candidates, ballots)) == expected.to_json()


# --- graded assessments (tiers) ---------------------------------------------------------

TIERS_ROUND = {**{k: v for k, v in SAT_ROUND.items() if k != "satisfaction_bar"}, "grading": "tiers"}
TIERS_DIGEST = "sha256:cd6361187837a7422653cf9b228cea41a35b0f7758f6abfbd24b6183c6d49bc5"


def tiers_board(**round_changes):
    return build_board({**TIERS_ROUND, **round_changes}, SAT_CANDIDATES, SAT_BALLOTS)


def test_a_bar_board_is_byte_for_byte_what_it_was():
    assert sat_board(grading="bar")["digest"] == SAT_DIGEST
    assert "grading" not in sat_board(grading="bar")["round"]
    explicit = sat_board()
    del explicit["digest"]
    explicit["round"]["grading"] = "bar"
    parsed = parse_board(explicit)
    assert parsed.rules == parse_board(sat_board()).rules
    assert count(parsed.rules, parsed.ballots) == count(*_inputs(parse_board(sat_board())))


def test_tiers_board_shape_and_pinned_digest():
    board = tiers_board(satisfaction_bar=60)
    assert board["round"] == TIERS_ROUND
    assert "satisfaction_bar" not in board["round"]
    assert list(board["round"])[-1] == "grading"
    assert board["digest"] == TIERS_DIGEST
    parsed = parse_board(loads_board(json.dumps(board, ensure_ascii=False)))
    assert parsed.rules == RoundRules(SATISFACTION, 3, "roster", 6, 6, 6, (1, 2, 3, 10), grading="tiers")
    assert tiers_board(threshold_base="voters")["digest"] != TIERS_DIGEST


@pytest.mark.parametrize(
    "change, message",
    [
        (_set(["round", "grading"], "stars"), r"round.grading must be one of \('bar', 'tiers'\)"),
        (_set(["round", "grading"], 1), "round.grading must be a string"),
        (_set(["round", "grading"], None), "round.grading must be a string"),
        (_set(["round", "satisfaction_bar"], 60), "round.satisfaction_bar is not allowed when round.grading is 'tiers'"),
        (_set(["round", "grading"], "bar"), "round is missing 'satisfaction_bar'"),
        (_set(["round", "method"], CHOOSE_UP_TO), "round.grading is allowed only when round.method is"),
        (_set(["round", "method"], RANK), "round.grading is allowed only when round.method is"),
    ],
)
def test_malformed_tiers_boards_are_refused_precisely(change, message):
    board = tiers_board()
    del board["digest"]
    change(board)
    with pytest.raises(BoardError, match=message) as caught:
        parse_board(board)
    assert not isinstance(caught.value, DigestMismatch)


def test_the_grading_is_covered_by_the_digest():
    board = tiers_board()
    board["round"]["grading"] = "bar"
    board["round"]["satisfaction_bar"] = 60
    with pytest.raises(DigestMismatch):
        parse_board(board)


TIERS_EXPECTED_JSON = {
    **{k: v for k, v in SAT_EXPECTED_JSON.items() if k != "overall"},
    "passed": [1],
    "grades": {"1": "mostly_satisfied", "2": "dissatisfied", "3": "dissatisfied", "10": "dissatisfied"},
    "overall": {"satisfied_and_mostly": 6, "rated": 12},
}


def test_verify_tiers_json(tmp_path, capsys):
    # Roster 5: 2 satisfied + 1 mostly of project 1 is more than half; on a roster of 6,
    # exactly half, it is dissatisfied like the rest.
    assert main([write(tmp_path, tiers_board(roster=5)), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == TIERS_EXPECTED_JSON
    assert list(json.loads(out))[-3:] == ["ratings", "grades", "overall"]
    assert main([write(tmp_path, tiers_board()), "--json"]) == 0
    on_six = json.loads(capsys.readouterr().out)
    assert (on_six["passed"], set(on_six["grades"].values())) == ([], {"dissatisfied"})


def test_verify_prints_a_tiers_table(tmp_path, capsys):
    candidates = [*SAT_CANDIDATES, {"id": 11, "name": "未测评项目"}]
    board = build_board({**TIERS_ROUND, "roster": 5}, candidates, SAT_BALLOTS)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == (
        "Method: satisfaction assessment of 5 projects "
        "(satisfied / mostly satisfied / dissatisfied); graded in tiers on the roster"
    )
    assert out[4] == (
        "Grades on the roster (5): satisfied with at least 3 satisfied votes; otherwise mostly "
        "satisfied with at least 3 satisfied + mostly satisfied; otherwise dissatisfied, to "
        "rectification"
    )
    header = out.index(
        "Rank  Satisfied  Mostly  Dissatisfied  Rated  Rate %  Result                        Project"
    )
    # By grade, then satisfied votes, then satisfied + mostly: #2 (1 + 1) before #10 (1 + 0).
    assert out[header + 1 : header + 6] == [
        "   1          2       1             1      4    75.0  mostly satisfied              #1 农村公路桥梁新改建",
        "   2          1       1             2      4    50.0  dissatisfied — rectification  #2 “一号公路”亮化工程",
        "   3          1       0             1      2    50.0  dissatisfied — rectification  #10 社区养老服务站",
        "   4          0       0             2      2     0.0  dissatisfied — rectification  #3 市百货站小区文化长廊改造",
        "   -          0       0             0      0       -  dissatisfied — rectification  #11 未测评项目",
    ]
    assert "Graded satisfied: 0 projects" in out
    assert "Graded mostly satisfied: 1 project (#1)" in out
    assert "Graded dissatisfied, to rectification: 4 projects (#2, #3, #10, #11)" in out
    assert "Not rated on any valid ballot: 1 project (#11)" in out
    assert "Overall: 6 of 12 ratings satisfied or mostly satisfied, 50.0%" in out
    assert not any(line.startswith(("Bar:", "Passed the bar", "Below the bar")) for line in out)


def test_verify_prints_the_overall_rate_of_a_bar_round(tmp_path, capsys):
    assert main([write(tmp_path, sat_board())]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-2] == "Overall: 6 of 12 ratings satisfied or mostly satisfied, 50.0%"
    empty = build_board(SAT_ROUND, SAT_CANDIDATES, [("a", {})])
    assert main([write(tmp_path, empty)]) == 0
    assert "Overall: no project was rated on any valid ballot" in capsys.readouterr().out


def test_verify_tiers_void_round(tmp_path, capsys):
    board = tiers_board(issued=5)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out
    assert "graded in tiers on the roster" in out
    assert "VOID ROUND" in out and "Overall" not in out
    assert main([write(tmp_path, board), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["ratings"], result["grades"], result["overall"]) == (None, None, None)


# --- priority ballots (rank) ------------------------------------------------------------

RANK_ROUND = {**ROUND, "id": 9, "title": "乡镇民生实事项目排序票决", "method": RANK, "issued": 6}
RANK_BALLOTS = [
    ("k1", [2, 1]),
    ("k2", [1, 2]),
    ("k3", [2, 3]),
    ("k4", [1, 3]),
    ("k5", [2, 1]),
    ("k6", [2, 2]),
]
RANK_EXPECTED_JSON = {
    "returned": 6,
    "valid": 5,
    "void": 1,
    "void_round": False,
    "votes": {"1": 4, "2": 4, "3": 2},
    "passed": [1, 2],
    "elected": [1, 2],
    "runoff": None,
    "shortfall": 0,
    "points": {"1": 1 + 2 + 2 + 1, "2": 2 + 1 + 2 + 2, "3": 1 + 1},
    "priority": [2, 1],
}


def rank_board(**round_changes):
    return build_board({**RANK_ROUND, **round_changes}, CANDIDATES, RANK_BALLOTS)


def test_rank_board_keeps_the_priority_order_of_each_ballot():
    board = rank_board()
    assert board["round"] == RANK_ROUND
    assert [b["choices"] for b in board["ballots"]] == [[2, 1], [1, 2], [2, 3], [1, 3], [2, 1], [2, 2]]
    swapped = copy.deepcopy(board)
    swapped["ballots"][0]["choices"] = [1, 2]
    with pytest.raises(DigestMismatch):
        parse_board(swapped)


def test_verify_rank_json(tmp_path, capsys):
    assert main([write(tmp_path, rank_board()), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == RANK_EXPECTED_JSON
    assert out == json.dumps(RANK_EXPECTED_JSON, indent=2) + "\n"


def test_verify_prints_a_rank_table(tmp_path, capsys):
    assert main([write(tmp_path, rank_board())]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == (
        "Method: rank up to 2 of 3 candidates by priority; position p earns 2 + 1 - p points; 2 seats"
    )
    header = out.index("Rank  Votes  Points  Passed  Result   Candidate")
    assert out[header + 1 : header + 4] == [
        "   1      4       7  yes     elected  #2 “一号公路”亮化工程",
        "   1      4       6  yes     elected  #1 农村公路桥梁新改建",
        "   3      2       2  no               #3 市百货站小区文化长廊改造",
    ]
    assert "Priority order (votes, then points, then id): #2, #1" in out
    assert not any(line.startswith(("Runoff", "Shortfall")) for line in out)


def test_verify_rank_with_nobody_passed(tmp_path, capsys):
    board = rank_board(roster=20)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out
    assert "Priority order (votes, then points, then id): nobody passed" in out
    assert "Shortfall: 2 seats not filled" in out


def test_other_boards_keep_no_points_or_grades(tmp_path, capsys):
    assert main([write(tmp_path, sample_board()), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert not {"points", "priority", "grades", "overall"} & set(out)
