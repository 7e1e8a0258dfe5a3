"""What a caller gives to create or replace an asset (API body, CSV row, GeoJSON feature)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Codes appear in URL paths (/assets/{code}); these words are routes of their own.
RESERVED_CODES = frozenset({"geojson", "import", "state"})


class AssetSpec(BaseModel):
    """One asset: identity, kind, names, WGS84 position with height, bound feature, kind attributes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=100, pattern=r"^[^\s/?#%\\]+$", description="stable id unique in the park", examples=["CAM-001"])
    kind: str = Field(description="asset kind, see GET /api/v1/asset-kinds", examples=["camera"])
    name: str | None = Field(None, max_length=300, description="Chinese name (defaults to the code)")
    name_en: str | None = Field(None, max_length=300)
    lon: float = Field(ge=-180, le=180, description="longitude, WGS84 degrees")
    lat: float = Field(ge=-90, le=90, description="latitude, WGS84 degrees")
    height: float = Field(0.0, ge=-500, le=5000, description="metres above the park's ground")
    feature: str | None = Field(
        None, max_length=200,
        description="code of the bound feature (building, storey, space, parking space...) or the park's slug; "
        "omitted or null: the smallest feature containing the position (space → storey → building), else the park",
    )
    attributes: dict[str, Any] = Field(default_factory=dict, description="kind attributes (validated) and any extra ones (kept)")

    @field_validator("code")
    @classmethod
    def _not_reserved(cls, code: str) -> str:
        if code.lower() in RESERVED_CODES:
            raise ValueError(f"'{code}' is reserved; choose another code")
        return code

    @field_validator("feature", "name", "name_en", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and value.strip() == "" else value
