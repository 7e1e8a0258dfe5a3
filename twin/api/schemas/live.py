"""Shapes of the ingest batch answer and the asset-state snapshot (the live events are in twin.integration.live)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class CompactObservation(BaseModel):
    """One reading of the compact batch format."""

    datastream: int = Field(description="Datastream @iot.id", examples=[42])
    time: str = Field(description="phenomenonTime, ISO 8601 with a timezone", examples=["2025-03-01T08:00:00+08:00"])
    value: Any = Field(description="the result: a number, or any JSON value", examples=[21.5])
    result_time: str | None = None
    parameters: dict[str, Any] | None = None


class RejectedRow(BaseModel):
    index: int = Field(description="position in the request array (0-based)")
    message: str


class BatchResult(BaseModel):
    accepted: int = Field(description="observations newly stored")
    duplicates: int = Field(description="observations already stored (same datastream and time): stored once")
    rejected: list[RejectedRow]


class AssetState(BaseModel):
    asset: str
    asset_kind: str
    state: Literal["normal", "warning", "alarm", "offline"]
    monitored: bool = Field(description="the asset has datastreams (unmonitored assets count as normal)")
    last_seen: str | None = Field(description="newest phenomenonTime of its readings")
    lon: float
    lat: float


class AssetStates(BaseModel):
    park: str
    time: str
    offline_after_s: int
    counts: dict[str, int]
    assets: list[AssetState]
