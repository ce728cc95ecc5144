"""The documents of a vote: the draft 票决办法 and its adoption (a round cannot open without
it, and a change to the round makes it stale), the count report with its checks and the
photos of the signed paper, and the public 公告 numbered per session."""

from datetime import date, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.ballots.helpers import adopt_as_it_stands, announce_round, as_deputy, as_role, close_round, confirm_round, open_round
from tests.conftest import adopt, build_world, post
from tests.images import jpeg_bytes
from voting_app.audit import AuditEntry
from voting_app.ballots import service
from voting_app.ballots.models import Round
from voting_app.db import db
from voting_app.documents import adoption
from voting_app.documents.models import Adoption
from voting_app.documents.service import MAX_REPORT_PHOTOS, record_adoption
from voting_app.errors import DomainError
from voting_app.projects.models import Photo


def unadopted_world(app, **kwargs):
    with app.app_context():
        return build_world(adopted=False, **kwargs)


def stored(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_round_does_not_open_until_its_rules_are_adopted(app):
    world = unadopted_world(app)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        assert adoption.adoption_state(round_) == adoption.MISSING
        with force_locale("en"), pytest.raises(DomainError, match="has not been adopted yet"):
            service.open_round("test", round_)
        db.session.rollback()
    page = post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/open", follow_redirects=True)
    assert "has not been adopted yet" in page.get_data(as_text=True)
    staff = as_role(app, world, "staff")
    recorded = post(staff, f"/documents/rounds/{world.round_id}/adoption", {"adopted_on": "2026-01-10", "adopted_by": "大会主席团"})
    assert recorded.status_code == 302
    with app.app_context():
        record = db.session.scalar(select(Adoption).where(Adoption.round_id == world.round_id))
        assert (record.adopted_on, record.adopted_by, record.recorded_by_id) == (date(2026, 1, 10), "大会主席团", world.staff_id)
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "round.adopt")).target == f"round:{world.round_id}"
    open_round(app, world)
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "open"


@pytest.mark.parametrize("change", ["candidate", "seats", "method"])
def test_a_change_after_adoption_makes_it_stale_until_adopted_again(app, change):
    world = unadopted_world(app, candidates=5)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        adopt(round_)
        assert adoption.adoption_state(round_) == adoption.ADOPTED
        if change == "candidate":
            service.add_candidate("test", round_, "项目6")
        elif change == "seats":
            service.update_round("test", round_, round_.title, round_.method, 3, "roster", "electronic")
        else:
            service.update_round("test", round_, round_.title, "rank", 2, "roster", "electronic")
        db.session.commit()
        assert adoption.adoption_state(round_) == adoption.STALE
        with force_locale("en"), pytest.raises(DomainError, match="must be adopted again"):
            service.open_round("test", round_)
        db.session.rollback()
    detail = as_role(app, world, "staff").get(f"/ballots/rounds/{world.round_id}").get_data(as_text=True)
    assert 'data-key="adoption-needed"' in detail
    open_round(app, world)  # adopted again as it now stands
    with app.app_context():
        assert db.session.get(Round, world.round_id).state == "open"
        assert stored(Adoption) == 2


def test_a_profile_without_adoption_opens_without_a_record(app):
    from voting_app.ballots import profiles
    from voting_app.ballots.profile_rules import RuleProfile

    world = unadopted_world(app)
    with app.app_context():
        congress = db.session.get(Round, world.round_id).session
        profiles.save_profile("test", congress.term.congress, RuleProfile(requires_adoption=False))
        round_ = service.create_round("test", congress, "无需通过", "choose_up_to", 1, None, "electronic")
        for name in ("甲", "乙"):
            service.add_candidate("test", round_, name)
        assert adoption.adoption_state(round_) == adoption.NOT_NEEDED
        service.open_round("test", round_)
        assert round_.state == "open"


