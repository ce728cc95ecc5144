"""An upload flood must not stall the ballots: photos sent to the proposal form, a progress
note or a supervision record are decoded with no database lock held, and large ones take
turns on the machine.

Attack seen in review: four parallel 50-megapixel PNGs (about 200 KB each) held SQLite's write
lock through their decoding and pushed ballot casts from 11 ms to 10.9 s. Expected answers,
shown here without any timing: while an upload is held in the middle of its decode, the
write-turn lock file is free and a deputy's ballot is cast and stored; a large photo that finds
no decode turn is refused with a message to send it again, and nothing of it is stored.

Second attack seen in the bench: with the lock gone, the decode still shared the two cores
with the casts at the same priority, and the slowest cast during the flood took 33 times a
cast alone. A large photo is now decoded in a child process at the lowest priority, seen here
from outside (/proc) while its decode is held; a child that is killed or runs out of time
gives a clear refusal, and nothing of the photo is stored."""

import fcntl
import html
import io
import math
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import func, select

from tests.ballots.helpers import as_deputy, cast, open_round
from tests.conftest import PG_URL, post
from tests.images import jpeg_bytes
from tests.security.test_uploads import Routes, upload
from tests.surveys.conftest import db_url, pg_delete_order  # noqa: F401  (PostgreSQL: DELETE is faster than TRUNCATE)
from voting_app import images
from voting_app.ballots.models import SealedBallot
from voting_app.db import db
from voting_app.images import APART_PIXELS, LARGE_DECODE_BYTES
from voting_app.projects.models import Photo

BUSY = "Many large photos are being processed right now, so nothing was saved."
NOT_PROCESSED = "The photo could not be processed, so nothing was saved."
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


class HeldDecode:
    """images._cleaned stopped at its start until the test releases it, wherever it runs: in
    the test's own process or in a decode child, which shares no memory with the test. So it
    says through a file that it started, and in which process, and waits for another file."""

    def __init__(self, folder: Path, monkeypatch):
        self.started, self.released = folder / "decode-started", folder / "decode-released"
        original = images._cleaned

        def held(source):
            (folder / "decode-starting").write_text(str(os.getpid()))
            os.replace(folder / "decode-starting", self.started)
            deadline = time.monotonic() + HOLD_SECONDS
            while not self.released.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            return original(source)

        monkeypatch.setattr(images, "_cleaned", held)

    def decoder(self) -> int:
        """The id of the process the decode runs in, once it has started."""
        deadline = time.monotonic() + HOLD_SECONDS
        while not self.started.exists():
            assert time.monotonic() < deadline, "the upload never reached its decode"
            time.sleep(0.01)
        return int(self.started.read_text())

    def release(self) -> None:
        self.released.touch()


def in_background(send, files) -> tuple[threading.Thread, dict]:
    answers = {}
    sender = threading.Thread(target=lambda: answers.setdefault("upload", send(files)))
    sender.start()
    return sender, answers


def parent_nice_and_policy(pid: int) -> tuple[int, int, int]:
    """What the kernel shows anyone of a process: its parent, nice value and scheduling policy."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    return int(fields[1]), int(fields[16]), int(fields[38])


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
    """The turn is taken around the decode and given back after it, also when the photo is
    refused; the large photo's decode runs in a child of the worker (written down in a file,
    as the child shares no memory with the test), the small one's in the worker itself."""
    app.config.update(PHOTO_DECODE_SLOTS=1, PHOTO_DECODE_WAIT=0.2)
    seen = tmp_path / "seen"
    original = images._cleaned

    def watched(source):
        with seen.open("a") as record:
            record.write(f"{os.getpid()} {is_held(tmp_path / 'photo-decode-0.lock')}\n")
        return original(source)

    monkeypatch.setattr(images, "_cleaned", watched)
    assert routes.note([upload(large_png(), "large.png", "image/png")]).status_code == 302
    assert routes.note([upload(jpeg_bytes())]).status_code == 302
    (child, held_by_child), (worker, held_by_worker) = (line.split() for line in seen.read_text().splitlines())
    assert int(child) != os.getpid() and held_by_child == "True"
    assert int(worker) == os.getpid() and held_by_worker == "False"
    assert not is_held(tmp_path / "photo-decode-0.lock")
    whole = large_png()
    truncated = whole[: len(whole) // 2]
    assert routes.note([upload(truncated, "large.png", "image/png")]).status_code == 400
    assert not is_held(tmp_path / "photo-decode-0.lock")



def a_large_picture() -> bytes:
    """A 2400 x 1600 PNG with something in it (a gradient, a transparent corner, a diagonal)
    and an EXIF rotation: over APART_PIXELS, so it is decoded in a child."""
    image = Image.linear_gradient("L").resize((2400, 1600)).convert("RGBA")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 600, 400), fill=(0, 0, 0, 0))
    draw.line((0, 1600, 2400, 0), fill=(200, 40, 40, 255), width=30)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, "PNG", exif=exif)
    assert 2400 * 1600 >= APART_PIXELS
    return buffer.getvalue()


