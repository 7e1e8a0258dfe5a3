"""Response shapes for tilesets."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TilesetPublic(BaseModel):
    slug: str
    version: int
    title: str
    title_en: str | None
    source_kind: str = Field(description="gis | bim")
    source_ref: str | None
    published: bool
    feature_count: int
    tile_count: int
    bytes_total: int
    created_at: datetime
    url: str = Field(description="the published version's tileset.json (follows rebuilds)")
    version_url: str = Field(description="this version's tileset.json (immutable)")


class BuildResponse(BaseModel):
    skipped: bool = Field(description="true when the data had not changed since the published version")
    features: int
    tileset: TilesetPublic
