"""Reminder letters (提醒函): one to the responsible department for every overdue milestone,
target or rectification, issued by `flask --app voting_app remind` (cron) or the staff's
button. Issuing is idempotent: a subject late since a due date gets one letter, however often
the reminder runs, also when two runs meet (the database refuses a second letter, and on
PostgreSQL the runs take turns). Services flush; callers commit."""

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from voting_app import audit
from voting_app.db import db
from voting_app.projects import schedule
from voting_app.projects.delivery import overdue_items
from voting_app.projects.models import ReminderLetter

# Any fixed number: the runs of the reminder queue on it (pg_advisory_xact_lock).
REMINDER_LOCK = 7412016


@dataclass(frozen=True)
class LetterSettings:
    """From the app's config: REMINDER_SENDER, REMINDER_SERIAL_PREFIX, REMINDER_REPLY_DAYS."""

    sender: str
    prefix: str
    reply_days: int


def settings_of(config) -> LetterSettings:
    return LetterSettings(config["REMINDER_SENDER"], config["REMINDER_SERIAL_PREFIX"], int(config["REMINDER_REPLY_DAYS"]))


def serial_text(prefix: str, year: int, number: int) -> str:
    """樊人大提〔2026〕3号: the way a committee numbers its letters."""
    return f"{prefix}〔{year}〕{number}号"


def _take_turn() -> None:
    """Runs of the reminder take turns, so two at once cannot both number a letter. SQLite's
    writers already do (BEGIN IMMEDIATE, voting_app.db)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": REMINDER_LOCK})


def issued_subjects() -> set[tuple[str, int, date]]:
    """(kind, id, due date) of every subject a letter was issued for."""
    return set(db.session.execute(select(ReminderLetter.subject_kind, ReminderLetter.subject_id, ReminderLetter.due_on)).all())


def issue_letters(actor: str, actor_name: str, settings: LetterSettings, today: date | None = None) -> list[ReminderLetter]:
    """A letter for every overdue subject with a responsible department that has none for its
    due date yet; returns the new letters (none on a second run)."""
    today = today or schedule.beijing_today()
    _take_turn()
    issued = issued_subjects()
    number = db.session.scalar(select(func.max(ReminderLetter.number)).where(ReminderLetter.year == today.year)) or 0
    letters = []
    for item in overdue_items(today):
        subject = item.subject
        if subject.department_id is None or (subject.kind, subject.id, subject.due) in issued:
            continue
        number += 1
        letter = ReminderLetter(
            department_id=subject.department_id, project_id=subject.project_id, subject_kind=subject.kind,
            subject_id=subject.id, subject_name=subject.what, asked=subject.asked, due_on=subject.due, issued_on=today,
            reply_by=today + timedelta(days=settings.reply_days), year=today.year, number=number,
            serial=serial_text(settings.prefix, today.year, number), issued_by=actor_name,
        )
        db.session.add(letter)
        db.session.flush()
        audit.record(actor, "reminder.issue", f"letter:{letter.id}", serial=letter.serial, department=subject.department_id,
                     subject=f"{subject.kind}:{subject.id}", due_on=subject.due.isoformat())
        letters.append(letter)
    return letters


def letters(year: int | None = None, department_id: int | None = None) -> list[ReminderLetter]:
    """Newest first, for the staff's list or a department's."""
    query = select(ReminderLetter).options(selectinload(ReminderLetter.department), selectinload(ReminderLetter.project))
    if year is not None:
        query = query.where(ReminderLetter.year == year)
    if department_id is not None:
        query = query.where(ReminderLetter.department_id == department_id)
    return list(db.session.scalars(query.order_by(ReminderLetter.issued_on.desc(), ReminderLetter.number.desc())))


def letter_years() -> list[int]:
    return list(db.session.scalars(select(ReminderLetter.year).distinct().order_by(ReminderLetter.year.desc())))
