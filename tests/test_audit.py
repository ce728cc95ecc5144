"""The hash-chained audit log and the command-line tools."""

import json
import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from tests.ballots.helpers import announce_round, as_deputy, as_role, cast, close_round, confirm_round, open_round
from tests.conftest import AUDIT_KEY, post
from tests.helpers import lift_audit_guard
from voting_app.audit import AuditEntry
from voting_app.ballots.models import Ballot
from voting_app.db import db


def actions(app):
    with app.app_context():
        return [e.action for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def run_round(app, world):
    open_round(app, world)
    cast(as_deputy(app, world), world.round_id, choices=world.candidate_ids[:2])
    close_round(app, world)
    confirm_round(app, world)
    announce_round(app, world)


def test_staff_actions_are_logged_in_order(app, world):
    run_round(app, world)
    post(as_role(app, world, "staff"), f"/sessions/{world.session_id}/cards/{world.deputy_ids[3]}/revoke")
    logged = actions(app)
    assert logged.count("session.create") == 1 and logged.count("registry.import") == 1
    tail = [a for a in logged if a.startswith(("round.", "credential.revoke"))]
    assert tail == [
        "round.create", "round.adopt", "round.open", "round.close", "round.unseal", "round.confirm", "round.announce", "credential.revoke"
    ]
    with app.app_context():
        details = " ".join(str(e.details) + e.target for e in db.session.scalars(select(AuditEntry)))
        receipts = [b.receipt for b in db.session.scalars(select(Ballot))]
    assert receipts and not any(receipt in details for receipt in receipts), "a receipt in the audit log"
    assert not any(" ".join(share.split()[4:8]) in details for share in world.shares), "a key share in the audit log"


def test_audit_verify_passes_then_names_the_first_altered_entry(app, world):
    run_round(app, world)
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["audit-verify"])
    assert ok.exit_code == 0 and "intact" in ok.output
    with app.app_context():
        target = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "round.open")).one()
        target_id = target.id
        lift_audit_guard(db.session)
        db.session.execute(
            text("UPDATE audit_entries SET actor = 'someone-else' WHERE id = :id"), {"id": target_id}
        )
        db.session.commit()
    broken = runner.invoke(args=["audit-verify"])
    assert broken.exit_code == 1
    assert f"entry {target_id}" in broken.output


def test_a_removed_audit_entry_is_detected(app, world):
    run_round(app, world)
    with app.app_context():
        ids = db.session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)).all()
        lift_audit_guard(db.session)
        db.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": ids[3]})
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 1 and f"entry {ids[4]}" in result.output


@pytest.mark.parametrize("statement", ["UPDATE audit_entries SET actor = 'someone-else'", "DELETE FROM audit_entries"])
def test_the_database_refuses_to_change_or_remove_audit_entries(app, world, statement):
    """Append-only is enforced below the application: a bug or a stray SQL console cannot
    rewrite history without first removing the guard."""
    run_round(app, world)
    before = actions(app)
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert actions(app) == before


def test_the_database_refuses_to_replace_or_truncate_audit_entries(app, world):
    """The side doors: SQLite's INSERT OR REPLACE deletes without a DELETE trigger, and
    PostgreSQL's TRUNCATE skips row triggers."""
    run_round(app, world)
    before = actions(app)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            statement = "TRUNCATE audit_entries"
        else:
            statement = ("INSERT OR REPLACE INTO audit_entries (id, at, actor, action, target, details, prev_hash, hash) "
                         "SELECT id, at, 'someone-else', action, target, details, prev_hash, hash FROM audit_entries WHERE id = 2")
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert actions(app) == before


def test_an_emptied_log_is_not_intact_once_rounds_were_confirmed(app, world):
    run_round(app, world)
    with app.app_context():
        lift_audit_guard(db.session)
        db.session.execute(text("DELETE FROM audit_entries"))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 1 and "emptied" in result.output


def test_an_anchor_catches_the_newest_entries_being_cut_off(app, world):
    """The chain of what is left stays valid when entries are removed from its end; the
    anchor printed in a session report does not."""
    run_round(app, world)
    runner = app.test_cli_runner()
    anchor = runner.invoke(args=["audit-anchor"]).output.strip()
    assert runner.invoke(args=["audit-verify", "--anchor", anchor]).exit_code == 0
    with app.app_context():
        newest = db.session.scalar(select(func.max(AuditEntry.id)))
        lift_audit_guard(db.session)
        db.session.execute(text("DELETE FROM audit_entries WHERE id = :id"), {"id": newest})
        db.session.commit()
    assert runner.invoke(args=["audit-verify"]).exit_code == 0  # the shortened chain alone looks fine
    cut = runner.invoke(args=["audit-verify", "--anchor", anchor])
    assert cut.exit_code == 1 and "entries were removed" in cut.output


