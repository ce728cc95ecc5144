"""Attacks on the residents' survey form (/s/<code>): one device answering again and again, a
household code raced by two submissions, surveys outside their window, oversized and malformed
posts.

Expected answers, as the surveys code defines them: a phone keeping its cookie answers once; a
device that clears it is stored but flagged as a suspected repeat (same address, same day,
whatever browser it claims to be); past the survey's hold_after answers from one address in a
day, answers are held and count nowhere until staff release them; one address is rate-limited
(SURVEY_SUBMIT_LIMIT); a household code answers once whatever the timing. Everything else is refused with a message saying why, and a refusal
leaves responses, answers, household codes and tallies exactly as they were, with the tallies
equal to a recount (surveys.tallies.rebuild). Never a 500."""

import html
import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from surveys.models import Answer, HouseholdCode, Response
from tests.conftest import AUDIT_KEY, SECRET, EnglishClient, csrf_token, post
from tests.surveys.conftest import db_url, pg_delete_order  # noqa: F401  (PostgreSQL: DELETE is faster than TRUNCATE)
from tests.surveys.helpers import DISSATISFIED, build_survey, full_answer, recount, resident, tally_counts, text_of, user_client
from voting_app import create_app
from voting_app.db import db, utcnow

AGENT = "Mozilla/5.0 (Linux; Android 14) MicroMessenger/8.0.50"
ALREADY_ANSWERED = "You have already answered this survey on this phone. Thank you!"
TOO_MANY_ATTEMPTS = "Too many attempts. Please wait a moment and try again."
CODE_USED = "This code has already been used: each household answers once."
STALE_PAGE = "This page was open too long, so your answers could not be sent."
NOT_UNDERSTOOD = "The request could not be understood."


# ---- what a refusal must leave untouched ------------------------------------------------


def state(app, survey_id: int) -> dict:
    """Everything an answer could have changed."""
    with app.app_context():
        def scalar(query):
            return db.session.scalar(query)

        counts = {
            "responses": scalar(select(func.count(Response.id)).where(Response.survey_id == survey_id)),
            "flagged": scalar(select(func.count(Response.id)).where(Response.survey_id == survey_id, Response.is_flagged)),
            "held": scalar(select(func.count(Response.id)).where(Response.survey_id == survey_id, Response.held_on.is_not(None))),
            "answers": scalar(select(func.count(Answer.id)).where(Answer.survey_id == survey_id)),
            "codes used": scalar(select(func.count(HouseholdCode.id)).where(HouseholdCode.survey_id == survey_id,
                                                                          HouseholdCode.used_at.is_not(None))),
        }
    return counts | {"tallies": tally_counts(app, survey_id)}


def consistent(app, survey_id: int) -> None:
    assert tally_counts(app, survey_id) == recount(app, survey_id)


def refused(response, status: int, message: str) -> str:
    page = html.unescape(text_of(response))
    assert response.status_code == status, (response.status_code, page[:400])
    assert message in page, page[:2000]
    return page


# ---- one device, many answers -----------------------------------------------------------


def test_a_phone_keeping_its_cookie_answers_once_in_a_hundred_tries(app):
    """The signed `answered` cookie stops a second answer from the same browser."""
    built = build_survey(app)
    phone = resident(app, "198.51.100.10", AGENT)
    statuses = [post(phone, f"/s/{built.short_code}", full_answer(built, rating=DISSATISFIED)).status_code for _ in range(100)]
    assert statuses == [302] + [409] * 99
    refused(post(phone, f"/s/{built.placements['桥北端']}", full_answer(built)), 409, ALREADY_ANSWERED)
    assert state(app, built.survey_id)["responses"] == 1
    consistent(app, built.survey_id)


def test_a_device_clearing_its_cookie_is_kept_but_flagged_after_its_first_answer(app):
    """Rate limits are off in this app: the flag and the hold must show the hundred for what they are."""
    built = build_survey(app)
    for _ in range(100):
        assert post(resident(app, "198.51.100.11", AGENT), f"/s/{built.short_code}", full_answer(built, rating=DISSATISFIED)).status_code == 302
    now = state(app, built.survey_id)
    assert (now["responses"], now["flagged"], now["answers"], now["held"]) == (100, 99, 400, 95)
    staff = user_client(app, "staff")
    left_out = staff.get(f"/surveys/{built.survey_id}/results.json?flagged=exclude").get_json()
    assert left_out["responses"] == 1 and left_out["flagged"] == 4 and left_out["held"] == 95
    assert left_out["satisfaction"]["dissatisfied"] == 1
    # the suspected repeats staff judge one by one are the counted ones; the held wait on their own page
    assert text_of(staff.get(f"/surveys/{built.survey_id}/flagged")).count("Not a repeat") == 4
    consistent(app, built.survey_id)


