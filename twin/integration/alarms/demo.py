"""Sensible alarm rules for the demo park, created once (idempotent by rule code) by `twin demo load`."""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from twin.db.models import Feature, Park
from twin.integration.alarms import rules
from twin.integration.alarms.history import SYSTEM
from twin.integration.alarms.rules import RuleSpec

DEMO_RULES: tuple[dict[str, object], ...] = (
    {"code": "demo-pm25", "name": "PM2.5 超标", "name_en": "PM2.5 above 75 µg/m³", "kind": "threshold", "severity": "major",
     "asset_kinds": ["air_quality_sensor"], "observed_property": "PM2.5", "params": {"high": 75, "high_clear": 60}},
    {"code": "demo-noise", "name": "噪声超标", "name_en": "Noise above 70 dB(A)", "kind": "threshold", "severity": "minor",
     "asset_kinds": ["noise_sensor"], "params": {"high": 70, "high_clear": 65}},
    {"code": "demo-water-ph", "name": "水质 pH 异常", "name_en": "Water pH outside 6–9", "kind": "threshold", "severity": "minor",
     "asset_kinds": ["water_quality_sensor"], "observed_property": "pH",
     "params": {"high": 9, "high_clear": 8.8, "low": 6, "low_clear": 6.2}},
    {"code": "demo-elevator-fault", "name": "电梯故障", "name_en": "Elevator fault", "kind": "state", "severity": "major",
     "asset_kinds": ["elevator"], "observed_property": "elevator-state", "params": {"values": ["fault", "故障", 1]}},
    {"code": "demo-meter-offline", "name": "计量表离线", "name_en": "Meter offline > 15 min", "kind": "no_data", "severity": "minor",
     "asset_kinds": ["meter"], "params": {"minutes": 15}},
    {"code": "demo-gf01-exit", "name": "贵重资产离开指定范围", "name_en": "Tracked asset left the valuable-assets area",
     "kind": "geofence", "severity": "major", "asset_kinds": ["robot"], "geofence": "GF-01", "params": {"mode": "exit"}},
)


def seed_demo_rules(session: Session, *, park: Park) -> list[str]:
    """Create the demo rules missing from the park (skips the geofence one without GF-01; nothing without the alarm tables)."""
    if session.scalar(text("SELECT to_regclass('alarm_rules')")) is None:
        return []
    fences = set(session.scalars(select(Feature.code).where(Feature.park_id == park.id, Feature.kind == "geofence")))
    specs = [RuleSpec.model_validate(r) for r in DEMO_RULES if r.get("geofence") in (None, *fences)]
    return rules.ensure(session, park=park, specs=specs, actor=SYSTEM)
