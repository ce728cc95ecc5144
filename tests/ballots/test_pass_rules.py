"""The round's own pass rule, tie rule and shortfall rule: in the count, on the board, in the
verifier's recount, and from the round's copy of the 票决办法 in the database and on its pages."""

import dataclasses
import io
import json
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from sqlalchemy import select

from tests.ballots.helpers import announce_round, as_role, close_round, confirm_round, open_round
from tests.ballots.test_board_verify import CANDIDATES, ROUND, SAMPLE_DIGEST, _verify_json, write
from tests.ballots.test_rounds import vote_all
from tests.conftest import post
from voting_app.ballots import profiles, service
from voting_app.ballots.board import BoardError, DigestMismatch, build_board, parse_board
from voting_app.ballots.counting import (
    AT_LEAST,
    CHOOSE_UP_TO,
    FOR_AGAINST,
    MARKS,
    MORE_THAN,
    MORE_THAN_HALF,
    RANK,
    SATISFACTION,
    SHORTFALL_RULES,
    THRESHOLD_BASES,
    TIE_RULES,
    RoundRules,
    Share,
    Tie,
    count,
    passes,
    votes_needed,
)
from voting_app.ballots.models import CLOSED, Ballot, Round
from voting_app.ballots.profile_rules import DEFAULT_PROFILE, RuleProfile
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.reports.chart import ELECTED, NOT_PASSED, TIED, round_chart
from voting_app.screen.charts import result_figure
from voting_app.sessions.models import CongressSession
from voting_app.verify import main

TWO_THIRDS = Share(AT_LEAST, 2, 3)
STRICT = RuleProfile(pass_rule=TWO_THIRDS, tie="none", shortfall="none")


def naive_passes(votes: int, base: int, share: Share) -> bool:
    """The share comparison as a person would do it: exact fractions, and no vote passes nobody."""
    line = Fraction(base * share.numerator, share.denominator)
    reached = votes > line if share.rule == MORE_THAN else votes >= line
    return votes > 0 and reached


@st.composite
def shares(draw):
    denominator = draw(st.integers(1, 100))
    rule = draw(st.sampled_from((MORE_THAN, AT_LEAST)))
    top = denominator - 1 if rule == MORE_THAN else denominator
    if top < 1:
        rule, top = AT_LEAST, denominator
    return Share(rule, draw(st.integers(1, top)), denominator)


def rules(method=CHOOSE_UP_TO, seats=2, roster=9, ids=(1, 2, 3, 4), **changes):
    return RoundRules(method=method, seats=seats, threshold_base="roster", roster=roster, present=roster,
                      issued=roster, candidate_ids=ids, **changes)


# ---- the share comparison --------------------------------------------------------------


@settings(max_examples=500)
@given(shares(), st.integers(0, 3000), st.integers(0, 3000))
def test_passing_is_the_exact_share_of_the_base(share, votes, base):
    assert passes(votes, base, share) == naive_passes(votes, base, share)
    assert passes(votes, base, share) == (votes >= votes_needed(base, share))


@given(st.integers(0, 3000), st.integers(0, 3000))
def test_the_usual_rule_is_the_old_more_than_half(votes, base):
    assert passes(votes, base) == (votes * 2 > base)
    assert votes_needed(base) == base // 2 + 1


def test_at_least_and_more_than_differ_exactly_at_the_line():
    assert votes_needed(9, Share(AT_LEAST, 2, 3)) == 6 and passes(6, 9, Share(AT_LEAST, 2, 3))
    assert votes_needed(9, Share(MORE_THAN, 2, 3)) == 7 and not passes(6, 9, Share(MORE_THAN, 2, 3))
    assert votes_needed(10, Share(AT_LEAST, 1, 2)) == 5 and votes_needed(10, MORE_THAN_HALF) == 6
    assert not passes(0, 0, Share(AT_LEAST, 2, 3)), "at least 2/3 of no ballots passes nobody"


# ---- the count ---------------------------------------------------------------------------

