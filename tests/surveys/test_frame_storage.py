"""An outsider with a copy of the database files and the logs tries to link a sample frame's
addresses to the answers. The pairing of a household and its code exists only on the printed
sheet; the attacks: the codes' physical order against the sheet's and the households' order,
a code's grid narrowing its household down, transaction ids (xmin) shared by household rows
and codes or responses on PostgreSQL, and a byte search of the files and logs for the codes."""

import logging
import re
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine, text

from surveys import rules
from tests.conftest import PG_URL, SECRET, post
from tests.surveys.helpers import resident, text_of
from tests.surveys.test_frames import draw, import_households, slips, the_frame  # noqa: F401
from tests.surveys.test_frames import listed, staff, tokened  # noqa: F401  fixtures
from tests.surveys.test_household_codes import with_code

SIZE, ANSWERED = 60, 20


def sqlite_copy(db_url: str, tmp_path: Path) -> tuple[Path, bytes]:
    """The main file and its WAL as another process copies them, opened as the attacker would."""
    source = Path(db_url.removeprefix("sqlite:///"))
    target = tmp_path / "copy.db"
    blobs = b""
    for suffix in ("", "-wal"):
        if Path(f"{source}{suffix}").exists():
            data = Path(f"{source}{suffix}").read_bytes()
            blobs += data
            Path(f"{target}{suffix}").write_bytes(data)
    return target, blobs


def test_a_copy_of_the_files_and_the_logs_links_no_address_to_an_answer(app, listed, tokened, db_url, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    draw(listed, tokened.survey_id, SIZE)
    frame = the_frame(app)
    sheet = slips(text_of(post(listed, f"/surveys/{tokened.survey_id}/frames/{frame['id']}/print")))
    truth = {rules.code_hash(SECRET, code): address for code, address in sheet}  # on paper only
    for number, (code, _) in enumerate(sheet[:ANSWERED]):
        client = resident(app, address=f"198.51.100.{number + 20}")
        assert post(client, f"/s/{tokened.short_code}", with_code(tokened, code)).status_code == 302

    if PG_URL:
        engine = create_engine(db_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text("CHECKPOINT"))
            codes = connection.execute(text(
                "SELECT code_hash, grid_id, xmin::text FROM survey_household_codes WHERE frame_id = :f ORDER BY ctid"), {"f": frame["id"]}).all()
            households = connection.execute(text(
                "SELECT h.id, h.address, h.grid_id, h.xmin::text, fh.xmin::text FROM households h "
                "JOIN survey_frame_households fh ON fh.household_id = h.id WHERE fh.frame_id = :f ORDER BY fh.ctid"), {"f": frame["id"]}).all()
            responses = connection.execute(text("SELECT xmin::text FROM survey_responses")).scalars().all()
            answers = connection.execute(text("SELECT xmin::text FROM survey_answers")).scalars().all()
            # every version of a code row (the claim UPDATE leaves the old one dead)
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
            blocks = connection.execute(text("SELECT pg_relation_size('survey_household_codes') / current_setting('block_size')::int")).scalar()
            code_xmins = {row[0] for block in range(blocks) for row in connection.execute(
                text("SELECT t_xmin::text FROM heap_page_items(get_raw_page('survey_household_codes', :b))"), {"b": block})}
            files = b"".join(
                connection.execute(text("SELECT get_raw_page(:t, :b)"), {"t": table, "b": block}).scalar()
                for table in ("survey_household_codes", "survey_frame_households", "households", "survey_sample_frames", "audit_entries", "survey_responses")
                for block in range(connection.execute(text(f"SELECT pg_relation_size('{table}') / current_setting('block_size')::int")).scalar())
            )
        engine.dispose()
        household_xmins = {row[3] for row in households} | {row[4] for row in households}
        # no transaction wrote both a household (or its place in the frame) and a code or an answer
        assert not household_xmins & (code_xmins | set(responses) | set(answers))
    else:
        copy, files = sqlite_copy(db_url, tmp_path)
        with sqlite3.connect(copy) as connection:
            codes = connection.execute(
                "SELECT code_hash, grid_id, NULL FROM survey_household_codes WHERE frame_id = ? ORDER BY rowid", (frame["id"],)).fetchall()
            households = connection.execute(
                "SELECT h.id, h.address, h.grid_id, NULL, NULL FROM households h JOIN survey_frame_households fh "
                "ON fh.household_id = h.id WHERE fh.frame_id = ? ORDER BY fh.rowid", (frame["id"],)).fetchall()
            columns = {table: [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
                       for table in ("survey_household_codes", "survey_frame_households", "households", "survey_responses")}
        # no table holds a code and a household together
        assert not any("household_id" in cols for table, cols in columns.items() if table != "survey_frame_households")
        assert "code_hash" not in columns["survey_frame_households"]
    assert len(codes) == SIZE and len(households) == SIZE

    # Attack 1: the codes' physical order against every order of the frame's households the
    # attacker can rebuild (the sheet's: grid then address; by id; by the frame's rows).
    orders = {
        "frame rows": [row[1] for row in households],
        "by id": [row[1] for row in sorted(households, key=lambda row: row[0])],
        "sheet": [address for _, address in sheet],
    }
    for name, addresses in orders.items():
        hits = sum(truth[code_hash] == address for (code_hash, _, _), address in zip(codes, addresses))
        assert hits <= 6, f"{hits} of {SIZE} codes line up with their households in the {name} order"  # chance: about 1

    # Attack 2: a used code's grid narrows its household down to the frame's households there.
    frame_grids = [row[2] for row in households]
    with app.app_context():
        from voting_app.db import db
        from voting_app.registry.models import Grid

        under = {grid.id: {grid.id, grid.parent_id, grid.unit_id, grid.centre_id} for grid in db.session.query(Grid)}
    for code_hash, grid_id, _ in codes:
        if grid_id is not None:
            candidates = sum(grid_id in under[household_grid] for household_grid in frame_grids)
            assert candidates >= 30, f"a code of grid {grid_id} narrows its household to {candidates} addresses"

    # Attack 3: the codes in clear anywhere in the files, the logs or the audit trail.
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for code, address in sheet:
        for form in (code, code.replace("-", "")):
            assert form.encode() not in files
            assert form not in logs
        assert address not in logs
