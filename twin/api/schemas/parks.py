"""Response shapes for parks and layers (GeoJSON bodies are plain dicts: RFC 7946)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ParkPublic(BaseModel):
    slug: str = Field(examples=["tianfu-demo"])
    name: str
    name_en: str | None
    city: str | None
    center: tuple[float, float] | None = Field(description="lon, lat (WGS84)")
    ground_elevation_m: float = Field(description="orthometric height of the park's ground; feature heights are above it")
    properties: dict[str, Any]


class ParkDetail(ParkPublic):
    bbox: list[float] | None = Field(description="minLon, minLat, maxLon, maxLat of all features")
    features_by_kind: dict[str, int]
    assets_by_kind: dict[str, int]


class LayerPublic(BaseModel):
    slug: str
    name: str
    name_en: str | None
    category: str
    source_name: str | None
    source_crs: str | None = Field(description="CRS the layer was imported from (stored data is EPSG:4326)")
    feature_count: int


class Health(BaseModel):
    status: str
    database: str
    postgis: str | None = None
    revision: list[str] = []
