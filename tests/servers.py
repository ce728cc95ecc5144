"""Real server processes for the concurrency tests: the app under gunicorn with several
worker processes, so requests truly race each other in separate processes."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from tests.conftest import AUDIT_KEY, ROOT

START_SECONDS = 30
STOP_SECONDS = 10


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown; a no-op if it has exited
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def gunicorn_server(db_url: str, secret: str, workers: int = 4, extra_env: dict | None = None) -> Iterator[str]:
    """Run the app under the virtualenv's gunicorn with gunicorn.conf.py on a free local port
    with DATABASE_URL and SECRET_KEY set, and yield its base URL once /login answers.

    Raises RuntimeError, with what the server printed, if it exits or does not answer within
    START_SECONDS. The server is always stopped on the way out."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DATABASE_URL": db_url, "SECRET_KEY": secret, "AUDIT_KEY": AUDIT_KEY, "BIND": f"127.0.0.1:{port}",
           "WEB_CONCURRENCY": str(workers), "LOG_LEVEL": "warning", **(extra_env or {})}
    # A file rather than a pipe: nobody reads the output while the test runs, and a full pipe would stall the server.
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(
            [str(gunicorn), "--config", str(ROOT / "gunicorn.conf.py")],  # the production settings, as `make serve`
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )

        def printed() -> str:
            output.seek(0)
            return output.read().decode("utf-8", "replace")

        try:
            deadline = time.monotonic() + START_SECONDS
            while True:
                try:
                    requests.get(base + "/login", timeout=5)
                    break
                except requests.RequestException:
                    if process.poll() is not None:
                        raise RuntimeError(f"gunicorn exited with code {process.returncode} before answering:\n{printed()}") from None
                    if time.monotonic() > deadline:
                        _stop(process)
                        raise RuntimeError(f"gunicorn did not answer {base}/login within {START_SECONDS} s:\n{printed()}") from None
                    time.sleep(0.2)
            yield base
        finally:
            _stop(process)