@pytest.mark.parametrize(
    "adopted_on, adopted_by, message",
    [
        ("2026-01-10", "   ", "Say which body adopted"),
        ("2026-01-10", "主" * 201, "too long"),
        (None, "大会主席团", "Give the date"),
        ("future", "大会主席团", "cannot be in the future"),
    ],
)
def test_a_bad_adoption_record_stores_nothing(app, adopted_on, adopted_by, message):
    world = unadopted_world(app)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        day = date.today() + timedelta(days=3) if adopted_on == "future" else (date.fromisoformat(adopted_on) if adopted_on else None)
        entries = stored(AuditEntry)
        with force_locale("en"), pytest.raises(DomainError, match=message):
            record_adoption(world.user(world.staff_id), round_, day, adopted_by)
        db.session.rollback()
        assert (stored(Adoption), stored(AuditEntry)) == (0, entries)


def test_an_open_round_takes_no_adoption_and_the_form_refuses_bad_input(app, world):
    staff = as_role(app, world, "staff")
    refused = post(staff, f"/documents/rounds/{world.round_id}/adoption", {"adopted_on": "not a date", "adopted_by": ""},
                   follow_redirects=True)
    assert "Adopted on" in refused.get_data(as_text=True)
    open_round(app, world)
    late = post(staff, f"/documents/rounds/{world.round_id}/adoption", {"adopted_on": "2026-01-10", "adopted_by": "主席团"},
                follow_redirects=True)
    assert "can no longer be adopted" in late.get_data(as_text=True)
    with app.app_context():
        assert stored(Adoption) == 1  # the world's own


def test_the_draft_has_its_articles_and_the_adoption_once_recorded(app):
    world = unadopted_world(app, candidates=3, seats=2)
    staff = as_role(app, world, "staff")
    page = staff.get(f"/documents/rounds/{world.round_id}/measures").get_data(as_text=True)
    assert page.count("data-article=") == 12
    assert "Choose up to" not in page and "at most 2 candidates" in page and "3 candidate projects" in page
    assert "(Draft)" in page and 'action="/documents/rounds/' in page
    adopt_as_it_stands(app, world)
    page = staff.get(f"/documents/rounds/{world.round_id}/measures").get_data(as_text=True)
    assert "Adopted by 大会主席团 on 2026-01-01" in page and "(Draft)" not in page
    assert as_role(app, world, "scrutineer").get(f"/documents/rounds/{world.round_id}/measures").status_code == 200


def closed_world(app, votes):
    """The world's round opened, voted with `votes` (lists of candidate indexes) and closed, counted."""
    from tests.ballots.helpers import cast

    world = unadopted_world(app, candidates=4, seats=2)
    open_round(app, world)
    for index, choices in enumerate(votes):
        cast(as_deputy(app, world, index), world.round_id, [world.candidate_ids[i] for i in choices])
    close_round(app, world)
    return world


def test_the_count_report_gives_the_figures_and_the_checks(app):
    world = closed_world(app, [[0, 1], [0], [0, 2], [], [1, 2]])
    scrutineer = as_role(app, world, "scrutineer")
    sealed = scrutineer.get(f"/documents/rounds/{world.round_id}/count-report").get_data(as_text=True)
    assert 'data-key="no-count"' in sealed
    confirm_round(app, world)
    page = scrutineer.get(f"/documents/rounds/{world.round_id}/count-report").get_data(as_text=True)
    assert 'data-key="issued">9<' in page and 'data-key="returned">5<' in page and 'data-key="valid">5<' in page
    assert page.count('data-holds="true"') == 4 and 'data-holds="false"' not in page
    assert "Chief scrutineer (总监票人)" in page and page.count("Scrutineer (监票人)") == 3


def upload(client, round_id, *files):
    from io import BytesIO

    data = {"photos": [(BytesIO(content), name) for name, content in files]}
    return post(client, f"/documents/rounds/{round_id}/count-report/photos", data, content_type="multipart/form-data",
                follow_redirects=True)


