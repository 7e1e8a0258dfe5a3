"""Spatial features of a park and their hierarchy (park → building → storey → space)."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, ForeignKeyConstraint, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import TRIGGER_ENFORCED, Base, Timestamps, referrer_index
from twin.db.geometry import geometry_column


class FeatureKind(enum.StrEnum):
    building = "building"
    storey = "storey"
    space = "space"
    road = "road"
    parking_lot = "parking_lot"
    parking_space = "parking_space"
    green = "green"
    water = "water"
    zone = "zone"
    geofence = "geofence"
    key_location = "key_location"
    park_boundary = "park_boundary"
    poi = "poi"
    other = "other"


class Feature(Timestamps, Base):
    __tablename__ = "features"
    __table_args__ = (
        UniqueConstraint("park_id", "code"),
        Index("ix_features_park_kind", "park_id", "kind"),
        # The layer must be in the feature's park; through layers.park_id this also guarantees the park.
        # In the database, statement-level triggers enforce it (one check per import, not per row:
        # migration 0009); the key stays here for the backups and readers that follow keys.
        ForeignKeyConstraint(["layer_id", "park_id"], ["layers.id", "layers.park_id"], ondelete="CASCADE", info={TRIGGER_ENFORCED: True}),
        referrer_index("features", "parent_id"),
        # SP-GiST: cheaper to insert into than GiST, as fast for the bounding-box queries features get (migration 0009).
        Index("idx_features_geom", "geom", postgresql_using="spgist"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    park_id: Mapped[int]
    layer_id: Mapped[int] = mapped_column(index=True)
    parent_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("features.id", ondelete="SET NULL"))
    # Stable, human-readable id unique in the park ("B01", "B01-F02", "roads:osm-123").
    code: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str | None] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    geom = mapped_column(geometry_column(spatial_index=False), nullable=False)
    # Metres above the park's ground; top is None for flat features (roads, points).
    base_height: Mapped[float] = mapped_column(default=0.0)
    top_height: Mapped[float | None]
    height_source: Mapped[str | None] = mapped_column(String(100))
    storeys: Mapped[int | None]
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
