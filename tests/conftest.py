"""Fixtures: an app on a fresh database per test (SQLite by default, PostgreSQL when
TEST_DATABASE_URL is set), clients signed in as any role, and a ready session."""

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voting_app import create_app  # noqa: E402


def _lighter_password_hashing() -> None:
    """Account passwords are hashed at argon2's default cost (64 MiB, three passes: about
    0.13 s a hash here), and the suite signs in and seeds the demo thousands of times: about
    an eighth of its time went to hashing. In this process passwords take the PINs' lighter
    parameters (voting_app/auth/service.py); sign-in still runs a real argon2 check, so the
    tests that count the checks or find a guess taking the write turn prove the same. Servers
    the tests start (tests/servers.py) hash at full cost, and tests/auth/test_password_cost.py
    holds the cost of a real password hash to OWASP's floor."""
    from argon2 import PasswordHasher

    from voting_app.auth import service

    service._hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)


_lighter_password_hashing()

SECRET = "test-secret-key"
AUDIT_KEY = "7e57a0d1" * 8  # 32 bytes in hex, as instance/audit.key holds them


def _database_of_this_worker(url: str | None) -> str | None:
    """`make test` runs the tests in several processes (pytest-xdist), and a test empties its
    PostgreSQL database before it starts: each process gets a database of its own, named
    after the given one and the process (test_gw0, test_gw1), made on first use. Processes
    started by the tests inherit it through TEST_DATABASE_URL."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    from sqlalchemy.engine import make_url

    given = make_url(url)
    own = given.set(database=f"{given.database}_{worker}")
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(hashtext(:name))"), {"name": own.database})  # two runs at once
            if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}).first() is None:
                connection.execute(text(f'CREATE DATABASE "{own.database}"'))
            connection.execute(text("SELECT pg_advisory_unlock(hashtext(:name))"), {"name": own.database})
    finally:
        engine.dispose()
    os.environ["TEST_DATABASE_URL"] = own.render_as_string(hide_password=False)
    return os.environ["TEST_DATABASE_URL"]


PG_URL = _database_of_this_worker(os.environ.get("TEST_DATABASE_URL"))


def _upgrade(url: str) -> None:
    from tests.migration_helpers import MigrationDatabase

    database = MigrationDatabase(url)
    database.upgrade()
    database.close()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """Run the real migrations once; each SQLite test copies the result, PostgreSQL truncates."""
    if PG_URL:
        from tests.migration_helpers import empty_schema

        empty_schema(PG_URL)
        _upgrade(PG_URL)
        return None
    template = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _upgrade(f"sqlite:///{template}")
    return template


def database_url(tmp_path: Path, migrated_template) -> str:
    if PG_URL:
        engine = create_engine(PG_URL)
        with engine.begin() as connection:
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")
            ).scalars().all()
            if tables:
                # The audit log refuses TRUNCATE (append-only trigger); the replica role is the owner's way past it.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return PG_URL
    target = tmp_path / "test.sqlite3"
    shutil.copy(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def db_url(tmp_path, migrated_template):
    return database_url(tmp_path, migrated_template)


@pytest.fixture
def migration_db(tmp_path):
    """An empty scratch database for a test of the migrations (tests/migration_helpers.py)."""
    from tests.migration_helpers import scratch_database

    with scratch_database(tmp_path) as database:
        yield database


class _CompiledTemplates(BytecodeCache):
    """Jinja's compiled templates, shared by the apps of this process. Each test builds an app
    of its own, and each app's Jinja environment compiled every template it rendered anew:
    about 0.05 s for a page's first rendering, in nearly every test. Every app the tests build
    comes from create_app with the same Jinja settings, so a template compiles once here; the
    key holds its name and a checksum of its source, so an edited template compiles afresh."""

    def __init__(self):
        self.code: dict = {}

    def load_bytecode(self, bucket) -> None:
        bucket.code = self.code.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket) -> None:
        self.code[(bucket.key, bucket.checksum)] = bucket.code


COMPILED_TEMPLATES = _CompiledTemplates()


def share_compiled_templates(app):
    app.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return app


class EnglishClient(FlaskClient):
    """Tests read messages in English (the msgids); the Chinese rendering is tested on its own."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_cookie("lang", "en")


def make_test_app(db_url: str, **config):
    """An app on the test database with English test clients; `config` overrides the tests'
    settings (rate limits are off unless it turns them on)."""
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": SECRET,
            "AUDIT_KEY": AUDIT_KEY,
            "SQLALCHEMY_DATABASE_URI": db_url,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": "localhost",
            **config,
        }
    )
    app.test_client_class = EnglishClient
    from voting_app.auth import service as auth_service

    auth_service._card_facts.clear()  # a worker serves one database; each test has its own, numbered from 1
    return share_compiled_templates(app)


def dispose(app) -> None:
    with app.app_context():
        from voting_app.db import db

        db.engine.dispose()