def test_a_large_photo_is_decoded_in_a_niced_child_and_stored_as_the_worker_would(app, routes, tmp_path, monkeypatch):
    """While the decode is held, the process doing it is seen from outside: a child of the
    test's process (where the view runs) at nice 19, under SCHED_IDLE where the system allows
    it (Linux does for anyone), while the test's process keeps its own priority. What is
    stored is exactly what the worker itself made of the photo before."""
    own_nice = os.getpriority(os.PRIO_PROCESS, 0)
    if own_nice == 19:
        pytest.skip("this process already runs at nice 19: a child at 19 would prove nothing")
    photo = a_large_picture()
    with monkeypatch.context() as in_the_worker:
        in_the_worker.setattr(images, "APART_PIXELS", math.inf)
        expected = images.clean_image(photo)
    held = HeldDecode(tmp_path, monkeypatch)
    sender, answers = in_background(routes.proposal, [upload(photo, "site.png", "image/png")])
    try:
        decoder = held.decoder()
        seen = parent_nice_and_policy(decoder)
    finally:
        held.release()
        sender.join(HOLD_SECONDS)
    assert decoder != os.getpid()
    assert seen == (os.getpid(), 19, os.SCHED_IDLE)
    assert os.getpriority(os.PRIO_PROCESS, 0) == own_nice and os.sched_getscheduler(0) != os.SCHED_IDLE
    assert answers["upload"].status_code == 302, answers["upload"].get_data(as_text=True)[:300]
    with app.app_context():
        stored = db.session.scalars(select(Photo)).one()
        assert (stored.data, stored.thumbnail, stored.width, stored.height) == (
            expected.data, expected.thumbnail, expected.width, expected.height)
    assert (expected.width, expected.height) == (1067, 1600)  # turned upright by its EXIF


@pytest.mark.parametrize("route", ["proposal", "progress note", "supervision"])
def test_a_killed_decode_child_gives_a_clear_refusal_and_nothing_is_stored(app, routes, tmp_path, monkeypatch, route):
    """SIGKILL, as the kernel's out-of-memory killer sends it, to the child in the middle of
    its decode: the form comes back saying the photo was not processed (no 500), nothing of the
    submission is stored, the child is gone and the decode turn is free."""
    held = HeldDecode(tmp_path, monkeypatch)
    before = routes.stored()
    sender, answers = in_background(routes.all()[route], [upload(large_png(), "large.png", "image/png")])
    try:
        decoder = held.decoder()
        assert decoder != os.getpid()
        os.kill(decoder, signal.SIGKILL)
        sender.join(HOLD_SECONDS)
    finally:
        held.release()
    refused = answers["upload"]
    assert refused.status_code == 503, refused.get_data(as_text=True)[:300]
    assert NOT_PROCESSED in html.unescape(refused.get_data(as_text=True))
    assert routes.stored() == before
    assert not Path(f"/proc/{decoder}").exists()
    assert not is_held(tmp_path / "photo-decode-0.lock")


def test_a_decode_past_its_time_is_stopped_and_refused_in_the_residents_language(app, routes, tmp_path, monkeypatch):
    """PHOTO_DECODE_SECONDS keeps the request under gunicorn's timeout: a decode still running
    then is killed and the resident (Chinese, the default) is told so; nothing is stored."""
    app.config["PHOTO_DECODE_SECONDS"] = 0.5
    held = HeldDecode(tmp_path, monkeypatch)
    before = routes.stored()
    resident = app.test_client()
    resident.delete_cookie("lang")
    form = {"title": "米公祠路段加装路灯", "description": "晚上路很黑，老人出门不安全，希望加装路灯。", "theme": "roads_transport",
            "photo": upload(large_png(), "large.png", "image/png")}
    started = time.monotonic()
    try:
        refused = post(resident, f"/p/{routes.station_code}", form, content_type="multipart/form-data")
    finally:
        held.release()
    assert time.monotonic() - started < HOLD_SECONDS / 2, "the decode was waited for, not stopped"
    assert refused.status_code == 503
    assert "照片未能处理完成，本次提交未保存" in refused.get_data(as_text=True)
    assert routes.stored() == before
    assert not Path(f"/proc/{held.decoder()}").exists()
