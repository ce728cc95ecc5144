"""A congress's 票决办法 in the database: saved as versions, copied into each round when it is
created, and applied from the round's own copy (methods, pass base, 差额, quorum), so a later
edit never changes a round that exists."""

import pytest
from sqlalchemy import func, select

from tests.ballots.helpers import as_role, close_round, confirm_round, open_round, unseal_round
from tests.ballots.test_rounds import vote_all
from tests.conftest import adopt, build_world, post
from voting_app import audit
from voting_app.ballots import profile_rules as rules
from voting_app.ballots import profiles, service
from voting_app.ballots.models import Round, RuleProfileVersion
from voting_app.ballots.profile_rules import DEFAULT_PROFILE, Margin, RuleProfile, Share
from voting_app.db import db
from voting_app.errors import DomainError
from voting_app.sessions.models import CongressSession

STRICT = RuleProfile(
    quorum=Share("at_least", 2, 3),
    pass_base="voters",
    pass_rule=Share("at_least", 2, 3),
    margin=Margin(2, 50),
    tie="none",
    shortfall="none",
    methods=("for_against", "satisfaction"),
    grading="tiers",
    satisfaction_bar=None,
    requires_adoption=False,
)


def session_of(world) -> CongressSession:
    return db.session.get(CongressSession, world.session_id)


def congress_of(world):
    return session_of(world).term.congress


def test_a_round_copies_the_profile_in_force_and_keeps_it(app, world):
    with app.app_context():
        congress = congress_of(world)
        before = db.session.get(Round, world.round_id)
        assert before.rules == DEFAULT_PROFILE and before.rule_profile_version_id is None
        saved = profiles.save_profile("test", congress, STRICT, "主任会议通过")
        assessment = service.create_round("test", session_of(world), "测评", "satisfaction", 1, None, "electronic")
        ballot = service.create_round("test", session_of(world), "逐项", "for_against", 2, None, "paper")
        db.session.commit()
        assert assessment.rule_profile_version_id == saved.id and assessment.grading == "tiers"
        assert assessment.threshold_base == "voters", "the pass base defaults to the profile's"
        assert assessment.rules == STRICT
        assert ballot.rules == STRICT and ballot.grading == "bar", "only an assessment is graded"
        assessment_id, ballot_id = assessment.id, ballot.id

        profiles.save_profile("test", congress, DEFAULT_PROFILE, "恢复默认")
        db.session.commit()
    with app.app_context():
        assert db.session.get(Round, world.round_id).rules == DEFAULT_PROFILE
        for round_id in (assessment_id, ballot_id):
            kept = db.session.get(Round, round_id)
            assert kept.rules == STRICT and kept.rule_profile_version.number == 1
        assert db.session.get(Round, assessment_id).grading == "tiers"
        newer = service.create_round("test", session_of(world), "新一轮", "choose_up_to", 2, None, "electronic")
        assert newer.rules == DEFAULT_PROFILE and newer.rule_profile_version.number == 2


def test_a_rounds_own_choices_go_into_its_copy(app, world):
    with app.app_context():
        voters = service.create_round("test", session_of(world), "以收回票为基数", "choose_up_to", 2, "voters", "electronic")
        assert voters.rules == DEFAULT_PROFILE.for_round("voters", 60) and voters.rules.pass_base == "voters"
        assessment = service.create_round("test", session_of(world), "测评", "satisfaction", 1, "roster", "electronic", 75)
        assert assessment.rules.satisfaction_bar == 75 == assessment.satisfaction_bar
        service.update_round("test", voters, "改为应到", "for_against", 2, "roster", "paper", 60)
        assert voters.rules == DEFAULT_PROFILE and voters.threshold_base == "roster"


def test_a_method_the_profile_does_not_allow_is_refused(app, world):
    with app.app_context():
        profiles.save_profile("test", congress_of(world), STRICT)
        with pytest.raises(DomainError) as refused:
            service.create_round("test", session_of(world), "差额选择", "choose_up_to", 2, None, "electronic")
        message = str(refused.value.message)  # in Chinese, the default language
        assert "从候选项目中最多选N个" in message and "对每个候选项目分别表决赞成 / 反对 / 弃权、民生实事项目满意度测评" in message
        allowed = service.create_round("test", session_of(world), "逐项", "for_against", 2, None, "electronic")
        with pytest.raises(DomainError):
            service.update_round("test", allowed, "逐项", "choose_up_to", 2, "roster", "electronic")
        assert allowed.method == "for_against"
        with pytest.raises(DomainError):
            service.create_round("test", session_of(world), "不存在", "approval", 2, "roster", "electronic")