# Nine on the roster: candidate 1 has 6 votes, 2 has 5, 3 has 4, 4 has 3.
NINE = [[1, 2]] * 5 + [[1, 3]] + [[3, 4]] * 3


def test_two_thirds_of_the_roster_for_choose_up_to_and_rank():
    usual = count(rules(), NINE)
    assert (usual.passed, usual.elected, usual.needed) == ((1, 2), (1, 2), 5)
    for method in (CHOOSE_UP_TO, RANK):
        strict = count(rules(method, pass_rule=TWO_THIRDS), NINE)
        assert (strict.passed, strict.elected, strict.shortfall, strict.needed) == ((1,), (1,), 1, 6)
        assert strict.offers_further_round and not strict.is_more_than_half
    assert count(rules(RANK, pass_rule=TWO_THIRDS), NINE).priority == (1,)


def test_two_thirds_of_the_ballots_returned_for_for_against():
    ballots = [{"1": "for", "2": "for"}] * 4 + [{"1": "for", "2": "against"}] * 2 + [{"1": "abstain", "2": "for"}]
    base = dict(method=FOR_AGAINST, seats=2, ids=(1, 2), roster=20)
    voters = dataclasses.replace(rules(**base, pass_rule=TWO_THIRDS), threshold_base="voters")
    result = count(voters, ballots)  # 7 returned: 1 has 6, 2 has 5, and 2/3 of 7 needs 5
    assert (result.base, result.needed, result.passed) == (7, 5, (1, 2))
    stricter = count(dataclasses.replace(voters, pass_rule=Share(MORE_THAN, 5, 7)), ballots)
    assert (stricter.needed, stricter.passed) == (6, (1,))


def test_a_tie_at_the_cut_under_tie_none_leaves_the_seats_unfilled():
    ballots = [[1, 2]] * 3 + [[1, 3]] * 3 + [[1]] + [[2, 3]] * 2  # 1: 7, 2: 5, 3: 5, all pass
    runoff = count(rules(), ballots)
    assert runoff.runoff is not None and runoff.runoff.candidates == (2, 3) and runoff.unfilled_tie is None
    assert "tied" not in runoff.to_json()
    result = count(rules(tie="none"), ballots)
    assert result.runoff is None and result.unfilled_tie == Tie((2, 3), 1)
    assert (result.passed, result.elected, result.shortfall) == ((1, 2, 3), (1,), 0)
    assert not result.offers_further_round
    assert result.to_json()["tied"] == {"candidates": [2, 3], "seats": 1}
    lines = {line.candidate_id: line for line in result.ranking()}
    assert lines[2].is_tied_unfilled and not lines[2].is_in_runoff and not lines[1].is_tied_unfilled
    assert count(rules(tie="none"), NINE).to_json()["tied"] is None, "no tie: said so, as null"


def test_a_shortfall_under_shortfall_none_offers_no_further_round():
    result = count(rules(pass_rule=TWO_THIRDS, shortfall="none"), NINE)
    assert result.shortfall == 1 and not result.offers_further_round
    assert result.to_json() == count(rules(pass_rule=TWO_THIRDS), NINE).to_json(), "the count itself is the same"


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"pass_rule": Share(MORE_THAN, 1, 1)}, "pass_rule fraction"),
        ({"pass_rule": Share(AT_LEAST, 0, 2)}, "pass_rule fraction"),
        ({"pass_rule": Share(AT_LEAST, 101, 200)}, "pass_rule fraction"),
        ({"pass_rule": Share(AT_LEAST, 3, 2)}, "pass_rule fraction"),
        ({"pass_rule": Share("most", 1, 2)}, "pass_rule must be a share"),
        ({"pass_rule": "2/3"}, "pass_rule must be a share"),
        ({"tie": "coin"}, "unknown tie rule"),
        ({"shortfall": "later"}, "unknown shortfall rule"),
    ],
)
def test_round_rules_refuse_rules_that_cannot_be_counted(changes, message):
    with pytest.raises(ValueError, match=message):
        rules(**changes)


