"""Staff pages printed to PDF by Chromium, as a person would print them (A4, print styles).

The pages are rendered inside the app, through a test client signed in as the staff account
the archive is written for, with the archive's moment as the printing time; each page and
the files it loads (its style sheet, images) are written to a temporary folder and
one Chromium prints them from there."""

import base64
import fcntl
import json
import os
import re
import select
import signal
import tempfile
import time
from datetime import datetime
from hashlib import sha256
from pathlib import Path

from flask import Flask

from voting_app.archive.package import ArchiveError, pdf_at
from voting_app.auth.service import SESSION_EPOCH_KEY, SIGNED_IN_AT_KEY
from voting_app.reports.routes import PRINTED_AT

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run")
TIMEOUT = 60
_LOADED = re.compile(r'(<link[^>]*\bhref|\bsrc)="(/[^"]*)"')


def _client(app: Flask, account):
    client = app.test_client()
    client.set_cookie("lang", "zh_CN")  # the record is kept in Chinese, whatever the staff member reads
    with client.session_transaction() as session:
        session["_user_id"] = account.get_id()
        session["_fresh"] = True
        session[SESSION_EPOCH_KEY] = account.session_epoch
        session[SIGNED_IN_AT_KEY] = time.time()
    return client


def _get(client, path: str, moment: datetime) -> bytes:
    response = client.get(path, environ_base={PRINTED_AT: moment.isoformat()})
    if response.status_code != 200:
        raise ArchiveError(f"{path} answered {response.status_code}")
    return response.get_data()


def _page_file(client, path: str, moment: datetime, folder: Path, number: int) -> Path:
    """The page's HTML with every file it loads saved beside it under a name from its content."""
    html = _get(client, path, moment).decode("utf-8")

    def saved(match: re.Match) -> str:
        data = _get(client, match.group(2), moment)
        suffix = Path(match.group(2).split("?")[0]).suffix
        name = f"{sha256(data).hexdigest()[:16]}{suffix}"
        (folder / name).write_bytes(data)
        return f'{match.group(1)}="{name}"'

    target = folder / f"page-{number}.html"
    target.write_text(_LOADED.sub(saved, html), encoding="utf-8")
    return target


def chromium() -> str:
    return os.environ.get("CHROMIUM", "/usr/bin/chromium")


class Browser:
    """One headless Chromium for a whole archive, driven over its DevTools pipe (file
    descriptors 3 and 4, `--remote-debugging-pipe`): starting Chromium once instead of once a
    page halves the time an archive takes."""

    def __init__(self, profile: Path):
        # Both pipes' ends are moved above 9 and closed on exec, so that placing Chromium's
        # ends on 3 and 4 (posix_spawn: no Python code runs in the child, safe beside threads)
        # can never overwrite one with the other.
        ends = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for pair in (os.pipe(), os.pipe()) for fd in pair]
        to_read, self._to, self._from, from_write = ends
        actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0), (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0), (os.POSIX_SPAWN_DUP2, to_read, 3),
                   (os.POSIX_SPAWN_DUP2, from_write, 4)]
        command = [chromium(), *CHROMIUM_FLAGS, "--remote-debugging-pipe", f"--user-data-dir={profile}", "about:blank"]
        try:
            self.pid = os.posix_spawn(command[0], command, os.environ, file_actions=actions)
        except OSError as error:
            os.close(self._to)
            os.close(self._from)
            raise ArchiveError(f"Chromium could not start ({chromium()}): {error}") from error
        finally:
            os.close(to_read)
            os.close(from_write)
        self._buffer, self._calls, self._events = b"", 0, []

    def _message(self) -> dict:
        while b"\0" not in self._buffer:
            if not select.select([self._from], [], [], TIMEOUT)[0]:
                raise ArchiveError(f"Chromium did not answer within {TIMEOUT} s")
            chunk = os.read(self._from, 1 << 20)
            if not chunk:
                raise ArchiveError(f"Chromium stopped ({chromium()})")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._calls += 1
        message = {"id": self._calls, "method": method, "params": params or {}, **({"sessionId": session} if session else {})}
        os.write(self._to, json.dumps(message).encode("utf-8") + b"\0")
        while True:
            answer = self._message()
            if answer.get("id") == self._calls:
                if "error" in answer:
                    raise ArchiveError(f"Chromium refused {method}: {answer['error'].get('message')}")
                return answer["result"]
            self._events.append(answer)

    def _wait(self, event: str, session: str) -> None:
        while True:
            for index, message in enumerate(self._events):
                if message.get("method") == event and message.get("sessionId") == session:
                    del self._events[index]
                    return
            self._events.append(self._message())

    def pdf(self, page: Path) -> bytes:
        """The page printed as Chromium prints it: A4 from the page's CSS, backgrounds, tagged."""
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.call("Page.enable", session=session)
        self.call("Page.navigate", {"url": page.as_uri()}, session)
        self._wait("Page.loadEventFired", session)
        data = self.call("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
                                             "generateTaggedPDF": True}, session)["data"]
        self.call("Target.closeTarget", {"targetId": target})
        self._events.clear()
        return base64.b64decode(data)

    def close(self) -> None:
        """Ask Chromium to quit; kill it when it does not within a few seconds."""
        try:
            self.call("Browser.close")
        except (ArchiveError, OSError):
            pass
        deadline = time.monotonic() + 10
        while os.waitpid(self.pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
                break
            time.sleep(0.05)
        os.close(self._to)
        os.close(self._from)


def fetch(app: Flask, account, paths: list[str], moment: datetime) -> list[bytes]:
    """Each download (an Excel file) as the staff account gets it."""
    client = _client(app, account)
    return [_get(client, path, moment) for path in paths]


def print_pages(app: Flask, account, paths: list[str], moment: datetime) -> list[bytes]:
    """Each page (a path in the app) as a PDF dated `moment`, in the order given."""
    with tempfile.TemporaryDirectory(prefix="archive-") as temp:
        folder = Path(temp)
        client = _client(app, account)
        pages = [_page_file(client, path, moment, folder, number) for number, path in enumerate(paths)]
        if not pages:
            return []
        browser = Browser(folder / "profile")
        try:
            return [pdf_at(browser.pdf(page), moment) for page in pages]
        finally:
            browser.close()