def public_figures(app, built) -> dict:
    """What anyone sees: the project list's residents' figure and the staff results' counts."""
    page = re.sub(r"<[^>]+>", "", html.unescape(text_of(app.test_client().get("/projects/"))))
    match = re.search(r"Residents ([0-9.]+)% \(95% interval [^)]*\)(?: Fewer than 30 answers: for reference only)?"
                      r"( \(([0-9]+) more held for review, not counted\))?", page)
    assert match, page[:3000]
    staff = user_client(app, "staff")
    data = staff.get(f"/surveys/{built.survey_id}/results.json").get_json()
    return {"project list": match.group(1), "held shown": int(match.group(3) or 0), "responses": data["responses"],
            "rate": round(data["satisfaction"]["rate_percent"], 2), "held": data["held"]}


def test_one_address_dropping_its_cookie_and_rotating_its_browser_cannot_stuff_the_survey(app):
    """The review's attack: hundreds of answers from one address, the cookie dropped and the
    User-Agent changed every time. Only the survey's first few from that address count; the rest
    are held, the public figures do not move and say how many are held; staff count them in."""
    built = build_survey(app)
    for n in range(9):
        assert post(resident(app, f"198.51.100.{100 + n}", AGENT), f"/s/{built.short_code}", full_answer(built)).status_code == 302
    attacker = "203.0.113.66"
    for n in range(5):
        assert post(resident(app, attacker, f"{AGENT} build/{n}"), f"/s/{built.short_code}", full_answer(built, rating=DISSATISFIED)).status_code == 302
    after_allowance = public_figures(app, built)
    assert after_allowance == {"project list": "64.2", "held shown": 0, "responses": 14, "rate": 64.29, "held": 0}
    thanks = []
    for n in range(5, 300):
        response = post(resident(app, attacker, f"{AGENT} build/{n}"), f"/s/{built.short_code}", full_answer(built, rating=DISSATISFIED))
        thanks.append((response.status_code, response.headers.get("Location")))
    # the sender is told nothing: the same thank-you as any resident
    assert set(thanks) == {(302, f"/s/{built.short_code}/thanks")}
    assert after_allowance | {"held shown": 295, "held": 295} == public_figures(app, built)
    now = state(app, built.survey_id)
    assert (now["responses"], now["held"], now["flagged"]) == (309, 295, 299)
    consistent(app, built.survey_id)

    staff = user_client(app, "staff")
    review = html.unescape(text_of(staff.get(f"/surveys/{built.survey_id}/held")))
    assert attacker not in review and "295" in review
    assert post(staff, f"/surveys/{built.survey_id}/held", {"decision": "release"}).status_code == 302
    released = public_figures(app, built)
    assert released == {"project list": "2.9", "held shown": 0, "responses": 309, "rate": 2.91, "held": 0}
    assert state(app, built.survey_id)["held"] == 0
    consistent(app, built.survey_id)


def test_one_phone_rotating_through_its_ipv6_addresses_is_still_one_address(app):
    """An IPv6 phone may take any address in its /64 (RFC 8981): the hold counts the /64."""
    built = build_survey(app)
    for n in range(40):
        address = f"2001:db8:5:7:{n:x}:{n:x}:0:1"
        assert post(resident(app, address, f"{AGENT} {n}"), f"/s/{built.short_code}", full_answer(built, rating=DISSATISFIED)).status_code == 302
    assert post(resident(app, "2001:db8:5:8::1", AGENT), f"/s/{built.short_code}", full_answer(built)).status_code == 302
    now = state(app, built.survey_id)
    assert (now["responses"], now["held"], now["flagged"]) == (41, 35, 39)
    consistent(app, built.survey_id)


@pytest.fixture
def limited_app(db_url):  # noqa: F811
    """The production rate limits (SURVEY_SUBMIT_LIMIT as configured), switched on."""
    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "SQLALCHEMY_DATABASE_URI": db_url, "SERVER_NAME": "localhost",
                      "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": "memory://"})
    app.test_client_class = EnglishClient
    yield app
    with app.app_context():
        db.engine.dispose()