def test_an_assessment_has_no_pass_tie_or_shortfall_rule():
    for changes in ({"pass_rule": TWO_THIRDS}, {"tie": "none"}, {"shortfall": "none"}):
        with pytest.raises(ValueError, match="only to a round that fills seats"):
            rules(SATISFACTION, **changes)


# ---- the board and the recount --------------------------------------------------------


def test_a_board_under_the_usual_rules_is_byte_for_byte_what_it_was():
    explicit = build_board({**ROUND, "pass_rule": MORE_THAN_HALF, "tie": "runoff", "shortfall": "further_round"},
                           CANDIDATES, [("r4", [1]), ("r2", [1, 3]), ("r5", None), ("r1", [1, 2]), ("r3", [2, 3])])
    assert explicit["digest"] == SAMPLE_DIGEST and explicit["round"] == ROUND


def strict_board(**changes):
    info = {**ROUND, "roster": 9, "present": 9, "issued": 9, "pass_rule": TWO_THIRDS, "tie": "none", "shortfall": "none"}
    candidates = CANDIDATES + [{"id": 4, "name": "第四个项目"}]
    return build_board({**info, **changes}, candidates, [(f"r{i}", choices) for i, choices in enumerate(NINE)])


def test_a_board_carries_the_rules_that_differ_and_counts_by_them():
    board = strict_board()
    assert board["round"]["pass_rule"] == {"rule": "at_least", "fraction": "2/3"}
    assert (board["round"]["tie"], board["round"]["shortfall"]) == ("none", "none")
    parsed = parse_board(board)
    assert (parsed.rules.pass_rule, parsed.rules.tie, parsed.rules.shortfall) == (TWO_THIRDS, "none", "none")
    assert _verify_json(board) == count(parsed.rules, parsed.ballots).to_json()
    assert _verify_json(board)["passed"] == [1]
    only_tie = strict_board(pass_rule=MORE_THAN_HALF, shortfall="further_round")["round"]
    assert "pass_rule" not in only_tie and "shortfall" not in only_tie and only_tie["tie"] == "none"


def test_the_rules_are_covered_by_the_digest():
    board = strict_board()
    board["round"]["pass_rule"]["fraction"] = "1/2"
    with pytest.raises(DigestMismatch):
        parse_board(board)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda r: r.update(pass_rule="at_least 2/3"), "round.pass_rule must be a JSON object"),
        (lambda r: r.update(pass_rule={"rule": "at_least"}), "round.pass_rule is missing 'fraction'"),
        (lambda r: r.update(pass_rule={"rule": "at_least", "fraction": "2/3", "of": "roster"}), "unknown key"),
        (lambda r: r.update(pass_rule={"rule": "at_least", "fraction": 0.66}), "round.pass_rule.fraction must be a string"),
        (lambda r: r.update(pass_rule={"rule": "at_least", "fraction": "2/3.0"}), "must be a fraction such as"),
        (lambda r: r.update(pass_rule={"rule": "at_least", "fraction": "4/3"}), "round: pass_rule fraction"),
        (lambda r: r.update(pass_rule={"rule": "more_than", "fraction": "3/3"}), "round: pass_rule fraction"),
        (lambda r: r.update(pass_rule={"rule": "most", "fraction": "2/3"}), "round: pass_rule must be a share"),
        (lambda r: r.update(tie="coin"), "round: unknown tie rule"),
        (lambda r: r.update(shortfall=0), "round.shortfall must be a string"),
        (lambda r: r.update(method="satisfaction", satisfaction_bar=60), "round.pass_rule is not allowed"),
    ],
)
def test_boards_with_rules_that_cannot_be_counted_are_refused(change, message):
    board = strict_board()
    del board["digest"]
    change(board["round"])
    with pytest.raises(BoardError, match=message):
        parse_board(board)


