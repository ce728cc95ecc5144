"""A satisfaction assessment graded in tiers (镇海区: on the whole roster), seen as people see
it: the announced result on a 390x844 phone in Chinese and in English, the project sent to
rectification on its page, and the venue screen at 1920x1080 with the announcement, the
stacked chart and the overall rate. axe-core runs on every page (JavaScript on); every slide
must fit the screen. Selectors avoid UI wording; the texts checked are the grades themselves."""

import secrets

from tests.browser.conftest import record_page_problems
from tests.browser.test_project_lifecycle import Axe, Watch, in_english, sign_in
from tests.conftest import KEY_SHARES, adopt

FULL_HD = {"viewport": {"width": 1920, "height": 1080}}
PASSWORD = "correct horse battery"  # tests.conftest.make_user
BRIDGE, LIGHTS, CORRIDOR = "农村公路桥梁新改建", "“一号公路”亮化工程", "市百货站小区文化长廊改造"
S, M, D = "satisfied", "mostly_satisfied", "dissatisfied"
# Eight of the nine deputies rate. On the roster of 9 (more than half: 5): the bridge 满意,
# the lights 基本满意, and the corridor, rated satisfied by the four who rated it, 不满意.
RATINGS = {BRIDGE: (S, S, S, S, S, M, M, D), LIGHTS: (S, S, S, M, M, M, D, D), CORRIDOR: (S, S, S, S, None, None, None, None)}


def announced_tiers_round(server) -> tuple[int, dict]:
    """The congress grades in tiers; the round copies that, is voted, counted and announced."""
    from voting_app.ballots import profiles
    from voting_app.ballots import service as ballots
    from voting_app.ballots.profile_rules import RuleProfile
    from voting_app.db import db
    from voting_app.projects.models import Project
    from voting_app.projects.service import department_named
    from voting_app.sessions import service as sessions
    from voting_app.sessions.models import CongressSession

    world = server.world
    with server.app.app_context():
        congress = db.session.get(CongressSession, world.session_id)
        profiles.save_profile("test", congress.term.congress, RuleProfile(grading="tiers", satisfaction_bar=None))
        for deputy in congress.deputies:
            if not deputy.is_present:
                sessions.check_in(deputy, sessions.DESK)
        projects = {name: Project(name=name, year=2026, department=department_named("区交通运输局"), stage="operating")
                    for name in RATINGS}
        db.session.add_all(projects.values())
        db.session.flush()
        round_ = ballots.create_round("test", congress, "2025年民生实事项目满意度测评", "satisfaction", 1, None, "electronic")
        candidates = {name: ballots.add_candidate("test", round_, name, project_id=project.id).id for name, project in projects.items()}
        adopt(round_)
        ballots.open_round("test", round_)
        for index, deputy in enumerate(sorted(congress.deputies, key=lambda d: d.id)[:8]):
            choices = {candidates[name]: given[index] for name, given in RATINGS.items() if given[index]}
            ballots.cast_ballot(deputy, round_, choices, ballots.new_receipt(), secrets.token_hex(16))
        ballots.close_round(world.user(world.presiding_id), round_)
        ballots.unseal_round(world.user(world.scrutineer_ids[0]), round_, list(KEY_SHARES[congress.id][:2]))
        ballots.confirm_round(world.user(world.scrutineer_ids[1]), round_)
        ballots.announce_round(world.user(world.presiding_id), round_)
        db.session.commit()
        return round_.id, {name: project.id for name, project in projects.items()}


def grade_cells(page) -> dict[str, str]:
    """Project name -> the words of its last cell (the grade, and rectification when sent there)."""
    rows = page.locator("main table.results tbody tr")
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    return {cell[1]: " ".join(cell[-1].split()) for cell in cells}


