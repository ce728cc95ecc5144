"""The demo's year archive: written twice (the two must be byte-identical), then checked by
the verifier shipped inside it, unzipped and run as `python -I -S verifier/verify.py`, the
way an outside reader runs it (standard library only). Target: it verifies in under 60 s.

    python -m bench.archive_year [--url sqlite:////tmp/archive.sqlite3]
"""

import argparse
import io
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

TARGET_S = 60


def _demo_year() -> int:
    """The year of the newest session with a counted round: the demo's year of decisions."""
    from sqlalchemy import extract, func, select

    from voting_app.ballots.models import ANNOUNCED, CONFIRMED, Round
    from voting_app.db import db
    from voting_app.sessions.models import CongressSession

    newest = db.session.scalar(
        select(func.max(CongressSession.starts_on)).join(Round, Round.session_id == CongressSession.id)
        .where(Round.state.in_((CONFIRMED, ANNOUNCED)))
    )
    return newest.year if newest else int(db.session.scalar(select(func.max(extract("year", CongressSession.starts_on)))))


def archive_year_case(db_url: str, make_app) -> dict:
    """Seed the demo, write its year's archive twice, verify it from itself; `make_app(db_url)`
    builds the app (bench.run's, with its secrets)."""
    from voting_app.archive import contents
    from voting_app.db import db
    from voting_app.demo import seed

    app = make_app(db_url)
    with app.app_context():
        seed()
        db.session.commit()
        year = _demo_year()
        started = time.perf_counter()
        first = contents.build(app, contents.year_scope(year), contents.archive_account())
        build_s = time.perf_counter() - started
        second = contents.build(app, contents.year_scope(year), contents.archive_account())
        db.engine.dispose()
    with tempfile.TemporaryDirectory(prefix="archive-") as folder:
        path = Path(folder) / "year.zip"
        path.write_bytes(first)
        with zipfile.ZipFile(io.BytesIO(first)) as opened:
            files = len(opened.namelist())
            opened.extractall(Path(folder) / "unzipped")
        started = time.perf_counter()
        run = subprocess.run([sys.executable, "-I", "-S", str(Path(folder) / "unzipped" / "verifier" / "verify.py"), str(path)],
                             capture_output=True, text=True)
        verify_s = time.perf_counter() - started
    return {
        "year": year, "files": files, "bytes": len(first), "build_s": round(build_s, 1), "verify_s": round(verify_s, 2),
        "verified": run.returncode == 0, "identical": first == second, "target_s": TARGET_S,
        "verifier_says": run.stdout.strip().splitlines()[-1] if run.stdout.strip() else run.stderr.strip(),
    }


def main(argv: list[str] | None = None) -> int:
    from bench.run import make_app, migrate

    parser = argparse.ArgumentParser(prog="python -m bench.archive_year", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="an empty database (default: a temporary SQLite file)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-archive-") as folder:
        url = args.url or f"sqlite:///{Path(folder) / 'archive.sqlite3'}"
        migrate(url)
        result = archive_year_case(url, make_app)
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0 if result["verified"] and result["identical"] and result["verify_s"] < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