def test_photos_of_the_signed_report_are_kept_for_the_round_and_bad_ones_refused(app):
    world = closed_world(app, [[0], [1]])
    confirm_round(app, world)
    scrutineer = as_role(app, world, "scrutineer")
    page = upload(scrutineer, world.round_id, ("signed.jpg", jpeg_bytes(gps=True)), ("back.jpg", jpeg_bytes()))
    assert "are kept" in page.get_data(as_text=True)
    with app.app_context():
        photos = db.session.scalars(select(Photo).where(Photo.count_report_round_id == world.round_id)).all()
        assert len(photos) == 2 and not any(p.is_public for p in photos)
        token, entries = photos[0].token, stored(AuditEntry)
    refused = upload(scrutineer, world.round_id, ("good.jpg", jpeg_bytes()), ("report.pdf", b"%PDF-1.4 not a photo"))
    assert "flash-error" in refused.get_data(as_text=True)
    with app.app_context():
        assert (stored(Photo), stored(AuditEntry)) == (2, entries)  # a bad file refuses the upload whole
    staff = as_role(app, world, "staff")
    assert "are kept" in upload(staff, world.round_id, *[(f"{i}.jpg", jpeg_bytes()) for i in range(4)]).get_data(as_text=True)
    with app.app_context():
        assert stored(Photo) == MAX_REPORT_PHOTOS
        entries = stored(AuditEntry)
    too_many = upload(staff, world.round_id, ("7.jpg", jpeg_bytes()))
    assert "at most 6 photos" in too_many.get_data(as_text=True)
    with app.app_context():
        assert (stored(Photo), stored(AuditEntry)) == (MAX_REPORT_PHOTOS, entries)
    assert as_role(app, world, "presiding").get(f"/projects/photos/{token}").status_code == 200
    assert app.test_client().get(f"/projects/photos/{token}").status_code == 404
    assert as_deputy(app, world).get(f"/projects/photos/{token}/thumbnail").status_code == 404
    report = scrutineer.get(f"/documents/rounds/{world.round_id}/count-report").get_data(as_text=True)
    assert f"/projects/photos/{token}/thumbnail" in report
    presiding = as_role(app, world, "presiding")
    assert upload(presiding, world.round_id, ("x.jpg", jpeg_bytes())).status_code == 403


def test_the_notice_is_public_once_announced_and_numbered_in_order(app):
    world = closed_world(app, [[0, 1], [0, 1], [0, 2], [0, 1], [1, 3], [0, 1]])
    anonymous = app.test_client()
    assert anonymous.get(f"/documents/rounds/{world.round_id}/notice").status_code == 404
    confirm_round(app, world)
    assert anonymous.get(f"/documents/rounds/{world.round_id}/notice").status_code == 404
    announce_round(app, world)
    page = anonymous.get(f"/documents/rounds/{world.round_id}/notice").get_data(as_text=True)
    assert "(No. 1)" in page and "ballots issued 9, returned 6, of which 6 valid and 0 void." in page
    assert "项目1" in page and 'data-key="elected"' in page
    first = world.round_id
    with app.app_context():
        congress = db.session.get(Round, first).session
        second = service.create_round("test", congress, "第二轮", "for_against", 1, "roster", "paper")
        service.add_candidate("test", second, "甲")
        db.session.commit()
        world.round_id = second.id
    open_round(app, world)
    close_round(app, world, issued=0)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        round_.state = "announced"  # an empty paper round, announced: only the order of announcement matters here
        round_.announced_at = db.session.get(Round, first).announced_at + timedelta(minutes=5)
        db.session.commit()
        from voting_app.documents.service import notice_number

        assert (notice_number(db.session.get(Round, first)), notice_number(round_)) == (1, 2)


def test_a_priority_round_reports_points_and_its_notice_lists_the_order(app):
    from tests.ballots.test_rank_ballots import cast_numbers, rank_world

    world = rank_world(app)
    a, b, c, d, _ = world.candidate_ids
    open_round(app, world)
    for index, numbers in enumerate([{a: 1, b: 2, c: 3}, {b: 1, a: 2}, {a: 1, c: 2, d: 3}, {a: 1, b: 2}, {c: 1, b: 2, a: 3}]):
        assert cast_numbers(as_deputy(app, world, index), world.round_id, numbers).status_code == 302
    close_round(app, world)
    confirm_round(app, world)
    report = as_role(app, world, "scrutineer").get(f"/documents/rounds/{world.round_id}/count-report").get_data(as_text=True)
    row = report.split(f'<tr data-candidate="{a}">')[1].split("</tr>")[0]
    assert '<td class="num">5</td><td class="num">12</td>' in row  # 5 votes; 3 + 2 + 3 + 3 + 1 points
    assert 'data-check="marks_within_places"' in report and page_holds(report) == 4
    announce_round(app, world)
    notice = app.test_client().get(f"/documents/rounds/{world.round_id}/notice").get_data(as_text=True)
    assert "The projects adopted, in order of priority: 1. 项目1</p>" in notice  # only it has more than half of 9
    assert 'data-key="shortfall"' in notice


