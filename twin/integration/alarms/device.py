"""Device-reported alarms (fire, elevator fault, intrusion, alarm button...) posted by integrators through
the API or published over MQTT, deduplicated per device (or place) and kind.

A report names the device by asset code, or a position (WGS84 lon/lat, height above ground). Its key
is `device:<asset id>/<kind>` (or `place:<lon>,<lat>/<kind>`), plus `/<reference>` when the device
gives its own alarm id: while that alarm is open, the same report counts a repeat. A report with
`"cleared": true` ends it (the device saw the condition go away).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.db.models import Asset, Datastream, Park
from twin.errors import InvalidInput, NotFound
from twin.integration.alarms import inputs, lifecycle, records
from twin.integration.alarms.placement import Place
from twin.integration.alarms.vocabulary import DEVICE_KIND_BY_ASSET_KIND, DEVICE_KINDS, KIND_LABELS, Severity


class DeviceAlarm(BaseModel):
    """A device's alarm report (API body and MQTT payload)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    asset: str | None = Field(None, max_length=100, description="code of the reporting device", examples=["ELV-001"])
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False, description="WGS84 degrees (when no asset, or to say where)")
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    height: float | None = Field(None, ge=-500, le=5000, allow_inf_nan=False, description="metres above the park's ground")
    kind: str | None = Field(None, description=f"one of {', '.join(DEVICE_KINDS)}; default from the asset's kind")
    severity: Severity = "major"
    title: str | None = Field(None, max_length=300, examples=["3号楼2层烟感报警"])
    title_en: str | None = Field(None, max_length=300, examples=["Smoke detector, building 3 floor 2"])
    message: str | dict[str, str] = Field("", description='text, or {"zh": ..., "en": ...} (the simulator\'s form)')
    reference: str | None = Field(None, max_length=80, description="the device's own alarm id (separate alarms per id)")
    datastream: int | None = Field(None, gt=0)
    time: datetime | None = Field(None, description="when the device saw it (ISO 8601 with timezone)")
    cleared: bool = Field(False, description="true: the condition ended; clears the open alarm")

    @model_validator(mode="after")
    def _where(self) -> DeviceAlarm:
        if self.asset is None and (self.lon is None or self.lat is None):
            raise ValueError("name the device ('asset') or the position ('lon' and 'lat')")
        if self.kind is not None and self.kind not in DEVICE_KINDS:
            raise ValueError(f"unknown device alarm kind '{self.kind}'; use {', '.join(DEVICE_KINDS)}")
        if self.time is not None and self.time.tzinfo is None:
            raise ValueError("time must include a timezone")
        return self


def parse(payload: dict[str, Any]) -> DeviceAlarm:
    """A DeviceAlarm from a dict, or InvalidInput saying what is wrong."""
    return inputs.parse(DeviceAlarm, payload)


def report(session: Session, *, park: Park, alarm: DeviceAlarm, source: str, actor: str,
           config: lifecycle.AlarmConfig = lifecycle.AlarmConfig()) -> tuple[dict[str, Any] | None, bool]:
    """Raise (or repeat, or clear) a device alarm; (its record or None when nothing was open to clear, opened?)."""
    asset = None
    if alarm.asset is not None:
        asset = session.execute(select(Asset.id, Asset.kind, Asset.name).where(Asset.park_id == park.id, Asset.code == alarm.asset)).first()
        if asset is None:
            raise NotFound(f"asset '{alarm.asset}' not found in park '{park.slug}'")
    kind = alarm.kind or (DEVICE_KIND_BY_ASSET_KIND.get(asset.kind, "device_fault") if asset else "other")
    subject = f"device:{asset.id}" if asset else f"place:{alarm.lon:.6f},{alarm.lat:.6f}"
    key = f"{subject}/{kind}" + (f"/{alarm.reference}" if alarm.reference else "")
    spoken = alarm.message if isinstance(alarm.message, dict) else {}
    text_message = alarm.message if isinstance(alarm.message, str) else ""
    if alarm.cleared:
        cleared = lifecycle.clear_by_key(session, park_id=park.id, dedup_key=key, actor=actor,
                                         note=text_message or spoken.get("zh") or "device reported recovery / 设备上报恢复")
        return (records.get(session, park=park, alarm_id=cleared) if cleared else None), False
    if alarm.datastream is not None and session.scalar(
            select(Datastream.id).join(Asset, Asset.id == Datastream.thing_id).where(Datastream.id == alarm.datastream, Asset.park_id == park.id)) is None:
        raise InvalidInput(f"datastream {alarm.datastream} does not exist in park '{park.slug}'")
    labels = KIND_LABELS[kind]
    place = Place(lon=alarm.lon, lat=alarm.lat, height=alarm.height) if alarm.lon is not None and alarm.lat is not None else Place()
    draft = lifecycle.AlarmDraft(
        park_id=park.id, dedup_key=key, kind=kind, severity=alarm.severity, source=source,
        title=alarm.title or spoken.get("zh") or labels["zh"], title_en=alarm.title_en or spoken.get("en") or labels["en"],
        message=text_message, asset_id=asset.id if asset else None, datastream_id=alarm.datastream, place=place, observed_at=alarm.time,
        details={k: v for k, v in {"reference": alarm.reference, "time": alarm.time.isoformat() if alarm.time else None}.items() if v},
    )
    raised = lifecycle.raise_alarm(session, draft=draft, actor=actor, config=config)
    return records.get(session, park=park, alarm_id=raised.alarm_id), raised.opened
