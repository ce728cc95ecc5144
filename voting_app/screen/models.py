"""Which slide the venue screen of a session shows; the screen and the remote both read it."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from voting_app.db import db, utcnow


class ScreenState(db.Model):
    __tablename__ = "screen_states"

    session_id: Mapped[int] = mapped_column(ForeignKey("congress_sessions.id"), primary_key=True)
    slide_key: Mapped[str] = mapped_column(String(40), default="title")
    version: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