def test_an_anchor_catches_a_rewritten_log(app, world):
    """Someone who holds the audit key as well as the database owner's rights can rewrite
    every hash after a change and keep the chain valid, but not the anchor."""
    run_round(app, world)
    runner = app.test_cli_runner()
    anchor = runner.invoke(args=["audit-anchor"]).output.strip()
    with app.app_context():
        from voting_app.audit import GENESIS, entry_mac

        lift_audit_guard(db.session)
        prev = GENESIS
        for entry in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all():
            actor = "someone-else" if entry.action == "round.open" else entry.actor
            new_hash = entry_mac(bytes.fromhex(AUDIT_KEY), prev, entry.at, actor, entry.action, entry.target, entry.details)
            db.session.execute(text("UPDATE audit_entries SET actor = :a, prev_hash = :p, hash = :h WHERE id = :id"),
                               {"a": actor, "p": prev, "h": new_hash, "id": entry.id})
            prev = new_hash
        db.session.commit()
    assert runner.invoke(args=["audit-verify"]).exit_code == 0
    rewritten = runner.invoke(args=["audit-verify", "--anchor", anchor])
    assert rewritten.exit_code == 1 and "rewritten" in rewritten.output


def test_a_malformed_anchor_is_a_clear_usage_error(app):
    result = app.test_cli_runner().invoke(args=["audit-verify", "--anchor", "42:not-a-hash"])
    assert result.exit_code == 2 and "COUNT:HASH" in result.output


def test_the_session_report_prints_the_audit_anchor(app, world):
    run_round(app, world)
    with app.app_context():
        from voting_app.audit import anchor

        expected = anchor()
    page = as_role(app, world, "staff").get(f"/reports/sessions/{world.session_id}").get_data(as_text=True)
    assert expected in page


def test_the_audit_page_shows_the_chain_state(app, world):
    run_round(app, world)
    page = as_role(app, world, "staff").get("/audit/").get_data(as_text=True)
    assert "intact" in page and "round.announce" in page


def test_export_board_prints_the_public_board(app, world):
    run_round(app, world)
    result = app.test_cli_runner().invoke(args=["export-board", str(world.round_id)])
    assert result.exit_code == 0
    exported = json.loads(result.output)
    served = app.test_client().get(f"/ballots/rounds/{world.round_id}/board.json").get_json()
    assert exported == served and len(exported["ballots"]) == 1
    missing = app.test_cli_runner().invoke(args=["export-board", "9999"])
    assert missing.exit_code != 0


