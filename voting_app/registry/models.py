"""The standing organisation of a congress: tables that outlive any one session."""
from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, SmallInteger, String, UniqueConstraint, and_, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting_app.db import db, utcnow
from voting_app.registry.roster import in_roster_order
from voting_app.registry.terms import DISTRICT, in_office_on


class Congress(db.Model):
    """A people's congress at one level (district or town), which elects its deputies by term."""

    __tablename__ = "congresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    level: Mapped[str] = mapped_column(String(20), default=DISTRICT)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    terms: Mapped[list["Term"]] = relationship(back_populates="congress", order_by="Term.number")


class Term(db.Model):
    """A term (届) of a congress, five years: its deputies stand between its sessions."""

    __tablename__ = "terms"
    __table_args__ = (UniqueConstraint("congress_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congresses.id"), index=True)
    number: Mapped[int]
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    congress: Mapped[Congress] = relationship(back_populates="terms")
    deputies: Mapped[list["TermDeputy"]] = relationship(back_populates="term", order_by="TermDeputy.number")

    @property
    def deputies_in_roster_order(self) -> list["TermDeputy"]:
        return in_roster_order(self.deputies)


class TermDeputy(db.Model):
    """A deputy of a term: one person across all its sessions. A session's roster row
    (sessions.Deputy) points here, so supervision, proposals and attendance follow the person."""

    __tablename__ = "term_deputies"
    __table_args__ = (UniqueConstraint("term_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    delegation: Mapped[str] = mapped_column(String(100), default="")
    unit: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(20), default=DISTRICT)
    # For the committee's staff only: never on a public page, a screen or an export for others.
    contact: Mapped[str] = mapped_column(String(100), default="")
    # None: from the term's first day. Kept in step with the OfficeChange rows, the history.
    took_office_on: Mapped[date | None]
    left_office_on: Mapped[date | None]
    left_reason: Mapped[str] = mapped_column(String(20), default="")
    # The grid the deputy is linked to (网格联系代表): their grid work and residents' proposals meet there.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    # The liaison station the deputy works at (进站代表): one station, whatever the deputy's level.
    station_id: Mapped[int | None] = mapped_column(ForeignKey("liaison_stations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    term: Mapped[Term] = relationship(back_populates="deputies")
    grid: Mapped["Grid | None"] = relationship()
    station: Mapped["LiaisonStation | None"] = relationship(back_populates="deputies")
    changes: Mapped[list["OfficeChange"]] = relationship(
        back_populates="deputy", order_by="OfficeChange.effective_on, OfficeChange.id"
    )

    def is_in_office_on(self, day: date) -> bool:
        return in_office_on(day, self.took_office_on, self.left_office_on)

    @classmethod
    def in_office_on_clause(cls, day: date):
        """The same rule as `in_office_on`, for a query."""
        return and_(
            or_(cls.took_office_on.is_(None), cls.took_office_on <= day),
            or_(cls.left_office_on.is_(None), cls.left_office_on > day),
        )


class OfficeChange(db.Model):
    """A change in office with its date and reason (补选, 辞职, 罢免, 去世…), kept as history."""

    __tablename__ = "office_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    term_deputy_id: Mapped[int] = mapped_column(ForeignKey("term_deputies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deputy: Mapped[TermDeputy] = relationship(back_populates="changes")


class Grid(db.Model):
    """One cell of the district's grid hierarchy: a grid centre (level 1), a unit grid (2) or a
    grid (3), under a parent one level up. `centre_id` and `unit_id` repeat its ancestors (a
    centre names itself as its centre, a unit grid itself as its unit), so results by any
    level are one GROUP BY over the column of that level (`voting_app.registry.grids.grid_service.level_column`)."""

    __tablename__ = "grids"
    __table_args__ = (Index("ix_grids_level_parent", "level", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[int] = mapped_column(SmallInteger)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"))
    centre_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    # A GeoJSON geometry (Polygon or MultiPolygon, lon/lat), or None: drawn from its children's.
    boundary: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped["Grid | None"] = relationship(remote_side=[id], foreign_keys=[parent_id])


class DeputyGroup(db.Model):
    """A deputy group (代表小组) of a term: most by place (a town's or street's deputies), some
    professional (教育, 心理健康). A group can supervise projects; its members see them first."""

    __tablename__ = "deputy_groups"
    __table_args__ = (UniqueConstraint("term_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20), default="regional")
    note: Mapped[str] = mapped_column(String(200), default="")
    # The convener (召集人) is one of the members, or nobody yet.
    convener_id: Mapped[int | None] = mapped_column(ForeignKey("term_deputies.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    term: Mapped[Term] = relationship()
    convener: Mapped[TermDeputy | None] = relationship(foreign_keys=[convener_id])
    memberships: Mapped[list["GroupMembership"]] = relationship(back_populates="group", cascade="all, delete-orphan")

    @property
    def members_in_roster_order(self) -> list[TermDeputy]:
        return in_roster_order([membership.deputy for membership in self.memberships])


class GroupMembership(db.Model):
    """A term's deputy in a group; a deputy may be in several (one by place, one professional)."""

    __tablename__ = "group_memberships"
    __table_args__ = (UniqueConstraint("group_id", "term_deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("deputy_groups.id"), index=True)
    term_deputy_id: Mapped[int] = mapped_column(ForeignKey("term_deputies.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    group: Mapped[DeputyGroup] = relationship(back_populates="memberships")
    deputy: Mapped[TermDeputy] = relationship()


# Liaison stations and their reception days (代表联络站, 接待选民日)

# Fancheng's stations receive voters on the 15th of every month (每月15日为代表接待选民日); each
# station keeps its own setting, so a station that receives on another day changes only its own.
DEFAULT_RECEPTION_DAY = 15


class LiaisonStation(db.Model):
    """A deputy liaison station (代表联络站): its deputies, its reception day, and its poster's QR
    code that opens the proposal form."""

    __tablename__ = "liaison_stations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    # The day of the month voters are received; a month shorter than it receives on its last day.
    reception_day: Mapped[int] = mapped_column(default=DEFAULT_RECEPTION_DAY, server_default=str(DEFAULT_RECEPTION_DAY))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deputies: Mapped[list[TermDeputy]] = relationship(back_populates="station", order_by="TermDeputy.number")


class ReceptionChange(db.Model):
    """One reception day moved to another date, or cancelled (moved_to None), with the reason."""

    __tablename__ = "reception_changes"
    __table_args__ = (UniqueConstraint("station_id", "scheduled_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("liaison_stations.id"), index=True)
    scheduled_on: Mapped[date]  # the regular day it replaces
    moved_to: Mapped[date | None]  # None: cancelled
    reason: Mapped[str] = mapped_column(String(200))
    recorded_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReceptionDuty(db.Model):
    """A deputy on duty at a reception day, named by the regular day, so a moved day keeps its roster."""

    __tablename__ = "reception_duties"
    __table_args__ = (UniqueConstraint("station_id", "scheduled_on", "term_deputy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    station_id: Mapped[int] = mapped_column(ForeignKey("liaison_stations.id"), index=True)
    scheduled_on: Mapped[date]
    term_deputy_id: Mapped[int] = mapped_column(ForeignKey("term_deputies.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    deputy: Mapped[TermDeputy] = relationship()


class Household(db.Model):
    """One household of a grid's household list: its address and grid, never a name. Sample
    frames for tokened surveys draw from these (surveys.frames)."""

    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("grid_id", "address", name="uq_households_grid_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grids.id"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)

    grid: Mapped[Grid] = relationship()