@pytest.fixture
def app(db_url):
    app = make_test_app(db_url)
    yield app
    dispose(app)


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client) -> str:
    """A valid Flask-WTF token for this client's session, as a form on the page would carry."""
    with client.session_transaction() as session:
        raw = session.setdefault("csrf_token", "test-csrf-raw-token-0123456789abcdef")
    return URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token").dumps(raw)


def post(client, url: str, data: dict | None = None, **kwargs):
    """POST a form with a valid CSRF token, as a browser would."""
    payload = dict(data or {})
    payload.setdefault("csrf_token", csrf_token(client))
    return client.post(url, data=payload, **kwargs)


def sign_in(client, principal) -> None:
    """Sign a client in as an account or a deputy's card without the password round trip."""
    with client.session_transaction() as session:
        session["_user_id"] = principal.get_id()
        session["_fresh"] = True


_PASSWORD_HASH = None


def make_user(role: str, username: str | None = None):
    """An account with the password 'correct horse battery' (hashed once per test run)."""
    global _PASSWORD_HASH
    from voting_app.auth.models import User
    from voting_app.auth.service import hash_secret
    from voting_app.db import db

    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_secret("correct horse battery")
    user = User(username=username or f"{role}-{os.urandom(3).hex()}", display_name=role.title(), role=role, password_hash=_PASSWORD_HASH)
    db.session.add(user)
    db.session.flush()
    return user


# Every test session key's shares by congress session id: what the scrutineers would bring.
KEY_SHARES: dict[int, tuple[str, ...]] = {}


@dataclass
class World:
    """A session ready to vote: accounts for every role, a roster, cards and a draft round."""

    session_id: int
    round_id: int
    staff_id: int
    presiding_id: int
    scrutineer_ids: tuple[int, int]
    deputy_ids: list[int]
    cards: dict  # deputy id -> (token, pin)
    candidate_ids: list[int]
    shares: tuple[str, ...] = ()  # the session key's 2-of-3 shares, as printed at the ceremony

    def user(self, user_id):
        from voting_app.auth.models import User
        from voting_app.db import db

        return db.session.get(User, user_id)

    def credential(self, deputy_id):
        from voting_app.ballots.credentials import active_credential

        return active_credential(deputy_id)


def fresh_term():
    """A term of a congress of its own, so a test's roster shares no deputy with another's."""
    import secrets

    from voting_app.registry import service as registry

    return registry.create_term("test", registry.create_congress("test", f"测试区人民代表大会{secrets.token_hex(4)}"), 1)


def build_world(deputies: int = 9, present: int | None = None, candidates: int = 4, seats: int = 2,
                method: str = "choose_up_to", threshold_base: str = "roster", mode: str = "electronic",
                with_key: bool = True, adopted: bool = True) -> World:
    """Build inside an app context; commits. With `with_key`, the session's key ceremony has
    been held (2 of 3 shares, in `World.shares`); with `adopted`, the presidium has adopted the
    round's 票决办法 as the round stands."""
    from voting_app.ballots import keys
    from voting_app.ballots import service as ballots
    from voting_app.ballots.credentials import issue_missing_cards
    from voting_app.db import db
    from voting_app.sessions import service as sessions
    from voting_app.registry.roster import RosterParse, RosterRow

    staff, presiding = make_user("staff"), make_user("presiding")
    scrutineers = (make_user("scrutineer"), make_user("scrutineer"))
    congress = sessions.create_session("test", "测试会议", "会堂", term=fresh_term())
    rows = tuple(RosterRow(i + 2, f"{i + 1:03d}", f"代表{i + 1}", "第一代表团", "") for i in range(deputies))
    sessions.import_roster("test", congress, RosterParse(rows, ()))
    db.session.refresh(congress)
    cards = {card.deputy.id: (card.token, card.pin) for card in issue_missing_cards("test", congress)}
    for deputy in congress.deputies[: deputies if present is None else present]:
        sessions.check_in(deputy, sessions.DESK)
    shares = ()
    if with_key:
        shares = keys.hold_ceremony("test", congress, 2, 3, ["监票人甲", "监票人乙", "监票人丙"])[1].shares
        KEY_SHARES[congress.id] = shares
    round_ = ballots.create_round("test", congress, "测试票决", method, seats, threshold_base, mode)
    candidate_ids = [ballots.add_candidate("test", round_, f"项目{i + 1}").id for i in range(candidates)]
    if adopted:
        adopt(round_, staff)
    db.session.commit()
    return World(
        session_id=congress.id,
        round_id=round_.id,
        staff_id=staff.id,
        presiding_id=presiding.id,
        scrutineer_ids=(scrutineers[0].id, scrutineers[1].id),
        deputy_ids=[d.id for d in congress.deputies],
        cards=cards,
        candidate_ids=candidate_ids,
        shares=shares,
    )


def adopt(round_, staff=None):
    """Record that the presidium adopted the round's 票决办法 as it stands (flushes)."""
    from datetime import date

    from voting_app.documents.service import record_adoption

    return record_adoption(staff or make_user("staff"), round_, date(2026, 1, 1), "大会主席团")


@pytest.fixture
def world(app):
    with app.app_context():
        return build_world()
