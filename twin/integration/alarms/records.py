"""Read alarms and their history: one alarm as a JSON record, filtered pages, the live event shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from twin.db.models import Alarm, Asset, Event, Feature, Park
from twin.errors import InvalidInput, NotFound
from twin.integration.alarms.vocabulary import KIND_LABELS, SEVERITIES, STATES
from twin.integration.mqtt.topics import iso_utc

_feature = aliased(Feature)
_building = aliased(Feature)
_storey = aliased(Feature)


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    """What an alarm listing may be narrowed by; all optional."""

    states: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    building: str | None = None  # building code
    asset: str | None = None  # asset code
    since: datetime | None = None  # changed at or after (UTC-aware)

    def __post_init__(self) -> None:
        for values, known, what in ((self.states, STATES, "state"), (self.severities, SEVERITIES, "severity"), (self.kinds, tuple(KIND_LABELS), "kind")):
            unknown = sorted(set(values) - set(known))
            if unknown:
                raise InvalidInput(f"unknown alarm {what} '{unknown[0]}'; use {', '.join(known)}")
        if self.since is not None and self.since.tzinfo is None:
            raise InvalidInput("since must include a timezone, e.g. '2025-03-01T08:00:00+08:00'")


def _select() -> Select[Any]:
    return (
        select(Alarm, Park.slug.label("park"), Asset.code.label("asset"), Asset.kind.label("asset_kind"), Asset.name.label("asset_name"),
               _feature.code.label("feature"), _building.code.label("building"), _building.name.label("building_name"),
               _building.name_en.label("building_name_en"), _storey.code.label("storey"),
               func.ST_X(Alarm.geom).label("lon"), func.ST_Y(Alarm.geom).label("lat"))
        .join(Park, Park.id == Alarm.park_id)
        .outerjoin(Asset, Asset.id == Alarm.asset_id)
        .outerjoin(_feature, _feature.id == Alarm.feature_id)
        .outerjoin(_building, _building.id == Alarm.building_id)
        .outerjoin(_storey, _storey.id == Alarm.storey_id)
    )


def _filtered(park: Park, flt: AlarmFilter) -> Select[Any]:
    stmt = _select().where(Alarm.park_id == park.id)
    if flt.states:
        stmt = stmt.where(Alarm.state.in_(flt.states))
    if flt.severities:
        stmt = stmt.where(Alarm.severity.in_(flt.severities))
    if flt.kinds:
        stmt = stmt.where(Alarm.kind.in_(flt.kinds))
    if flt.building:
        stmt = stmt.where(_building.code == flt.building)
    if flt.asset:
        stmt = stmt.where(Asset.code == flt.asset)
    if flt.since:
        stmt = stmt.where(Alarm.updated_at >= flt.since)
    return stmt


def _iso(moment: datetime | None) -> str | None:
    return iso_utc(moment) if moment else None


def to_record(row: Any) -> dict[str, Any]:
    """An alarm row (from `_select`) as the API's JSON record."""
    alarm: Alarm = row.Alarm
    return {
        "id": alarm.id, "park": row.park, "state": alarm.state, "severity": alarm.severity, "kind": alarm.kind,
        "kind_labels": KIND_LABELS.get(alarm.kind, KIND_LABELS["other"]),
        "title": alarm.title, "title_en": alarm.title_en, "message": alarm.message, "source": alarm.source,
        "rule": alarm.rule_id, "asset": row.asset, "asset_kind": row.asset_kind, "asset_name": row.asset_name,
        "datastream": alarm.datastream_id, "feature": row.feature, "building": row.building,
        "building_name": row.building_name, "building_name_en": row.building_name_en, "storey": row.storey,
        "lon": row.lon, "lat": row.lat, "height": alarm.height, "details": alarm.details or {},
        "linked_cameras": alarm.linked_cameras or [], "count": alarm.count,
        "first_seen": _iso(alarm.first_seen), "last_seen": _iso(alarm.last_seen),
        "acknowledged_by": alarm.acknowledged_by, "acknowledged_at": _iso(alarm.acknowledged_at),
        "cleared_by": alarm.cleared_by, "cleared_at": _iso(alarm.cleared_at), "note": alarm.note,
        "updated_at": _iso(alarm.updated_at),
    }


def live_event(record: dict[str, Any], *, time: datetime) -> dict[str, Any]:
    """The live stream's `alarm` event for an alarm record (see twin.integration.live)."""
    keys = ("park", "id", "state", "severity", "kind", "title", "title_en", "asset", "asset_kind", "feature",
            "building", "storey", "lon", "lat", "linked_cameras", "count")
    return {"type": "alarm", **{k: record[k] for k in keys}, "time": _iso(time)}


def get(session: Session, *, park: Park, alarm_id: int) -> dict[str, Any]:
    """One alarm of the park as a JSON record, or NotFound."""
    row = session.execute(_select().where(Alarm.park_id == park.id, Alarm.id == alarm_id)).first()
    if row is None:
        raise NotFound(f"alarm {alarm_id} not found in park '{park.slug}'")
    return to_record(row)


def get_by_id(session: Session, *, alarm_id: int) -> dict[str, Any]:
    """One alarm (any park) as a JSON record; the alarm must exist."""
    return to_record(session.execute(_select().where(Alarm.id == alarm_id)).one())


def get_all(session: Session, *, park: Park, flt: AlarmFilter, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """How many alarms match and one page of them, most recently seen first."""
    stmt = _filtered(park, flt)
    matched = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(Alarm.last_seen.desc(), Alarm.id.desc()).limit(limit).offset(offset))
    return matched, [to_record(row) for row in rows]


def events(session: Session, *, park: Park, alarm_id: int) -> list[dict[str, Any]]:
    """An alarm's history (raised, escalated, acknowledged, cleared, broadcast...), oldest first; NotFound if no such alarm."""
    if session.scalar(select(Alarm.id).where(Alarm.park_id == park.id, Alarm.id == alarm_id)) is None:
        raise NotFound(f"alarm {alarm_id} not found in park '{park.slug}'")
    rows = session.scalars(select(Event).where(Event.alarm_id == alarm_id).order_by(Event.time, Event.id))
    return [event_record(e) for e in rows]


def event_record(event: Event) -> dict[str, Any]:
    """An event row as JSON."""
    return {"id": event.id, "type": event.type, "alarm": event.alarm_id, "actor": event.actor,
            "time": _iso(event.time), "payload": event.payload or {}}
