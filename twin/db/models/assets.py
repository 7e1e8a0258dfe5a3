"""Devices and equipment of the park (cameras, meters, lamps...), each bound to a place."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base, Timestamps
from twin.db.geometry import geometry_column


class Asset(Timestamps, Base):
    __tablename__ = "assets"
    __table_args__ = (
        UniqueConstraint("park_id", "code"),
        Index("ix_assets_park_kind", "park_id", "kind"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    # The spatial feature the device belongs to (building, storey, space...); None = the park itself.
    feature_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("features.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    geom = mapped_column(geometry_column("POINT"), nullable=False)
    height: Mapped[float] = mapped_column(default=0.0)  # metres above the park's ground
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
