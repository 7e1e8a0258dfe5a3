"""Response shapes for parks and layers (GeoJSON bodies are plain dicts: RFC 7946)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field, field_validator

# A list of two numbers rather than tuple[float, float]: the tuple's JSON Schema (`prefixItems`) is
# misread by OpenAPI 3.0 tooling and by Schemathesis (an "Invalid Schema Object"); the wire format is the same.
LonLat = Annotated[list[float], Field(min_length=2, max_length=2)]


class ParkPublic(BaseModel):
    slug: str = Field(examples=["tianfu-demo"])
    name: str
    name_en: str | None
    city: str | None
    center: LonLat | None = Field(description="lon, lat (WGS84)")
    ground_elevation_m: float = Field(description="orthometric height of the park's ground; feature heights are above it")
    properties: dict[str, Any]


class ParkCreate(BaseModel):
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]{1,63}$", examples=["chengdu-east"])
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    center: LonLat | None = Field(default=None, description="lon, lat (WGS84)")
    ground_elevation_m: float = Field(default=0.0, ge=-500, le=9000)

    @field_validator("center")
    @classmethod
    def _in_wgs84(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and not (-180 <= value[0] <= 180 and -90 <= value[1] <= 90):
            raise ValueError("center must be lon, lat within ±180, ±90")
        return value


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


class LayerDeleted(BaseModel):
    layer: str
    features_removed: int
    unbound: dict[str, int] = Field(description="with force: what was bound to the features (assets, enterprises, bim_models, alarm_rules, "
                                                "features_of_other_layers); the alarm rules are deleted, the rest stay unbound")
    tiles: dict[str, Any] | None = Field(description="the building tiles rebuilt ({version, features}) or withdrawn ({withdrawn}); "
                                                     "null when the layer had no buildings")