def test_verify_states_the_rules_in_its_table(tmp_path, capsys):
    assert main([write(tmp_path, strict_board())]) == 0
    out = capsys.readouterr().out
    assert "Pass line: at least 2/3 of the roster (9), at least 6 votes" in out
    assert "Shortfall: 1 seat not filled; under the round's rules no further round is held." in out
    tied = strict_board(pass_rule=MORE_THAN_HALF, seats=1)  # 1: 6 votes, 2: 5; seats 1 - no tie
    assert main([write(tmp_path, tied)]) == 0
    assert "Pass line: more than half of the roster (9), at least 5 votes" in capsys.readouterr().out
    ballots = [(f"r{i}", choices) for i, choices in enumerate([[1, 2]] * 3 + [[1, 3]] * 3 + [[2, 3]] * 2 + [[1]])]
    board = build_board({**ROUND, "roster": 9, "present": 9, "issued": 9, "tie": "none"}, CANDIDATES, ballots)
    assert main([write(tmp_path, board)]) == 0
    out = capsys.readouterr().out
    assert "Tie: #2, #3 are tied for the last 1 seat; under the round's rules no new round is held" in out
    assert "   2      5  yes     tied     #2" in out and "Runoff" not in out


@st.composite
def seat_rounds(draw):
    """A round of a method that fills seats, under random rules, with valid, void and junk ballots."""
    method = draw(st.sampled_from((CHOOSE_UP_TO, FOR_AGAINST, RANK)))
    ids = draw(st.lists(st.integers(1, 30), unique=True, min_size=1, max_size=5))
    some_id = st.sampled_from(ids + [77])
    if method == FOR_AGAINST:
        ballot = st.one_of(st.none(), st.dictionaries(some_id.map(str), st.sampled_from(MARKS + ("yes",)), max_size=5))
    else:
        ballot = st.one_of(st.none(), st.lists(some_id, max_size=4))
    ballots = [(f"r{i:03d}", draw(ballot)) for i in range(draw(st.integers(0, 24)))]
    roster = draw(st.integers(0, 30))
    info = {
        "id": 1, "title": "随机", "method": method, "seats": draw(st.integers(1, 3)),
        "threshold_base": draw(st.sampled_from(THRESHOLD_BASES)), "roster": roster, "present": roster,
        "issued": draw(st.one_of(st.just(len(ballots)), st.integers(0, 30))),
        "pass_rule": draw(shares()), "tie": draw(st.sampled_from(TIE_RULES)), "shortfall": draw(st.sampled_from(SHORTFALL_RULES)),
    }
    return info, [{"id": cid, "name": f"项目{cid}"} for cid in ids], ballots


def naive_seats(info, ids, votes):
    """Who passes, takes the seats, ties for the last ones, or leaves a shortfall, written plainly."""
    base = info["roster"] if info["threshold_base"] == "roster" else info["returned"]
    passed = [cid for cid in ids if naive_passes(votes[cid], base, info["pass_rule"])]
    if len(passed) <= info["seats"]:
        return sorted(passed), [], info["seats"] - len(passed)
    last = sorted((votes[cid] for cid in passed), reverse=True)[info["seats"] - 1]
    above = [cid for cid in passed if votes[cid] > last]
    at = [cid for cid in passed if votes[cid] == last]
    if len(above) + len(at) <= info["seats"]:
        return sorted(above + at), [], 0
    return sorted(above), sorted(at), 0


@settings(max_examples=300)
@given(seat_rounds())
def test_the_recount_equals_the_count_under_any_rules(case):
    info, candidates, ballots = case
    rules_ = RoundRules(
        method=info["method"], seats=info["seats"], threshold_base=info["threshold_base"], roster=info["roster"],
        present=info["present"], issued=info["issued"], candidate_ids=tuple(c["id"] for c in candidates),
        pass_rule=info["pass_rule"], tie=info["tie"], shortfall=info["shortfall"],
    )
    expected = count(rules_, [choices for _, choices in ballots])
    assert _verify_json(build_board(info, candidates, ballots)) == expected.to_json()
    if expected.void_round:
        return
    ids = [c["id"] for c in candidates]
    elected, tied, shortfall = naive_seats({**info, "returned": len(ballots)}, ids, expected.votes)
    assert (list(expected.elected), expected.shortfall) == (elected, shortfall)
    runoff = expected.runoff.candidates if expected.runoff else ()
    unfilled = expected.unfilled_tie.candidates if expected.unfilled_tie else ()
    assert list(runoff if info["tie"] == "runoff" else unfilled) == tied and not (runoff and unfilled)
    assert expected.offers_further_round == (shortfall > 0 and info["shortfall"] == "further_round")


