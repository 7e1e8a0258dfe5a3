"""BIM models, their versions (one per upload) and every IFC element with its properties and footprint."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base, Timestamps, referrer_index
from twin.db.geometry import geometry_column


class BimModel(Timestamps, Base):
    """A building model of a park; re-uploads add versions, one of which is published."""

    __tablename__ = "bim_models"
    __table_args__ = (UniqueConstraint("park_id", "name"), referrer_index("bim_models", "building_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    building_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("features.id", ondelete="SET NULL"))
    anchor: Mapped[dict[str, Any] | None]  # {lon, lat, height, rotation_deg}: the planner's placement, if any


class BimModelVersion(Base):
    __tablename__ = "bim_model_versions"
    __table_args__ = (UniqueConstraint("model_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("bim_models.id", ondelete="CASCADE"), index=True)
    version: Mapped[int]
    state: Mapped[str] = mapped_column(String(20), default="processing")  # processing | published | superseded | failed
    file_name: Mapped[str] = mapped_column(String(300))
    file_path: Mapped[str] = mapped_column(String(600))  # kept so a version stays retrievable
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_size: Mapped[int] = mapped_column(BigInteger)
    ifc_schema: Mapped[str | None] = mapped_column(String(40))
    georef: Mapped[dict[str, Any]] = mapped_column(default=dict)  # source used, CRS, placement, warnings
    anchor: Mapped[dict[str, Any] | None]
    tileset_id: Mapped[int | None] = mapped_column(ForeignKey("tilesets.id", ondelete="SET NULL"))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    element_count: Mapped[int] = mapped_column(default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    warnings: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class BimElement(Base):
    """One IFC element of a model version: class, name, storey, full property sets, footprint, z-range."""

    __tablename__ = "bim_elements"
    __table_args__ = (
        UniqueConstraint("version_id", "global_id"),
        Index("ix_bim_elements_version_storey", "version_id", "storey"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("bim_model_versions.id", ondelete="CASCADE"))
    global_id: Mapped[str] = mapped_column(String(64))
    ifc_class: Mapped[str] = mapped_column(String(80), index=True)
    name: Mapped[str | None] = mapped_column(String(300))
    storey: Mapped[str | None] = mapped_column(String(200))
    footprint = mapped_column(geometry_column("GEOMETRY"), nullable=True)  # WGS84; None for elements without geometry
    z_min: Mapped[float | None]  # metres above the park's ground
    z_max: Mapped[float | None]
    psets: Mapped[dict[str, Any]] = mapped_column(default=dict)
