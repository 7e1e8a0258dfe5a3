"""3D Tiles stored by the service: versioned tilesets and their content-addressed GLB blobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base


class TileBlob(Base):
    """One tile's bytes, named by their hash (so identical content is stored once and cached forever)."""

    __tablename__ = "tile_blobs"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)  # "<sha256[:20]>.glb"
    data: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class Tileset(Base):
    """One built version of a park's tileset; exactly one version per (park, slug) is published."""

    __tablename__ = "tilesets"
    __table_args__ = (
        UniqueConstraint("park_id", "slug", "version"),
        Index("uq_tilesets_published", "park_id", "slug", unique=True, postgresql_where=text("published")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(100))  # "buildings", "bim-3"...
    version: Mapped[int]
    title: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    source_kind: Mapped[str] = mapped_column(String(20))  # gis | bim
    source_ref: Mapped[str | None] = mapped_column(String(200))
    source_hash: Mapped[str | None] = mapped_column(String(64))  # of the rows it was built from
    tileset: Mapped[dict[str, Any]]
    feature_count: Mapped[int]
    tile_count: Mapped[int]
    bytes_total: Mapped[int] = mapped_column(BigInteger)
    published: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())


class TilesetBlob(Base):
    """Which blobs a tileset version uses (access checks and garbage collection)."""

    __tablename__ = "tileset_blobs"

    tileset_id: Mapped[int] = mapped_column(ForeignKey("tilesets.id", ondelete="CASCADE"), primary_key=True)
    blob_name: Mapped[str] = mapped_column(ForeignKey("tile_blobs.name", ondelete="RESTRICT"), primary_key=True, index=True)
