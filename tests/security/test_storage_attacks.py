"""An outsider with the database files and the logs tries to link deputies to their ballots.

Twenty-four deputies vote through the production server (gunicorn, the shipped access-log
format) in a shuffled order. Copies of the storage are taken in the middle of the round,
after the last ballot, and after the scrutineers have opened and counted the ballots. On
them the reviewer's attacks are run: replaying SQLite's WAL commit by commit, reading the
order of cells in the tables' pages, pageinspect over PostgreSQL's live and dead tuples, a
byte search of everything, and the access log. None may link any deputy to any ballot; while
the round is voted, no receipt and no ballot exists in clear anywhere.
"""

import base64
import json
import os
import random
import re
import stat
import subprocess
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, SECRET, build_world
from tests.security import storage_forensics as forensics
from tests.servers import gunicorn_server
from voting_app.ballots import service
from voting_app.ballots.models import Round
from voting_app.db import db

pytestmark = pytest.mark.slow
DEPUTIES, CANDIDATES, SEATS = 24, 6, 3
BALLOT_TABLES = ("ballots", "sealed_ballots", "ballot_markers")


def form_fields(html: str) -> dict:
    return dict(re.findall(r'name="(csrf_token|ticket)" (?:type="hidden" )?value="([^"]+)"', html)) | dict(
        re.findall(r'<input id="csrf_token" name="(csrf_token)" type="hidden" value="([^"]+)"', html)
    )


def receipt_in(ticket: str) -> str:
    body = ticket.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["receipt"]


class Hall:
    """The round as the attacker's victims lived it, and what the test knows to be true."""

    def __init__(self, app, db_url, tmp_path, method="choose_up_to"):
        self.app, self.db_url, self.tmp_path, self.method = app, db_url, tmp_path, method
        with app.app_context():
            self.world = build_world(deputies=DEPUTIES, candidates=CANDIDATES, seats=SEATS, method=method)
            service.open_round("test", db.session.get(Round, self.world.round_id))
            db.session.commit()
        rng = random.Random(20261203)
        self.order = rng.sample(self.world.deputy_ids, len(self.world.deputy_ids))  # the casting order
        # A priority ballot (rank) keeps its order: the deputy's numbering, first = most urgent.
        picked = {d: rng.sample(self.world.candidate_ids, rng.randint(0, SEATS)) for d in self.order}
        self.choices = picked if method == "rank" else {d: sorted(c) for d, c in picked.items()}
        self.receipts: dict[int, str] = {}
        self.confirm_sizes: dict[int, int] = {}
        self.retrying: set[int] = set()  # deputies who press "vote" twice, then try a second ballot from another page
        self.access_log = tmp_path / "access.log"

    def vote(self, base: str, deputy_id: int) -> None:
        token, pin = self.world.cards[deputy_id]
        phone = requests.Session()
        card_page = phone.get(f"{base}/c/{token}").text
        signed_in = phone.post(f"{base}/c/{token}", data={"csrf_token": form_fields(card_page)["csrf_token"], "pin": pin},
                               allow_redirects=False)
        assert signed_in.status_code == 302, signed_in.text
        fields = form_fields(phone.get(f"{base}/ballots/rounds/{self.world.round_id}/ballot").text)
        second_page = form_fields(phone.get(f"{base}/ballots/rounds/{self.world.round_id}/ballot").text)
        if self.method == "rank":
            marks = {f"rank-{c}": str(position) for position, c in enumerate(self.choices[deputy_id], start=1)}
        else:
            marks = {"choice": [str(c) for c in self.choices[deputy_id]]}
        data = {**fields, **marks}
        confirm = phone.post(f"{base}/ballots/rounds/{self.world.round_id}/ballot/confirm", data=data)
        assert confirm.status_code == 200, confirm.text[:300]
        self.confirm_sizes[deputy_id] = len(confirm.content)
        cast = phone.post(f"{base}/ballots/rounds/{self.world.round_id}/ballot/cast", data=data, allow_redirects=False)
        assert cast.status_code == 302, cast.text[:300]
        self.receipts[deputy_id] = receipt_in(fields["ticket"])
        if deputy_id in self.retrying:
            again = phone.post(f"{base}/ballots/rounds/{self.world.round_id}/ballot/cast", data=data, allow_redirects=False)
            assert again.status_code == 302, "a retry of the same submission is acknowledged"
            other = phone.post(f"{base}/ballots/rounds/{self.world.round_id}/ballot/cast", data={**data, **second_page},
                               allow_redirects=False)
            assert other.status_code == 409, "a second ballot is refused"

    def count(self) -> list[dict]:
        """Close, the scrutineers open with two shares, confirm; returns the board's ballots."""
        with self.app.app_context():
            round_ = db.session.get(Round, self.world.round_id)
            service.close_round(self.world.user(self.world.presiding_id), round_)
            db.session.commit()
            service.unseal_round(self.world.user(self.world.scrutineer_ids[0]), round_, list(self.world.shares[:2]))
            db.session.commit()
            service.confirm_round(self.world.user(self.world.scrutineer_ids[1]), round_)
            db.session.commit()
            return service.round_board(round_)["ballots"]

    def true_ballot(self, deputy_id: int) -> tuple[str, list]:
        return self.receipts[deputy_id], self.choices[deputy_id]


