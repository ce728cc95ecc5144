"""The standing organisation of a congress: tables that outlive any one session."""


# ---- grids (网格化管理): 网格中心 -> 单元网格 -> 网格 ------------------------------------

# Imported here, with the grids, so the terms and deputies above merge without touching these lines.
from datetime import datetime  # noqa: E402

from sqlalchemy import JSON, ForeignKey, Index, SmallInteger, String  # noqa: E402
from sqlalchemy.orm import Mapped, mapped_column, relationship  # noqa: E402

from voting_app.db import db, utcnow  # noqa: E402


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