def page_holds(page: str) -> int:
    return page.count('data-holds="true"')


def test_an_assessment_reports_every_rating_and_its_notice_the_grades_and_overall_rate(app):
    from tests.ballots.assessment_world import announced_assessment

    assessment = announced_assessment(app, grading="tiers")
    round_id = assessment.world.round_id
    report = as_role(app, assessment.world, "scrutineer").get(f"/documents/rounds/{round_id}/count-report").get_data(as_text=True)
    assert "Satisfied" in report and 'data-check="marks_within_places"' not in report and page_holds(report) == 3
    notice = app.test_client().get(f"/documents/rounds/{round_id}/notice").get_data(as_text=True)
    assert 'data-key="overall"' in notice and "grade-" in notice


def test_a_runoff_follows_the_adopted_rules_of_its_first_round(app):
    world = closed_world(app, [[0, 1], [0, 1], [0, 2], [0, 2], [0, 1], [1, 2], [1, 2], [2]])
    confirm_round(app, world)
    with app.app_context():
        runoff = db.session.scalar(select(Round).where(Round.parent_id == world.round_id))  # prepared by the confirmation
        assert runoff.kind == "runoff" and adoption.adoption_state(runoff) == adoption.NOT_NEEDED
        service.open_round("test", runoff)
        assert runoff.state == "open"


def test_a_runoff_cannot_be_edited_into_another_vote(app):
    world = closed_world(app, [[0, 1], [0, 1], [0, 2], [0, 2], [0, 1], [1, 2], [1, 2], [2]])
    confirm_round(app, world)
    with app.app_context():
        runoff = db.session.scalar(select(Round).where(Round.parent_id == world.round_id))
        held = ([c.name for c in runoff.candidates], runoff.method, runoff.seats)
        with force_locale("en"):
            for edit in (
                lambda: service.add_candidate("test", runoff, "新项目"),
                lambda: service.remove_candidate("test", runoff, runoff.candidates[0]),
                lambda: service.update_round("test", runoff, runoff.title, "rank", 3, "roster", "electronic"),
            ):
                with pytest.raises(DomainError, match="keeps the places, candidates and method"):
                    edit()
                db.session.rollback()
        runoff = db.session.get(Round, runoff.id)
        assert ([c.name for c in runoff.candidates], runoff.method, runoff.seats) == held
    page = as_role(app, world, "staff").get(f"/ballots/rounds/{runoff.id}").get_data(as_text=True)
    assert f"/ballots/rounds/{runoff.id}/edit" not in page and f"/ballots/rounds/{runoff.id}/candidates\"" not in page


def test_a_new_unit_or_investment_for_a_candidate_makes_the_adoption_stale(app):
    world = unadopted_world(app, candidates=5)
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        name = round_.candidates[-1].name
        adopt(round_)
        service.remove_candidate("test", round_, round_.candidates[-1])
        service.add_candidate("test", round_, name, department="另一个承办单位")
        db.session.commit()
        assert adoption.adoption_state(round_) == adoption.STALE


def test_a_switch_to_paper_is_the_fallback_the_adopted_rules_provide(app):
    with app.app_context():
        world = build_world()
    open_round(app, world)
    post(as_role(app, world, "presiding"), f"/ballots/rounds/{world.round_id}/paper-switch", {"reason": "表决系统故障"})
    with app.app_context():
        round_ = db.session.get(Round, world.round_id)
        assert round_.is_switched_to_paper and adoption.adoption_state(round_) == adoption.ADOPTED
    with force_locale("en"):
        draft = as_role(app, world, "staff").get(f"/documents/rounds/{world.round_id}/measures").get_data(as_text=True)
    assert "If the system fails, the vote goes on by paper ballot" in draft
    assert 'data-key="stale"' not in draft and "(Draft)" not in draft