@pytest.fixture
def hall(app, db_url, tmp_path):
    return Hall(app, db_url, tmp_path)


@pytest.fixture(params=["choose_up_to", "rank"])
def any_hall(request, app, db_url, tmp_path):
    """The round of choices and the priority round (rank), whose ballots are ordered lists."""
    return Hall(app, db_url, tmp_path, request.param)


def run_round(hall: Hall, copy_files) -> dict:
    """Vote through a real server, copying the storage half-way, after the last ballot and after the count."""
    copies = {}
    with gunicorn_server(hall.db_url, SECRET, workers=2, extra_env={"ACCESS_LOG": str(hall.access_log)}) as base:
        for position, deputy_id in enumerate(hall.order):
            hall.vote(base, deputy_id)
            if position == len(hall.order) // 2:
                copies["mid-round"] = copy_files()
        copies["voted"] = copy_files()
    hall.board = hall.count()
    copies["counted"] = copy_files()
    return copies


# ---- SQLite --------------------------------------------------------------------------


def sqlite_path(db_url: str) -> Path:
    return Path(db_url.removeprefix("sqlite:///"))


def sqlite_copier(db_url: str):
    """The files as another process copies them. Read in a child process: closing any file
    handle on a database drops every POSIX lock this process's SQLite connections hold on it."""
    path = sqlite_path(db_url)

    def copy() -> dict[str, bytes]:
        return {
            suffix: subprocess.run(["cat", f"{path}{suffix}"], capture_output=True, check=True).stdout
            for suffix in ("", "-wal")
            if Path(f"{path}{suffix}").exists()
        }

    return copy


@pytest.mark.skipif(PG_URL is not None, reason="SQLite files; the PostgreSQL attacks follow")
def test_a_copy_of_the_sqlite_files_links_no_deputy_to_a_ballot(any_hall):
    hall = any_hall
    copies = run_round(hall, sqlite_copier(hall.db_url))
    round_id = hall.world.round_id
    truth = {d: hall.true_ballot(d) for d in hall.order}

    # While the round is voted, nothing readable: no receipt, no plaintext ballot, in any byte.
    for moment in ("mid-round", "voted"):
        files = copies[moment]
        for deputy_id, receipt in hall.receipts.items():
            assert all(receipt.encode() not in data for data in files.values()), f"a receipt in clear {moment}"
        images = [files[""]] + forensics.wal_snapshots(files[""], files.get("-wal", b""))
        assert all(
            (forensics.query_image(image, "SELECT count(*) FROM ballots") or [(0,)])[0][0] == 0 for image in images
        ), f"a plaintext ballot in a {moment} copy"

    # Replaying the WAL commit by commit, at every moment: no commit adds a marker and a readable ballot.
    for moment, files in copies.items():
        links = forensics.links_from_wal(files[""], files.get("-wal", b""), round_id)
        assert links == {}, f"the WAL links {len(links)} deputies in the {moment} copy"

    # The page order: while voted, the markers' cells lie in casting order (harmless: the
    # ballots beside them are sealed); after the count they follow the deputies' numbers, and
    # the opened ballots follow their receipts.
    mid_markers = [row[1] for page in forensics.physical_order(copies["voted"][""] , "ballot_markers") for row in page]
    counted = copies["counted"][""]
    marker_pages = forensics.physical_order(counted, "ballot_markers")
    assert all([row[1] for row in page] == sorted(row[1] for row in page) for page in marker_pages)
    assert sorted(row[1] for page in marker_pages for row in page) == sorted(hall.order)
    ballot_pages = forensics.physical_order(counted, "ballots")
    assert all([row[1] for row in page] == sorted(row[1] for row in page) for page in ballot_pages)
    assert forensics.physical_order(counted, "sealed_ballots") in ([], [[]])
    recovered = [row[1] for page in marker_pages for row in page]
    assert recovered != hall.order, "the counted copy still shows the casting order"
    if mid_markers:
        assert mid_markers != sorted(mid_markers), "sanity: before close the attack on page order does work"

    # After the count the WAL was truncated and freed pages hold zeros: no sealed ballot (which
    # the key holders could still open and link through the casting order above) is left in any byte.
    blobs = sealed_blobs(copies["voted"][""], copies["voted"].get("-wal", b""))
    assert len(blobs) >= DEPUTIES
    assert all(blob not in data for blob in blobs for data in copies["counted"].values())

    assert_access_log_names_nothing(hall)
    assert_the_board_holds_every_ballot(hall, truth)
    assert_files_are_private(sqlite_path(hall.db_url))