def test_seed_demo_builds_the_demo_session(app, tmp_path):
    runner = app.test_cli_runner()
    logins = tmp_path / "logins.txt"
    result = runner.invoke(args=["seed-demo", "--logins-file", str(logins)])
    assert result.exit_code == 0, result.output
    assert "staff" in logins.read_text() and "PIN" in logins.read_text()
    from voting_app.ballots import service
    from voting_app.ballots.models import Round
    from voting_app.sessions.models import CongressSession, Deputy

    with app.app_context():
        congress = db.session.scalars(select(CongressSession).order_by(CongressSession.id)).first()
        deputies = db.session.scalars(select(Deputy).where(Deputy.session_id == congress.id)).all()
        delegations = {d.delegation for d in deputies}
        finished = db.session.scalars(select(Round).where(Round.state == "announced", Round.method == "choose_up_to",
                                                          Round.session_id == congress.id)).one()
        from voting_app.demo_delivery import ROUND_2026
        from voting_app.projects.models import Project
        from voting_app.proposals.service import proposals_behind

        last_year = db.session.scalars(select(Round).where(Round.title == ROUND_2026)).one()
        origins = [len(proposals_behind(project)) for project in db.session.scalars(
            select(Project).where(Project.id.in_([c.project_id for c in last_year.candidates if c.project_id])))]
        assessment = db.session.scalars(select(Round).where(Round.method == "satisfaction")).one()
        from surveys.models import Response, Survey

        surveys = db.session.scalars(select(Survey).where(Survey.project_id.is_not(None), Survey.mode == "open")).all()
        from surveys.frames import frame_rate
        from surveys.models import SampleFrame

        [frame] = db.session.scalars(select(SampleFrame)).all()
        frame_used = frame_rate(frame, 1, 30).overall.used
        responses = {s.id: db.session.scalar(select(func.count()).select_from(Response).where(Response.survey_id == s.id)) for s in surveys}
        from voting_app.registry.models import Grid

        grids = dict(db.session.execute(select(Grid.level, func.count()).group_by(Grid.level)).all())
        from voting_app.registry.models import DeputyGroup, TermDeputy

        levels = dict(db.session.execute(
            select(TermDeputy.level, func.count()).where(TermDeputy.term_id == congress.term_id).group_by(TermDeputy.level)
        ).all())
        stationed = db.session.scalar(select(func.count()).where(TermDeputy.station_id.is_not(None)))
        group_count = db.session.scalar(select(func.count(DeputyGroup.id)))
        by_grid = db.session.execute(
            select(func.count()).select_from(Response).where(Response.grid_id.is_not(None)).group_by(Response.grid_id)
        ).scalars().all()
        from surveys.models import HouseholdCode

        codes_by_grid = db.session.execute(
            select(func.count()).select_from(HouseholdCode)
            .where(HouseholdCode.grid_id.is_not(None), HouseholdCode.frame_id.is_(None)).group_by(HouseholdCode.grid_id)
        ).scalars().all()
        assessed = (assessment.state, len(assessment.candidates))
        graded = (assessment.grading, assessment.threshold_base, sorted(service.count_round(assessment).grades.values()))
        placements = [len(s.placements) for s in surveys]
        result = service.count_round(finished)
    assert len(deputies) == 240 and len(delegations) == 8
    # Fancheng's sizes: 721 deputies of four levels in the registry, the district's own 242 of them
    # (240 at a time); all at a station but the one elected in the by-election and the one who
    # resigned after the sixth session (out of office, off their station); 48 groups, and the
    # ad-hoc group formed to supervise the street lighting.
    assert sum(levels.values()) == 721 and levels["district"] == 242 and len(levels) == 4
    assert stationed == 719 and group_count == 48 + 1
    assert len(finished.candidates) == 15 and finished.seats == 10
    names = {c.name for c in finished.candidates}
    assert {"农村公路桥梁新改建", "“一号公路”亮化工程", "市百货站小区文化长廊改造"} <= names
    assert len(result.elected) == 10
    assert assessed == ("announced", 4)
    # The district's 票决办法 grades in three grades on the roster: the demo shows all three.
    assert graded == ("tiers", "roster", ["dissatisfied", "mostly_satisfied", "satisfied", "satisfied"])
    # The corridor's first survey (about 120 answers) sent it to rectification; the three running now have more.
    assert len(responses) == 4 and sorted(responses.values())[0] >= 100 and all(200 <= n <= 400 for n in sorted(responses.values())[1:])
    # Last year's delivered projects were elected at the fifth session from the residents' proposals.
    assert (last_year.state, len(last_year.candidates), sorted(origins)) == ("announced", 6, [1, 2, 3, 3])
    assert frame.size == 300 and frame.printed_at and 60 <= frame_used <= 200  # the demo frame's response rate
    assert all(count >= 3 for count in placements)
    assert grids == {1: 10, 2: 128, 3: 625}
    assert any(n >= 30 for n in by_grid) and any(n < 30 for n in by_grid)  # the demo map shows rates and 样本不足
    assert codes_by_grid and min(codes_by_grid) >= 30  # printed per grid as staff may: never a handful for a grid
    with app.app_context():
        from voting_app.projects import delivery
        from voting_app.projects.models import Project
        from voting_app.proposals.models import LiaisonStation, Proposal

        stages = set(db.session.scalars(select(Project.stage)))
        board = delivery.dashboard()
        stations = db.session.scalar(select(func.count(LiaisonStation.id)))
        statuses = set(db.session.scalars(select(Proposal.status)))
        supervised = db.session.scalar(select(func.count()).select_from(delivery.SupervisionRecord))
        from voting_app.projects import checkpoints
        from voting_app.registry.models import DeputyGroup

        from voting_app.clock import beijing_today
        from voting_app.demo_delivery import last_friday

        year = beijing_today().year  # the demo's delivery year
        cycle = [(item.day, item.is_set) for item in checkpoints.year_checkpoints(year, app.config["SUPERVISION_CHECKPOINT_DAYS"])]
        ad_hoc = db.session.scalar(select(DeputyGroup).where(DeputyGroup.kind == "ad_hoc"))
        ad_hoc_projects = [project.name for project in db.session.scalars(select(Project).where(Project.supervision_group_id == ad_hoc.id))]
        ad_hoc_members = {membership.deputy.number for membership in ad_hoc.memberships}
        led = ad_hoc.convener is not None
        first_card = db.session.scalars(select(Deputy).where(Deputy.session_id == congress.id).order_by(Deputy.id)).first().person.number
    assert cycle == [(last_friday(year, month), True) for month in (3, 7, 11)]
    assert ad_hoc_projects == ["“一号公路”亮化工程（一期）"] and first_card in ad_hoc_members and led
    assert stages == {"approved", "in_progress", "operating", "accepted"}
    assert board.milestones and board.stages and board.rectifications
    assert stations == 25 and statuses == {"received", "accepted", "merged", "declined", "reserved"} and supervised >= 4
    assert "dept-transport" in logins.read_text()
    assert "already present" in runner.invoke(args=["seed-demo"]).output
    shown = runner.invoke(args=["demo-logins", "--logins-file", str(logins), "--server", "http://10.1.2.3:8080/"])
    assert shown.exit_code == 0, shown.output
    card_links = re.findall(r"(\S+)/c/\S+\s+PIN", shown.output)
    assert len(card_links) == 5 and set(card_links) == {"http://10.1.2.3:8080"}
    assert "http://10.1.2.3:8080/login" in shown.output and "{server}" not in shown.output
    assert logins.read_text().startswith("({server} below is the address the app is served at")  # the file says what it means
    assert "127.0.0.1" not in shown.output
    from voting_app.demo import TRIAL_ROUND_NAME

    with app.app_context():
        trial = db.session.scalars(select(Round).where(Round.title == TRIAL_ROUND_NAME)).one()
        assert trial.state == "draft" and trial.candidates
    assert TRIAL_ROUND_NAME in shown.output
    assert runner.invoke(args=["audit-verify"]).exit_code == 0


