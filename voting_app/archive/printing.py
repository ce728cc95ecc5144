"""Staff pages printed to PDF by Chromium, as a person would print them (A4, print styles).

The pages are rendered inside the app, through a test client signed in as the staff account
the archive is written for, with the archive's moment as the printing time; each page and
the files it loads (its style sheet, images) are written to a temporary folder and
Chromium prints them from there, two at a time."""

import os
import re
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from hashlib import sha256
from pathlib import Path

from flask import Flask

from voting_app.archive.package import ArchiveError, pdf_at
from voting_app.auth.service import SESSION_EPOCH_KEY, SIGNED_IN_AT_KEY
from voting_app.reports.routes import PRINTED_AT

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--run-all-compositor-stages-before-draw")
PARALLEL = 2
TIMEOUT = 120
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


def _print(page: Path, pdf: Path, profile: Path) -> None:
    command = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={pdf}", page.as_uri()]
    try:
        subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise ArchiveError(f"Chromium could not print {page.name}: {error}") from error
    if not pdf.exists() or not pdf.read_bytes().startswith(b"%PDF"):
        raise ArchiveError(f"Chromium did not print {page.name} ({chromium()})")


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
        pdfs = [folder / f"page-{number}.pdf" for number in range(len(paths))]
        with ThreadPoolExecutor(PARALLEL) as pool:
            list(pool.map(lambda n: _print(pages[n], pdfs[n], folder / f"profile-{n % PARALLEL}-{n}"), range(len(paths))))
        return [pdf_at(pdf.read_bytes(), moment) for pdf in pdfs]
