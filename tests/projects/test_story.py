"""The project's timeline (voting_app.projects.story): one ordered list from the residents'
proposals to the last rating, every source in it, the history folded per person and day, nothing
staff-only on the public page, and a page that stays small with hundreds of history lines."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from tests.conftest import adopt, build_world
from tests.images import jpeg_bytes
from voting_app.db import db, utcnow
from voting_app.images import clean_image
from voting_app.projects import story
from voting_app.projects.schedule import beijing_today

TODAY = beijing_today()
CONTACT, PRIVATE_DETAIL = "13912345678", "我家住在幸福路8号3单元，长廊灯坏了"


@dataclass
class Story:
    project_id: int
    proposal_code: str
    photo_token: str


def _vote(round_, world, choices_per_deputy) -> None:
    """Open, cast (as the demo stores ballots), close, count and announce a round."""
    from voting_app.auth.models import User
    from voting_app.ballots import service as ballots
    from voting_app.demo import _cast
    from voting_app.sessions.models import CongressSession

    presiding, scrutineer = db.session.get(User, world.presiding_id), db.session.get(User, world.scrutineer_ids[0])
    ballots.open_round(presiding.get_id(), round_)
    present = [d for d in db.session.get(CongressSession, world.session_id).deputies if d.is_present]
    for deputy, choices in zip(present, choices_per_deputy):
        _cast(round_, deputy, choices)
    db.session.flush()
    ballots.close_round(presiding, round_)
    ballots.unseal_round(scrutineer, round_, list(world.shares[:2]))
    ballots.confirm_round(scrutineer, round_)
    ballots.announce_round(presiding, round_)


def whole_story(app) -> Story:
    """A project with every kind of entry: proposals (one staff-only photo and contact, one merged),
    the vote, plan, stages, milestones, a report with a figure, supervision with its answer and
    verdict, a residents' survey under the bar and its reassessment, and the deputies' assessment."""
    from surveys import service as surveys
    from voting_app.auth.models import User
    from voting_app.auth.service import create_user
    from voting_app.ballots import service as ballots
    from voting_app.ballots.models import Round
    from voting_app.projects import delivery, planning
    from voting_app.projects import service as projects
    from voting_app.proposals import service as proposals
    from voting_app.sessions.models import CongressSession

    with app.app_context():
        world = build_world(deputies=9, candidates=0, seats=1, adopted=False)
        round_ = db.session.get(Round, world.round_id)
        station = proposals.add_station("test", "米公街道人大代表联络站")
        proposal = proposals.submit_proposal(station, "文化长廊改造", "改造小区文化长廊，增设座椅和照明。", "幸福路", "community", CONTACT,
                                             [clean_image(jpeg_bytes())])
        duplicate = proposals.submit_proposal(None, "长廊太旧", PRIVATE_DETAIL, "", "community", "", [], channel="online")
        proposals.merge_proposal("test", "staff", duplicate, proposal)
        candidate = proposals.accept_proposal("test", "staff", proposal, round_, "米公街道办事处", Decimal("150"))
        ballots.add_candidate("test", round_, "另一个项目")
        adopt(round_, db.session.get(User, world.staff_id))
        _vote(round_, world, [[candidate.id]] * 7)
        project = projects.project_from_candidate("test", "staff", candidate, TODAY.year)
        delivery.set_stage_plan("test", "staff", project, "in_progress", today=TODAY, planned_start=TODAY - timedelta(days=90),
                                planned_end=TODAY + timedelta(days=30), actual_start=TODAY - timedelta(days=80))
        item = planning.add_sub_item("test", "staff", project, "长廊", projects.department_named("米公街道办事处"), 1_500_000)
        target = planning.add_target("test", "staff", item, "座椅", Decimal("20"), "张", TODAY + timedelta(days=20))
        reached = delivery.add_milestone("test", "staff", project, "完成招标", TODAY - timedelta(days=70))
        delivery.complete_milestone("test", "staff", project, reached, TODAY - timedelta(days=68), today=TODAY)
        delivery.add_milestone("test", "staff", project, "竣工验收", TODAY + timedelta(days=25))
        officer = create_user("officer-story", "米公街道办事处 吴敏", "department_officer", "a long password 1",
                              department=projects.department_named("米公街道办事处"))
        delivery.add_progress_note(officer.get_id(), officer, project, "座椅已安装一半。", None, [], {target.id: Decimal("10")},
                                   today=TODAY - timedelta(days=40))
        deputy = db.session.get(CongressSession, world.session_id).deputies[0]
        record = delivery.record_supervision("test", deputy, project, TODAY - timedelta(days=30), "照明不足。", "增加灯具。",
                                             TODAY - timedelta(days=10), [], today=TODAY)
        delivery.answer_issue(officer.get_id(), officer, record.issues[0], "已增加灯具12盏。")
        delivery.judge_issue("test", record.issues[0], True)
        opened = utcnow() - timedelta(days=20)
        for title, mix in (("首次调查", ["dissatisfied"] * 6 + ["satisfied"] * 2), ("复评调查", ["satisfied"] * 7 + ["dissatisfied"])):
            survey = surveys.create_from_template("test", title, project.id, "operating", opens_at=opened,
                                                  closes_at=opened + timedelta(days=8))
            place = surveys.add_placement("test", survey, "长廊入口")
            first, *others = survey.questions
            for number, rating in enumerate(mix):
                surveys.submit_response(survey, place, {first.id: [rating]} | {q.id: [] for q in others},
                                        filled_at=opened + timedelta(hours=number + 1))
            opened += timedelta(days=10)
        assessment = ballots.create_round("test", db.session.get(CongressSession, world.session_id), "年度满意度测评",
                                          "satisfaction", 1, None, "electronic")
        rated = ballots.add_candidate("test", assessment, project.name, project_id=project.id)
        adopt(assessment, db.session.get(User, world.staff_id))
        _vote(assessment, world, [{str(rated.id): "satisfied"}] * 6)
        db.session.commit()
        return Story(project.id, proposal.tracking_code, proposal.photos[0].token)


def test_every_source_appears_once_in_the_order_it_happened(app):
    built = whole_story(app)
    with app.app_context():
        from voting_app.projects.models import Project

        project = db.session.get(Project, built.project_id)
        entries = story.project_story(project, TODAY, app.extensions["story_sources"])
    kinds = [entry.kind for entry in entries]
    assert {story.PROPOSALS, story.VOTE, story.CREATED, story.PLAN, story.STAGE, story.MILESTONE, story.REPORT,
            story.VISIT, story.ANSWER, story.VERDICT, story.RESIDENTS, story.DEPUTIES} <= set(kinds)
    assert [entry.sort_key() for entry in entries] == sorted(entry.sort_key() for entry in entries)
    assert kinds.index(story.PROPOSALS) < kinds.index(story.VOTE) < kinds.index(story.CREATED)
    proposals = entries[kinds.index(story.PROPOSALS)]
    assert proposals.facts["count"] == 2, "the merged proposal counts among those the project came from"
    assert {(station, channel) for _day, station, channel in proposals.facts["sources"]} == {
        ("米公街道人大代表联络站", "station_qr"), ("", "online")}
    vote = entries[kinds.index(story.VOTE)]
    assert (vote.facts["line"].votes, vote.facts["line"].rank, vote.facts["line"].is_elected) == (7, 1, True)
    milestones = [entry for entry in entries if entry.kind == story.MILESTONE]
    assert [(m.title, m.facts["reached"], m.is_upcoming) for m in milestones] == [("完成招标", True, False), ("竣工验收", False, True)]
    assert entries[-1].is_upcoming, "planned steps close the story, after today"
    report = entries[kinds.index(story.REPORT)]
    assert report.day == TODAY - timedelta(days=40) and report.facts["figures"] == [("座椅", Decimal("10"), Decimal("20"), "张")]
    surveys = [entry for entry in entries if entry.kind == story.RESIDENTS]
    assert [(s.title, s.facts["below_bar"], s.is_reassessment) for s in surveys] == [("首次调查", True, False), ("复评调查", False, True)]
    # Told by its own entries, not again as a history line.
    history_fields = {row.field for entry in entries for row in entry.rows}
    assert not history_fields & {"milestone.done", "supervision.recorded", "supervision.answered", "supervision.settled",
                                 "target.actual", "in_progress.actual_start"}


def test_the_public_page_tells_the_story_and_nothing_staff_only(app):
    built = whole_story(app)
    client = app.test_client()
    page = client.get(f"/projects/{built.project_id}").get_data(as_text=True)
    timeline = page[page.index('id="story"'):]
    assert '<ol class="story"' in timeline and '<time datetime="' in timeline
    for words in ("2 proposals from residents", "米公街道人大代表联络站", "Liaison station QR code", "Online", "测试票决",
                  "7 votes", "Elected", "Became a livelihood project", "Milestone reached", "Milestone planned",
                  "Progress report from", "座椅: 10 of 20 张", "Supervision visit recorded", "Department answered the supervision",
                  "Deputy: rectification settled", "首次调查", "rectification (整改)", "reassessment after rectification",
                  "年度满意度测评"):
        assert words in timeline, words
    history = client.get(f"/projects/{built.project_id}/history").get_data(as_text=True)
    for public_page in (page, history):
        for private in (CONTACT, PRIVATE_DETAIL, built.proposal_code, built.photo_token, "长廊太旧"):
            assert private not in public_page, private


def test_a_persons_edits_of_one_day_make_one_entry_and_the_page_stays_small(app):
    from voting_app.projects.models import Project, ProjectChange
    from voting_app.projects.service import create_project, update_project

    with app.app_context():
        project = create_project("test", "李敏", name="背街小巷改造", year=TODAY.year)
        for percent in range(1, 4):
            update_project("test", "李敏", project, progress_percent=percent)
        update_project("test", "王芳", project, location="屏襄门街道")
        start = datetime.combine(TODAY, datetime.min.time()) - timedelta(days=400)
        project.changes.extend(ProjectChange(actor_name="张伟", field="summary", new_value=f"第{day}次修改", at=start + timedelta(days=day))
                               for day in range(300))
        db.session.commit()
        entries = story.project_story(db.session.get(Project, project.id), TODAY)
        today_groups = [entry for entry in entries if entry.kind == story.CHANGES and entry.day == TODAY]
        assert [(entry.title, entry.facts["count"]) for entry in today_groups] == [("李敏", 3), ("王芳", 1)]
        assert len(entries) == 300 + 1 + 2
        project_id = project.id
    client = app.test_client()
    first = client.get(f"/projects/{project_id}")
    html = first.get_data(as_text=True)
    assert html.count('class="story-entry') == story.STORY_PER_PAGE
    assert len(first.data) < 60_000, f"{len(first.data)} bytes for one page of the story"
    assert f'href="/projects/{project_id}?page=11#story"' in html
    last = client.get(f"/projects/{project_id}?page=11").get_data(as_text=True)
    assert last.count('class="story-entry') == 303 - 10 * story.STORY_PER_PAGE
    assert "3 changes by 李敏" in last and "Progress (percent)" in last
    history = client.get(f"/projects/{project_id}/history?page=2").get_data(as_text=True)
    assert history.count("<tr>") == 1 + story.HISTORY_PER_PAGE and "page 2 of 7" in history


def test_a_big_group_shows_its_first_lines_and_leads_to_the_full_history(app):
    from voting_app.projects.models import Project, ProjectChange
    from voting_app.projects.service import create_project

    with app.app_context():
        project = create_project("test", "李敏", name="背街小巷改造", year=TODAY.year)
        project.changes.extend(ProjectChange(actor_name="李敏", field="change.requested", new_value=f"变更{n}") for n in range(25))
        db.session.commit()
        entry = next(e for e in story.project_story(db.session.get(Project, project.id), TODAY) if e.kind == story.CHANGES)
        assert (len(entry.rows), entry.more_rows, entry.facts["fields"]) == (story.ROWS_SHOWN, 15, ["change.requested"])
        project_id = project.id
    html = app.test_client().get(f"/projects/{project_id}").get_data(as_text=True)
    assert "25 changes by 李敏" in html and "change.requested" in html, "a new kind of history line shows without new code"
    assert re.search(rf'href="/projects/{project_id}/history\?page=1">15 more changes', html)
