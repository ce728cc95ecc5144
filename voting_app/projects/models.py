"""Livelihood projects: what passed candidates become, and what residents and deputies rate."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting_app.db import db, utcnow

APPROVED, IN_PROGRESS, OPERATING, ACCEPTED = "approved", "in_progress", "operating", "accepted"
STAGES = (APPROVED, IN_PROGRESS, OPERATING, ACCEPTED)
DELIVERED_STAGES = (OPERATING, ACCEPTED)


class Project(db.Model):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    department: Mapped[str] = mapped_column(String(200), default="")
    year: Mapped[int]
    budget: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    location: Mapped[str] = mapped_column(String(200), default="")
    stage: Mapped[str] = mapped_column(String(20), default=APPROVED)
    progress_percent: Mapped[int] = mapped_column(default=0)
    spent: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    changes: Mapped[list["ProjectChange"]] = relationship(
        back_populates="project", order_by="ProjectChange.id.desc()", cascade="all, delete-orphan"
    )


class ProjectChange(db.Model):
    """One line of a project's public history: who changed what, when."""

    __tablename__ = "project_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_name: Mapped[str] = mapped_column(String(100))
    field: Mapped[str] = mapped_column(String(40))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")

    project: Mapped[Project] = relationship(back_populates="changes")