# ---- the round's own copy, in the database and on its pages ----------------------------


def chinese(client):
    """The client reading pages in Chinese, the default language (tests read English otherwise)."""
    client.set_cookie("lang", "zh_CN")
    return client


def session_of(world) -> CongressSession:
    return db.session.get(CongressSession, world.session_id)


def strict_round(app, world, profile=STRICT):
    """A round created while `profile` is in force, after which the congress goes back to the
    defaults; the world now points at the new round."""
    with app.app_context():
        congress = session_of(world).term.congress
        profiles.save_profile("test", congress, profile, "三分之二")
        round_ = service.create_round("test", session_of(world), "三分之二票决", CHOOSE_UP_TO, 2, None, "electronic")
        ids = [service.add_candidate("test", round_, f"项目{i}").id for i in range(1, 5)]
        profiles.save_profile("test", congress, DEFAULT_PROFILE, "恢复默认")
        db.session.commit()
        return dataclasses.replace(world, round_id=round_.id, candidate_ids=ids)


def strict_counted(app, world):
    """The round made under two thirds, voted and confirmed: a has 6 votes, b 5 of 9 on the roster."""
    world = strict_round(app, world)
    a, b, c, d = world.candidate_ids
    open_round(app, world)
    vote_all(app, world, [[a, b]] * 5 + [[a, c]] + [[c, d]] * 3)
    close_round(app, world)
    confirm_round(app, world)
    return world


def test_a_round_made_under_two_thirds_is_counted_with_two_thirds_after_the_profile_changes_back(app, world):
    world = strict_counted(app, world)
    a = world.candidate_ids[0]
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        assert round_.rules == STRICT.for_round("roster", 60)
        assert profiles.profile_in_force(round_.session.term.congress_id)[0] == DEFAULT_PROFILE
        result = service.count_round(round_)
        assert (result.needed, result.passed, result.elected, result.shortfall) == (6, (a,), (a,), 1)
        board = service.round_board(round_)
        assert board["round"]["pass_rule"] == {"rule": "at_least", "fraction": "2/3"}
        assert board["digest"] == round_.board_digest and _verify_json(board) == result.to_json()
        with pytest.raises(DomainError) as refused:
            service.follow_up_round("test", round_)
        assert "不另行票决" in str(refused.value.message)
        db.session.rollback()
    staff = chinese(as_role(app, world, "staff"))
    page = staff.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert page.count("以全体应到代表三分之二以上的多数通过") == 2, "in the round's line and under its count"
    assert "<dt>通过所需票数</dt><dd>6</dd>" in page
    assert "仅有1个候选项目获得通过，尚缺1个名额；按票决办法不另行票决，名额空缺。" in page
    assert "准备另行票决" not in page
    announce_round(app, world)
    public = chinese(app.test_client()).get(f"/ballots/rounds/{world.round_id}/results").get_data(as_text=True)
    assert "候选项目以全体应到代表三分之二以上的多数通过。" in public and "<dd>6</dd>" in public


