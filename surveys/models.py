"""Surveys, their questions and placements, one-time household codes, and responses.

Answers repeat the few response fields that results are split by (placement, grid, week,
assisted, flagged, held), so every count runs as one GROUP BY over an index, also at a million
responses. Nothing here identifies a resident: answers carry no address, and the per-address
counter holds only a hash under a random key that lives one day and is then deleted with it.
"""

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting_app.db import db, utcnow
from surveys.rules import MULTIPLE, RATING, SATISFACTION, SINGLE, TEXT
from voting_app.projects.models import Project
from voting_app.registry.models import Grid

OPEN_MODE, TOKENED = "open", "tokened"
QUESTION_KINDS = (SATISFACTION, SINGLE, MULTIPLE, RATING, TEXT)


class Survey(db.Model):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    intro: Mapped[str] = mapped_column(Text, default="")
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id"), index=True)
    stage: Mapped[str | None] = mapped_column(String(20))
    mode: Mapped[str] = mapped_column(String(10), default=OPEN_MODE)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    short_code: Mapped[str] = mapped_column(String(16), unique=True)
    threshold_percent: Mapped[int] = mapped_column(default=60)
    # Answers counted from one network address per day before the rest wait for staff review.
    hold_after: Mapped[int] = mapped_column(default=5, server_default="5")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    project: Mapped[Project | None] = relationship()
    questions: Mapped[list["Question"]] = relationship(
        back_populates="survey", order_by="Question.position", cascade="all, delete-orphan"
    )
    placements: Mapped[list["Placement"]] = relationship(
        back_populates="survey", order_by="Placement.id", cascade="all, delete-orphan"
    )


class Question(db.Model):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(String(20))
    prompt: Mapped[str] = mapped_column(String(500))
    # The question in English, shown when the interface is English; empty: the Chinese prompt.
    prompt_en: Mapped[str] = mapped_column(String(500), default="", server_default="")
    is_required: Mapped[bool] = mapped_column(default=True)
    # For single and multiple choice: [{"key": "k3f9", "label": "…", "label_en": "…"}]; keys
    # never change; "label_en" may be missing or empty.
    options: Mapped[list] = mapped_column(JSON, default=list)
    max_length: Mapped[int | None]

    survey: Mapped[Survey] = relationship(back_populates="questions")

    def prompt_in(self, locale: str) -> str:
        """The English text when the interface is English and one was written, else the Chinese."""
        return self.prompt_en if str(locale).startswith("en") and self.prompt_en else self.prompt

    def option_labels_in(self, locale: str) -> dict[str, str]:
        """Each choice's label by its key, in English where written and asked for, else in Chinese."""
        english = str(locale).startswith("en")
        return {option["key"]: (english and option.get("label_en")) or option["label"] for option in self.options}


class Placement(db.Model):
    """Where a QR code hangs, so results can be split by where people scanned."""

    __tablename__ = "survey_placements"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str] = mapped_column(String(16), unique=True)
    # The grid the code hangs in: answers scanned here count for it.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    survey: Mapped[Survey] = relationship(back_populates="placements")
    grid: Mapped[Grid | None] = relationship()


class HouseholdCode(db.Model):
    """A one-time code printed for one household; stored as a keyed hash."""

    __tablename__ = "survey_household_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    used_at: Mapped[datetime | None]
    # The grid of the batch it was printed in: the answer it brings counts for that grid.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The sample frame it was printed for, if any: which household got it is on paper only.
    frame_id: Mapped[int | None] = mapped_column(ForeignKey("survey_sample_frames.id"), index=True)


