"""Livelihood projects: what passed candidates become, and what residents and deputies rate."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

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
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
