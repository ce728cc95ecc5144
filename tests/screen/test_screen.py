"""The venue screen's data: the deck follows the rounds, an open round shows turnout only,
the confirmed count shows the announcement and the chart with the pass line, and the screen
learns of every change through its fingerprint."""

import re

from tests.ballots.helpers import announce_round, as_deputy, as_role, cast, close_round, confirm_round, open_round
from tests.conftest import post
from voting_app.db import db
from voting_app.screen import service
from voting_app.sessions.models import CongressSession


def slide(client, session_id, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(f"/screen/{session_id}/slide", headers=headers)


def go(client, session_id, to):
    return post(client, f"/screen/{session_id}/go", {"to": to})


def test_an_open_round_shows_turnout_and_never_a_partial_result(app, world):
    presiding = as_role(app, world, "presiding")
    open_round(app, world)
    a, b, _, _ = world.candidate_ids
    for index in range(4):
        cast(as_deputy(app, world, index), world.round_id, choices=[a])
    assert go(presiding, world.session_id, f"round-{world.round_id}-live").status_code == 302
    page = slide(presiding, world.session_id).get_data(as_text=True)
    figures = re.findall(r"<dd>(\d+)</dd>", page)
    assert figures == ["9", "9", "4"]  # roster, present, returned so far
    for number in range(1, 5):
        assert f"项目{number}" not in page
    # Asking for the result slide of an open round shows the turnout instead.
    go(presiding, world.session_id, f"round-{world.round_id}-result")
    assert f'data-key="round-{world.round_id}-live"' in slide(presiding, world.session_id).get_data(as_text=True)


def test_the_confirmed_count_brings_the_announcement_and_the_chart(app, world):
    presiding = as_role(app, world, "presiding")
    open_round(app, world)
    a, b, c, _ = world.candidate_ids
    for index in range(6):
        cast(as_deputy(app, world, index), world.round_id, choices=[a, b] if index < 5 else [c])
    close_round(app, world)
    go(presiding, world.session_id, f"round-{world.round_id}-live")
    before = slide(presiding, world.session_id)
    confirm_round(app, world)
    after = slide(presiding, world.session_id, before.headers["ETag"])
    assert after.status_code == 200  # the confirmation changed what the screen may show
    assert go(presiding, world.session_id, "next").status_code == 302
    result = slide(presiding, world.session_id).get_data(as_text=True)
    assert f'data-key="round-{world.round_id}-result"' in result and "项目1" in result and "Elected" in result
    go(presiding, world.session_id, "next")
    chart = slide(presiding, world.session_id).get_data(as_text=True)
    assert f'data-key="round-{world.round_id}-chart"' in chart and "plotly-figure" in chart
    with app.app_context():
        from voting_app.ballots.models import Round
        from voting_app.ballots.service import count_round
        from voting_app.screen.charts import ELECTED, NOT_PASSED, result_figure

        round_ = db.session.get(Round, world.round_id)
        figure = result_figure(count_round(round_), {cand.id: cand.name for cand in round_.candidates}, 60)
    bars = figure["data"][0]
    assert list(bars["x"]) == [5, 5, 1, 0] and bars["y"][0].endswith("项目1")
    assert list(bars["marker"]["color"]) == [ELECTED, ELECTED, NOT_PASSED, NOT_PASSED]
    assert figure["layout"]["shapes"][0]["x0"] == 4.5  # half of the roster of 9


def test_the_turnout_slide_says_what_the_round_really_waits_for(app, world):
    """Closed: the scrutineers are confirming. Confirmed: ready to be announced, never "being
    confirmed" again. Announced: the turnout slide gives way to the results, marked announced."""
    presiding = as_role(app, world, "presiding")
    open_round(app, world)
    a, *_ = world.candidate_ids
    for index in range(5):
        cast(as_deputy(app, world, index), world.round_id, choices=[a])
    go(presiding, world.session_id, f"round-{world.round_id}-live")
    confirming = "The scrutineers are confirming the count."
    assert confirming not in slide(presiding, world.session_id).get_data(as_text=True)
    close_round(app, world)
    assert confirming in slide(presiding, world.session_id).get_data(as_text=True)
    confirm_round(app, world)
    presiding.set_cookie("lang", "zh_CN")  # the words the hall reads
    ready = slide(presiding, world.session_id).get_data(as_text=True)
    assert f'data-key="round-{world.round_id}-live"' in ready
    assert "监票人正在确认计票结果" not in ready and "监票人已确认计票结果，结果待公布。" in ready
    go(presiding, world.session_id, "next")
    result = slide(presiding, world.session_id).get_data(as_text=True)
    assert f'data-key="round-{world.round_id}-result"' in result and "监票人已确认计票结果" in result
    assert "结果已公布" not in result
    go(presiding, world.session_id, f"round-{world.round_id}-live")
    announce_round(app, world)
    announced = slide(presiding, world.session_id).get_data(as_text=True)
    assert f'data-key="round-{world.round_id}-result"' in announced and "结果已公布" in announced
    assert "监票人正在确认" not in announced and "待公布" not in announced


def test_the_remote_names_each_slide_by_what_it_shows(app, world):
    presiding = as_role(app, world, "presiding")
    open_round(app, world)
    close_round(app, world)
    confirm_round(app, world)
    with app.app_context():
        congress = db.session.get(CongressSession, world.session_id)
        from voting_app.ballots.models import Round

        title, name = db.session.get(Round, world.round_id).title, congress.name
    presiding.set_cookie("lang", "zh_CN")
    remote = presiding.get(f"/screen/{world.session_id}/remote").get_data(as_text=True)
    labels = re.findall(r'<button type="submit" class="link">([^<]+)</button>', remote)
    assert labels == [
        f"标题页：{name}", "代表出席情况：应到与实到", f"{title}：投票进度", f"{title}：计票结果",
        f"{title}：得票图", "民生实事项目：各阶段进展", "满意度：群众评价与代表测评",
    ]
    assert "票决名称" not in remote


def test_the_fingerprint_changes_with_every_change_on_screen_and_only_then(app, world):
    presiding = as_role(app, world, "presiding")
    with app.app_context():
        from voting_app.sessions.models import Deputy

        db.session.get(Deputy, world.deputy_ids[-1]).checked_in_at = None
        db.session.commit()
    etag = slide(presiding, world.session_id).headers["ETag"]
    assert slide(presiding, world.session_id, etag).status_code == 304
    with app.app_context():
        from voting_app.sessions import service as sessions

        sessions.check_in(db.session.get(Deputy, world.deputy_ids[-1]), sessions.DESK)
        db.session.commit()
    assert slide(presiding, world.session_id, etag).status_code == 200
    etag = slide(presiding, world.session_id).headers["ETag"]
    go(presiding, world.session_id, "next")
    assert slide(presiding, world.session_id, etag).status_code == 200
    open_round(app, world)
    etag = slide(presiding, world.session_id).headers["ETag"]
    assert cast(as_deputy(app, world), world.round_id, choices=world.candidate_ids[:1]).status_code == 302
    assert slide(presiding, world.session_id, etag).status_code == 200, "a ballot cast (sealed) moves the turnout on screen"


def test_moving_is_held_at_the_ends_and_recorded(app, world):
    presiding = as_role(app, world, "presiding")
    go(presiding, world.session_id, "prev")
    with app.app_context():
        congress = db.session.get(CongressSession, world.session_id)
        assert service.current_slide(congress)[1].key == "title"
    for _ in range(10):
        go(presiding, world.session_id, "next")
    go(presiding, world.session_id, "no-such-slide")
    with app.app_context():
        congress = db.session.get(CongressSession, world.session_id)
        assert service.current_slide(congress)[1].key == "satisfaction"
        from voting_app.audit import AuditEntry

        assert db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(AuditEntry.action == "screen.show")) >= 2
    remote = presiding.get(f"/screen/{world.session_id}/remote").get_data(as_text=True)
    assert 'aria-current="step"' in remote


