"""The rate limits' default storage (voting_app.rate_storage, worker-memory://): the fixed
windows of `limits`' memory:// storage, counted without a timer thread."""

import threading

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from tests.conftest import AUDIT_KEY, SECRET, EnglishClient, post
from voting_app import create_app, rate_storage
from voting_app.rate_storage import WorkerMemoryStorage


@pytest.fixture
def clock(monkeypatch):
    """time.time() as the storage sees it, moved by hand."""
    now = [1_000_000.0]
    monkeypatch.setattr(rate_storage.time, "time", lambda: now[0])
    return now


def test_a_window_counts_up_to_its_limit_then_refuses_until_it_ends(clock):
    limiter = FixedWindowRateLimiter(WorkerMemoryStorage())
    three = parse("3 per minute")
    assert [limiter.hit(three, "198.51.100.1") for _ in range(4)] == [True, True, True, False]
    assert limiter.hit(three, "198.51.100.2")  # another address is counted apart
    stats = limiter.get_window_stats(three, "198.51.100.1")
    assert (stats.remaining, stats.reset_time) == (0, clock[0] + 60)
    clock[0] += 59.9
    assert not limiter.hit(three, "198.51.100.1")
    clock[0] += 0.1
    assert limiter.test(three, "198.51.100.1") and limiter.hit(three, "198.51.100.1")
    assert limiter.get_window_stats(three, "198.51.100.1").reset_time == clock[0] + 60


def test_expired_windows_are_forgotten_as_counting_goes_on(clock):
    storage = WorkerMemoryStorage()
    for number in range(rate_storage.PRUNE_EVERY - 1):
        storage.incr(f"address-{number}", 60)
    clock[0] += 61
    assert storage.get("address-0") == 0
    storage.incr("address-new", 60)  # the sweep comes with this count
    assert list(storage._windows) == ["address-new"]


def test_no_thread_is_started_to_expire_counts(clock):
    before = threading.active_count()
    storage = WorkerMemoryStorage()
    for number in range(50):
        storage.incr(f"address-{number}", 60)
    assert threading.active_count() == before


def test_clear_and_reset(clock):
    storage = WorkerMemoryStorage()
    storage.incr("a", 60)
    storage.incr("b", 60, amount=2)
    storage.clear("a")
    assert (storage.get("a"), storage.get("b"), storage.get_expiry("a")) == (0, 2, clock[0])
    assert storage.reset() == 1 and storage.get("b") == 0 and storage.check()


def test_the_default_storage_limits_survey_answers(db_url):
    from tests.surveys.helpers import build_survey, full_answer, resident

    app = create_app({"TESTING": True, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "SQLALCHEMY_DATABASE_URI": db_url,
                      "SERVER_NAME": "localhost", "RATELIMIT_ENABLED": True, "SURVEY_SUBMIT_LIMIT": "3 per minute"})
    app.test_client_class = EnglishClient
    assert app.config["RATELIMIT_STORAGE_URI"] == "worker-memory://"
    built = build_survey(app)
    statuses = [post(resident(app, "198.51.100.50", f"phone-{n}"), f"/s/{built.short_code}", full_answer(built)).status_code
                for n in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert post(resident(app, "198.51.100.51"), f"/s/{built.short_code}", full_answer(built)).status_code == 302
    with app.app_context():
        from voting_app.db import db

        db.engine.dispose()