def test_a_tiers_assessment_on_a_phone_and_on_the_venue_screen(live_server, page_factory, screenshot):
    server, world = live_server, live_server.world
    round_id, project_ids = announced_tiers_round(server)
    watch, axe = Watch(), Axe()

    # The public result on a phone, in Chinese: a grade per project, the overall rate.
    phone = watch.page(page_factory, "phone", "phone")
    assert phone.goto(server.url(f"/ballots/rounds/{round_id}/results")).status == 200
    assert grade_cells(phone) == {CORRIDOR: "不满意 整改", BRIDGE: "满意", LIGHTS: "基本满意"}
    overall = phone.locator("main dl.figures .overall").inner_text()
    assert "总体满意率" in overall and "85.0%" in overall
    axe.check(phone, "results on a phone")
    screenshot(phone, "phone-results-zh")

    # The corridor's page says where it goes.
    assert phone.goto(server.url(f"/projects/{project_ids[CORRIDOR]}")).status == 200
    assessment = phone.locator("main section[aria-labelledby=deputies-heading]").inner_text()
    assert "不满意" in assessment and "整改" in assessment and "85.0%" in assessment
    axe.check(phone, "project page on a phone")
    screenshot(phone, "phone-project-dissatisfied")

    # The same result in English.
    english = watch.page(page_factory, "phone", "english")
    english.context.add_cookies([{"name": "lang", "value": "en", "url": server.url("/")}])
    assert english.goto(server.url(f"/ballots/rounds/{round_id}/results")).status == 200
    assert grade_cells(english) == {CORRIDOR: "Dissatisfied rectification (整改)", BRIDGE: "Satisfied", LIGHTS: "Mostly satisfied"}
    assert "85.0%" in english.locator("main dl.figures .overall").inner_text()
    found: list[str] = []  # axe and the layout check (the page must not scroll sideways); the page is English, not zh-CN
    record_page_problems(english, "results on a phone, English", axe.runner.run(english), found, found)
    assert [line for line in found if "<html lang>" not in line] == [] and english.get_attribute("html", "lang") == "en"
    screenshot(english, "phone-results-en")

    # The venue screen at 1920x1080: the announcement, then the chart, in Chinese and in English.
    screen = watch.page(page_factory, "desktop", "screen", **FULL_HD)
    sign_in(screen, server, server.usernames[world.presiding_id], PASSWORD)
    screen_en = in_english(watch.page(page_factory, "desktop", "screen-en", **FULL_HD), server)
    sign_in(screen_en, server, server.usernames[world.presiding_id], PASSWORD)
    for slide in (f"round-{round_id}-result", f"round-{round_id}-chart"):
        from voting_app.db import db
        from voting_app.screen import service as screens
        from voting_app.sessions.models import CongressSession

        with server.app.app_context():
            screens.move("test", db.session.get(CongressSession, world.session_id), slide)
            db.session.commit()
        assert screen.goto(server.url(f"/screen/{world.session_id}")).status == 200
        assert screen.locator("section.slide").get_attribute("data-key") == slide
        if slide.endswith("-chart"):
            screen.locator(".chart .main-svg").first.wait_for(state="attached")
            drawn = screen.locator(".chart").inner_text()
            assert "不满意 整改" in drawn and "基本满意" in drawn
            assert "85.0%" in screen.locator("main .verdict.overall").inner_text()
        else:
            assert grade_cells(screen) == {CORRIDOR: "不满意 整改", BRIDGE: "满意", LIGHTS: "基本满意"}
            assert "85.0%" in screen.locator("main dl.figures .overall").inner_text()
        fits = screen.evaluate("() => { const s = document.querySelector('section.slide'); return s.scrollHeight <= window.innerHeight; }")
        assert fits, f"slide {slide} runs past the bottom of the screen"
        axe.check(screen, f"screen {slide}")
        screenshot(screen, f"screen-{slide.rsplit('-', 1)[1]}")

        assert screen_en.goto(server.url(f"/screen/{world.session_id}")).status == 200
        if slide.endswith("-chart"):
            screen_en.locator(".chart .main-svg").first.wait_for(state="attached")
            drawn = screen_en.locator(".chart").inner_text()
            assert "Dissatisfied rectification (整改)" in drawn and "Mostly satisfied" in drawn
            assert "Overall satisfaction rate" in screen_en.locator("main .verdict.overall").inner_text()
        else:
            assert grade_cells(screen_en) == {CORRIDOR: "Dissatisfied rectification (整改)", BRIDGE: "Satisfied",
                                              LIGHTS: "Mostly satisfied"}
            assert "85.0%" in screen_en.locator("main dl.figures .overall").inner_text()
        fits = screen_en.evaluate("() => { const s = document.querySelector('section.slide'); return s.scrollHeight <= window.innerHeight; }")
        assert fits, f"slide {slide} in English runs past the bottom of the screen"
        axe.check_english(screen_en, f"screen {slide} in English")
        screenshot(screen_en, f"screen-{slide.rsplit('-', 1)[1]}-en")

    # The printed session report: the grades drawn against half of the roster, the overall rate.
    desk = watch.page(page_factory, "desktop", "staff")
    sign_in(desk, server, server.usernames[world.staff_id], PASSWORD)
    assert desk.goto(server.url(f"/reports/sessions/{world.session_id}")).status == 200
    assert desk.locator("main figure.chart rect.bar-dissatisfied").count() >= 2  # the corridor's bar and the legend
    facts = desk.locator("main section.round table.facts").inner_text()
    assert "总体满意率" in facts and "85.0%" in facts
    axe.check(desk, "session report")
    screenshot(desk, "session-report")

    assert watch.foreign == [] and watch.script_errors == []
    assert axe.problems == [], "\n".join(axe.problems)
