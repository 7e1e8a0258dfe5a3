"""A layer groups a park's features by source and category (buildings, roads, parking...)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base, Timestamps


class Layer(Timestamps, Base):
    __tablename__ = "layers"
    # (id, park_id) is the target of features' composite foreign key (a feature's layer is in its park).
    __table_args__ = (UniqueConstraint("park_id", "slug"), UniqueConstraint("id", "park_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    # buildings | storeys | spaces | roads | parking | green | water | zones | key_locations | other
    category: Mapped[str] = mapped_column(String(32), default="other")
    source_name: Mapped[str | None] = mapped_column(String(500))
    source_crs: Mapped[str | None] = mapped_column(String(200))
