"""What a measure returns for one indicator: points, value, evidence, gap, advice and the map block."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from twin.scoring.rubric import PartialCredit

Text = dict[str, str]  # {"zh": ..., "en": ...}


def bilingual(zh: str, en: str) -> Text:
    """A user-facing text in Chinese first, with English."""
    return {"zh": zh, "en": en}


@dataclass(frozen=True, slots=True)
class Context:
    """How one scoring run interprets the rubric: partial-credit policy, live window, the time 'now'."""

    now: datetime
    live_window: timedelta = timedelta(minutes=15)
    policy: PartialCredit = PartialCredit.linear_floor
    granularity: Fraction = Fraction(1)
    with_geometry: bool = False  # map geometries (view polygons, coverage areas) cost time: detail views only


@dataclass(slots=True)
class MapBlock:
    """What the map should highlight for an indicator: codes that count and codes that are missing."""

    layer: str  # "key_locations" | "buildings" | "roads" | "spaces" | "parking" | "assets:<kind>"
    ok: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    geometries: dict[str, Any] | None = None  # a GeoJSON FeatureCollection (detail view only)

    def public(self, *, with_geometries: bool) -> dict[str, Any]:
        return {"layer": self.layer, "highlight": {"ok": self.ok, "missing": self.missing},
                "geometries": self.geometries if with_geometries else None}


@dataclass(frozen=True, slots=True)
class Advice:
    """One step that would add points: what to do, how many points it adds, the codes involved."""

    zh: str
    en: str
    gain: Fraction
    codes: tuple[str, ...] = ()


@dataclass(slots=True)
class Outcome:
    """A computed indicator's result."""

    points: Fraction
    value: Fraction | None
    value_text: Text
    evidence: dict[str, Any]
    gap: Text | None = None
    advice: list[Advice] = field(default_factory=list)
    map: MapBlock | None = None
