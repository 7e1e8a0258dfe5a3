"""Request and response shapes of the asset registry (the create/replace body is AssetSpec)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from twin.integration.assets.spec import AssetSpec

AssetCreate = AssetSpec


class AssetKindPublic(BaseModel):
    kind: str = Field(examples=["camera"])
    labels: dict[str, str] = Field(description='{"zh": ..., "en": ...}')
    fiware_type: str | None = Field(description="FIWARE Smart Data Models entity type, where one fits")
    fiware_category: list[str] = Field(description="FIWARE Device category values for Device-typed kinds")
    attributes_schema: dict[str, Any] = Field(description="JSON Schema of the kind's attributes")


class AssetPublic(BaseModel):
    code: str
    kind: str
    name: str
    name_en: str | None
    feature: str | None = Field(description="code of the bound feature; null: the park itself")
    feature_kind: str | None
    lon: float = Field(description="WGS84 degrees")
    lat: float = Field(description="WGS84 degrees")
    height: float = Field(description="metres above the park's ground")
    attributes: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class AssetPage(BaseModel):
    items: list[AssetPublic]
    numberMatched: int  # noqa: N815 — the OGC/GeoJSON listings' names
    numberReturned: int  # noqa: N815
    links: list[dict[str, str]]


class AssetPatch(BaseModel):
    """Fields to change; `attributes` merge key by key (null removes one). Moving an asset without
    naming a `feature` binds it to the feature containing its new position."""

    model_config = ConfigDict(extra="forbid")

    kind: str | None = None
    name: str | None = Field(None, max_length=300)
    name_en: str | None = Field(None, max_length=300)
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    height: float | None = Field(None, ge=-500, le=5000)
    feature: str | None = None
    attributes: dict[str, Any] | None = None


class ImportRowPublic(BaseModel):
    row: int = Field(description="CSV line (header = 1) or GeoJSON feature number (first = 1)")
    code: str | None
    status: Literal["created", "updated", "error"]
    message: str


class ImportReportPublic(BaseModel):
    park: str
    source: str
    mode: Literal["upsert", "create"]
    dry_run: bool
    atomic: bool
    applied: bool = Field(description="false: nothing was written (dry run, or atomic with errors); statuses say what would happen")
    created: int
    updated: int
    errors: int
    rows: list[ImportRowPublic]