def test_the_screen_and_the_session_report_use_the_rounds_rule(app, world):
    world = strict_counted(app, world)
    announce_round(app, world)
    presiding = as_role(app, world, "presiding")
    assert post(presiding, f"/screen/{world.session_id}/go", {"to": f"round-{world.round_id}-chart"}).status_code == 302
    slide = presiding.get(f"/screen/{world.session_id}/slide").get_data(as_text=True)
    assert (
        "The dashed line is at 2/3 of the base of 9: a candidate passes with at least 2/3 of the roster, at least 6 votes."
    ) in slide
    assert "Only 1 candidates passed: 1 seat(s) remain unfilled; the 票决办法 holds no further round." in slide
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        result = service.count_round(round_)
        figure = result_figure(result, {c.id: c.name for c in round_.candidates}, 60)
        assert figure["layout"]["shapes"][0]["x0"] == 6.0, "two thirds of the roster of 9"
        drawn = round_chart(result, {c.id: c.name for c in round_.candidates})
        assert (drawn.line_value, drawn.reaching, drawn.is_more_than_half) == (6, 1, False)
    staff = as_role(app, world, "staff")
    report = staff.get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    assert '<th scope="row">Votes needed to pass</th><td class="num">6</td>' in report
    assert "the 票决办法 holds no further round" in report and "votes needed to pass under the 票决办法 of the round" in report
    rounds = list(load_workbook(io.BytesIO(staff.get(f"/reports/sessions/{world.session_id}/report.xlsx").data)).worksheets[0].values)
    assert rounds[2][0] == "三分之二票决" and rounds[2][8] == 6


def test_a_chart_marks_the_tie_the_rules_leave_unfilled():
    result = count(rules(tie="none"), [[1, 2]] * 3 + [[1, 3]] * 3 + [[1]] + [[2, 3]] * 2)
    drawn = round_chart(result, {1: "甲", 2: "乙", 3: "丙", 4: "丁"})
    assert [(bar.value, bar.outcome) for bar in drawn.bars] == [(7, ELECTED), (5, TIED), (5, TIED), (0, NOT_PASSED)]
    assert drawn.reaching == 3 and drawn.is_more_than_half


def test_under_the_usual_rules_the_same_ballots_elect_two(app, world):
    a, b, c, d = world.candidate_ids
    open_round(app, world)
    vote_all(app, world, [[a, b]] * 5 + [[a, c]] + [[c, d]] * 3)
    close_round(app, world)
    confirm_round(app, world)
    with app.app_context():
        result = service.count_round(db.session.get(Round, world.round_id))
        assert (result.needed, result.elected) == (5, (a, b))
        assert "pass_rule" not in service.round_board(db.session.get(Round, world.round_id))["round"]
    page = chinese(as_role(app, world, "staff")).get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert page.count("以超过全体应到代表半数通过") == 2


def test_a_tie_under_tie_none_prepares_no_runoff(app, world):
    world = strict_round(app, world, RuleProfile(tie="none"))
    a, b, c, d = world.candidate_ids
    open_round(app, world)
    vote_all(app, world, [[a, b]] * 3 + [[a, c]] * 3 + [[a]] + [[b, c]] * 2)  # a: 7; b and c: 5 each, for 1 seat
    close_round(app, world)
    confirm_round(app, world)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        assert db.session.scalar(select(Round).where(Round.parent_id == round_.id)) is None, "no runoff prepared"
        result = service.count_round(round_)
        assert result.runoff is None and result.unfilled_tie == Tie((b, c), 1) and result.elected == (a,)
        with pytest.raises(DomainError):
            service.follow_up_round("test", round_)
        db.session.rollback()
    page = chinese(as_role(app, world, "staff")).get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert "2个候选项目得票相同，争夺最后1个名额；按票决办法不再就这些项目投票，该名额空缺。" in page
    assert page.count("得票相同，名额空缺") == 2 and "准备再次投票" not in page


def test_the_page_says_the_rule_in_words_in_either_language(app, world):
    world = strict_round(app, world, RuleProfile(pass_rule=Share(MORE_THAN, 3, 5), pass_base="voters"))
    staff = chinese(as_role(app, world, "staff"))
    assert "以超过收回票数五分之三通过" in staff.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    staff.set_cookie("lang", "en")
    assert "passes with more than 3/5 of the ballots returned" in staff.get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)


