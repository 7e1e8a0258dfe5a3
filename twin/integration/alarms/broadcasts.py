"""Emergency broadcast (应急广播): a message to chosen displays/speakers, or to those near an alarm or a point.

Each broadcast is recorded in the event log (type "broadcast"), published on the live stream as
`{"type": "broadcast", ...}` and, after commit, handed to `broadcast_sinks` (the MQTT bridge sends it
to `parktwin/v1/parks/<park>/broadcasts`, where display and speaker integrators listen).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event as orm_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twin.db.models import Alarm, Asset, Event, Park
from twin.errors import InvalidInput, NotFound
from twin.integration import live
from twin.integration.alarms.history import record_event
from twin.integration.alarms.records import event_record
from twin.integration.mqtt.topics import iso_utc

log = logging.getLogger("twin.alarms")

BROADCAST_KINDS: tuple[str, ...] = ("display_screen", "broadcast_speaker")
# Callables(message) run after the broadcast's transaction commits (exceptions are logged).
broadcast_sinks: list[Callable[[dict[str, Any]], None]] = []


def _point(lon: float, lat: float) -> Any:
    return func.ST_SetSRID(func.ST_MakePoint(lon, lat), 4326)


def _explicit_targets(session: Session, park: Park, codes: Sequence[str], kinds: Sequence[str]) -> list[dict[str, Any]]:
    rows = {r.code: r for r in session.execute(select(Asset.code, Asset.kind, Asset.name).where(Asset.park_id == park.id, Asset.code.in_(codes)))}
    missing = [c for c in codes if c not in rows]
    if missing:
        raise InvalidInput(f"unknown target asset(s) in park '{park.slug}': {', '.join(missing[:10])}")
    wrong = [c for c in codes if rows[c].kind not in kinds]
    if wrong:
        raise InvalidInput(f"broadcast targets must be of kind {' or '.join(kinds)}; not: {', '.join(wrong[:10])}")
    return [{"code": c, "kind": rows[c].kind, "name": rows[c].name, "distance_m": None} for c in dict.fromkeys(codes)]


def targets_near(session: Session, *, park_id: int, lon: float, lat: float, radius_m: float,
                 kinds: Sequence[str] = BROADCAST_KINDS) -> list[dict[str, Any]]:
    """Displays/speakers within radius_m (geodesic metres) of a WGS84 point, nearest first."""
    distance = func.ST_Distance(func.geography(Asset.geom), func.geography(_point(lon, lat)))
    stmt = (
        select(Asset.code, Asset.kind, Asset.name, distance.label("distance"))
        .where(Asset.park_id == park_id, Asset.kind.in_(list(kinds)),
               func.ST_DWithin(func.geography(Asset.geom), func.geography(_point(lon, lat)), radius_m))
        .order_by(distance, Asset.code)
    )
    return [{"code": r.code, "kind": r.kind, "name": r.name, "distance_m": round(r.distance, 1)} for r in session.execute(stmt)]


def broadcast(session: Session, *, park: Park, message: str, actor: str, message_en: str | None = None,
              targets: Sequence[str] = (), alarm_id: int | None = None, lon: float | None = None, lat: float | None = None,
              radius_m: float = 200.0, kinds: Sequence[str] = BROADCAST_KINDS, automatic: bool = False,
              now: datetime | None = None) -> dict[str, Any]:
    """Send (record, publish) a broadcast to explicit targets, or to displays/speakers near an alarm or a point."""
    now = now or datetime.now(UTC)
    unknown = sorted(set(kinds) - set(BROADCAST_KINDS))
    if unknown:
        raise InvalidInput(f"cannot broadcast to kind '{unknown[0]}'; use {', '.join(BROADCAST_KINDS)}")
    if alarm_id is not None:
        alarm = session.execute(select(func.ST_X(Alarm.geom), func.ST_Y(Alarm.geom)).where(Alarm.id == alarm_id, Alarm.park_id == park.id)).first()
        if alarm is None:
            raise NotFound(f"alarm {alarm_id} not found in park '{park.slug}'")
        if lon is None and lat is None:
            lon, lat = alarm[0], alarm[1]
    if targets:
        chosen = _explicit_targets(session, park, targets, kinds)
    elif lon is not None and lat is not None:
        chosen = targets_near(session, park_id=park.id, lon=lon, lat=lat, radius_m=radius_m, kinds=kinds)
        if not chosen:
            raise InvalidInput(f"no {' or '.join(kinds)} within {radius_m:g} m of ({lon:.6f}, {lat:.6f}); name targets explicitly")
    else:
        raise InvalidInput("name the targets, an alarm with a position, or lon/lat")
    payload = {"message": message, "message_en": message_en, "targets": chosen, "alarm": alarm_id, "lon": lon, "lat": lat,
               "radius_m": None if targets else radius_m, "automatic": automatic}
    recorded = record_event(session, park_id=park.id, alarm_id=alarm_id, type="broadcast", actor=actor, payload=payload, time=now)
    result = {"id": recorded.id, "park": park.slug, "time": iso_utc(now), "actor": actor, **payload}
    live.publish(session, [{"type": "broadcast", **result, "targets": [t["code"] for t in chosen]}])
    _after_commit(session, result)
    return result


def _after_commit(session: Session, message: dict[str, Any]) -> None:
    if not broadcast_sinks:
        return

    def deliver(_: Session) -> None:
        for sink in broadcast_sinks:
            try:
                sink(message)
            except Exception:  # noqa: BLE001 — delivery is best effort; the event log holds the record
                log.exception("broadcast sink failed")

    orm_event.listen(session, "after_commit", deliver, once=True)


def get_all(session: Session, *, park: Park, limit: int = 100) -> list[dict[str, Any]]:
    """The park's recent broadcasts, newest first."""
    rows = session.scalars(select(Event).where(Event.park_id == park.id, Event.type == "broadcast").order_by(Event.time.desc(), Event.id.desc()).limit(limit))
    return [event_record(e) for e in rows]
