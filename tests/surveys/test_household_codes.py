"""Tokened surveys: staff print one-time household codes, only keyed hashes are kept, and
each code answers exactly once, also when 50 submissions of it race a multi-process server."""

import html
import re
import threading

import pytest
import requests
from requests.adapters import HTTPAdapter
from sqlalchemy import select

from surveys import rules
from surveys.models import Answer, HouseholdCode, Response
from tests.conftest import SECRET, post
from tests.qr_decode import decode_all_svgs
from tests.servers import gunicorn_server
from tests.surveys.helpers import (
    build_survey,
    count,
    error_flash,
    full_answer,
    resident,
    rows,
    scan_database,
    text_of,
    user_client,
)
from voting_app.db import db

ALREADY_USED = "This code has already been used: each household answers once."
NOT_VALID = "This code is not valid for this survey. Check the code on your slip."


def issue(app, staff, survey_id: int, how_many: int):
    response = post(staff, f"/surveys/{survey_id}/codes", {"count": str(how_many)})
    assert response.status_code == 200, text_of(response)
    page = text_of(response)
    return response, page, re.findall(r'<p class="card-name">([^<]+)</p>', page)


def with_code(built, code: str, **kwargs) -> dict:
    return full_answer(built, **kwargs) | {"household_code": code}


def code_row(app, code: str) -> dict:
    [row] = rows(app, HouseholdCode, HouseholdCode.code_hash == rules.code_hash(SECRET, code))
    return row


@pytest.fixture
def tokened(app):
    return build_survey(app, mode="tokened")


@pytest.fixture
def staff(app):
    return user_client(app, "staff")