def test_an_assessment_is_counted_with_the_grading_of_its_copy(app, world):
    with app.app_context():
        congress = session_of(world)
        profiles.save_profile("test", congress.term.congress, RuleProfile(grading="tiers", satisfaction_bar=None))
        round_ = service.create_round("test", congress, "满意度测评", SATISFACTION, 1, "roster", "paper")
        ids = [service.add_candidate("test", round_, f"项目{i}").id for i in range(3)]
        profiles.save_profile("test", congress.term.congress, DEFAULT_PROFILE)
        ratings = [{str(ids[0]): "satisfied", str(ids[1]): "mostly_satisfied", str(ids[2]): "dissatisfied"}] * 5
        for choices in ratings + [{str(ids[0]): "dissatisfied"}] * 4:
            db.session.add(Ballot(receipt=service.new_receipt(), round_id=round_.id, choices=choices))
        round_.state = CLOSED
        round_.roster_count, round_.present_count, round_.issued_count = 9, 9, 9
        db.session.flush()
        result = service.count_round(round_)
        assert result.grading == "tiers"
        assert dict(result.grades) == {ids[0]: "satisfied", ids[1]: "mostly_satisfied", ids[2]: "dissatisfied"}
        board = service.round_board(round_)
        assert board["round"]["grading"] == "tiers" and "satisfaction_bar" not in board["round"]
        assert _verify_json(board) == result.to_json()
        db.session.rollback()


@st.composite
def profiled_rounds(draw):
    method = draw(st.sampled_from((CHOOSE_UP_TO, FOR_AGAINST, RANK)))
    candidates = draw(st.integers(1, 5))
    slot = st.integers(0, candidates)  # index == candidates: an id not on the ballot
    if method == FOR_AGAINST:
        ballot = st.one_of(st.none(), st.dictionaries(slot, st.sampled_from(MARKS + ("yes",)), max_size=candidates))
    else:
        ballot = st.one_of(st.none(), st.lists(slot, max_size=candidates + 1))
    roster = draw(st.integers(1, 30))
    profile = RuleProfile(
        pass_base=draw(st.sampled_from(THRESHOLD_BASES)), pass_rule=draw(shares()),
        tie=draw(st.sampled_from(TIE_RULES)), shortfall=draw(st.sampled_from(SHORTFALL_RULES)),
        margin=DEFAULT_PROFILE.margin,
    )
    ballots = draw(st.lists(ballot, max_size=roster + 2))
    issued = draw(st.integers(0, roster + 2))
    return method, candidates, draw(st.integers(1, candidates)), profile, roster, issued, ballots


def test_the_recount_of_the_published_board_equals_the_in_app_count_under_any_profile(app, world):
    with app.app_context():
        congress = session_of(world)
        versions = iter(range(10**6))

        @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
        @given(profiled_rounds())
        def check(spec):
            method, candidates, seats, profile, roster, issued, ballots = spec
            if profile != DEFAULT_PROFILE:
                profiles.save_profile("test", congress.term.congress, profile, f"第{next(versions)}次")
            round_ = service.create_round("test", congress, "随机", method, seats, None, "paper")
            if profile != DEFAULT_PROFILE:  # back to the defaults: the round keeps its copy
                profiles.save_profile("test", congress.term.congress, DEFAULT_PROFILE, f"第{next(versions)}次")
            ids = [service.add_candidate("test", round_, f"候选{i}").id for i in range(candidates)]
            to_id = [*ids, max(ids) + 1000]
            for choices in ballots:
                if isinstance(choices, list):
                    choices = [to_id[i] for i in choices]
                elif isinstance(choices, dict):
                    choices = {str(to_id[i]): mark for i, mark in choices.items()}
                db.session.add(Ballot(receipt=service.new_receipt(), round_id=round_.id, choices=choices))
            round_.state = CLOSED
            round_.roster_count, round_.present_count, round_.issued_count = roster, roster, issued
            db.session.flush()
            live = service.count_round(round_)
            assert (live.pass_rule, live.tie_rule, live.shortfall_rule) == (profile.pass_rule, profile.tie, profile.shortfall)
            assert _verify_json(service.round_board(round_)) == json.loads(json.dumps(live.to_json()))

        check()