def test_one_device_sending_a_hundred_answers_is_rate_limited(limited_app):
    """Cookies cleared each time: the per-address limit stops the flood, what got through past
    the survey's five is held."""
    app = limited_app
    per_minute = int(app.config["SURVEY_SUBMIT_LIMIT"].split(" per minute")[0])
    assert per_minute < 100, "the limit must stop a hundred answers in a minute"
    built = build_survey(app)
    statuses = [post(resident(app, "198.51.100.12", AGENT), f"/s/{built.short_code}", full_answer(built)).status_code
                for _ in range(100)]
    assert statuses == [302] * per_minute + [429] * (100 - per_minute)
    refused(post(resident(app, "198.51.100.12", AGENT), f"/s/{built.short_code}", full_answer(built)), 429, TOO_MANY_ATTEMPTS)
    now = state(app, built.survey_id)
    assert (now["responses"], now["flagged"], now["held"]) == (per_minute, per_minute - 1, per_minute - 5)
    # the limit is per address: a neighbour on another network still answers
    assert post(resident(app, "198.51.100.13", AGENT), f"/s/{built.short_code}", full_answer(built)).status_code == 302
    consistent(app, built.survey_id)


# ---- one household code, two submissions at once -----------------------------------------


def test_one_household_code_sent_twice_at_once_answers_once(app):
    """Two phones press Submit with the same slip at the same moment, five times over."""
    from surveys import service
    from surveys.models import Survey

    built = build_survey(app, mode="tokened")
    with app.app_context():
        codes = service.issue_household_codes("test", db.session.get(Survey, built.survey_id), 5, SECRET)
        db.session.commit()
    for code in codes:
        phones = [resident(app, f"198.51.100.{30 + i}", f"{AGENT} {i}") for i in range(2)]
        forms = [full_answer(built) | {"household_code": code, "csrf_token": csrf_token(phone)} for phone in phones]
        barrier = threading.Barrier(2)
        outcomes = []

        def submit(phone, form):
            barrier.wait()
            response = phone.post(f"/s/{built.short_code}", data=form)
            outcomes.append((response.status_code, html.unescape(text_of(response))))

        threads = [threading.Thread(target=submit, args=pair) for pair in zip(phones, forms)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(status for status, _ in outcomes) == [302, 409], [status for status, _ in outcomes]
        assert all(CODE_USED in page for status, page in outcomes if status == 409)
    now = state(app, built.survey_id)
    assert (now["responses"], now["answers"], now["codes used"]) == (5, 20, 5)
    consistent(app, built.survey_id)


# ---- outside the survey's window ----------------------------------------------------------


@pytest.mark.parametrize("window, message", [
    ({"opens_at": timedelta(days=1)}, "This survey is not open yet."),
    ({"opens_at": timedelta(days=-10), "closes_at": timedelta(days=-1)}, "This survey closed on"),
])
@pytest.mark.parametrize("mode", ["open", "tokened"])
def test_a_survey_not_yet_open_or_closed_takes_no_answer_and_uses_no_code(app, window, message, mode):
    """The window is checked before a household code is claimed."""
    from surveys import service
    from surveys.models import Survey

    built = build_survey(app, mode=mode, **{key: utcnow() + offset for key, offset in window.items()})
    with app.app_context():
        [code] = service.issue_household_codes("test", db.session.get(Survey, built.survey_id), 1, SECRET) if mode == "tokened" else [""]
        db.session.commit()
    before = state(app, built.survey_id)
    page = refused(post(resident(app), f"/s/{built.short_code}", full_answer(built) | {"household_code": code}), 409, message)
    assert "<form" not in page or 'name="q' not in page
    assert state(app, built.survey_id) == before
    consistent(app, built.survey_id)


# ---- oversized posts ----------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_ten_megabyte_comment_is_refused_and_nothing_is_stored(app, content_type):
    """Over Flask's in-memory limit for a form (MAX_FORM_MEMORY_SIZE): refused before it is read."""
    built = build_survey(app)
    before = state(app, built.survey_id)
    huge = "长" * (10 * 1024 * 1024 // 3)
    refused(post(resident(app), f"/s/{built.short_code}", full_answer(built, comment=huge), content_type=content_type), 413,
            "This is too much to send at once: a photo may be up to 8 MB, a form far less.")
    assert state(app, built.survey_id) == before


def test_a_comment_over_the_question_limit_is_refused_with_the_answers_kept(app):
    """Over the question's length: the resident is told and keeps the answers."""
    built = build_survey(app)
    before = state(app, built.survey_id)
    for comment in ("长" * 501, "x" * 100_000):
        page = refused(post(resident(app), f"/s/{built.short_code}", full_answer(built, comment=comment)), 400,
                       "Your answer is too long: at most 500 characters.")
        assert 'value="satisfied" checked' in page
    assert state(app, built.survey_id) == before


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_ten_thousand_form_fields_are_refused_and_nothing_is_stored(app, content_type):
    """More fields than MAX_FORM_PARTS: refused whatever the encoding."""
    built = build_survey(app)
    before = state(app, built.survey_id)
    form = full_answer(built) | {f"x{n}": "1" for n in range(10_000)}
    response = post(resident(app), f"/s/{built.short_code}", form, content_type=content_type)
    assert response.status_code in (400, 413), response.status_code
    assert NOT_UNDERSTOOD in text_of(response) or "too much to send" in text_of(response)
    assert state(app, built.survey_id) == before


def test_one_question_answered_ten_thousand_times_is_refused(app):
    """One answer per single-choice question, however many are posted."""
    built = build_survey(app)
    before = state(app, built.survey_id)
    satisfaction = f"q{built.questions['satisfaction']}"
    for values in (["satisfied"] * 10_000, ["satisfied", "dissatisfied"]):
        refused(post(resident(app), f"/s/{built.short_code}", full_answer(built) | {satisfaction: values}), 400,
                "Please choose only one option.")
    assert state(app, built.survey_id) == before


@pytest.mark.parametrize("kind, value", [
    ("satisfaction", "very_satisfied"), ("satisfaction", "Satisfied"), ("satisfaction", "' OR 1=1 --"),
    ("single", "not-an-option"), ("single", "satisfied"), ("rating", "6"), ("rating", "0"), ("rating", "4.5"),
    ("rating", "-1"), ("rating", "９"), ("single", "<script>alert(1)</script>"),
])
def test_an_answer_that_is_not_one_of_the_options_is_refused(app, kind, value):
    """A crafted value would otherwise become a tally key of its own."""
    built = build_survey(app)
    before = state(app, built.survey_id)
    response = post(resident(app), f"/s/{built.short_code}", full_answer(built) | {f"q{built.questions[kind]}": value})
    refused(response, 400, "Please choose one of the options.")
    assert "<script>alert(1)</script>" not in text_of(response)
    assert state(app, built.survey_id) == before


def test_a_question_of_another_survey_is_never_stored_against_either(app):
    """Answers are read only for this survey's own questions: a foreign question id is not one."""
    built = build_survey(app)
    other = build_survey(app, title="文化长廊改造满意度", project=False, places=())
    before, other_before = state(app, built.survey_id), state(app, other.survey_id)
    foreign = {f"q{other.questions['satisfaction']}": DISSATISFIED}
    # only the other survey's question: this survey's required question is unanswered
    refused(post(resident(app), f"/s/{built.short_code}", foreign), 400, "Please answer this question.")
    assert state(app, built.survey_id) == before
    # alongside a whole answer: the answer is taken, the foreign field is not
    assert post(resident(app), f"/s/{built.short_code}", full_answer(built) | foreign).status_code == 302
    with app.app_context():
        stored_questions = set(db.session.scalars(select(Answer.question_id).where(Answer.survey_id == built.survey_id)))
        assert other.questions["satisfaction"] not in stored_questions
        assert db.session.scalar(select(func.count(Answer.id)).where(Answer.question_id == other.questions["satisfaction"])) == 0
    assert state(app, other.survey_id) == other_before
    assert state(app, built.survey_id)["responses"] == 1
    consistent(app, built.survey_id)
    consistent(app, other.survey_id)


# ---- malformed posts ----------------------------------------------------------------------


def test_a_post_without_a_csrf_token_is_refused_and_the_answers_kept_on_the_page(app):
    """A forged or stale form stores nothing, yet a resident loses nothing typed."""
    built = build_survey(app)
    before = state(app, built.survey_id)
    for token in (None, "", "forged.token.value", "x" * 5000):
        form = full_answer(built, comment="路灯很亮，谢谢") | ({} if token is None else {"csrf_token": token})
        page = refused(resident(app).post(f"/s/{built.short_code}", data=form), 400, STALE_PAGE)
        assert "路灯很亮，谢谢" in page
    assert state(app, built.survey_id) == before


@pytest.mark.parametrize("content_type, body", [
    ("application/json", b'{"q1": "satisfied"}'),
    ("text/plain", b"q1=satisfied"),
    ("application/xml", b"<answers><q1>satisfied</q1></answers>"),
    ("multipart/form-data", b"--no-boundary--"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"q1\"\r\n\r\nsatis"),
    ("application/x-www-form-urlencoded", b"\xff\xfe\x00\x01=\x80\x81"),
])
def test_a_post_with_the_wrong_or_a_broken_content_type_is_refused(app, content_type, body):
    """JSON, XML, plain text or a broken multipart body is no form: nothing is read as answers."""
    built = build_survey(app)
    before = state(app, built.survey_id)
    response = resident(app).post(f"/s/{built.short_code}", data=body, content_type=content_type)
    assert response.status_code == 400, response.status_code
    assert STALE_PAGE in html.unescape(text_of(response)) or NOT_UNDERSTOOD in text_of(response)
    assert state(app, built.survey_id) == before


def test_invalid_utf8_bytes_never_fail_and_a_choice_made_of_them_is_refused(app):
    """Bytes no phone sends: refused as a choice, harmless as text, never a 500."""
    built = build_survey(app)
    phone = resident(app)
    token = csrf_token(phone)
    before = state(app, built.survey_id)
    satisfaction = f"q{built.questions['satisfaction']}"
    # percent-encoded bytes that are not UTF-8, in a choice
    bad_choice = f"csrf_token={token}&{satisfaction}=%FF%FE%C0%AF".encode()
    response = phone.post(f"/s/{built.short_code}", data=bad_choice, content_type="application/x-www-form-urlencoded")
    refused(response, 400, "Please choose one of the options.")
    # the same bytes raw, in the body
    raw = f"csrf_token={token}&{satisfaction}=satisfied&q{built.questions['text']}=".encode() + b"\xff\xfe\xc0\xaf"
    response = phone.post(f"/s/{built.short_code}", data=raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert state(app, built.survey_id) == before
    # in a comment, percent-encoded: kept as harmless text, or refused; never a 500, never broken text stored
    comment = f"csrf_token={token}&{satisfaction}=satisfied&q{built.questions['text']}=ok%FF%C0%AF".encode()
    response = phone.post(f"/s/{built.short_code}", data=comment, content_type="application/x-www-form-urlencoded")
    assert response.status_code in (302, 400)
    with app.app_context():
        for text in db.session.scalars(select(Answer.text).where(Answer.text.is_not(None))):
            text.encode("utf-8")  # valid Unicode, whatever the bytes were
    # in the code of the URL
    assert resident(app).get("/s/%FF%FE").status_code == 404
    assert post(resident(app), "/s/%C0%AF", full_answer(built)).status_code == 404
    consistent(app, built.survey_id)


def test_a_reader_of_the_logs_finds_no_address_of_a_refused_resident_or_guesser(limited_app, caplog, monkeypatch):
    """Rate limits refuse by address and log each refusal; a log reader must not learn which
    address answered a survey (or tried to sign in) when: the lines stay, the address goes."""
    import logging

    app = limited_app
    built = build_survey(app)
    address = "198.51.100.97"
    caplog.set_level(logging.DEBUG)
    for name in (app.logger.name, "flask-limiter"):  # the migrations' logging setup disables loggers made before it
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)
    per_minute = int(app.config["SURVEY_SUBMIT_LIMIT"].split(" per minute")[0])
    statuses = [post(resident(app, address, AGENT), f"/s/{built.short_code}", full_answer(built)).status_code
                for _ in range(per_minute + 2)]
    assert statuses[-2:] == [429, 429]
    guesser = resident(app, address, AGENT)
    tries = [post(guesser, "/login", {"username": "staff", "password": f"guess-{n}"}).status_code for n in range(25)]
    assert 429 in tries
    refusals = [record for record in caplog.records if "exceeded" in record.getMessage()]
    assert len(refusals) >= 4, "each refusal is still logged"
    assert not [record.getMessage() for record in caplog.records if address in record.getMessage()]