def test_staff_print_a_sheet_of_codes_whose_qr_codes_open_the_survey_with_the_code(app, staff, tokened):
    response, page, codes = issue(app, staff, tokened.survey_id, 6)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Household codes: 6" in page
    assert len(codes) == 6 and len(set(codes)) == 6
    assert all(re.fullmatch(r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}", code) for code in codes), codes
    for code in codes:
        assert page.count(f'<p class="card-name">{code}</p>') == 1
    decoded = decode_all_svgs(page)
    assert decoded == [(code, f"http://localhost/s/{tokened.short_code}?code={code}") for code in codes]
    # the slip's QR code fills the code in for the household
    landing = text_of(resident(app).get(f"/s/{tokened.short_code}?code={codes[0]}"))
    assert f'name="household_code" value="{codes[0]}"' in landing
    # shown once: nowhere to be read again afterwards
    detail = text_of(staff.get(f"/surveys/{tokened.survey_id}"))
    assert not any(code in detail for code in codes)


def test_only_keyed_hashes_of_the_codes_are_stored(app, staff, tokened):
    _, _, codes = issue(app, staff, tokened.survey_id, 5)
    stored = rows(app, HouseholdCode, HouseholdCode.survey_id == tokened.survey_id)
    assert len(stored) == 5
    assert {row["code_hash"] for row in stored} == {rules.code_hash(SECRET, code) for code in codes}
    assert all(row["used_at"] is None for row in stored)
    needles = codes + [code.replace("-", "") for code in codes]
    assert scan_database(app, needles) == []
    # the audit log records how many, not which
    from voting_app.audit import AuditEntry

    [entry] = rows(app, AuditEntry, AuditEntry.action == "survey.codes_issue")
    assert entry["details"] == {"count": 5}


def test_codes_are_only_for_tokened_surveys(app, staff):
    open_survey = build_survey(app, mode="open")
    response = post(staff, f"/surveys/{open_survey.survey_id}/codes", {"count": "3"}, follow_redirects=True)
    assert error_flash(text_of(response)) == ["Household codes are for surveys answered with a code."]
    assert count(app, HouseholdCode) == 0


def test_a_code_answers_exactly_once(app, staff, tokened):
    _, _, codes = issue(app, staff, tokened.survey_id, 2)
    first = post(resident(app), f"/s/{tokened.placements['桥北端']}", with_code(tokened, codes[0]))
    assert first.status_code == 302
    used = code_row(app, codes[0])
    assert used["used_at"] is not None
    [response] = rows(app, Response, Response.survey_id == tokened.survey_id)
    assert "household_code_id" not in response, "an answer must not be traceable to its household slip"

    again = post(resident(app, "198.51.100.61"), f"/s/{tokened.short_code}", with_code(tokened, codes[0], rating="dissatisfied"))
    assert again.status_code == 409
    assert ALREADY_USED in html.unescape(text_of(again))
    assert count(app, Response) == 1 and count(app, Answer, value="dissatisfied") == 0
    assert code_row(app, codes[0])["used_at"] == used["used_at"]

    # typed by hand in lower case without the dash, the other code still works, on the same phone
    second = post(resident(app), f"/s/{tokened.short_code}", with_code(tokened, codes[1].lower().replace("-", " ")))
    assert second.status_code == 302
    assert count(app, Response) == 2 and code_row(app, codes[1])["used_at"] is not None


def test_an_unknown_or_missing_code_is_refused_and_nothing_is_stored(app, staff, tokened):
    issue(app, staff, tokened.survey_id, 1)
    for typed, message in (("ZZZZ-ZZZZ", NOT_VALID), ("", "Type the code printed on your household's slip.")):
        response = post(resident(app), f"/s/{tokened.short_code}", with_code(tokened, typed))
        assert response.status_code == 400
        assert message in html.unescape(text_of(response))
    assert count(app, Response) == 0 and count(app, Answer) == 0


def test_a_code_of_another_survey_is_refused_and_stays_unused(app, staff, tokened):
    other = build_survey(app, mode="tokened", title="文化长廊改造满意度", project=False)
    _, _, other_codes = issue(app, staff, other.survey_id, 1)
    issue(app, staff, tokened.survey_id, 1)
    response = post(resident(app), f"/s/{tokened.short_code}", with_code(tokened, other_codes[0]))
    assert response.status_code == 400
    assert NOT_VALID in html.unescape(text_of(response))
    assert count(app, Response) == 0
    assert code_row(app, other_codes[0])["used_at"] is None
    # and it still answers its own survey
    assert post(resident(app), f"/s/{other.short_code}", with_code(other, other_codes[0])).status_code == 302


def test_a_refused_answer_does_not_use_up_the_code(app, staff, tokened):
    _, _, codes = issue(app, staff, tokened.survey_id, 1)
    incomplete = with_code(tokened, codes[0])
    del incomplete[f"q{tokened.questions['satisfaction']}"]
    assert post(resident(app), f"/s/{tokened.short_code}", incomplete).status_code == 400
    assert code_row(app, codes[0])["used_at"] is None
    assert post(resident(app), f"/s/{tokened.short_code}", with_code(tokened, codes[0])).status_code == 302


# ---- 50 submissions of one code at once -------------------------------------------------------------

SERVER_SECRET = "survey-concurrency-secret"


class FromAddress(HTTPAdapter):
    """Connect from a given loopback address, so the per-address rate limit never interferes."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture
def survey_server(app, db_url):
    from surveys import service
    from surveys.models import Survey
    from voting_app.db import db

    built = build_survey(app, mode="tokened")
    with app.app_context():
        [code] = service.issue_household_codes("test", db.session.get(Survey, built.survey_id), 1, SERVER_SECRET)
        db.session.commit()
    with gunicorn_server(db_url, SERVER_SECRET, workers=4) as base:
        yield base, built, code


@pytest.mark.slow
def test_fifty_simultaneous_submissions_of_one_household_code_store_exactly_one(app, survey_server):
    base, built, code = survey_server
    phone = requests.Session()
    phone.cookies.set("lang", "en")
    page = phone.get(f"{base}/s/{built.short_code}?code={code}", timeout=30)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    form = with_code(built, code) | {"csrf_token": token}

    barrier = threading.Barrier(50)
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def fire(index: int):
        session = requests.Session()
        session.mount("http://", FromAddress(f"127.0.0.{2 + index % 10}"))
        session.cookies.update(phone.cookies)
        barrier.wait()
        response = session.post(f"{base}/s/{built.short_code}", data=form, allow_redirects=False, timeout=120)
        with lock:
            outcomes.append((response.status_code, response.text))

    threads = [threading.Thread(target=fire, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(status for status, _ in outcomes)
    assert statuses == [302] + [409] * 49, statuses
    assert all(ALREADY_USED in html.unescape(body) for status, body in outcomes if status == 409)
    with app.app_context():
        responses = db.session.scalars(select(Response).where(Response.survey_id == built.survey_id)).all()
        assert len(responses) == 1
        assert db.session.scalar(select(db.func.count()).select_from(Answer).where(Answer.survey_id == built.survey_id)) == 4
        [household] = db.session.scalars(select(HouseholdCode).where(HouseholdCode.survey_id == built.survey_id)).all()
        assert household.used_at is not None
        assert household.code_hash == rules.code_hash(SERVER_SECRET, code)


def test_a_typed_code_is_kept_on_the_page_when_an_answer_is_missing(app, staff, tokened):
    _, _, codes = issue(app, staff, tokened.survey_id, 1)
    incomplete = with_code(tokened, codes[0])
    del incomplete[f"q{tokened.questions['satisfaction']}"]
    response = post(resident(app), f"/s/{tokened.short_code}", incomplete)
    assert response.status_code == 400
    assert f'name="household_code" value="{codes[0]}"' in text_of(response)
