"""Shapes for BIM uploads, models and versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class UploadAccepted(BaseModel):
    model_id: int
    version: int
    job_id: int
    job_url: str
    events_url: str = Field(description="Server-Sent Events with the job's phase and percent")


class AnchorBody(BaseModel):
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    height: float = Field(default=0.0, ge=-1000, le=10000, description="metres above the park's ground")
    rotation_deg: float = Field(default=0.0, ge=-360, le=360, description="model +X axis, degrees anticlockwise from east")


class VersionPublic(BaseModel):
    version: int
    state: str = Field(description="processing | published | superseded | failed")
    file_name: str
    file_size: int
    ifc_schema: str | None
    georef: dict[str, Any] = Field(description="which georeference source was used (map_conversion, epset_map_conversion, site_reflatlon, anchor), CRS, placement")
    anchor: dict[str, Any] | None
    element_count: int
    stats: dict[str, Any]
    warnings: list[Any]
    job_id: int | None
    created_at: datetime


class ModelPublic(BaseModel):
    id: int
    name: str
    anchor: dict[str, Any] | None
    published_version: int | None
    tileset_url: str | None
    versions: list[VersionPublic]
