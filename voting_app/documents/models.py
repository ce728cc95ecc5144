"""The adoption of a round's 票决办法. Count-report photos live in the project photos table
(`Photo.count_report_round_id`), cleaned and stored as every other photo is."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting_app.db import db, utcnow


class Adoption(db.Model):
    """That a body (主席团, 大会全体会议) adopted a round's draft 票决办法 on a date, as a member
    of staff recorded it. `digest` is the draft's content at that moment: once seats,
    candidates or method change, the record no longer covers the round. Records are only
    added, never changed; the newest counts."""

    __tablename__ = "round_adoptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id"), index=True)
    adopted_on: Mapped[date]
    adopted_by: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    digest: Mapped[str] = mapped_column(String(64))

    recorded_by = relationship("User")
