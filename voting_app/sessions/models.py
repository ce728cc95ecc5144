"""Congress sessions (第N次会议) of a term and their rosters: who was due to attend this session,
their cards and check-in. The person behind a roster row is the term's deputy (registry)."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, and_
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting_app.db import db, utcnow
from voting_app.registry.models import Term, TermDeputy
from voting_app.registry.roster import in_roster_order


class CongressSession(db.Model):
    __tablename__ = "congress_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    # 第N次会议 of the term, when known.
    meeting_number: Mapped[int | None]
    name: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(String(200), default="")
    starts_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    term: Mapped[Term] = relationship()
    deputies: Mapped[list["Deputy"]] = relationship(
        back_populates="session", order_by="Deputy.number", cascade="all, delete-orphan"
    )

    @property
    def roster(self) -> list["Deputy"]:
        """The deputies in roster order (numbers as numbers: 2 before 10), as every list shows them."""
        return in_roster_order(self.deputies)


class Deputy(db.Model):
    __tablename__ = "deputies"
    __table_args__ = (UniqueConstraint("session_id", "number"), UniqueConstraint("session_id", "term_deputy_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("congress_sessions.id"), index=True)
    term_deputy_id: Mapped[int] = mapped_column(ForeignKey("term_deputies.id"), index=True)
    # Copied from the term's deputy when the roster is drawn, so the session's record keeps
    # the name and number it was held under.
    number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    delegation: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(200), default="")
    checked_in_at: Mapped[datetime | None]
    checkin_method: Mapped[str | None] = mapped_column(String(20))
    # A change in office once voting has begun (代表资格终止): the deputy stays on the roster
    # with the date and reason, and counts neither in the roster nor as present from then on.
    term_ended_on: Mapped[date | None]
    term_end_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")

    session: Mapped[CongressSession] = relationship(back_populates="deputies")
    person: Mapped[TermDeputy] = relationship()

    # Hybrids: the one definition serves Python (deputy.is_present) and SQL (Deputy.is_present).
    @hybrid_property
    def is_in_office(self) -> bool:
        return self.term_ended_on is None

    @is_in_office.inplace.expression
    @classmethod
    def _is_in_office_expression(cls):
        return cls.term_ended_on.is_(None)

    @hybrid_property
    def is_present(self) -> bool:
        """Checked in and still in office: counted present, issued a ballot."""
        return self.checked_in_at is not None and self.term_ended_on is None

    @is_present.inplace.expression
    @classmethod
    def _is_present_expression(cls):
        return and_(cls.checked_in_at.is_not(None), cls.term_ended_on.is_(None))
