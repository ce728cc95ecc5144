"""An upload flood must not stall the ballots: photos sent to the proposal form, a progress
note or a supervision record are decoded with no database lock held, and large ones take
turns on the machine.

Attack seen in review: four parallel 50-megapixel PNGs (about 200 KB each) held SQLite's write
lock through their decoding and pushed ballot casts from 11 ms to 10.9 s. Expected answers,
shown here without any timing: while an upload is held in the middle of its decode, the
write-turn lock file is free and a deputy's ballot is cast and stored; a large photo that finds
no decode turn is refused with a message to send it again, and nothing of it is stored."""

import fcntl
import html
import io
import os
import threading

import pytest
from PIL import Image
from sqlalchemy import func, select

from tests.ballots.helpers import as_deputy, cast, open_round
from tests.conftest import PG_URL, post
from tests.images import jpeg_bytes
from tests.security.test_uploads import Routes, upload
from tests.surveys.conftest import db_url, pg_delete_order  # noqa: F401  (PostgreSQL: DELETE is faster than TRUNCATE)
from voting_app import images
from voting_app.ballots.models import SealedBallot
from voting_app.db import db
from voting_app.images import LARGE_DECODE_BYTES

BUSY = "Many large photos are being processed right now, so nothing was saved."
HOLD_SECONDS = 60  # a safety net only: the test releases the decode itself


@pytest.fixture
def routes(app, world, tmp_path):
    app.config["PHOTO_DECODE_LOCK_DIR"] = str(tmp_path)
    return Routes(app, world)


def ballots_stored(app, world) -> int:
    """Ballots in the box: sealed, as they are while the round is voted."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SealedBallot).where(SealedBallot.round_id == world.round_id))


def is_held(lock_file) -> bool:
    """Whether some process holds this lock file now (the test takes it and drops it at once if not)."""
    handle = os.open(lock_file, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)  # closing drops the lock if it was taken
    return False


def large_png() -> bytes:
    """A flat 4200 x 4200 PNG: small to send, but 70 MB once decoded, over LARGE_DECODE_BYTES."""
    buffer = io.BytesIO()
    Image.new("RGB", (4200, 4200), (90, 140, 200)).save(buffer, "PNG")
    assert 4200 * 4200 * 4 > LARGE_DECODE_BYTES
    return buffer.getvalue()


@pytest.mark.parametrize("route", ["proposal", "progress note", "supervision"])
def test_a_ballot_is_cast_and_stored_while_a_photo_is_being_decoded(app, world, routes, monkeypatch, db_url, route):
    """The upload is stopped inside its decode until the ballot is in: had the route kept the
    write lock (or the read transaction that precedes it on PostgreSQL), the cast would wait."""
    open_round(app, world)
    decoding, release = threading.Event(), threading.Event()
    original = images._cleaned

    def held_decode(source):
        decoding.set()
        release.wait(HOLD_SECONDS)
        return original(source)

    monkeypatch.setattr(images, "_cleaned", held_decode)
    before = routes.stored()
    answers = {}
    sender = threading.Thread(target=lambda: answers.setdefault("upload", routes.all()[route]([upload(jpeg_bytes())])))
    sender.start()
    try:
        assert decoding.wait(HOLD_SECONDS), "the upload never reached its decode"
        if not PG_URL:
            # db.py's write turn: any writer holds it from BEGIN IMMEDIATE to its commit.
            assert not is_held(f"{db_url.removeprefix('sqlite:///')}-writer.lock"), f"the {route} route holds the write lock while decoding"
        answers["cast"] = cast(as_deputy(app, world, 1), world.round_id, [world.candidate_ids[0]])
        assert ballots_stored(app, world) == 1
        assert sender.is_alive() and routes.stored() == before  # the photo is still being decoded
    finally:
        release.set()
        sender.join(HOLD_SECONDS)
    assert answers["cast"].status_code == 302 and "/receipt" in answers["cast"].headers["Location"]
    assert answers["upload"].status_code == 302, answers["upload"].get_data(as_text=True)[:300]
    assert routes.stored()["photos"] == before["photos"] + 1


def test_a_large_photo_without_a_decode_turn_is_refused_as_busy_and_nothing_is_stored(app, routes, tmp_path):
    """PHOTO_DECODE_SLOTS turns per machine: with the only one taken (here by the test, as by a
    worker decoding another large photo) a large photo waits PHOTO_DECODE_WAIT seconds, then
    the form comes back with a clear message; an ordinary phone photo does not wait at all."""
    app.config.update(PHOTO_DECODE_SLOTS=1, PHOTO_DECODE_WAIT=0.2)
    photo = large_png()
    before = routes.stored()
    turn = os.open(tmp_path / "photo-decode-0.lock", os.O_RDONLY | os.O_CREAT, 0o644)
    fcntl.flock(turn, fcntl.LOCK_EX)
    try:
        for name, send in routes.all().items():
            refused = send([upload(photo, "large.png", "image/png")])
            assert refused.status_code == 503, (name, refused.status_code)
            assert BUSY in html.unescape(refused.get_data(as_text=True)), name
            assert routes.stored() == before, name
        resident = app.test_client()
        resident.delete_cookie("lang")  # a resident's phone: the default language, Chinese
        form = {"title": "米公祠路段加装路灯", "description": "晚上路很黑，老人出门不安全，希望加装路灯。", "theme": "roads_transport",
                "photo": upload(photo, "large.png", "image/png")}
        refused = post(resident, f"/p/{routes.station_code}", form, content_type="multipart/form-data")
        assert refused.status_code == 503 and "请一分钟后重新提交表单" in refused.get_data(as_text=True)
        assert routes.stored() == before
        assert routes.note([upload(jpeg_bytes())]).status_code == 302
    finally:
        os.close(turn)
    for name, send in routes.all().items():
        assert send([upload(photo, "large.png", "image/png")]).status_code == 302, name
    assert routes.stored()["photos"] == before["photos"] + 4


def test_a_large_decode_holds_a_turn_only_while_it_runs(app, routes, tmp_path, monkeypatch):
    """The turn is taken around the decode and given back after it, also when the photo is refused."""
    app.config.update(PHOTO_DECODE_SLOTS=1, PHOTO_DECODE_WAIT=0.2)
    seen = []
    original = images._cleaned

    def watched(source):
        seen.append(is_held(tmp_path / "photo-decode-0.lock"))
        return original(source)

    monkeypatch.setattr(images, "_cleaned", watched)
    assert routes.note([upload(large_png(), "large.png", "image/png")]).status_code == 302
    assert routes.note([upload(jpeg_bytes())]).status_code == 302
    assert seen == [True, False] and not is_held(tmp_path / "photo-decode-0.lock")
    whole = large_png()
    truncated = whole[: len(whole) // 2]
    assert routes.note([upload(truncated, "large.png", "image/png")]).status_code == 400
    assert not is_held(tmp_path / "photo-decode-0.lock")

