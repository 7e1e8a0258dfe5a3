"""Request and response shapes of the alarms API (the device report body is twin.integration.alarms.device.DeviceAlarm)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from twin.integration.alarms.broadcasts import BROADCAST_KINDS
from twin.integration.alarms.device import DeviceAlarm
from twin.integration.alarms.rules import RuleSpec

DeviceAlarmCreate = DeviceAlarm
AlarmRuleCreate = RuleSpec


class AlarmPublic(BaseModel):
    id: int
    park: str
    state: str = Field(description="active → acknowledged → cleared")
    severity: str = Field(description="critical, major, minor or warning")
    kind: str
    kind_labels: dict[str, str] = Field(description='{"zh": ..., "en": ...}')
    title: str
    title_en: str | None
    message: str
    source: str = Field(description="rule, api, mqtt or simulator")
    rule: int | None
    asset: str | None
    asset_kind: str | None
    asset_name: str | None
    datastream: int | None
    feature: str | None = Field(description="code of the feature the alarm is in (room, storey, building...)")
    building: str | None
    building_name: str | None
    building_name_en: str | None
    storey: str | None
    lon: float | None = Field(description="WGS84 degrees")
    lat: float | None
    height: float | None = Field(description="metres above the park's ground")
    details: dict[str, Any]
    linked_cameras: list[str] = Field(description="cameras whose field of view covers the alarm's place, nearest first")
    count: int = Field(description="occurrences while open (repeats are deduplicated into this alarm)")
    first_seen: str
    last_seen: str
    acknowledged_by: str | None
    acknowledged_at: str | None
    cleared_by: str | None
    cleared_at: str | None
    note: str | None
    updated_at: str


class AlarmPage(BaseModel):
    items: list[AlarmPublic]
    numberMatched: int  # noqa: N815 — the same names as the other listings
    numberReturned: int  # noqa: N815
    links: list[dict[str, str]]
    can_acknowledge: bool = Field(description="the caller may acknowledge and clear alarms (integrator or admin)")


class AlarmAction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(None, max_length=2000, examples=["已派人现场处理"])


class EventPublic(BaseModel):
    id: int
    type: str = Field(description="raised, escalated, acknowledged, cleared, broadcast")
    alarm: int | None
    actor: str
    time: str
    payload: dict[str, Any]


class SeverityBlock(BaseModel):
    open: int
    by_severity: dict[str, int]
    worst: str | None
    map_state: str = Field(description="normal, warning or alarm: the colour of the map")


class StoreySummary(SeverityBlock):
    storey: str
    name: str | None


class BuildingSummary(SeverityBlock):
    building: str
    name: str | None
    name_en: str | None
    storeys: list[StoreySummary]


class AlarmSummary(SeverityBlock):
    park: str
    time: str
    by_state: dict[str, int]
    buildings: list[BuildingSummary]
    outside_buildings: SeverityBlock


class AlarmRulePublic(BaseModel):
    id: int
    code: str | None
    name: str
    name_en: str | None
    kind: str
    severity: str
    enabled: bool
    datastream: int | None
    asset_kinds: list[str]
    asset_codes: list[str]
    observed_property: str | None
    geofence: str | None
    params: dict[str, Any]
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    open_alarms: int


class AlarmRulePatch(BaseModel):
    """Fields to change; the merged rule is validated again (`params` is replaced as a whole)."""

    model_config = ConfigDict(extra="forbid")

    code: str | None = None
    name: str | None = None
    name_en: str | None = None
    severity: str | None = None
    enabled: bool | None = None
    datastream: int | None = None
    asset_kinds: list[str] | None = None
    asset_codes: list[str] | None = None
    observed_property: str | None = None
    geofence: str | None = None
    params: dict[str, Any] | None = None


class BroadcastCreate(BaseModel):
    """An emergency broadcast: explicit `targets`, or the displays/speakers within `radius_m` of an alarm or lon/lat."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: str = Field(min_length=1, max_length=1000, examples=["请注意：B02 栋发生火警，请沿疏散通道撤离。"])
    message_en: str | None = Field(None, max_length=1000, examples=["Fire in building B02: please evacuate."])
    targets: list[str] = Field(default_factory=list, max_length=500, description="display/speaker asset codes")
    alarm: int | None = Field(None, description="broadcast about this alarm (near its place unless targets are given)")
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False)
    radius_m: float | None = Field(None, gt=0, le=5000, description="default: the service's alarm_broadcast_radius_m")
    kinds: list[str] = Field(default_factory=lambda: list(BROADCAST_KINDS), description="display_screen and/or broadcast_speaker")


class BroadcastTarget(BaseModel):
    code: str
    kind: str
    name: str
    distance_m: float | None


class BroadcastPublic(BaseModel):
    id: int
    park: str
    time: str
    actor: str
    message: str
    message_en: str | None
    targets: list[BroadcastTarget]
    alarm: int | None
    lon: float | None
    lat: float | None
    radius_m: float | None
    automatic: bool


class AlarmVocabulary(BaseModel):
    severities: dict[str, dict[str, str]]
    states: dict[str, dict[str, str]]
    kinds: dict[str, dict[str, str]]
    rule_kinds: list[str]
    device_kinds: list[str]