def test_the_runoff_copies_its_parents_rules_not_the_profile_in_force(app, world):
    open_round(app, world)
    a, b, c, d = world.candidate_ids
    vote_all(app, world, [[a, b], [a, c], [a, d], [b, c], [b, c], [b, d], [b, d], [c, d], [c, d]])
    close_round(app, world)
    unseal_round(app, world)
    with app.app_context():
        profiles.save_profile("test", congress_of(world), RuleProfile(margin=Margin(5, 100), methods=("choose_up_to",)))
        db.session.commit()
    confirm_round(app, world)
    with app.app_context():
        runoff = db.session.scalar(select(Round).where(Round.parent_id == world.round_id))
        parent = db.session.get(Round, world.round_id)
        assert runoff.kind == "runoff" and runoff.rules_json == parent.rules_json
        assert runoff.rule_profile_version_id is None and runoff.rules == DEFAULT_PROFILE
        # Three tied for two places: the runoff takes exactly them, whatever the 差额.
        assert service.margin_check(runoff) is None


def test_opening_refuses_too_few_candidates_for_the_margin(app):
    with app.app_context():
        world = build_world(candidates=11, seats=10)
    presiding = as_role(app, world, "presiding")
    page = post(presiding, f"/ballots/rounds/{world.round_id}/open", follow_redirects=True).get_data(as_text=True)
    assert (
        "Too few candidates for the 差额 the 票决办法 asks: 10 places need at least 12 candidates (at least 1 more than "
        "the places and at least 20% more), and this round has 11."
    ) in page
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "draft"
        service.add_candidate("test", db.session.get(Round, world.round_id), "项目12")
        db.session.commit()
    open_round(app, world)
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "open"


def test_a_profile_without_margin_opens_a_round_with_as_many_candidates_as_places(app):
    with app.app_context():
        world = build_world(candidates=2, seats=2)
        equal = profiles.save_profile("test", congress_of(world), RuleProfile(margin=Margin(0, 0)))
        same = service.create_round("test", session_of(world), "等额", "choose_up_to", 2, None, "electronic")
        for name in ("甲", "乙"):
            service.add_candidate("test", same, name)
        adopt(same)
        db.session.commit()
        same_id = same.id
        assert same.rule_profile_version_id == equal.id
        with pytest.raises(DomainError):
            service.open_round("test", db.session.get(Round, world.round_id))  # made under the defaults
        db.session.rollback()
        service.open_round("test", db.session.get(Round, same_id))
        assert db.session.get(Round, same_id).state == "open"


def test_the_quorum_is_the_rounds_own(app):
    with app.app_context():
        world = build_world(deputies=9, present=5)
        profiles.save_profile("test", congress_of(world), RuleProfile(quorum=Share("at_least", 2, 3)))
        strict = service.create_round("test", session_of(world), "三分之二", "for_against", 1, None, "electronic")
        service.add_candidate("test", strict, "甲")
        adopt(strict)
        db.session.commit()
        strict_id = strict.id
    presiding = as_role(app, world, "presiding")
    page = post(presiding, f"/ballots/rounds/{strict_id}/open", follow_redirects=True).get_data(as_text=True)
    assert "No quorum: 5 of 9 deputies are present; at least 6 are needed." in page
    assert presiding.get(f"/ballots/rounds/{strict_id}/status.json").get_json()["quorum"] == 6
    assert presiding.get(f"/ballots/rounds/{world.round_id}/status.json").get_json().items() >= {"quorum": 5, "has_quorum": True}.items()
    open_round(app, world)  # the first round, under the defaults: 5 of 9 is more than half
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "open"
        assert db.session.get(Round, strict_id).state == "draft"


def test_a_save_is_a_new_version_audited_and_nothing_is_stored_when_it_is_wrong(app, world):
    with app.app_context():
        congress = congress_of(world)
        entries = db.session.scalar(select(func.count()).select_from(audit.AuditEntry))
        with pytest.raises(profiles.ProfileError) as wrong:
            profiles.save_profile("test", congress, RuleProfile(methods=(), margin=Margin(-1, 20)))
        assert wrong.value.problems == [("margin.extra_candidates", "range"), ("methods", "empty")]
        with pytest.raises(profiles.ProfileError):
            profiles.save_profile("test", congress, STRICT, "长" * 201)
        assert db.session.scalar(select(func.count()).select_from(RuleProfileVersion)) == 0
        assert db.session.scalar(select(func.count()).select_from(audit.AuditEntry)) == entries

        first = profiles.save_profile("test", congress, DEFAULT_PROFILE, "  采用  默认 ")
        assert (first.number, first.note, first.profile) == (1, "采用 默认", DEFAULT_PROFILE)
        with pytest.raises(DomainError):
            profiles.save_profile("test", congress, DEFAULT_PROFILE)
        second = profiles.save_profile("user:1", congress, STRICT, "改为三分之二")
        db.session.commit()
        assert [v.number for v in profiles.versions(congress)] == [2, 1]
        assert profiles.profile_in_force(congress.id) == (STRICT, second)
        entry = db.session.scalars(select(audit.AuditEntry).order_by(audit.AuditEntry.id.desc())).first()
        assert (entry.action, entry.target, entry.actor) == ("rule_profile.save", f"congress:{congress.id}", "user:1")
        assert entry.details["version"] == 2 and entry.details["profile"] == rules.to_document(STRICT)
        assert entry.details["changed"] == list(rules.settings(STRICT))