def test_projects_and_satisfaction_slides_carry_the_years_projects_and_both_ratings(app, world):
    from tests.surveys.helpers import build_survey

    build_survey(app)
    with app.app_context():
        from voting_app.projects.models import Project
        from voting_app.projects.schedule import beijing_today
        from voting_app.projects.service import create_project

        this_year = beijing_today().year
        create_project("test", "staff", name="城区易涝点整治", year=this_year, stage="in_progress", progress_percent=62)
        db.session.scalars(db.select(Project)).first().year = this_year
        db.session.commit()
        year, by_stage = service.year_projects([])
    assert year == this_year
    assert [line.project.name for line in by_stage["in_progress"]] == ["城区易涝点整治"]
    presiding = as_role(app, world, "presiding")
    go(presiding, world.session_id, "projects")
    page = slide(presiding, world.session_id).get_data(as_text=True)
    assert "城区易涝点整治" in page and "62%" in page
    go(presiding, world.session_id, "satisfaction")
    assert "No project has been rated yet." in slide(presiding, world.session_id).get_data(as_text=True)


def test_the_plotly_bundle_is_served_compressed_and_cached_and_never_to_residents(app, world):
    from tests.surveys.helpers import build_survey

    client = app.test_client()
    presiding = as_role(app, world, "presiding")
    screen = presiding.get(f"/screen/{world.session_id}").get_data(as_text=True)
    url = re.search(r'src="(/assets/vendor/plotly-basic[^"]+)"', screen).group(1)
    zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "immutable" in zipped.headers["Cache-Control"]
    assert len(zipped.data) < 500_000  # 1.2 MB of JavaScript, about a third on the wire
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers and len(plain.data) > 1_000_000
    assert client.get(url, headers={"If-None-Match": zipped.headers["ETag"]}).status_code == 304
    built = build_survey(app)
    resident_page = client.get(f"/s/{built.short_code}").get_data(as_text=True)
    assert "plotly" not in resident_page.lower()