class Response(db.Model):
    __tablename__ = "survey_responses"
    __table_args__ = (
        Index("ix_survey_responses_survey_week", "survey_id", "week_start"),
        Index("ix_survey_responses_survey_held", "survey_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    placement_id: Mapped[int | None] = mapped_column(ForeignKey("survey_placements.id"))
    # From its placement or its household code's batch, set when it is answered. A grid
    # holds hundreds of households: it says where, never who.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    week_start: Mapped[date]
    is_assisted: Mapped[bool] = mapped_column(default=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    is_flagged: Mapped[bool] = mapped_column(default=False)
    flag_reason: Mapped[str | None] = mapped_column(String(40))
    # The district's day an answer over the survey's hold_after came in: held, not counted,
    # until staff release it. NULL: counted.
    held_on: Mapped[date | None]

    answers: Mapped[list["Answer"]] = relationship(back_populates="response", cascade="all, delete-orphan")


class DedupeKey(db.Model):
    """Today's random key for the per-address hash. A new day's first answer deletes older
    keys and counts, after which nobody, not even with the server's secrets, can recompute
    an old hash."""

    __tablename__ = "survey_dedupe_keys"

    day: Mapped[date] = mapped_column(primary_key=True)
    key: Mapped[bytes]


class AddressCount(db.Model):
    """How many answers one address sent one survey today, under a keyed hash of both. It
    names no response, so even on the day it cannot say which answers came from where."""

    __tablename__ = "survey_address_counts"

    day: Mapped[date] = mapped_column(primary_key=True)
    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    count: Mapped[int]


class Answer(db.Model):
    __tablename__ = "survey_answers"
    __table_args__ = (
        Index("ix_survey_answers_survey_question_value", "survey_id", "question_id", "value"),
        Index("ix_survey_answers_question_value", "question_id", "value", "placement_id"),
        Index("ix_survey_answers_question_week", "question_id", "week_start"),
        # Results by grid: read from the index alone, grouped in its order (surveys.service.grid_results).
        Index("ix_survey_answers_question_grid", "question_id", "grid_id", "value", "is_flagged", "is_held"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("survey_responses.id"), index=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("survey_questions.id"))
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    # A choice key, a rating "1".."5", or NULL for free text.
    value: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str | None] = mapped_column(Text)
    is_hidden: Mapped[bool] = mapped_column(default=False)
    placement_id: Mapped[int | None]
    grid_id: Mapped[int | None]
    week_start: Mapped[date]
    is_assisted: Mapped[bool] = mapped_column(default=False)
    is_flagged: Mapped[bool] = mapped_column(default=False)
    is_held: Mapped[bool] = mapped_column(default=False, server_default=false())

    response: Mapped[Response] = relationship(back_populates="answers")


class SurveyTally(db.Model):
    """Running counts of a survey's responses and answers by everything results are split
    by, kept in step with every write (surveys.tallies), so results at a million responses
    read a few hundred rows instead of millions. Sentinels instead of NULLs keep the
    unique key usable for upserts on SQLite and PostgreSQL alike."""

    __tablename__ = "survey_tallies"
    __table_args__ = (
        UniqueConstraint("survey_id", "question_key", "value", "placement_key", "week_start", "is_assisted", "is_flagged",
                         "is_hidden", "is_held", name="uq_survey_tallies_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    question_key: Mapped[int]  # 0: the response itself; else the question's id
    value: Mapped[str] = mapped_column(String(40))  # "": a comment; "*": a respondent of a multiple-choice question
    placement_key: Mapped[int]  # 0: no placement
    week_start: Mapped[date]
    is_assisted: Mapped[bool]
    is_flagged: Mapped[bool]
    is_hidden: Mapped[bool]
    is_held: Mapped[bool] = mapped_column(server_default=false())
    count: Mapped[int]


class SampleFrame(db.Model):
    """A random sample of households drawn for a tokened survey: the seed, recorded, redraws
    the same households from the same list (surveys.frame_rules.draw). Its codes are stored
    apart, with no pairing to a household: the pairing exists only on the printed sheet."""

    __tablename__ = "survey_sample_frames"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    size: Mapped[int]
    seed: Mapped[str] = mapped_column(String(64))
    grid_scope_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))  # None: every grid
    list_size: Mapped[int]
    drawn_by: Mapped[str] = mapped_column(String(100), default="")
    drawn_at: Mapped[datetime] = mapped_column(default=utcnow)
    printed_at: Mapped[datetime | None]

    households: Mapped[list["FrameHousehold"]] = relationship(cascade="all, delete-orphan", order_by="FrameHousehold.household_id")


class FrameHousehold(db.Model):
    """A household a frame drew (for audit and to verify the draw): never which code it got."""

    __tablename__ = "survey_frame_households"

    frame_id: Mapped[int] = mapped_column(ForeignKey("survey_sample_frames.id"), primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
