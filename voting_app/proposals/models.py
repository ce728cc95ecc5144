"""Residents' proposals (征集) from the deputy liaison stations, and how staff screened them."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, String, Table, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from voting_app.db import db, utcnow
from voting_app.projects.models import Photo
from voting_app.registry.models import Grid, LiaisonStation, TermDeputy  # noqa: F401  (stations live in the registry)

RECEIVED, ACCEPTED, MERGED, DECLINED = "received", "accepted", "merged", "declined"
RESERVED = "reserved"  # 储备库: good, not chosen this year, screened again next year
STATUSES = (RECEIVED, ACCEPTED, MERGED, DECLINED, RESERVED)

# How a proposal reached the committee (征集渠道). The public QR form at a station is station_qr,
# the online form (no station) is online; staff enter the others on residents' behalf.
STATION_QR, RECEPTION_DAY, COURTYARD, FROM_DEPUTY, FROM_DEPARTMENT, ONLINE = (
    "station_qr", "reception_day", "courtyard", "deputy", "department", "online")
CHANNELS = (STATION_QR, RECEPTION_DAY, COURTYARD, FROM_DEPUTY, FROM_DEPARTMENT, ONLINE)
CHANNELS_AT_A_STATION = (STATION_QR, RECEPTION_DAY)  # these name their station; the others may


class DeclineReason(db.Model):
    """A reason staff choose when declining (不予采纳理由), from a list they manage; retired ones
    stay on the proposals that carry them but are no longer offered."""

    __tablename__ = "decline_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100), unique=True)
    label_en: Mapped[str] = mapped_column(String(100), default="", server_default="")
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# Which reasons a declined proposal was given; a link table, so proposals' own table keeps its shape.
proposal_decline_reasons = Table(
    "proposal_decline_reasons",
    db.metadata,
    Column("proposal_id", ForeignKey("proposals.id"), primary_key=True),
    Column("reason_id", ForeignKey("decline_reasons.id"), primary_key=True, index=True),
)


class Proposal(db.Model):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    # None for a proposal that came online or from a deputy, department or courtyard meeting with no station named.
    station_id: Mapped[int | None] = mapped_column(ForeignKey("liaison_stations.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20), default=STATION_QR, server_default=STATION_QR, index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(String(200), default="")
    theme: Mapped[str] = mapped_column(String(30))
    # Private: shown to screening staff only, never on a public page or export.
    contact: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default=RECEIVED, index=True)
    # The explanation written to the proposer; the chosen reasons are in decline_reasons.
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    # Set when staff first keep it in the reserve (储备库); stays, so next year's list can mark it.
    reserved_at: Mapped[datetime | None]
    reserve_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The proposal that stands for this one now: later merges of its target carry it along
    # (ProposalMerge keeps where staff merged it).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    candidate_id: Mapped[int | None] = mapped_column(ForeignKey("candidates.id"), index=True)
    # Where it is about, set by screening staff: counts by grid at any level.
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    screened_by_name: Mapped[str] = mapped_column(String(100), default="")
    screened_at: Mapped[datetime | None]
    # Entered at the station on a reception day by the deputy on duty (接待日代表录入), and when.
    entered_by_deputy_id: Mapped[int | None] = mapped_column(ForeignKey("term_deputies.id"), index=True)
    entered_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    station: Mapped[LiaisonStation | None] = relationship()
    entered_by_deputy: Mapped[TermDeputy | None] = relationship()
    decline_reasons: Mapped[list[DeclineReason]] = relationship(secondary=proposal_decline_reasons,
                                                                order_by=DeclineReason.position)
    grid: Mapped[Grid | None] = relationship()
    merged_into: Mapped["Proposal | None"] = relationship(remote_side=[id])
    photos: Mapped[list[Photo]] = relationship(order_by="Photo.id", foreign_keys="Photo.proposal_id")


class ProposalMerge(db.Model):
    """Where staff merged a proposal, kept while the merge stands. Proposal.merged_into_id moves
    when the target is merged in turn; this does not, so undoing a merge knows which proposals
    were merged into this one, directly or through others, and brings them back with it."""

    __tablename__ = "proposal_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    into_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CollectionWindow(db.Model):
    """When a year's collection (征集) opens and closes, both days included, in Beijing dates."""

    __tablename__ = "collection_windows"
    __table_args__ = (CheckConstraint("closes_on >= opens_on", name="closes_after_opens"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(unique=True)
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
