"""Response and request shapes of the score API (the data contract of the page's score panel)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class Bilingual(BaseModel):
    zh: str
    en: str


class AdviceOut(BaseModel):
    zh: str
    en: str
    gain: float = Field(description="points this step would add")
    codes: list[str] = Field(description="feature/asset codes the step involves (to highlight on the map)")


class Highlight(BaseModel):
    ok: list[str] = Field(description="codes that count towards the indicator")
    missing: list[str] = Field(description="codes that lose points (e.g. key locations no camera sees)")


class MapOut(BaseModel):
    layer: str = Field(description="key_locations | buildings | roads | spaces | parking | features | assets:<kind>[,<kind>…]; "
                                   "codes starting with 'junction:' are road junctions derived from the road network, drawn from `geometries`")
    highlight: Highlight
    geometries: dict[str, Any] | None = Field(default=None, description="GeoJSON FeatureCollection (indicator detail only): "
                                              "camera view polygons, covered/uncovered areas, derived junctions")


class RuleOut(BaseModel):
    type: Literal["threshold", "per_item", "deduction", "levels"]
    zh: str = Field(description="the rule as published in the 2021 rubric")
    en: str = Field(description="English summary")
    bands: list[dict[str, Any]] | None = None
    levels: list[dict[str, Any]] | None = None


class IndicatorOut(BaseModel):
    id: str = Field(examples=["ops.ev_charging"])
    dimension: str
    dimension_name: str
    dimension_name_en: str
    item: str
    item_name: str
    item_name_en: str
    group: str | None
    group_en: str | None
    name: str
    name_en: str
    max: int
    points: float
    source: Literal["computed", "evidence", "not_assessed"]
    rule: RuleOut
    value: float | None = Field(description="in `unit` (percent, count, days, m2); self-assessed points for evidence indicators")
    unit: str | None
    value_text: Bilingual | None
    evidence: dict[str, Any] = Field(description="computed: counts and codes that count / are missing; evidence: note, who, when, attachments")
    gap: Bilingual | None = Field(description="what is missing, when below the maximum")
    advice: list[AdviceOut]
    map: MapOut | None
    error: str | None = None


class ItemOut(BaseModel):
    id: str
    name: str
    name_en: str
    max: int
    points: float


class DimensionOut(BaseModel):
    id: str
    name: str
    name_en: str
    max: int
    points: float
    computed_points: float
    evidence_points: float
    not_assessed: int
    items: list[ItemOut]


class ScoreOut(BaseModel):
    park: str
    park_name: str
    park_name_en: str | None
    rubric: dict[str, str]
    computed_at: str
    policy: dict[str, Any] = Field(description="partial_credit rule and live window (minutes) used")
    total: float
    max: int
    summary: dict[str, int] = Field(description="number of indicators per source")
    dimensions: list[DimensionOut]
    indicators: list[IndicatorOut]


class SnapshotOut(BaseModel):
    id: int
    taken_at: str
    day: str
    trigger: Literal["auto", "manual"]
    created_by: str | None
    rubric_edition: str
    total: float
    max: float
    dimensions: dict[str, float]
    indicators: dict[str, float]


class EvidenceIn(BaseModel):
    points: float = Field(ge=0, le=100, description="self-assessed points; must be a level the rule gives")
    note: str = Field(default="", max_length=10_000, description="what supports the claim")
    level: str | None = Field(default=None, max_length=200, description="level name; derived from the points when omitted")


class AttachmentOut(BaseModel):
    id: int
    filename: str
    size: int
    content_type: str | None
    sha256: str
    uploaded_by: str
    created_at: str
    href: str


class EvidenceEntry(BaseModel):
    points: float
    level: str | None
    note: str
    updated_by: str
    updated_at: str | None
    attachments: list[AttachmentOut]


class EvidenceOut(BaseModel):
    indicator: str
    name: str
    name_en: str
    max: int
    rule: Bilingual
    levels: list[dict[str, Any]]
    allowed_points: list[int]
    evidence: EvidenceEntry | None
