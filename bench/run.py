"""`make bench`: speed and fault figures, each as a ratio to a baseline measured in the same
run on the same machine (a bare Flask endpoint inserting one row into the same database under
the same gunicorn configuration). Prints a table and writes bench/out/latest.json.

    python -m bench.run [--deputies 3000] [--residents 3000] [--responses 1000000] [--pg-workers 1,2,3,5] [--skip pg,faults,grids,archive]
"""

import argparse
import asyncio
import hashlib
import io
import json
import os
import platform
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.archive_year import archive_year_case
from bench.client import Call, percentile, run_all
from bench.grid_results import grid_results_case

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SECRET = "bench-" + secrets.token_hex(16)
AUDIT_KEY = secrets.token_hex(32)
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CANDIDATES = 15
SEATS = 10
WARM_UP = 20  # requests before timing: more than the workers, so none is timed cold
WARM_UP_AT_ONCE = 5


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """gunicorn with gunicorn.conf.py, in its own process group so a SIGKILL takes it whole."""

    def __init__(self, db_url: str, app: str = "voting_app:create_app()", workers: int | None = None, env: dict | None = None):
        self.port = free_port()
        self.db_url, self.app, self.workers, self.extra = db_url, app, workers, env or {}
        self.process = None
        self.log = tempfile.TemporaryFile()

    def start(self) -> "Server":
        env = {**os.environ, "DATABASE_URL": self.db_url, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "BIND": f"127.0.0.1:{self.port}",
               "LOG_LEVEL": "warning", **self.extra}
        if self.workers:
            env["WEB_CONCURRENCY"] = str(self.workers)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen([str(gunicorn), "--config", str(ROOT / "gunicorn.conf.py"), self.app],
                                        cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    time.sleep(1.5)  # let every worker finish booting
                    return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("server did not start")

    def worker_rss_mb(self) -> list[float]:
        return [_status_mb(pid, "VmRSS") for pid in self._workers()]

    def worker_memory_mb(self) -> list[float]:
        """Each worker's proportional memory (Pss) with its children's (a large photo's decode
        child, `voting_app.niced`): resident memory would count the pages a child shares with
        its worker twice, and a worker's own would miss the child."""
        parents = _parents()
        return [sum(_pss_mb(pid) for pid in parents if _descends_from(pid, worker, parents)) for worker in self._workers()]

    def _workers(self) -> list[int]:
        return [pid for pid, parent in _parents().items() if parent == self.process.pid]

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _parents() -> dict[int, int]:
    """Every process's parent, read from /proc."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(") ", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return parents


def _descends_from(pid: int, ancestor: int, parents: dict[int, int]) -> bool:
    while pid not in (ancestor, 0, 1):
        pid = parents.get(pid, 0)
    return pid == ancestor


def _status_mb(pid: int, field: str) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        return int(next(line for line in status.splitlines() if line.startswith(field)).split()[1]) / 1024
    except (OSError, ValueError, StopIteration):
        return 0.0


def _pss_mb(pid: int) -> float:
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        return int(next(line for line in rollup.splitlines() if line.startswith("Pss:")).split()[1]) / 1024
    except (OSError, ValueError, StopIteration):
        return 0.0


@contextmanager
def serving(*args, **kwargs):
    server = Server(*args, **kwargs).start()
    try:
        yield server
    finally:
        server.stop()


def make_app(db_url: str):
    from voting_app import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": db_url, "SECRET_KEY": SECRET, "AUDIT_KEY": AUDIT_KEY, "TESTING": False, "SERVER_NAME": "127.0.0.1"})


def migrate(db_url: str) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    app = make_app(db_url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        from voting_app.db import db

        with db.engine.begin() as connection:
            connection.execute(text("CREATE TABLE IF NOT EXISTS bench_hits (id INTEGER PRIMARY KEY, note VARCHAR(20))"
                                    if db.engine.dialect.name == "sqlite" else
                                    "CREATE TABLE IF NOT EXISTS bench_hits (id SERIAL PRIMARY KEY, note VARCHAR(20))"))
        db.engine.dispose()


def fresh_postgres(name: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


# ---- the ballot storm ------------------------------------------------------------------


class Storm:
    """A session of `deputies` present deputies with cards and an open round, and for each
    deputy the cast request as the ballot page would post it (signed in, ticket in hand)."""

    def __init__(self, db_url: str, deputies: int):
        from itsdangerous import URLSafeTimedSerializer
        from sqlalchemy import select, update

        from voting_app.auth.models import User
        from voting_app.auth.service import hash_pin
        from voting_app.ballots import keys
        from voting_app.ballots import routes as ballot_routes
        from voting_app.ballots import service as ballots
        from voting_app.ballots.models import Credential
        from voting_app.clock import beijing_today
        from voting_app.db import db, utcnow
        from voting_app.documents import service as documents
        from voting_app.sessions import service as sessions
        from voting_app.sessions.models import Deputy
        from voting_app.registry.roster import RosterParse, RosterRow

        app = make_app(db_url)
        self.db_url = db_url
        with app.app_context():
            congress = sessions.create_session("bench", f"压力测试会议 {secrets.token_hex(3)}", "会堂")
            rows = tuple(RosterRow(i + 2, f"{i + 1:04d}", f"代表{i + 1}", f"第{i % 48 + 1}代表团", "") for i in range(deputies))
            sessions.import_roster("bench", congress, RosterParse(rows, ()))
            pin_hash = hash_pin("000000")
            ids = db.session.scalars(select(Deputy.id).where(Deputy.session_id == congress.id).order_by(Deputy.id)).all()
            db.session.add_all(Credential(deputy_id=deputy_id, token_hash=hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
                                          pin_hash=pin_hash) for deputy_id in ids)
            db.session.execute(update(Deputy).where(Deputy.session_id == congress.id).values(checked_in_at=utcnow(), checkin_method="desk"))
            round_ = ballots.create_round("bench", congress, "压力测试票决", "choose_up_to", SEATS, "roster", "electronic")
            for number in range(CANDIDATES):
                ballots.add_candidate("bench", round_, f"候选项目{number + 1}")
            self.shares = list(keys.hold_ceremony("bench", congress, 2, 3, [])[1].shares[:2])
            staff = User(username=f"bench-{secrets.token_hex(3)}", display_name="bench", role="staff", password_hash="!")
            db.session.add(staff)
            db.session.flush()
            documents.record_adoption(staff, round_, beijing_today(), "大会主席团")  # the 票决办法, adopted before it opens
            ballots.open_round("bench", round_)
            db.session.commit()
            self.session_id, self.round_id = congress.id, round_.id
            self.seal_key, self.block = round_.seal_key, ballots.seal_block(round_)
            candidate_ids = [candidate.id for candidate in round_.candidates]
            credential_of = dict(db.session.execute(select(Credential.deputy_id, Credential.id).where(Credential.deputy_id.in_(ids))).all())
            cookies = app.session_interface.get_signing_serializer(app)
            csrf = URLSafeTimedSerializer(SECRET, salt="wtf-csrf-token")
            self.calls, self.receipts = [], []
            with app.test_request_context():
                for index, deputy_id in enumerate(ids):
                    raw = secrets.token_hex(20)
                    ticket = ballot_routes._ticket_for(round_, deputy_id)
                    self.receipts.append(ballot_routes._tickets(deputy_id).loads(ticket)["receipt"])
                    session_cookie = cookies.dumps({"_user_id": f"credential:{credential_of[deputy_id]}", "_fresh": True, "csrf_token": raw})
                    choices = [candidate_ids[(index + k) % CANDIDATES] for k in range(SEATS)]
                    self.calls.append(Call("POST", f"/ballots/rounds/{round_.id}/ballot/cast",
                                           [("csrf_token", csrf.dumps(raw)), ("ticket", ticket), *(("choice", str(c)) for c in choices)],
                                           cookies={"session": session_cookie}))
            db.engine.dispose()

    def stored(self) -> dict:
        """The ballots in the box, the sealed ones opened in memory with two shares (as an auditor
        holding them would; the database is left as it is)."""
        from sqlalchemy import create_engine, text

        from voting_app.ballots import sealing

        engine = create_engine(self.db_url)
        with engine.connect() as connection:
            ballots = connection.execute(text("SELECT receipt FROM ballots WHERE round_id = :r"), {"r": self.round_id}).scalars().all()
            sealed = connection.execute(text("SELECT sealed FROM sealed_ballots WHERE round_id = :r"), {"r": self.round_id}).scalars().all()
            markers = connection.execute(text("SELECT count(*) FROM ballot_markers WHERE round_id = :r"), {"r": self.round_id}).scalar()
        engine.dispose()
        if sealed:
            key = sealing.rebuild_key([sealing.describe_share(share) for share in self.shares], self.seal_key)
            ballots = [*ballots, *(sealing.unseal(key, bytes(blob), self.round_id, self.block)[0] for blob in sealed)]
        return {"ballots": len(ballots), "distinct_receipts": len(set(ballots)), "markers": markers, "receipts": set(ballots)}


def acknowledged(replies) -> list[int]:
    return [i for i, reply in enumerate(replies) if reply.status == 302 and any("/receipt" in v for v in reply.headers.get("location", []))]


BASELINE_RUNS = 3  # a bare insert takes a couple of seconds: three runs on each side of a figure (`bracketed`)


def baseline(port: int, count: int, concurrency: int | None) -> dict:
    run_all(port, [Call("POST", "/hit", [])] * WARM_UP, WARM_UP_AT_ONCE)  # warmed as the app is (`warm_up`)
    runs = []
    for _ in range(BASELINE_RUNS):
        replies, wall = run_all(port, [Call("POST", "/hit", [])] * count, concurrency)
        ok = sum(1 for reply in replies if reply.status == 204)
        runs.append({"requests": count, "ok": ok, "seconds": round(wall, 3), "per_second": round(ok / wall, 1),
                     "p99_ms": round(percentile([r.seconds for r in replies], 0.99) * 1000)})
    median = sorted(runs, key=lambda run: run["per_second"])[len(runs) // 2]
    return {**median, "runs": runs}


def bracketed(db_url: str, count: int, concurrency: int | None, measure):
    """`measure()` between two baselines (three runs each), on the same database; the ratio's
    denominator is the median of all six (the mean of the middle two). The machine's pace
    drifts over a run (two cores shared with other tenants: a bare insert went from 1,200 to
    1,700/s within the hour), and a baseline taken minutes earlier compares a figure with
    another moment's machine."""
    with serving(db_url, app="bench.baseline_app:app") as base:
        before = baseline(base.port, count, concurrency)
    measured = measure()
    with serving(db_url, app="bench.baseline_app:app") as base:
        after = baseline(base.port, count, concurrency)
    runs = before["runs"] + after["runs"]
    return {"requests": count, "per_second": round(statistics.median(run["per_second"] for run in runs), 1),
            "p99_ms": round(statistics.median(run["p99_ms"] for run in runs)),
            "runs_per_second": [run["per_second"] for run in runs]}, measured


def warm_up(servers: list["Server"], calls: list[Call]) -> list:
    """A few ballots before the timing, spread over every worker of every server (as in a
    hall, where some deputies vote a moment before the rest): no worker is timed while it
    compiles its first statements and templates. Their ballots stay in the box."""
    replies = []
    for number, server in enumerate(servers):
        replies += run_all(server.port, calls[number::len(servers)], WARM_UP_AT_ONCE)[0]
    return replies


def ballot_storm(db_url: str, deputies: int, servers: int = 1, workers: int | None = None) -> dict:
    storm = Storm(db_url, WARM_UP * servers + deputies)
    warm, timed = storm.calls[: WARM_UP * servers], storm.calls[WARM_UP * servers :]
    receipts = storm.receipts[WARM_UP * servers :]
    running = [Server(db_url, workers=workers).start() for _ in range(servers)]
    try:
        warmed = len(acknowledged(warm_up(running, warm)))
        calls = [(running[i % servers].port, call) for i, call in enumerate(timed)]
        started = time.perf_counter()

        async def fire():
            from bench.client import send

            return await asyncio.gather(*(send(port, call) for port, call in calls))

        replies = asyncio.run(fire())
        wall = time.perf_counter() - started
        rss = max(size for server in running for size in server.worker_rss_mb())
    finally:
        for server in running:
            server.stop()
    acked = acknowledged(replies)
    stored = storm.stored()
    latencies = [reply.seconds for reply in replies]
    return {
        "deputies": deputies, "servers": servers, "workers": workers or "gunicorn.conf.py",
        "acknowledged": len(acked), "stored": stored["ballots"] - warmed,
        "markers": stored["markers"] - warmed, "doubled": stored["ballots"] - stored["distinct_receipts"],
        "lost": sum(1 for i in acked if receipts[i] not in stored["receipts"]),
        "errors": sorted({reply.error or str(reply.status) for reply in replies if reply.status != 302}),
        "seconds": round(wall, 3), "per_second": round(len(acked) / wall, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000), "p99_ms": round(percentile(latencies, 0.99) * 1000),
        **share_acknowledged_by(replies, acked, deputies), "max_worker_rss_mb": round(rss, 1),
    }


def share_acknowledged_by(replies, acked: list[int], deputies: int) -> dict:
    """When 50%, 90% and 100% of the hall had their receipt, counted from the moment all
    pressed "vote" (None: that share never was acknowledged)."""
    moments = sorted(replies[i].seconds for i in acked)
    shares = {}
    for share in (50, 90, 100):
        needed = -(-deputies * share // 100)
        shares[f"acked_{share}_s"] = round(moments[needed - 1], 2) if len(moments) >= needed else None
    return shares


STEADY_RATE = 200  # ballots a second, arriving one after another: how a hall really votes


def steady_storm(db_url: str, deputies: int, rate: int = STEADY_RATE) -> dict:
    """The same ballots as the storm, but arriving at a steady `rate` over time instead of all
    in one instant: each one's time from sending to its receipt."""
    storm = Storm(db_url, WARM_UP + deputies)
    warm, timed = storm.calls[:WARM_UP], storm.calls[WARM_UP:]

    async def arrive(port: int):
        from bench.client import send

        loop = asyncio.get_running_loop()
        began = loop.time()

        async def one(index: int, call: Call):
            await asyncio.sleep(max(0.0, began + index / rate - loop.time()))
            return await send(port, call)

        return await asyncio.gather(*(one(i, call) for i, call in enumerate(timed)))

    with serving(db_url) as server:
        warm_up([server], warm)
        started = time.perf_counter()
        replies = asyncio.run(arrive(server.port))
        wall = time.perf_counter() - started
    acked = acknowledged(replies)
    latencies = [reply.seconds for reply in replies]
    return {"deputies": deputies, "rate": rate, "acknowledged": len(acked), "seconds": round(wall, 3),
            "p50_ms": round(percentile(latencies, 0.5) * 1000), "p90_ms": round(percentile(latencies, 0.9) * 1000),
            "p99_ms": round(percentile(latencies, 0.99) * 1000), "max_ms": round(max(latencies) * 1000),
            "errors": sorted({reply.error or str(reply.status) for reply in replies if reply.status != 302})}


# ---- the survey surge ------------------------------------------------------------------


def survey_setup(db_url: str) -> tuple[str, dict, int, int]:
    """A project's satisfaction survey with one placement, and a staff account."""
    from voting_app.auth.models import User
    from voting_app.db import db
    from voting_app.projects.service import create_project
    from surveys import service as surveys

    app = make_app(db_url)
    with app.app_context():
        project = create_project("bench", "bench", name="一号公路亮化工程", year=2026, stage="operating")
        survey = surveys.create_from_template("bench", "一号公路亮化满意度", project.id, "operating")
        placement = surveys.add_placement("bench", survey, "桥北端")
        staff = User(username=f"bench-{secrets.token_hex(3)}", display_name="bench", role="staff", password_hash="!")
        db.session.add(staff)
        db.session.commit()
        answers = {}
        for question in survey.questions:
            answers[f"q{question.id}"] = {"satisfaction": "satisfied", "single": (question.options or [{"key": ""}])[0]["key"],
                                          "rating": "4", "multiple": (question.options or [{"key": ""}])[0]["key"]}.get(question.kind, "路灯很亮")
        staff_cookie = app.session_interface.get_signing_serializer(app).dumps({"_user_id": f"user:{staff.id}", "_fresh": True})
        result = (placement.code, answers, survey.id, staff_cookie)
        db.engine.dispose()
    return result


def survey_surge(db_url: str, residents: int, concurrency: int) -> dict:
    import re

    code, answers, _, _ = survey_setup(db_url)

    async def resident(port: int, number: int):
        from bench.client import send

        address = {"X-Forwarded-For": f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"}
        page = await send(port, Call("GET", f"/s/{code}", headers=address))
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.body)
        cookie = page.cookie("session")
        if page.status != 200 or not token or not cookie:
            return page, None
        form = [("csrf_token", token.group(1).decode()), *answers.items()]
        answer = await send(port, Call("POST", f"/s/{code}", form, cookies={"session": cookie}, headers=address))
        return page, answer

    async def crowd(port: int, numbers: range, at_once: int):
        gate = asyncio.Semaphore(at_once)

        async def one(number: int):
            async with gate:
                return await resident(port, number)

        return await asyncio.gather(*(one(n) for n in numbers))

    with serving(db_url, env={"PROXY_COUNT": "1"}) as server:
        asyncio.run(crowd(server.port, range(residents, residents + WARM_UP), WARM_UP_AT_ONCE))  # as `warm_up`
        started = time.perf_counter()
        outcomes = asyncio.run(crowd(server.port, range(residents), concurrency))
        wall = time.perf_counter() - started
    done = [answer for page, answer in outcomes if answer is not None and answer.status == 302]
    page_bytes = max(len(page.body) for page, _ in outcomes if page.status == 200)
    return {"residents": residents, "concurrency": concurrency, "completed": len(done), "seconds": round(wall, 3),
            "cycles_per_second": round(len(done) / wall, 1), "page_bytes": page_bytes,
            "errors": sorted({str(a.status if a else p.status) for p, a in outcomes if a is None or a.status != 302})}


# ---- the upload flood ------------------------------------------------------------------

FLOOD_UPLOADS = 4


def fifty_megapixel_png() -> bytes:
    """The review's photo: 8000 x 6250 RGBA, 50 megapixels (the most accepted), about 200 KB
    to send because it is flat, 200 MB once decoded."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (8000, 6250), (90, 140, 200, 255))
    ImageDraw.Draw(image).rectangle((0, 0, 4000, 2083), fill=(200, 60, 40, 128))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=9)
    return buffer.getvalue()


def proposal_station(db_url: str) -> str:
    from voting_app.db import db
    from voting_app.proposals import service as proposals

    app = make_app(db_url)
    with app.app_context():
        station = proposals.add_station("bench", f"压力测试联络站 {secrets.token_hex(3)}")
        db.session.commit()
        code = station.code
        db.engine.dispose()
    return code


class PeakRss:
    """Samples every worker's memory with its children's (`Server.worker_memory_mb`) every 20 ms
    while it runs: the largest one seen, and the largest sum over the workers at one moment."""

    def __init__(self, server: "Server"):
        self.server, self.worker, self.total = server, 0.0, 0.0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self.stopped.wait(0.02):
            sizes = self.server.worker_memory_mb()
            self.worker, self.total = max(self.worker, *sizes, 0.0), max(self.total, sum(sizes))

    def __enter__(self) -> "PeakRss":
        self.thread.start()
        return self

    def __exit__(self, *_):
        self.stopped.set()
        self.thread.join()


def upload_flood(db_url: str, casts: int) -> dict:
    """Ballots cast one after another, first alone and then while four 50-megapixel PNGs are
    sent at once to the public proposal form (as the review did): the casts' latency during
    the flood as a ratio to the casts alone, and the workers' memory while it lasts."""
    import re

    from bench.client import send

    storm = Storm(db_url, WARM_UP + 2 * casts)
    warm_up, alone, flooded = storm.calls[:WARM_UP], storm.calls[WARM_UP:WARM_UP + casts], storm.calls[WARM_UP + casts:]
    code = proposal_station(db_url)
    photo = fifty_megapixel_png()

    async def upload(port: int):
        page = await send(port, Call("GET", f"/p/{code}"))
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page.body)
        form = [("csrf_token", token.group(1).decode()), ("title", "米公祠路段加装路灯"),
                ("description", "晚上路很黑，老人出门不安全，希望加装路灯。"), ("theme", "roads_transport")]
        return await send(port, Call("POST", f"/p/{code}", form, cookies={"session": page.cookie("session")},
                                     files=[("photo", "site.png", photo)]))

    async def flood(port: int):
        uploads = asyncio.gather(*(upload(port) for _ in range(FLOOD_UPLOADS)))
        during = []
        for call in flooded:
            if uploads.done():
                break
            during.append(await send(port, call))
        return await uploads, during

    with serving(db_url) as server:
        run_all(server.port, warm_up)  # every worker has cast once, so none is timed cold
        quiet = [run_all(server.port, [call])[0][0] for call in alone]
        pss_before = sum(server.worker_memory_mb())
        with PeakRss(server) as memory:
            started = time.perf_counter()
            uploaded, during = asyncio.run(flood(server.port))
            wall = time.perf_counter() - started
        idle_pss = max(server.worker_memory_mb())
    quiet_ms, during_ms = [r.seconds * 1000 for r in quiet], [r.seconds * 1000 for r in during]
    return {
        "uploads": FLOOD_UPLOADS, "photo_bytes": len(photo), "flood_seconds": round(wall, 2),
        "upload_statuses": sorted(reply.status for reply in uploaded),
        "upload_ms": sorted(round(reply.seconds * 1000) for reply in uploaded),
        "casts_quiet": len(quiet), "casts_during": len(during),
        "casts_during_ok": sum(1 for reply in during if reply.status == 302),
        "quiet_p50_ms": round(percentile(quiet_ms, 0.5), 1), "during_p50_ms": round(percentile(during_ms, 0.5), 1),
        "during_max_ms": round(max(during_ms, default=float("nan")), 1),
        "p50_ratio": round(percentile(during_ms, 0.5) / percentile(quiet_ms, 0.5), 2),
        "max_ratio": round(max(during_ms, default=float("nan")) / percentile(quiet_ms, 0.5), 2),
        "casts_quiet_ok": sum(1 for reply in quiet if reply.status == 302),
        "peak_worker_pss_mb": round(memory.worker, 1), "peak_total_pss_mb": round(memory.total, 1),
        "total_pss_before_mb": round(pss_before, 1), "added_pss_mb": round(memory.total - pss_before, 1),
        "worker_pss_after_mb": round(idle_pss, 1),
    }


# ---- results at a million responses -----------------------------------------------------




def million_responses(db_path: Path, db_url: str, responses: int) -> dict:
    """Bulk-load `responses` answers to one survey straight into SQLite, then time the staff
    results page and its JSON through the server (median of five, after a warm-up)."""
    _, _, survey_id, staff_cookie = survey_setup(db_url)
    connection = sqlite3.connect(db_path)
    questions = connection.execute("SELECT id, kind, options FROM survey_questions WHERE survey_id = ? ORDER BY position", (survey_id,)).fetchall()
    placement_id = connection.execute("SELECT id FROM survey_placements WHERE survey_id = ?", (survey_id,)).fetchone()[0]
    ratings = ["satisfied"] * 6 + ["mostly_satisfied"] * 3 + ["dissatisfied"]
    loaded = time.perf_counter()
    first_week = date(2026, 3, 2)
    with connection:
        start = (connection.execute("SELECT coalesce(max(id), 0) FROM survey_responses").fetchone()[0]) + 1
        batch = 50_000
        for offset in range(0, responses, batch):
            ids = range(start + offset, start + min(responses, offset + batch))
            rows, answer_rows = [], []
            for rid in ids:
                week = (first_week + timedelta(weeks=rid % 8)).isoformat()
                rows.append((rid, survey_id, placement_id, f"{week} 10:00:00", week, 0, 0))
                for qid, kind, options in questions:
                    if kind == "satisfaction":
                        value, text = ratings[rid % 10], None
                    elif kind in ("single", "multiple"):
                        keys = [option["key"] for option in json.loads(options or "[]")] or ["x"]
                        value, text = keys[rid % len(keys)], None
                    elif kind == "rating":
                        value, text = str(rid % 5 + 1), None
                    elif rid % 10 == 0:
                        value, text = None, "路灯很亮，晚上走路安心"
                    else:
                        continue
                    answer_rows.append((rid, qid, survey_id, value, text, 0, placement_id, week, 0, 0))
            connection.executemany("INSERT INTO survey_responses (id, survey_id, placement_id, submitted_at, week_start, is_assisted, "
                                   "is_flagged) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            connection.executemany("INSERT INTO survey_answers (response_id, question_id, survey_id, value, text, is_hidden, "
                                   "placement_id, week_start, is_assisted, is_flagged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", answer_rows)
    connection.execute("ANALYZE")
    connection.close()
    app = make_app(db_url)
    with app.app_context():  # a bulk load bypasses the app, so recount the survey's tallies as after any bulk edit
        from surveys import tallies
        from voting_app.db import db

        tallies.rebuild(survey_id)
        db.session.commit()
        db.engine.dispose()
    load_seconds = time.perf_counter() - loaded
    timings = {}
    with serving(db_url) as server:
        for name, path in (("page", f"/surveys/{survey_id}/results"), ("json", f"/surveys/{survey_id}/results.json")):
            calls = [Call("GET", path, cookies={"session": staff_cookie})] * 5
            for _ in range(WARM_UP):  # every worker renders it once first (templates, plotly import)
                run_all(server.port, [calls[0]])
            replies = [run_all(server.port, [call])[0][0] for call in calls]
            if any(reply.status != 200 for reply in replies):
                raise RuntimeError(f"{path} answered {[r.status for r in replies]}")
            timings[name] = round(percentile([reply.seconds for reply in replies], 0.5) * 1000)
    return {"responses": responses, "load_seconds": round(load_seconds, 1), "page_ms": timings["page"], "json_ms": timings["json"]}


# ---- faults ----------------------------------------------------------------------------


def kill_mid_storm(db_url: str, deputies: int) -> dict:
    """SIGKILL the whole server while a storm is landing, restart it, retry what failed; then
    every acknowledged ballot is stored, no ballot lacks its marker (or the reverse), and the
    board's digest verifies with the stand-alone verifier."""
    storm = Storm(db_url, deputies)
    server = Server(db_url).start()
    replies_box = {}

    def fire():
        replies_box["replies"], _ = run_all(server.port, storm.calls)

    thread = threading.Thread(target=fire)
    thread.start()
    deadline = time.monotonic() + 60
    while storm.stored()["ballots"] < deputies // 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()  # a third of the hall has voted
    thread.join()
    replies = replies_box["replies"]
    acked_before = acknowledged(replies)
    after_kill = storm.stored()
    lost = [i for i in acked_before if storm.receipts[i] not in after_kill["receipts"]]
    server = Server(db_url).start()
    try:
        retry = [i for i in range(deputies) if i not in set(acked_before)]
        retried, _ = run_all(server.port, [storm.calls[i] for i in retry], 200)
    finally:
        server.stop()
    final = storm.stored()
    verified = verify_board(db_url, storm.round_id, storm.shares)
    return {"acknowledged_before_kill": len(acked_before), "lost_after_kill": len(lost),
            "half_written_after_kill": after_kill["ballots"] - after_kill["markers"],
            "retried": len(retry), "retried_ok": len(acknowledged(retried)), "stored_at_end": final["ballots"],
            "markers_at_end": final["markers"], "doubled": final["ballots"] - final["distinct_receipts"], "board_verifies": verified}


def verify_board(db_url: str, round_id: int, shares: list[str]) -> bool:
    from sqlalchemy import select

    from voting_app.auth.models import User
    from voting_app.ballots import service as ballots
    from voting_app.ballots.models import Round
    from voting_app.db import db

    app = make_app(db_url)
    with app.app_context():
        closer = User(username=f"p-{secrets.token_hex(3)}", display_name="p", role="presiding", password_hash="!")
        checker = User(username=f"s-{secrets.token_hex(3)}", display_name="s", role="scrutineer", password_hash="!")
        db.session.add_all([closer, checker])
        round_ = db.session.get(Round, round_id)
        ballots.close_round(closer, round_)
        ballots.unseal_round(checker, round_, shares)
        ballots.confirm_round(checker, round_)
        db.session.commit()
        board = ballots.round_board(db.session.scalar(select(Round).where(Round.id == round_id)))
        stored = round_.board_digest
        db.engine.dispose()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(board, handle, ensure_ascii=False)
    checked = subprocess.run([sys.executable, "-m", "voting_app.verify", handle.name, "--json"], capture_output=True, text=True)
    os.unlink(handle.name)
    return checked.returncode == 0 and board["digest"] == stored


class Outage:
    """A TCP relay in front of PostgreSQL that can drop every connection and refuse new ones."""

    def __init__(self, target_port: int = 5432):
        self.port, self.target_port, self.down = free_port(), target_port, False
        self.connections: list[socket.socket] = []
        self.listener = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.connections += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                try:
                    end.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self):
        self.down = True
        for connection in self.connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            except OSError:
                pass
        self.connections = []

    def restore(self):
        self.down = False


def database_outage(deputies: int) -> dict:
    """PostgreSQL drops away for three seconds under a ballot load: the requests in that window
    fail with the clear 503 page, nothing is half-stored, and the same ballots succeed when it
    is back, with no restart."""
    db_url = fresh_postgres("bench_outage")
    migrate(db_url)
    relay = Outage()
    relayed = db_url.replace(":5432/", f":{relay.port}/")
    storm = Storm(db_url, deputies)
    third = deputies // 3
    with serving(relayed) as server:
        before, _ = run_all(server.port, storm.calls[:third], 50)
        relay.cut()
        during, _ = run_all(server.port, storm.calls[third:2 * third], 50)
        time.sleep(3)
        relay.restore()
        failed = [third + i for i, reply in enumerate(during) if reply.status != 302]
        after, _ = run_all(server.port, [storm.calls[i] for i in failed] + storm.calls[2 * third:], 50)
    stored = storm.stored()
    clear = sum(1 for reply in during if reply.status == 503 and "数据库".encode() in reply.body)
    return {"before_ok": len(acknowledged(before)), "during_refused": len(failed), "during_clear_503": clear,
            "after_ok": len(acknowledged(after)), "stored": stored["ballots"], "markers": stored["markers"],
            "doubled": stored["ballots"] - stored["distinct_receipts"], "all_stored": stored["ballots"] == deputies}


# ---- the run ---------------------------------------------------------------------------


def check(results: dict) -> list[tuple[str, str, bool]]:
    storm, base, surge = results["storm_sqlite"], results["baseline_storm"], results["survey_surge"]
    rows = [
        ("storm: 50% / 90% / all acknowledged, all within 5 s",
         f"{storm['acked_50_s']} / {storm['acked_90_s']} / {storm['acked_100_s']} s",
         storm["acknowledged"] == storm["deputies"] and storm["acked_100_s"] <= 5),
        ("storm: stored == acknowledged == deputies", f"{storm['stored']} / {storm['acknowledged']} / {storm['deputies']}",
         storm["stored"] == storm["acknowledged"] == storm["deputies"] == storm["markers"]),
        ("storm: throughput >= 40% of baseline", f"{results['ratios']['storm']:.0%} ({storm['per_second']}/s)", results["ratios"]["storm"] >= 0.40),
        ("surge: cycles/s >= 25% of baseline req/s", f"{results['ratios']['surge']:.0%} ({surge['cycles_per_second']}/s)",
         results["ratios"]["surge"] >= 0.25),
        ("surge: page under 30 KB", f"{surge['page_bytes'] / 1024:.1f} KB", surge["page_bytes"] < 30 * 1024),
        ("memory: worker RSS under 150 MB", f"{storm['max_worker_rss_mb']} MB", storm["max_worker_rss_mb"] < 150),
    ]
    if "steady" in results:
        steady = results["steady"]
        rows.append((f"steady {steady['rate']} ballots/s: p99 under 1 s", f"p50 {steady['p50_ms']} / p99 {steady['p99_ms']} / max {steady['max_ms']} ms",
                     steady["acknowledged"] == steady["deputies"] and steady["p99_ms"] < 1000))
    if "upload_flood" in results:
        flood = results["upload_flood"]
        rows.append(("upload flood: cast p50 within 3x of casts alone", f"{flood['p50_ratio']}x ({flood['during_p50_ms']} ms)",
                     flood["p50_ratio"] <= 3 and flood["casts_during"] == flood["casts_during_ok"] > 0))
        rows.append(("upload flood: slowest cast within 20x", f"{flood['max_ratio']}x ({flood['during_max_ms']} ms)", flood["max_ratio"] <= 20))
        rows.append(("upload flood: every photo stored", f"{flood['upload_statuses']}", flood["upload_statuses"] == [302] * flood["uploads"]))
        rows.append(("upload flood: largest worker, with its decode child, under 450 MB", f"{flood['peak_worker_pss_mb']} MB Pss",
                     flood["peak_worker_pss_mb"] < 450))
        rows.append(("upload flood: adds under 400 MB to all workers", f"{flood['added_pss_mb']} MB Pss", flood["added_pss_mb"] < 400))
    if "million" in results:
        million = results["million"]
        rows.append((f"results at {million['responses']:,}: page and JSON under 500 ms", f"{million['page_ms']} / {million['json_ms']} ms",
                     million["page_ms"] < 500 and million["json_ms"] < 500))
    for key, where in (("grids_sqlite", "SQLite"), ("grids_postgres", "PostgreSQL")):
        if key in results:
            grids = results[key]
            rows.append((f"per-grid results at {grids['responses']:,} responses ({where}): under {grids['target_ms']} ms",
                         f"{grids['slowest_ms']} ms, {grids['ratio_to_baseline']}x a bare count", grids["slowest_ms"] < grids["target_ms"]))
    if "archive_year" in results:
        archive = results["archive_year"]
        rows.append((f"demo's {archive['year']} archive: verifies from itself under {archive['target_s']} s",
                     f"{archive['verify_s']} s ({archive['files']} files, written in {archive['build_s']} s)",
                     archive["verified"] and archive["verify_s"] < archive["target_s"]))
        rows.append(("demo's year archive: two runs byte-identical", "yes" if archive["identical"] else "no", archive["identical"]))
    for pg in results.get("storm_postgres", []):
        rows.append((f"PostgreSQL, 2 servers x {pg['workers']} workers: none lost or doubled",
                     f"{pg['per_second']}/s; {pg['stored']} stored, {pg['lost']} lost, {pg['doubled']} doubled",
                     pg["stored"] == pg["acknowledged"] == pg["deputies"] and pg["lost"] == 0 and pg["doubled"] == 0))
    if results.get("storm_postgres"):
        best = max(results["storm_postgres"], key=lambda pg: pg["per_second"])
        rows.append(("PostgreSQL, 2 servers: storm at least the SQLite figure",
                     f"{best['per_second']}/s ({best['workers']} workers each) against {storm['per_second']}/s",
                     best["per_second"] >= storm["per_second"]))
    if "kill" in results:
        kill = results["kill"]
        rows.append(("SIGKILL mid-storm: nothing lost or half-written", f"{kill['lost_after_kill']} lost, {kill['half_written_after_kill']} half",
                     kill["lost_after_kill"] == 0 and kill["half_written_after_kill"] == 0 and kill["doubled"] == 0
                     and kill["markers_at_end"] == kill["stored_at_end"] and kill["board_verifies"]))
    if "outage" in results:
        outage = results["outage"]
        rows.append(("database outage: clear 503, resumes, nothing half-stored",
                     f"{outage['during_clear_503']} clear 503s, {outage['stored']} stored",
                     outage["all_stored"] and outage["markers"] == outage["stored"] and outage["doubled"] == 0
                     and outage["during_clear_503"] == outage["during_refused"]))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--deputies", type=int, default=3000)
    parser.add_argument("--residents", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=100, help="residents in flight at once")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--casts", type=int, default=40, help="ballots cast alone, and at most as many during the upload flood")
    parser.add_argument("--pg-workers", default="1,2,3,5", help="workers per server in the PostgreSQL storms, comma-separated")
    parser.add_argument("--skip", default="", help="comma-separated: flood,million,grids,archive,pg,faults")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))
    results: dict = {"machine": {"cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                                 "when": datetime.now().isoformat(timespec="seconds")}}
    with tempfile.TemporaryDirectory(prefix="bench-") as folder:
        db_path = Path(folder) / "bench.sqlite3"
        db_url = f"sqlite:///{db_path}"
        migrate(db_url)
        print("ballot storm on SQLite, between two baselines (bare Flask insert) ...", flush=True)
        results["baseline_storm"], results["storm_sqlite"] = bracketed(
            db_url, args.deputies, None, lambda: ballot_storm(db_url, args.deputies))
        print(f"ballots arriving at a steady {STEADY_RATE}/s ...", flush=True)
        results["steady"] = steady_storm(db_url, args.deputies)
        print("survey surge, between two baselines ...", flush=True)
        results["baseline_surge"], results["survey_surge"] = bracketed(
            db_url, args.residents, args.concurrency, lambda: survey_surge(db_url, args.residents, args.concurrency))
        if "flood" not in skip:
            print(f"casting during an upload flood ({FLOOD_UPLOADS} x 50-megapixel PNG) ...", flush=True)
            results["upload_flood"] = upload_flood(db_url, args.casts)
        if "million" not in skip:
            print(f"results at {args.responses:,} responses ...", flush=True)
            results["million"] = million_responses(db_path, db_url, args.responses)
        if "grids" not in skip:
            print(f"per-grid results at {args.responses:,} responses ...", flush=True)
            grids_path = Path(folder) / "grids.sqlite3"
            migrate(f"sqlite:///{grids_path}")
            results["grids_sqlite"] = grid_results_case(f"sqlite:///{grids_path}", args.responses, make_app)
        if "archive" not in skip:
            print("the demo's year archive: written twice, verified from itself ...", flush=True)
            archive_path = Path(folder) / "archive.sqlite3"
            migrate(f"sqlite:///{archive_path}")
            results["archive_year"] = archive_year_case(f"sqlite:///{archive_path}", make_app)
        if "faults" not in skip:
            print("SIGKILL in the middle of a storm ...", flush=True)
            results["kill"] = kill_mid_storm(db_url, args.deputies)
    if "pg" not in skip:
        results["storm_postgres"] = []
        for workers in sorted({int(w) for w in args.pg_workers.split(",")}):
            print(f"ballot storm on PostgreSQL, two servers of {workers} workers ...", flush=True)
            pg_url = fresh_postgres("bench_storm")
            migrate(pg_url)
            results["storm_postgres"].append(ballot_storm(pg_url, args.deputies, servers=2, workers=workers))
        if "grids" not in skip:
            print(f"per-grid results at {args.responses:,} responses on PostgreSQL ...", flush=True)
            grids_url = fresh_postgres("bench_grids")
            migrate(grids_url)
            results["grids_postgres"] = grid_results_case(grids_url, args.responses, make_app)
        if "faults" not in skip:
            print("PostgreSQL outage ...", flush=True)
            results["outage"] = database_outage(min(args.deputies, 600))
    results["ratios"] = {
        "storm": results["storm_sqlite"]["per_second"] / results["baseline_storm"]["per_second"],
        "surge": results["survey_surge"]["cycles_per_second"] / results["baseline_surge"]["per_second"],
    }
    rows = check(results)
    results["targets"] = [{"target": name, "measured": measured, "met": met} for name, measured, met in rows]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "latest.json").write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    width = max(len(name) for name, _, _ in rows)
    print(f"\n{'target'.ljust(width)}  {'measured':<32} met")
    for name, measured, met in rows:
        print(f"{name.ljust(width)}  {measured:<32} {'yes' if met else 'NO'}")
    print(f"\nbaseline: {results['baseline_storm']['per_second']} inserts/s all at once, {results['baseline_surge']['per_second']}/s "
          f"at {args.concurrency} in flight; storm {results['storm_sqlite']['per_second']} ballots/s; "
          f"surge {results['survey_surge']['cycles_per_second']} cycles/s. Full figures: bench/out/latest.json")
    return 0 if all(met for _, _, met in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