def sealed_blobs(main: bytes, wal: bytes) -> list[bytes]:
    found = []
    for image in [main, *forensics.wal_snapshots(main, wal)]:
        rows = forensics.query_image(image, "SELECT sealed FROM sealed_ballots") or []
        found.extend(blob[:48] for (blob,) in rows)
    return found


def assert_files_are_private(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-writer.lock"):
        candidate = Path(f"{path}{suffix}")
        if candidate.exists():
            mode = stat.S_IMODE(candidate.stat().st_mode)
            assert mode & 0o077 == 0, f"{candidate.name} is {oct(mode)}"


# ---- PostgreSQL ----------------------------------------------------------------------


def pg_copier(url: str):
    """Everything a reader of the PostgreSQL files gets: each table's raw pages after a
    CHECKPOINT (live and dead tuples, free space and all) and the WAL segments."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")

    def copy() -> dict[str, bytes]:
        with engine.connect() as connection:
            connection.execute(text("CHECKPOINT"))
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            files = {}
            for table in BALLOT_TABLES:
                blocks = connection.execute(text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")).scalar()
                files[table] = b"".join(
                    connection.execute(text("SELECT get_raw_page(:t, :b)"), {"t": table, "b": block}).scalar()
                    for block in range(blocks)
                )
            data_directory = Path(connection.execute(text("SHOW data_directory")).scalar())
        wal = data_directory / "pg_wal"
        if os.access(wal, os.R_OK):
            files["pg_wal"] = b"".join(p.read_bytes() for p in sorted(wal.iterdir()) if p.is_file() and len(p.name) == 24)
        elif os.environ.get("CI"):
            pytest.fail(f"cannot read {wal}: the WAL attack needs the server's files (run as root on the database machine)")
        return files

    return copy, engine


def tuples(connection, table: str) -> list[dict]:
    """pageinspect over every block of a table: line pointers, live and dead, with their xmin."""
    blocks = connection.execute(text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")).scalar()
    rows = []
    for block in range(blocks):
        rows.extend(
            dict(row._mapping)
            for row in connection.execute(
                text("SELECT lp, lp_flags, t_xmin::text AS xmin, t_xmax::text AS xmax, t_data "
                     "FROM heap_page_items(get_raw_page(:t, :b))"),
                {"t": table, "b": block},
            )
        )
    return rows


@pytest.mark.skipif(PG_URL is None, reason="runs when TEST_DATABASE_URL names a PostgreSQL database")
def test_a_copy_of_the_postgresql_files_links_no_deputy_to_a_ballot(any_hall):
    hall = any_hall
    copy, engine = pg_copier(hall.db_url)
    copies = run_round(hall, copy)
    truth = {d: hall.true_ballot(d) for d in hall.order}

    for moment in ("mid-round", "voted"):
        for name, data in copies[moment].items():
            for receipt in hall.receipts.values():
                assert receipt.encode() not in data, f"a receipt in clear in {name} {moment}"

    with engine.connect() as connection:
        found = {table: tuples(connection, table) for table in BALLOT_TABLES}
        voters = set(connection.execute(
            text("SELECT deputy_id FROM ballot_markers WHERE round_id = :r"), {"r": hall.world.round_id}
        ).scalars())
    for table, rows in found.items():
        dead = [row for row in rows if row["lp_flags"] == 3 or (row["t_data"] is not None and row["xmax"] != "0")]
        assert dead == [], f"{len(dead)} dead tuples left in {table} after the count"
    marker_xmins = {row["xmin"] for row in found["ballot_markers"] if row["xmin"]}
    ballot_xmins = {row["xmin"] for row in found["ballots"] if row["xmin"]}
    assert len(ballot_xmins) == 1 and not marker_xmins & ballot_xmins, "a ballot shares its transaction with a marker"
    assert len(marker_xmins) == 1 and voters == set(hall.order), "the markers were rewritten in one transaction"
    assert found["sealed_ballots"] == [] or all(row["t_data"] is None for row in found["sealed_ballots"])

    assert_access_log_names_nothing(hall)
    assert_the_board_holds_every_ballot(hall, truth)
    engine.dispose()


# ---- the access log and the board ----------------------------------------------------


def assert_access_log_names_nothing(hall: Hall) -> None:
    """The reviewer linked 18 of 18 with response sizes: the shipped format logs none, and the
    pages themselves weigh the same whatever was chosen."""
    lines = [line for line in hall.access_log.read_text().splitlines() if "/ballot/confirm" in line]
    assert len(lines) == DEPUTIES
    for line in lines:
        after_status = line.split('" ', 1)[1].split()
        assert len(after_status) == 2 and after_status[1].endswith("ms"), f"more than status and time: {line}"
    assert len(set(hall.confirm_sizes.values())) == 1, f"confirm pages of {len(set(hall.confirm_sizes.values()))} sizes"
    distinct_choice_sets = {tuple(c) for c in hall.choices.values()}
    assert len(distinct_choice_sets) > 5, "sanity: the deputies chose differently"


def assert_the_board_holds_every_ballot(hall: Hall, truth: dict) -> None:
    board = {entry["receipt"]: entry["choices"] for entry in hall.board}
    assert board == {receipt: choices for receipt, choices in truth.values()}


# ---- residents' addresses, once forgotten --------------------------------------------


def test_forgotten_address_counts_leave_nothing_in_the_files(app, db_url):
    """The day's key and per-address counts are deleted when the day is over; a reader of the
    files must not find them afterwards, neither in SQLite's WAL and freed pages nor in
    PostgreSQL's dead tuples (whose transaction ids would match the answers they counted)."""
    from datetime import timedelta

    from surveys.models import AddressCount, DedupeKey
    from surveys.service import district_today

    yesterday = district_today() - timedelta(days=1)
    key, digest = b"K3Y-" * 8, "ad" * 32
    with app.app_context():
        db.session.add(DedupeKey(day=yesterday, key=key))
        db.session.add(AddressCount(day=yesterday, address_hash=digest, count=1))
        db.session.commit()
        for count in range(2, 6):  # every answer of the day rewrote the count: old versions pile up
            db.session.query(AddressCount).filter_by(address_hash=digest).update({"count": count})
            db.session.commit()
    assert app.test_cli_runner().invoke(args=["survey-forget-addresses"]).exit_code == 0
    if PG_URL:
        copy, engine = pg_copier(db_url)
        files = {}
        with engine.connect() as connection:
            connection.execute(text("CHECKPOINT"))
            for table in (DedupeKey.__tablename__, AddressCount.__tablename__):
                found = tuples(connection, table)
                assert all(row["t_data"] is None for row in found), f"a dead or live tuple left in {table}"
                blocks = connection.execute(text(f"SELECT pg_relation_size('{table}') / 8192")).scalar()
                files[table] = b"".join(connection.execute(text("SELECT get_raw_page(:t, :b)"), {"t": table, "b": b}).scalar()
                                        for b in range(blocks))
        engine.dispose()
    else:
        files = sqlite_copier(db_url)()
    assert all(key not in data and digest.encode() not in data for data in files.values())


@pytest.mark.skipif(PG_URL is not None, reason="SQLite files; the PostgreSQL attacks follow")
def test_a_round_declared_void_leaves_every_ballot_sealed_in_the_sqlite_files(hall):
    """Voiding closes the round through the same close (rewritten box, scrub) and never opens a
    ballot: a copy taken after the void holds no receipt, no readable ballot and no link."""
    copy_files = sqlite_copier(hall.db_url)
    with gunicorn_server(hall.db_url, SECRET, workers=2, extra_env={"ACCESS_LOG": str(hall.access_log)}) as base:
        for deputy_id in hall.order:
            hall.vote(base, deputy_id)
    with hall.app.app_context():
        round_ = db.session.get(Round, hall.world.round_id)
        service.request_void(hall.world.user(hall.world.presiding_id), round_, "候选项目名单有误")
        db.session.commit()
        service.confirm_void(hall.world.user(hall.world.scrutineer_ids[0]), round_)
        db.session.commit()
        assert round_.state == "void"
    files = copy_files()
    for receipt in hall.receipts.values():
        assert all(receipt.encode() not in data for data in files.values()), "a receipt in clear after the void"
    images = [files[""]] + forensics.wal_snapshots(files[""], files.get("-wal", b""))
    assert all((forensics.query_image(image, "SELECT count(*) FROM ballots") or [(0,)])[0][0] == 0 for image in images)
    assert forensics.links_from_wal(files[""], files.get("-wal", b""), hall.world.round_id) == {}
    # The sealed ballots stay (a key holder could open them), so the markers must not keep the casting order.
    marker_pages = forensics.physical_order(files[""], "ballot_markers")
    assert all([row[1] for row in page] == sorted(row[1] for row in page) for page in marker_pages)
    assert [row[1] for page in marker_pages for row in page] != hall.order


@pytest.mark.skipif(PG_URL is None, reason="runs when TEST_DATABASE_URL names a PostgreSQL database")
def test_a_round_declared_void_leaves_no_dead_row_and_no_casting_order_in_postgresql(hall):
    copy, engine = pg_copier(hall.db_url)
    with gunicorn_server(hall.db_url, SECRET, workers=2, extra_env={"ACCESS_LOG": str(hall.access_log)}) as base:
        for deputy_id in hall.order:
            hall.vote(base, deputy_id)
    with hall.app.app_context():
        round_ = db.session.get(Round, hall.world.round_id)
        service.request_void(hall.world.user(hall.world.presiding_id), round_, "候选项目名单有误")
        db.session.commit()
        service.confirm_void(hall.world.user(hall.world.scrutineer_ids[0]), round_)
        db.session.commit()
    for name, data in copy().items():
        assert all(receipt.encode() not in data for receipt in hall.receipts.values()), f"a receipt in clear in {name}"
    with engine.connect() as connection:
        found = {table: tuples(connection, table) for table in BALLOT_TABLES}
    for table, rows in found.items():
        dead = [row for row in rows if row["lp_flags"] == 3 or (row["t_data"] is not None and row["xmax"] != "0")]
        assert dead == [], f"{len(dead)} dead tuples left in {table} after the void"
    assert len({row["xmin"] for row in found["ballot_markers"] if row["xmin"]}) == 1, "the markers were rewritten at close"
    assert len({row["xmin"] for row in found["sealed_ballots"] if row["xmin"]}) == 1, "the box was rewritten at close"
    assert not any(row["t_data"] for row in found["ballots"]), "a void round's ballot was opened"
    engine.dispose()


# ---- retries and second ballots -------------------------------------------------------


def test_retries_and_refused_second_ballots_leave_no_trace_in_the_files(hall):
    """A retry is told apart by an existing marker (`ON CONFLICT DO NOTHING`, and on
    PostgreSQL one statement that locks, marks and seals): neither it nor a refused second
    ballot may leave a dead marker or sealed ballot behind, nor a receipt in clear, nor a
    doubled ballot on the board."""
    hall.retrying = set(hall.order[::3])
    postgresql = hall.db_url.startswith("postgresql")
    copy, engine = pg_copier(hall.db_url) if postgresql else (sqlite_copier(hall.db_url), None)
    copies = run_round(hall, copy)
    for moment in ("mid-round", "voted"):  # once counted, the board's ballots carry their receipts by design
        for name, data in copies[moment].items():
            for receipt in hall.receipts.values():
                assert receipt.encode() not in data, f"a receipt in clear in {name} {moment}"
    if postgresql:
        with engine.connect() as connection:
            found = {table: tuples(connection, table) for table in BALLOT_TABLES}
        for table, rows in found.items():
            dead = [row for row in rows if row["lp_flags"] == 3 or (row["t_data"] is not None and row["xmax"] != "0")]
            assert dead == [], f"{len(dead)} dead tuples left in {table} after the count"
        engine.dispose()
    assert_the_board_holds_every_ballot(hall, {d: hall.true_ballot(d) for d in hall.order})
