"""A reader of the database files attacks a round that failed over to paper.

Two of twelve deputies vote by phone before the system fails; the presiding officer switches
to paper, ten paper ballots are keyed twice, and the round is counted. The attack the pooled
count invites: the ballots in the box less the scrutineers' keyed copies are the phone
ballots, and the markers say who voted by phone; with two phone voters (or one) their
ballots would be exposed. On a copy of the files after the count (SQLite's main file and
WAL replayed commit by commit; PostgreSQL's pages, live and dead tuples, by pageinspect) the
attack must find no phone voter and no keyed copy, and storage must not tell the two kinds
of ballot apart. (PostgreSQL's WAL, which keeps history until it is recycled, is read by the
attacks on the open round in test_storage_attacks, not here.) Out of reach here: an attacker holding copies from both sides of the close
(markers from the open round, keyed copies from the keying), which the keying by hand requires.
"""

import json
import secrets
from collections import Counter

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import PG_URL, build_world
from tests.security import storage_forensics as forensics
from tests.security.test_storage_attacks import sqlite_copier, tuples
from voting_app.ballots import service
from voting_app.ballots.models import Round
from voting_app.db import db
from voting_app.sessions.models import Deputy

pytestmark = pytest.mark.slow
DEPUTIES, PHONE_VOTERS = 12, 2
TABLES = ("ballots", "sealed_ballots", "ballot_markers", "paper_entries")


def failover_round(app) -> dict:
    """Vote two ballots by phone, switch, key ten paper ballots twice, open, confirm.
    Returns what the test knows: who voted by phone and how, and the keyed entry as stored."""
    with app.app_context():
        world = build_world(deputies=DEPUTIES, candidates=5, seats=2)
        round_ = db.session.get(Round, world.round_id)
        service.open_round("test", round_)
        db.session.commit()
        ids = world.candidate_ids
        phone = {world.deputy_ids[3]: [ids[3], ids[4]], world.deputy_ids[7]: [ids[4]]}  # nobody on paper picks these
        for deputy_id, choices in phone.items():
            service.cast_ballot(db.session.get(Deputy, deputy_id), round_, choices, service.new_receipt(), secrets.token_hex(8))
            db.session.commit()
        service.switch_to_paper(world.user(world.presiding_id), round_, "表决器故障")
        db.session.commit()
        service.close_round(world.user(world.presiding_id), round_, issued=DEPUTIES - PHONE_VOTERS)
        db.session.commit()
        paper = [[ids[0], ids[1]], [ids[0]], [ids[1], ids[2]], [ids[2]], [], [ids[0], ids[2]], [ids[1]], [ids[0]], None, [ids[2]]]
        for scrutineer_id in world.scrutineer_ids:
            for choices in paper:
                service.add_paper_ballot(round_, world.user(scrutineer_id), choices)
                db.session.commit()  # each keyed ballot rewrites the entry: old versions pile up
        keyed = json.dumps(service.paper_entry(round_, world.user(world.scrutineer_ids[0])).ballots)
        for scrutineer_id in world.scrutineer_ids:
            service.submit_paper_entry(round_, world.user(scrutineer_id))
            db.session.commit()
        service.unseal_round(world.user(world.scrutineer_ids[0]), round_, list(world.shares[:2]))
        db.session.commit()
        service.confirm_round(world.user(world.scrutineer_ids[1]), round_)
        db.session.commit()
        board = [entry["choices"] for entry in service.round_board(round_)["ballots"]]
    assert Counter(map(json.dumps, board)) == Counter(map(json.dumps, [*phone.values(), *paper]))
    return {"round_id": world.round_id, "phone": phone, "keyed": keyed}


def link(voters: set, pool: list, keyed: list) -> dict:
    """The attack: the pool less the keyed copies are the phone ballots; one voter, one ballot."""
    rest = Counter(map(json.dumps, pool)) - Counter(map(json.dumps, keyed))
    if voters and sum(rest.values()) == len(voters):
        return {voter: sorted(rest) for voter in voters}
    return {}