def test_the_satisfaction_chart_sets_residents_beside_deputies_and_marks_rectification():
    from voting_app.projects.models import Project
    from voting_app.projects.service import Rating
    from voting_app.screen.charts import satisfaction_figure
    from voting_app.screen.service import ProjectLine

    lines = [
        ProjectLine(Project(name="桥梁", year=2026), [Rating("residents", "89.9", 300, False), Rating("deputies", "99.0", 212, False)]),
        ProjectLine(Project(name="长廊", year=2026), [Rating("residents", "44.8", 250, True)]),
        ProjectLine(Project(name="未评", year=2026), []),
    ]
    figure = satisfaction_figure(lines, {"residents": "群众", "deputies": "代表", "below": "整改"}, 60)
    residents, deputies = figure["data"]
    assert list(residents["y"]) == ["桥梁", "长廊"]  # an unrated project is left out
    assert list(residents["x"]) == [89.9, 44.8] and list(deputies["x"]) == [99.0, None]
    assert list(residents["text"]) == ["89.9%", "44.8% 整改"]
    assert figure["layout"]["shapes"][0]["x0"] == 60
    assert satisfaction_figure(lines[2:], {"residents": "群众", "deputies": "代表", "below": "整改"}, 60) is None


def test_a_new_resident_answer_changes_the_fingerprint(app, world):
    from tests.surveys.helpers import answer, build_survey, full_answer, resident

    built = build_survey(app)
    presiding = as_role(app, world, "presiding")
    etag = slide(presiding, world.session_id).headers["ETag"]
    assert slide(presiding, world.session_id, etag).status_code == 304
    answer(resident(app), built.short_code, full_answer(built))
    assert slide(presiding, world.session_id, etag).status_code == 200