def test_the_demo_seeds_one_rule_profile_per_style(app, tmp_path):
    """The district grades in tiers on the roster and never ranks; a town congress of its own
    town-level deputies has a priority ballot, cast, counted, confirmed and announced."""
    result = app.test_cli_runner().invoke(args=["seed-demo", "--logins-file", str(tmp_path / "logins.txt")])
    assert result.exit_code == 0, result.output
    from voting_app.ballots import profiles, service
    from voting_app.ballots.models import Round
    from voting_app.demo_town import TOWN_CONGRESS, TOWN_ROUND
    from voting_app.registry.models import Congress

    with app.app_context():
        district = db.session.scalars(select(Congress).where(Congress.level == "district")).one()
        town = db.session.scalars(select(Congress).where(Congress.level == "town")).one()
        district_rules, _ = profiles.profile_in_force(district.id)
        town_rules, _ = profiles.profile_in_force(town.id)
        assert (district_rules.grading, district_rules.pass_base, district_rules.satisfaction_bar) == ("tiers", "roster", None)
        assert not district_rules.allows("rank") and town_rules.allows("rank") and town.name == TOWN_CONGRESS
        ranked = db.session.scalars(select(Round).where(Round.method == "rank")).one()
        session = ranked.session
        assert ranked.title == TOWN_ROUND and session.term.congress_id == town.id
        numbers = {deputy.number for deputy in session.deputies}
        assert len(numbers) == 52 and all(number.startswith("T") for number in numbers)
        assert {deputy.person.level for deputy in session.deputies} == {"town"}
        assert (ranked.state, ranked.seats, len(ranked.candidates), ranked.roster_count) == ("announced", 10, 20, 52)
        counted = service.count_round(ranked)
        assert counted.valid == counted.returned == ranked.present_count - 1 and counted.void == 0
        assert len(counted.elected) == 10 and counted.runoff is None and len(counted.priority) >= 10
        assert counted.points[counted.priority[0]] > 0
        # Every district round copies the district's profile; the town's round the town's.
        district_rounds = db.session.scalars(select(Round).where(Round.method != "rank")).all()
        assert all(r.rules.grading == "tiers" and not r.rules.allows("rank") for r in district_rounds)
        assert ranked.rules.allows("rank")
    sheet = (tmp_path / "logins.txt").read_text()
    assert f"/ballots/rounds/{ranked.id}/results" in sheet and f"/terms/congresses/{town.id}/rules" in sheet
    # What a newcomer sees on the public result pages, in Chinese.
    client = app.test_client()
    client.set_cookie("lang", "zh_Hans_CN")
    town_page = client.get(f"/ballots/rounds/{ranked.id}/results").get_data(as_text=True)
    assert "得分" in town_page and TOWN_ROUND in town_page
    with app.app_context():
        assessment = db.session.scalars(select(Round).where(Round.method == "satisfaction")).one()
        assessment_id = assessment.id
    graded = client.get(f"/ballots/rounds/{assessment_id}/results").get_data(as_text=True)
    assert all(f"grade-{grade}" in graded for grade in ("satisfied", "mostly_satisfied", "dissatisfied"))
    assert "总体满意率" in graded and "整改" in graded
