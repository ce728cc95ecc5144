"""Flask commands: demo data, board export, audit verification, accounts."""

import json
import os
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path

import click
from flask import Flask
from sqlalchemy import select

from voting_app.db import db
from voting_app.permissions import ACCOUNT_ROLES


def register_commands(app: Flask) -> None:
    @app.cli.command("export-board")
    @click.argument("round_id", type=int)
    def export_board(round_id: int) -> None:
        """Print the ballot board of a counted round as JSON (ballot-board/1)."""
        from voting_app.ballots.models import Round
        from voting_app.ballots.service import round_board

        round_ = db.session.get(Round, round_id)
        if round_ is None or not round_.is_counted:
            raise click.ClickException(f"round {round_id} does not exist or has not been confirmed")
        json.dump(round_board(round_), sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")

    @app.cli.command("board-verify")
    @click.argument("round_id", type=int, required=False)
    def board_verify(round_id: int | None) -> None:
        """Check that every counted round's ballots still match the digest the scrutineers
        confirmed and the audit log recorded; a digest read from a log that does not verify
        could have been inserted by a forger, so the log is verified too."""
        from voting_app.audit import verify_chain
        from voting_app.ballots.integrity import check_counted_rounds

        checked = check_counted_rounds(round_id)
        broken = [item for item in checked if item.problems]
        for item in checked:
            state = "; ".join(item.problems) or "ballots match the confirmed digest"
            click.echo(f"round {item.round_id} ({item.title}): {state}", err=bool(item.problems))
        if not checked:
            click.echo("no counted round" + (f" with id {round_id}" if round_id is not None else ""))
        chain = verify_chain()
        if not chain.is_intact:
            click.echo(f"the audit log does not verify, so the digests it recorded prove nothing: {chain.reason}", err=True)
        if broken or not chain.is_intact:
            sys.exit(1)

    @app.cli.command("remind")
    @click.option("--date", "day", type=click.DateTime(formats=["%Y-%m-%d"]),
                  help="The day to remind for (YYYY-MM-DD); today in Beijing by default.")
    def remind(day: datetime | None) -> None:
        """Issue a reminder letter (提醒函) for every overdue milestone, target and rectification that
        has none yet, and print them; run by cron every day, a second run issues nothing."""
        from voting_app.projects import letters

        issued = letters.issue_letters("cli", "cli", letters.settings_of(app.config),
                                       day.date() if day else None)
        db.session.commit()
        for letter in issued:
            click.echo(f"{letter.serial}\t{letter.department.name}\t{letter.project.name}\t{letter.subject_kind}: "
                       f"{letter.subject_name}\tdue {letter.due_on.isoformat()}")
        click.echo(f"{len(issued)} reminder letters issued")

    @app.cli.command("audit-verify")
    @click.option("--anchor", "anchor_text", help="COUNT:HASH from a session report or `audit-anchor`.")
    def audit_verify(anchor_text: str | None) -> None:
        """Check the audit log's keyed hash chain; name the first broken entry. Needs the audit key."""
        from voting_app.audit import parse_anchor, verify_chain

        try:
            anchored = parse_anchor(anchor_text) if anchor_text else None
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--anchor") from error
        check = verify_chain(anchored)
        if check.is_intact:
            click.echo(f"audit log intact: {check.entries} entries" + (" and the anchor matches" if anchored else ""))
            return
        if check.is_key_problem:
            click.echo(f"audit log NOT VERIFIED: {check.reason}", err=True)
            sys.exit(1)
        where = f" at entry {check.first_broken_id}" if check.first_broken_id is not None else ""
        click.echo(f"audit log BROKEN{where}: {check.reason}", err=True)
        sys.exit(1)

    @app.cli.command("scrub-storage")
    def scrub_storage_command() -> None:
        """Leave nothing of rewritten or deleted ballots and forgotten addresses in the files:
        truncate SQLite's WAL, or VACUUM the tables on PostgreSQL (the app does it after every
        close and count; this is for when its log says it could not finish)."""
        from voting_app.ballots.service import BALLOT_TABLES
        from voting_app.db import scrub_storage

        if not scrub_storage((*BALLOT_TABLES, "survey_dedupe_keys", "survey_address_counts"), rewrite=("paper_entries",)):
            raise click.ClickException("the scrub could not finish; see the log above (a long-running reader?) and try again")
        click.echo("scrubbed: no dead rows or old WAL frames are left of the ballot tables and forgotten addresses")

    @app.cli.command("audit-anchor")
    def audit_anchor() -> None:
        """Print COUNT:HASH of the newest audit entry, to write down or publish."""
        from voting_app.audit import anchor

        click.echo(anchor())

    def _write_archive(scope_of, output: Path | None, account: str | None) -> None:
        from voting_app.archive import contents
        from voting_app.archive.package import ArchiveError, fingerprint

        try:
            scope = scope_of()
            data = contents.build(app, scope, contents.archive_account(account))
        except ArchiveError as error:
            raise click.ClickException(str(error)) from error
        target = output or Path(scope.filename)
        target.write_bytes(data)
        click.echo(f"{target}: {len(data)} bytes, dated {scope.moment:%Y-%m-%d %H:%M:%S} UTC, audit anchor {scope.anchor}")
        click.echo(f"manifest fingerprint (write it down apart from the archive): {fingerprint(data)}")

    archive_options = (
        click.option("--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the zip."),
        click.option("--account", help="The staff account whose view the pages are printed in (default: the first)."),
    )

    def with_archive_options(command):
        for option in reversed(archive_options):
            command = option(command)
        return command

    @app.cli.command("archive")
    @click.argument("session_id", type=int)
    @with_archive_options
    def archive_session(session_id: int, output: Path | None, account: str | None) -> None:
        """Write the archive of a session: reports, boards, counts, audit log, rules, sums, verifier."""
        from voting_app.archive.contents import session_scope
        from voting_app.sessions.models import CongressSession

        session = db.session.get(CongressSession, session_id)
        if session is None:
            raise click.ClickException(f"session {session_id} does not exist")
        _write_archive(lambda: session_scope(session), output, account)

    @app.cli.command("archive-year")
    @click.argument("year", type=int)
    @with_archive_options
    def archive_year(year: int, output: Path | None, account: str | None) -> None:
        """Write the archive of a year: its sessions and its projects, as `archive` does for one session."""
        from voting_app.archive.contents import year_scope
        from voting_app.reports.routes import YEARS

        if year not in YEARS:
            raise click.ClickException(f"{year}: archives are written for the years {YEARS[0]} to {YEARS[-1]}")
        _write_archive(lambda: year_scope(year), output, account)

    def account_named(username: str):
        from voting_app.auth.models import User

        user = db.session.scalar(select(User).where(User.username == username))
        if user is None:
            raise click.ClickException(f"no account named {username!r}")
        return user

    @app.cli.command("account-reset-2fa")
    @click.argument("username")
    def account_reset_second_factor(username: str) -> None:
        """Remove an account's authenticator-app code (a lost phone); signs it out everywhere."""
        from voting_app.auth.service import reset_second_factor

        reset_second_factor(account_named(username), "cli")
        db.session.commit()
        click.echo(f"{username}: the app code is off; the password alone signs in until it is turned on again")

    @app.cli.command("account-unlock")
    @click.argument("username")
    def account_unlock(username: str) -> None:
        """Let every device and address try the account's password again (recorded in the audit log)."""
        from voting_app.auth.service import unlock_account

        unlock_account(account_named(username), "cli")
        db.session.commit()
        click.echo(f"{username}: unlocked; wrong attempts are counted from zero")

    @app.cli.command("backup")
    @click.argument("target", required=False, type=click.Path(dir_okay=False, path_type=Path))
    def backup_command(target: Path | None) -> None:
        """Copy the live SQLite database consistently, while the app runs, and check the copy."""
        from voting_app.backup import BackupError, check_backup, make_backup, sqlite_file

        live = _live_sqlite_file(sqlite_file)
        if target is None:
            target = Path(app.instance_path) / "backups" / f"voting-{datetime.now():%Y%m%d-%H%M%S}.sqlite3"
        if target.exists():
            raise click.ClickException(f"{target} exists; choose another name")
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            make_backup(live, target)
        except BackupError as error:
            raise click.ClickException(str(error)) from error
        check = check_backup(target, app.config["SECRET_KEY"], app.config.get("AUDIT_KEY"))
        if check.problems:
            raise click.ClickException(f"{target} was written but does not pass its check: " + "; ".join(check.problems))
        click.echo(f"backup written to {target} ({target.stat().st_size:,} bytes, schema {check.revision}, "
                   f"{check.audit_entries} audit entries verified)")
        click.echo("keep instance/config.py (the secret key) with it: cards and signed links need it; "
                   "keep instance/audit.key apart from both: audit-verify and restore need it")

    @app.cli.command("restore")
    @click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
    def restore_command(source: Path, yes: bool) -> None:
        """Check a backup, keep a copy of the live database, then restore the backup into it."""
        from voting_app.backup import check_backup, restore, sqlite_file

        live = _live_sqlite_file(sqlite_file)
        with tempfile.TemporaryDirectory() as scratch:
            checked = Path(scratch) / "restore.sqlite3"
            shutil.copyfile(source, checked)  # what is checked is what is restored
            check = check_backup(checked, app.config["SECRET_KEY"], app.config.get("AUDIT_KEY"))
            if check.problems:
                raise click.ClickException(f"{source} cannot be restored: " + "; ".join(check.problems))
            counts = ", ".join(f"{count} {table}" for table, count in check.counts.items())
            click.echo(f"{source}: schema {check.revision}, audit log intact ({check.audit_entries} entries); {counts}")
            if not yes:
                click.confirm(f"Replace the contents of {live} with this backup?", abort=True)
            keep = live.with_name(f"{live.name}.before-restore-{datetime.now():%Y%m%d-%H%M%S}")
            db.session.remove()
            db.engine.dispose()
            restore(checked, live, keep)
        click.echo(f"restored; the database as it was is kept in {keep}")
        if check.needs_upgrade:
            click.echo("the backup has an older schema: run `flask --app voting_app db upgrade` now")

    def _live_sqlite_file(sqlite_file) -> Path:
        live = sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
        if live is None:
            raise click.ClickException(
                "this command is for the SQLite database; for PostgreSQL use pg_dump --format=custom and "
                "pg_restore --clean --if-exists (see the README, Backups)"
            )
        return live

    @app.cli.command("seed-demo")
    @click.option("--force", is_flag=True, help="Seed even when the database already has data.")
    @click.option("--logins-file", type=click.Path(dir_okay=False), help="Where to write the demo sign-ins.")
    def seed_demo(force: bool, logins_file: str | None) -> None:
        """Load the demo session the first time (a no-op when data exists)."""
        from voting_app.demo import DEMO_LOGINS_FILE, seed
        from voting_app.sessions.models import CongressSession

        if not force and db.session.scalar(select(CongressSession.id).limit(1)) is not None:
            click.echo("demo data already present")
            return
        logins = seed()
        db.session.commit()
        path = logins_file or os.path.join(app.instance_path, DEMO_LOGINS_FILE)
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(logins)
        click.echo(f"demo data loaded; sign-ins written to {path}")

    @app.cli.command("demo-logins")
    @click.option("--server", default="http://127.0.0.1:5000", show_default=True, help="The address the app is served at.")
    @click.option("--logins-file", type=click.Path(dir_okay=False), help="Where seed-demo wrote the sign-ins.")
    def demo_logins(server: str, logins_file: str | None) -> None:
        """Print the demo sign-ins with links on the address the app is served at."""
        from voting_app.demo import DEMO_LOGINS_FILE, logins_for_server

        path = logins_file or os.path.join(app.instance_path, DEMO_LOGINS_FILE)
        if not os.path.exists(path):
            raise click.ClickException(f"no demo sign-ins at {path}: run `flask --app voting_app seed-demo` first")
        with open(path, encoding="utf-8") as handle:
            click.echo(logins_for_server(handle.read(), server), nl=False)

    @app.cli.command("create-account")
    @click.argument("username")
    @click.argument("role", type=click.Choice(list(ACCOUNT_ROLES)))
    @click.option("--name", default="", help="Display name.")
    @click.option("--department", default="", help="The department a department officer reports for.")
    @click.password_option()
    def create_account(username: str, role: str, name: str, department: str, password: str) -> None:
        """Create an account of any role but deputy (deputies sign in with voting cards)."""
        from voting_app.auth.service import create_user
        from voting_app.errors import DomainError
        from voting_app.projects.service import chosen_department

        try:
            bound = chosen_department("cli", None, department)  # found on the managed list, or added to it
            create_user(username, name or username, role, password, actor="cli", department=bound)
        except DomainError as error:
            raise click.ClickException(str(error.message)) from error
        db.session.commit()
        click.echo(f"account {username} ({role}) created")
