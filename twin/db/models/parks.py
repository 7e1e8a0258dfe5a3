"""A park: the root of everything ParkTwin holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base, Timestamps
from twin.db.geometry import geometry_column


class Park(Timestamps, Base):
    __tablename__ = "parks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    center = mapped_column(geometry_column("POINT", spatial_index=False), nullable=True)  # read by id only: no spatial index
    # Orthometric height of the park's ground (m, 1985 National Height Datum where known). Feature
    # heights are stored above this ground; the viewer draws on the WGS84 ellipsoid (no terrain).
    ground_elevation_m: Mapped[float] = mapped_column(default=0.0)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