@pytest.mark.skipif(PG_URL is not None, reason="SQLite files; the PostgreSQL attack follows")
def test_a_copy_of_the_sqlite_files_after_a_failover_links_no_phone_voter_to_a_ballot(app, db_url):
    truth = failover_round(app)
    files = sqlite_copier(db_url)()
    round_id = truth["round_id"]
    images = [files[""], *forensics.wal_snapshots(files[""], files.get("-wal", b""))]
    for image in images:
        voters = {d for (d,) in forensics.query_image(image, "SELECT deputy_id FROM ballot_markers WHERE round_id = ?", (round_id,)) or []}
        pool = [json.loads(c) for (c,) in forensics.query_image(image, "SELECT choices FROM ballots WHERE round_id = ?", (round_id,)) or []]
        keyed = [b for (e,) in forensics.query_image(image, "SELECT ballots FROM paper_entries WHERE round_id = ?", (round_id,)) or []
                 for b in json.loads(e)]
        assert voters == set() and keyed == [], "who voted by phone, or a keyed copy, is still in the files"
        assert link(voters, pool, keyed) == {}
    # Sanity: had the markers and the keyed copies stayed, the attack would have linked the phone voters.
    exposed = link(set(truth["phone"]), pool, json.loads(truth["keyed"]))
    assert exposed and all(rest == sorted(json.dumps(c) for c in truth["phone"].values()) for rest in exposed.values())
    assert all(truth["keyed"].encode() not in data for data in files.values()), "an old version of a keyed entry in the files"
    # The phone and the paper ballots lie in one receipt order: their place tells them apart no more.
    pages = forensics.physical_order(files[""], "ballots")
    rows = [row for page in pages for row in page if row[0] == round_id]
    assert len(rows) == DEPUTIES and all([r[1] for r in page] == sorted(r[1] for r in page) for page in pages)


@pytest.mark.skipif(PG_URL is None, reason="runs when TEST_DATABASE_URL names a PostgreSQL database")
def test_a_copy_of_the_postgresql_files_after_a_failover_links_no_phone_voter_to_a_ballot(app, db_url):
    truth = failover_round(app)
    engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("CHECKPOINT"))
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        found = {table: tuples(connection, table) for table in TABLES}
        pages = {
            table: b"".join(
                connection.execute(text("SELECT get_raw_page(:t, :b)"), {"t": table, "b": block}).scalar()
                for block in range(connection.execute(text(f"SELECT pg_relation_size('{table}') / 8192")).scalar())
            )
            for table in TABLES
        }
        voters = set(connection.execute(text("SELECT deputy_id FROM ballot_markers WHERE round_id = :r"), {"r": truth["round_id"]}).scalars())
        pool = [c for (c,) in connection.execute(text("SELECT choices FROM ballots WHERE round_id = :r"), {"r": truth["round_id"]})]
        keyed = [b for (e,) in connection.execute(text("SELECT ballots FROM paper_entries WHERE round_id = :r"), {"r": truth["round_id"]})
                 for b in e]
    engine.dispose()
    assert voters == set() and keyed == [] and link(voters, pool, keyed) == {}
    assert link(set(truth["phone"]), pool, json.loads(truth["keyed"])), "sanity: with markers and keyed copies the attack links"
    # Other tests' paper rounds share the table (and a rolled-back update leaves a live tuple
    # with an xmax): judge this round's entries, whose round id follows the 4-byte id.
    found["paper_entries"] = [
        row for row in found["paper_entries"]
        if row["t_data"] is None or int.from_bytes(bytes(row["t_data"])[4:8], "little") == truth["round_id"]
    ]
    for table, rows in found.items():
        dead = [row for row in rows if row["lp_flags"] == 3 or (row["t_data"] is not None and row["xmax"] != "0")]
        assert dead == [], f"{len(dead)} dead tuples left in {table}: old markers or keyed copies"
    assert all(truth["keyed"].encode() not in data for data in pages.values()), "an old version of a keyed entry in the pages"
    ballot_xmins = {row["xmin"] for row in found["ballots"] if row["t_data"] is not None}
    assert len(ballot_xmins) == 1, "phone and paper ballots were written by different transactions"
