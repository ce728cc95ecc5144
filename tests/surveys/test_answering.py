"""A resident answers at /s/<code>: the form, a stored response, refusals that store nothing,
one answer per phone, suspected repeats flagged, the rate limit, privacy, escaping and
hiding of comments, large type, the page weight, and assisted entry by a grid worker."""

import html
import re
from datetime import date, timedelta

import pytest

from sqlalchemy import select

from surveys.models import Answer, Response
from tests.conftest import AUDIT_KEY, SECRET, post
from tests.surveys.helpers import (
    DISSATISFIED,
    MOSTLY,
    SATISFIED,
    build_survey,
    count,
    full_answer,
    resident,
    rows,
    scan_database,
    text_of,
    user_client,
)
from voting_app import create_app
from voting_app.db import utcnow

PLACE = "桥北端"


def stored(app, survey_id):
    return rows(app, Response, Response.survey_id == survey_id)


def answers_of(app, response_id):
    return rows(app, Answer, Answer.response_id == response_id)


def beijing(moment) -> str:
    return (moment + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")


# ---- answering -----------------------------------------------------------------------------


def test_the_short_url_shows_the_form_with_every_question(app):
    built = build_survey(app)
    page = resident(app).get(f"/s/{built.placements[PLACE]}")
    assert page.status_code == 200
    body = text_of(page)
    assert "<h1>一号公路亮化满意度</h1>" in body and "“一号公路”亮化工程" in body
    assert body.count("<fieldset") == 4
    assert re.findall(rf'name="q{built.questions["satisfaction"]}" value="(\w+)"', body) == [SATISFIED, MOSTLY, DISSATISFIED]
    assert 'name="csrf_token"' in body and 'method="post"' in body
    assert f'name="q{built.questions["text"]}"' in body and 'maxlength="500"' in body
    # a short URL typed by hand in lower case works too
    assert resident(app).get(f"/s/{built.placements[PLACE].lower()}").status_code == 200


def test_a_resident_answer_is_stored_whole_with_its_placement(app):
    built = build_survey(app)
    code = built.placements[PLACE]
    response = post(resident(app), f"/s/{code}", full_answer(built, rating=MOSTLY, comment="  晚上亮多了  ", score="5"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/s/{code}/thanks"
    thanks = resident(app).get(response.headers["Location"])
    assert "Your answers to “一号公路亮化满意度” have been received." in html.unescape(text_of(thanks))

    [row] = stored(app, built.survey_id)
    placement_id = built.placement_ids[PLACE]
    assert row["placement_id"] == placement_id and row["is_assisted"] is False and row["is_flagged"] is False
    today_in_beijing = (utcnow() + timedelta(hours=8)).date()
    assert row["week_start"] == today_in_beijing - timedelta(days=today_in_beijing.weekday())
    answers = answers_of(app, row["id"])
    assert [(a["question_id"], a["value"], a["text"]) for a in answers] == [
        (built.questions["satisfaction"], MOSTLY, None),
        (built.questions["single"], built.options["single"][0], None),
        (built.questions["rating"], "5", None),
        (built.questions["text"], None, "晚上亮多了"),
    ]
    assert {a["placement_id"] for a in answers} == {placement_id}
    assert {a["survey_id"] for a in answers} == {built.survey_id}


def test_a_missing_required_answer_is_refused_with_a_message_and_nothing_is_stored(app):
    built = build_survey(app)
    form = full_answer(built)
    del form[f"q{built.questions['satisfaction']}"]
    response = post(resident(app), f"/s/{built.short_code}", form)
    assert response.status_code == 400
    body = text_of(response)
    assert "Some answers need your attention: see the questions marked below." in body
    assert f'<p class="error" id="q{built.questions["satisfaction"]}-error">Please answer this question.</p>' in body
    # what the resident did answer is kept on the page
    assert re.search(rf'value="{built.options["single"][0]}" checked', body)
    assert "路灯很亮</textarea>" in body
    assert count(app, Response) == 0 and count(app, Answer) == 0


def test_an_unknown_choice_or_a_second_single_choice_is_refused(app):
    built = build_survey(app)
    satisfaction = f"q{built.questions['satisfaction']}"
    for value in ("very_satisfied", [SATISFIED, DISSATISFIED]):
        response = post(resident(app), f"/s/{built.short_code}", full_answer(built) | {satisfaction: value})
        assert response.status_code == 400
    assert count(app, Response) == 0 and count(app, Answer) == 0


def test_an_unknown_code_is_not_found(app):
    build_survey(app)
    response = resident(app).get("/s/NOSUCH")
    assert response.status_code == 404
    body = text_of(response)
    assert "This survey does not exist" in body and "does not lead to a survey" in body
    assert "<form" not in body
    assert post(resident(app), "/s/NOSUCH", {"q1": SATISFIED}).status_code == 404


def test_a_closed_survey_says_so_shows_no_form_and_refuses_answers(app):
    now = utcnow().replace(microsecond=0)
    closes = now - timedelta(hours=1)
    built = build_survey(app, opens_at=now - timedelta(days=30), closes_at=closes)
    page = resident(app).get(f"/s/{built.short_code}")
    assert page.status_code == 200
    body = text_of(page)
    assert f"This survey closed on {beijing(closes)}. Thank you for your interest." in body
    assert "<form" not in body
    refused = post(resident(app), f"/s/{built.short_code}", full_answer(built))
    assert refused.status_code == 409
    assert "<form" not in text_of(refused) and "This survey closed on" in text_of(refused)
    assert count(app, Response) == 0 and count(app, Answer) == 0


def test_a_survey_not_yet_open_says_when_it_opens_and_refuses_answers(app):
    opens = utcnow().replace(microsecond=0) + timedelta(days=2)
    built = build_survey(app, opens_at=opens)
    body = text_of(resident(app).get(f"/s/{built.placements[PLACE]}"))
    assert f"This survey is not open yet. It opens on {beijing(opens)}." in body
    assert "<form" not in body
    refused = post(resident(app), f"/s/{built.placements[PLACE]}", full_answer(built))
    assert refused.status_code == 409
    assert count(app, Response) == 0 and count(app, Answer) == 0


# ---- one answer per phone, suspected repeats, the rate limit --------------------------------------


def test_the_same_browser_cannot_answer_twice(app):
    built = build_survey(app)
    phone = resident(app)
    assert post(phone, f"/s/{built.short_code}", full_answer(built)).status_code == 302
    again = post(phone, f"/s/{built.placements[PLACE]}", full_answer(built, rating=DISSATISFIED))
    assert again.status_code == 409
    assert "You have already answered this survey on this phone. Thank you!" in text_of(again)
    assert "<form" not in text_of(again)
    assert count(app, Response) == 1 and count(app, Answer, value=DISSATISFIED) == 0
    page = text_of(phone.get(f"/s/{built.short_code}"))
    assert "You have already answered this survey" in page and "<form" not in page


def test_the_answered_cookie_is_signed_and_per_survey(app):
    built = build_survey(app)
    other = build_survey(app, title="另一个调查", project=False, places=())
    phone = resident(app)
    assert post(phone, f"/s/{built.short_code}", full_answer(built)).status_code == 302
    # answering one survey does not block another
    assert post(phone, f"/s/{other.short_code}", full_answer(other)).status_code == 302
    # a forged cookie claiming nothing is ignored; one claiming a survey cannot be made without the key
    forged = resident(app, address="198.51.100.99")
    forged.set_cookie("answered", "WzEsMl0.forged-signature")
    assert post(forged, f"/s/{built.short_code}", full_answer(built)).status_code == 302
    assert count(app, Response) == 3


def test_a_second_answer_from_the_same_address_is_kept_but_flagged_whatever_the_browser_says(app):
    """The User-Agent is the sender's to choose, so the repeat key rests on the address alone."""
    built = build_survey(app)
    agent = "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50"
    assert post(resident(app, "198.51.100.20", agent), f"/s/{built.short_code}", full_answer(built, rating=SATISFIED)).status_code == 302
    # a fresh browser (cookies cleared) on the same phone and network
    assert post(resident(app, "198.51.100.20", agent), f"/s/{built.short_code}", full_answer(built, rating=DISSATISFIED)).status_code == 302
    # another browser name on the same address is still a repeat from that address
    assert post(resident(app, "198.51.100.20", agent + " other"), f"/s/{built.short_code}", full_answer(built, rating=MOSTLY)).status_code == 302
    # another address is not
    assert post(resident(app, "198.51.100.21", agent), f"/s/{built.short_code}", full_answer(built, rating=MOSTLY)).status_code == 302
    responses = stored(app, built.survey_id)
    assert [(r["is_flagged"], r["flag_reason"], r["held_on"]) for r in responses] == [
        (False, None, None),
        (True, "same_address_same_day", None),
        (True, "same_address_same_day", None),
        (False, None, None),
    ]
    assert [a["is_flagged"] for a in answers_of(app, responses[1]["id"])] == [True] * 4

    staff = user_client(app, "staff")
    included = text_of(staff.get(f"/surveys/{built.survey_id}/results"))
    excluded = text_of(staff.get(f"/surveys/{built.survey_id}/results?flagged=exclude"))
    assert '<dd data-key="responses">4</dd>' in included and '<dd data-key="responses">2</dd>' in excluded
    assert "Include suspected repeats" in excluded
    left_out = staff.get(f"/surveys/{built.survey_id}/results.json?flagged=exclude").get_json()
    assert left_out["responses"] == 2 and left_out["flagged"] == 2
    assert (left_out["satisfaction"]["satisfied"], left_out["satisfaction"]["dissatisfied"]) == (1, 0)
    kept_in = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()
    assert kept_in["responses"] == 4 and kept_in["satisfaction"]["dissatisfied"] == 1 and kept_in["held"] == 0


@pytest.fixture
def limited_app(db_url):
    from tests.conftest import dispose, make_test_app

    app = make_test_app(db_url, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", SURVEY_SUBMIT_LIMIT="3 per minute")
    yield app
    dispose(app)


def test_answers_from_one_network_address_are_rate_limited(limited_app):
    app = limited_app
    built = build_survey(app)
    statuses = [
        post(resident(app, "198.51.100.30", f"phone-{n}"), f"/s/{built.short_code}", full_answer(built)).status_code
        for n in range(5)
    ]
    assert statuses == [302, 302, 302, 429, 429]
    refused = post(resident(app, "198.51.100.30", "phone-9"), f"/s/{built.short_code}", full_answer(built))
    assert "Too many attempts. Please wait a moment and try again." in text_of(refused)
    assert 1 <= int(refused.headers["Retry-After"]) <= 60, "the phone is told when the minute's window ends"
    assert count(app, Response) == 3
    # reading the page is not limited, and another address is counted apart
    assert resident(app, "198.51.100.30").get(f"/s/{built.short_code}").status_code == 200
    assert post(resident(app, "198.51.100.31"), f"/s/{built.short_code}", full_answer(built)).status_code == 302
    assert count(app, Response) == 4


@pytest.fixture
def app_limiting_every_route(db_url):
    """A deployment that sets a default limit for every route; the shared limiter forgets it after."""
    from voting_app.extensions import limiter

    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "SQLALCHEMY_DATABASE_URI": db_url,
                      "SERVER_NAME": "localhost", "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://",
                      "RATELIMIT_DEFAULT": "2 per minute"})
    try:
        yield app
    finally:
        limiter.limit_manager.set_default_limits([])
        with app.app_context():
            from voting_app.db import db

            db.engine.dispose()


def test_a_limit_set_for_every_route_still_limits_the_pages_without_their_own(app_limiting_every_route):
    """Flask-Limiter's pass before each request is left out only while every limit is a view's own."""
    app = app_limiting_every_route
    built = build_survey(app)
    phone = resident(app, "198.51.100.40")
    assert [phone.get(f"/s/{built.short_code}").status_code for _ in range(3)] == [200, 200, 429]
    assert resident(app, "198.51.100.41").get(f"/s/{built.short_code}").status_code == 200
    # the answer's own limit (SURVEY_SUBMIT_LIMIT) stands instead of the default, as a view's limit does
    answers = [post(resident(app, "198.51.100.42", f"phone-{n}"), f"/s/{built.short_code}", full_answer(built)).status_code
               for n in range(3)]
    assert answers == [302, 302, 302]


# ---- privacy and comments ----------------------------------------------------------------------

ADDRESS = "203.0.113.77"
AGENT = "Mozilla/5.0 (Linux; Android 13; PrivacyProbe-Q7X) MicroMessenger/8.0.49"


def test_no_network_address_or_user_agent_is_stored_anywhere(app):
    built = build_survey(app)
    assert post(resident(app, ADDRESS, AGENT), f"/s/{built.placements[PLACE]}", full_answer(built)).status_code == 302
    assert post(resident(app, ADDRESS, AGENT), f"/s/{built.short_code}", full_answer(built)).status_code == 302
    failed = full_answer(built)
    del failed[f"q{built.questions['satisfaction']}"]
    assert post(resident(app, ADDRESS, AGENT), f"/s/{built.short_code}", failed).status_code == 400
    responses = stored(app, built.survey_id)
    assert len(responses) == 2 and responses[1]["is_flagged"]  # the keyed hash did its job
    assert "device_hash" not in responses[0]  # answers carry nothing about where they came from
    assert scan_database(app, [ADDRESS, AGENT, "PrivacyProbe", "203.0.113"]) == []


def test_the_privacy_scan_finds_an_address_when_one_is_stored(app):
    """Guard for the scan above: a resident who types the address into a comment has it found."""
    built = build_survey(app)
    post(resident(app, ADDRESS, AGENT), f"/s/{built.short_code}", full_answer(built, comment=f"我的IP是{ADDRESS}"))
    assert scan_database(app, [ADDRESS, AGENT]) == [("survey_answers", "text", ADDRESS)]


TYPED = "<script>alert('x')</script> 路灯 & \"好\""


def test_free_text_is_stored_as_typed_and_shown_escaped_to_staff(app):
    built = build_survey(app)
    assert post(resident(app), f"/s/{built.short_code}", full_answer(built, comment=TYPED)).status_code == 302
    [comment] = rows(app, Answer, Answer.text.is_not(None))
    assert comment["text"] == TYPED
    page = text_of(user_client(app, "staff").get(f"/surveys/{built.survey_id}/comments"))
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; 路灯 &amp; &#34;好&#34;" in page


def test_hiding_a_comment_keeps_it_takes_it_out_of_results_and_exports_and_is_audited(app):
    from voting_app.audit import AuditEntry

    built = build_survey(app)
    post(resident(app, "198.51.100.41"), f"/s/{built.short_code}", full_answer(built, comment="骂人的话"))
    post(resident(app, "198.51.100.42"), f"/s/{built.short_code}", full_answer(built, comment="很好"))
    staff = user_client(app, "staff")
    hidden_id = rows(app, Answer, Answer.text == "骂人的话")[0]["id"]
    before = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()
    assert [q["comments"] for q in before["questions"] if q["kind"] == "text"] == [2]

    response = post(staff, f"/surveys/{built.survey_id}/comments/{hidden_id}/hide", {"hidden": "1"})
    assert response.status_code == 302
    [kept] = rows(app, Answer, Answer.id == hidden_id)
    assert kept["text"] == "骂人的话" and kept["is_hidden"] is True
    assert count(app, Answer, survey_id=built.survey_id) == 8

    after = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()
    assert [q["comments"] for q in after["questions"] if q["kind"] == "text"] == [1]
    csv_text = staff.get(f"/surveys/{built.survey_id}/export.csv").get_data(as_text=True)
    assert "骂人的话" not in csv_text and "[hidden]" in csv_text and "很好" in csv_text
    page = text_of(staff.get(f"/surveys/{built.survey_id}/comments"))
    assert "<strong>hidden</strong>" in page and "Show again" in page

    entries = rows(app, AuditEntry, AuditEntry.action.like("survey.comment_%"))
    assert [(e["action"], e["target"], e["details"], e["actor"]) for e in entries] == [
        ("survey.comment_hide", f"survey:{built.survey_id}", {"answer": hidden_id}, f"user:{staff.user_id}"),
    ]
    post(staff, f"/surveys/{built.survey_id}/comments/{hidden_id}/hide", {"hidden": "0"})
    assert rows(app, Answer, Answer.id == hidden_id)[0]["is_hidden"] is False
    assert [e["action"] for e in rows(app, AuditEntry, AuditEntry.action.like("survey.comment_%"))] == [
        "survey.comment_hide",
        "survey.comment_show",
    ]


def test_a_choice_answer_cannot_be_hidden(app):
    built = build_survey(app)
    post(resident(app), f"/s/{built.short_code}", full_answer(built))
    choice = rows(app, Answer, Answer.value == SATISFIED)[0]["id"]
    staff = user_client(app, "staff")
    post(staff, f"/surveys/{built.survey_id}/comments/{choice}/hide", {"hidden": "1"})
    assert rows(app, Answer, Answer.id == choice)[0]["is_hidden"] is False


# ---- the page itself ------------------------------------------------------------------------------


def test_the_large_type_switch_sets_a_cookie_and_enlarges_the_page(app):
    built = build_survey(app)
    phone = resident(app)
    assert '<body class="">' in text_of(phone.get(f"/s/{built.short_code}"))
    switched = phone.get(f"/s/{built.short_code}?text=large")
    assert '<body class="large">' in text_of(switched)
    assert re.search(r"text=large;.*Max-Age=31536000", switched.headers["Set-Cookie"])
    # remembered on the next visit, and on the thank-you page
    assert '<body class="large">' in text_of(phone.get(f"/s/{built.placements[PLACE]}"))
    assert post(phone, f"/s/{built.short_code}", full_answer(built)).status_code == 302
    assert '<body class="large">' in text_of(phone.get(f"/s/{built.short_code}/thanks"))
    assert '<body class="">' in text_of(phone.get(f"/s/{built.short_code}?text=normal"))
    assert '<body class="">' in text_of(phone.get(f"/s/{built.short_code}"))


def test_the_resident_page_is_small_self_contained_and_without_javascript(app):
    built = build_survey(app)
    phone = resident(app)
    page = phone.get(f"/s/{built.placements[PLACE]}")
    body = text_of(page)
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', body)
    assert stylesheets == ["/static/css/resident.css"]
    css = phone.get(stylesheets[0])
    assert css.status_code == 200
    assert len(page.data) + len(css.data) < 30 * 1024, (len(page.data), len(css.data))
    assert "<script" not in body.lower() and "javascript:" not in body.lower()
    assert not re.search(r"\son[a-z]+=", body)
    references = re.findall(r'(?:href|src|action)="([^"]*)"', body) + re.findall(r"url\(([^)]*)\)", css.get_data(as_text=True))
    assert references, "the page links at least its stylesheet"
    outside = [ref for ref in references if re.match(r"(?:[a-z]+:)?//", ref.strip("'\""), re.IGNORECASE)]
    assert outside == []
    assert "@import" not in css.get_data(as_text=True)


def test_the_resident_page_is_chinese_by_default_with_an_english_switch(app):
    built = build_survey(app)
    phone = resident(app)
    phone.delete_cookie("lang")
    body = text_of(phone.get(f"/s/{built.short_code}"))
    assert '<html lang="zh-CN">' in body
    assert "满意" in body and "基本满意" in body and "不满意" in body
    switch = re.search(r'<a lang="en" href="([^"]+)">English</a>', body).group(1)
    chosen = phone.get(html.unescape(switch))
    assert chosen.status_code == 302 and chosen.headers["Location"] == f"/s/{built.short_code}"
    english = text_of(phone.get(chosen.headers["Location"]))
    assert '<html lang="en">' in english and "Mostly satisfied" in english and "基本满意" not in english


# ---- assisted entry -----------------------------------------------------------------------------------


def test_a_grid_worker_enters_paper_answers_marked_as_assisted_and_shown_apart(app):
    built = build_survey(app)
    worker = user_client(app, "grid_worker")
    worker.environ_base.update({"REMOTE_ADDR": "198.51.100.50", "HTTP_USER_AGENT": "GridTablet/1.0"})
    # the worker's own phone answers as a resident first: the resident cookie is now set
    assert post(worker, f"/s/{built.short_code}", full_answer(built, rating=SATISFIED)).status_code == 302
    assert worker.get_cookie("answered") is not None
    placement_id = built.placement_ids[PLACE]

    form_page = worker.get(f"/surveys/{built.survey_id}/assisted?placement={placement_id}")
    assert form_page.status_code == 200
    assert "Assisted entry: you are keying in a resident’s paper answers." in html.unescape(text_of(form_page))
    assert "<form" in text_of(form_page)
    for rating in (DISSATISFIED, DISSATISFIED, MOSTLY):
        entered = post(worker, f"/surveys/{built.survey_id}/assisted?placement={placement_id}", full_answer(built, rating=rating, comment=None))
        assert entered.status_code == 302
        assert entered.headers["Location"] == f"/surveys/{built.survey_id}/assisted?placement={placement_id}"

    responses = stored(app, built.survey_id)
    assert [(r["is_assisted"], r["entered_by_id"]) for r in responses] == [(False, None)] + [(True, worker.user_id)] * 3
    assisted = responses[1:]
    assert all(r["held_on"] is None and r["is_flagged"] is False for r in assisted)
    assert {r["placement_id"] for r in assisted} == {placement_id}
    assert all(a["is_assisted"] for r in assisted for a in answers_of(app, r["id"]))

    staff = user_client(app, "staff")
    data = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()
    assert data["assisted"] == 3 and data["flagged"] == 0
    assert [(e["assisted"], e["satisfied"], e["mostly_satisfied"], e["dissatisfied"]) for e in data["by_entry"]] == [
        (False, 1, 0, 0),
        (True, 0, 1, 2),
    ]
    page = text_of(staff.get(f"/surveys/{built.survey_id}/results"))
    assert "Self-answered and assisted" in page
    assert re.search(r"<th scope=\"row\">Assisted entry</th>\s*<td class=\"num\">0</td><td class=\"num\">1</td><td class=\"num\">2</td>", page)


def test_assisted_entry_still_checks_the_answers(app):
    built = build_survey(app)
    worker = user_client(app, "grid_worker")
    form = full_answer(built)
    del form[f"q{built.questions['satisfaction']}"]
    response = post(worker, f"/surveys/{built.survey_id}/assisted", form)
    assert response.status_code == 400 and "Please answer this question." in text_of(response)
    assert count(app, Response) == 0
    assert post(user_client(app, "presiding"), f"/surveys/{built.survey_id}/assisted", full_answer(built)).status_code == 403
    assert count(app, Response) == 0


def test_the_address_key_is_random_and_a_new_day_deletes_old_keys_and_counts(app):
    """Only today's random key and counts exist: an older hash can never be recomputed, and no
    count says what an address did on a past day."""
    from datetime import timedelta

    from surveys import service
    from surveys.models import AddressCount, DedupeKey
    from voting_app.db import db

    with app.app_context():
        today = date.today()
        db.session.add_all(DedupeKey(day=today - timedelta(days=n), key=bytes([n]) * 32) for n in (1, 2, 5))
        db.session.add_all(AddressCount(day=today - timedelta(days=n), address_hash=f"{n:064x}", count=9) for n in (1, 2))
        db.session.commit()
        first = service._dedupe_key(today)
        assert first == service._dedupe_key(today) and len(first) == 32 and first not in {bytes([n]) * 32 for n in (1, 2, 5)}
        db.session.commit()
        assert [k.day for k in db.session.scalars(select(DedupeKey))] == [today]
        assert db.session.scalars(select(AddressCount)).all() == []


def test_a_stale_page_keeps_the_residents_answers(app):
    from tests.surveys.helpers import build_survey, full_answer, resident

    built = build_survey(app)
    phone = resident(app)
    data = full_answer(built) | {"csrf_token": "expired-or-from-a-lost-session"}
    response = phone.post(f"/s/{built.placements['桥北端']}", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "press Submit again" in page
    assert 'value="satisfied" checked' in page and "路灯很亮" in page
    assert stored(app, built.survey_id) == []


def test_a_paper_filled_while_open_can_be_keyed_in_after_the_close(app):
    from surveys.models import Survey
    from tests.surveys.helpers import build_survey, full_answer, user_client
    from voting_app.db import db

    built = build_survey(app, opens_at=utcnow() - timedelta(days=20), closes_at=utcnow() - timedelta(days=1))
    worker = user_client(app, "grid_worker")
    late = post(worker, f"/surveys/{built.survey_id}/assisted", full_answer(built) | {"filled_on": beijing_day(utcnow() - timedelta(days=3))})
    assert late.status_code == 302
    after = post(worker, f"/surveys/{built.survey_id}/assisted", full_answer(built) | {"filled_on": beijing_day(utcnow())})
    assert after.status_code == 409
    [response] = stored(app, built.survey_id)
    assert response["is_assisted"] and response["submitted_at"] < utcnow() - timedelta(days=2)
    with app.app_context():
        assert db.session.get(Survey, built.survey_id).closes_at < utcnow()


def beijing_day(moment) -> str:
    from datetime import timezone
    from zoneinfo import ZoneInfo

    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()


def test_the_large_type_link_keeps_the_assisted_placement(app):
    from tests.surveys.helpers import build_survey, user_client

    built = build_survey(app, places=("桥北端", "桥南端"))
    worker = user_client(app, "grid_worker")
    placement = built.placement_ids["桥南端"]
    page = worker.get(f"/surveys/{built.survey_id}/assisted?placement={placement}").get_data(as_text=True)
    assert f"placement={placement}&amp;text=large" in page or f"text=large&amp;placement={placement}" in page
