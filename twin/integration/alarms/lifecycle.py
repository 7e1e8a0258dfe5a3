"""The alarm lifecycle: raise (or repeat) → acknowledge → clear, with history, live events and linkage.

Roles: acknowledging and clearing need the `integrator` role (or admin, which holds every role) —
the role of the park's operations staff and of the systems that integrate devices; viewers and
planners only read alarms. Every change is written to the event log and published on the live
stream (an `alarm` event, and an `asset_state` event for the asset it concerns) in the caller's
transaction, so clients see it once it commits. Functions flush, never commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from twin.db.models import Alarm, Park
from twin.errors import Conflict
from twin.integration import live
from twin.integration.alarms import broadcasts, placement, records
from twin.integration.alarms.history import SYSTEM, record_event
from twin.integration.alarms.vocabulary import SEVERITIES, map_state, worst
from twin.settings import Settings

log = logging.getLogger("twin.alarms")


@dataclass(frozen=True, slots=True)
class AlarmConfig:
    """Linkage settings: automatic emergency broadcast for these kinds at critical severity."""

    auto_broadcast: bool = True
    auto_broadcast_kinds: tuple[str, ...] = ("fire",)
    broadcast_radius_m: float = 200.0

    @classmethod
    def from_settings(cls, settings: Settings) -> AlarmConfig:
        return cls(auto_broadcast=settings.alarm_auto_broadcast, broadcast_radius_m=settings.alarm_broadcast_radius_m)


@dataclass(slots=True)
class AlarmDraft:
    """An alarm about to be raised: what it is, about what, and where (filled from the asset when omitted)."""

    park_id: int
    dedup_key: str
    kind: str
    severity: str
    source: str
    title: str
    title_en: str | None = None
    message: str = ""
    rule_id: int | None = None
    asset_id: int | None = None
    datastream_id: int | None = None
    place: placement.Place = field(default_factory=placement.Place)
    details: dict[str, Any] = field(default_factory=dict)
    observed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Raised:
    """What raise_alarm did: the alarm id, whether it is new, and whether its severity rose."""

    alarm_id: int
    opened: bool
    escalated: bool = False


# Repeat of an open alarm: count up, keep the worst severity, remember the newest observation.
_REPEAT_SQL = text("""
WITH old AS (
    SELECT id, severity FROM alarms WHERE park_id = :park AND dedup_key = :key AND state <> 'cleared' FOR UPDATE
)
UPDATE alarms a SET
    count = a.count + :n,
    last_seen = GREATEST(a.last_seen, :seen),
    observed_at = GREATEST(a.observed_at, :observed),
    details = CAST(:details AS jsonb),
    severity = CASE WHEN array_position(CAST(:ranks AS text[]), :severity) < array_position(CAST(:ranks AS text[]), a.severity)
                    THEN :severity ELSE a.severity END,
    updated_at = :seen
FROM old WHERE a.id = old.id
RETURNING a.id, old.severity AS before, a.severity AS after
""")


def raise_alarm(session: Session, *, draft: AlarmDraft, actor: str = SYSTEM, repeats: int = 1,
                config: AlarmConfig = AlarmConfig(), now: datetime | None = None) -> Raised:
    """Open an alarm, or count a repeat of the open one with the same key (deduplication)."""
    now = now or datetime.now(UTC)
    repeated = _repeat(session, draft, repeats, now, config)
    if repeated is not None:
        return repeated
    park = session.get(Park, draft.park_id)
    assert park is not None
    place = draft.place
    if not place.has_point and draft.asset_id is not None:
        own = placement.asset_place(session, asset_id=draft.asset_id)
        place = placement.Place(lon=own.lon, lat=own.lat, height=own.height, feature_id=place.feature_id or own.feature_id)
    place = placement.resolve(session, park=park, place=place)
    cameras = placement.cameras_seeing(session, park_id=park.id, lon=place.lon, lat=place.lat) if place.has_point else []
    values = {
        "park_id": draft.park_id, "dedup_key": draft.dedup_key, "kind": draft.kind, "severity": draft.severity,
        "state": "active", "source": draft.source, "title": draft.title, "title_en": draft.title_en, "message": draft.message,
        "rule_id": draft.rule_id, "asset_id": draft.asset_id, "datastream_id": draft.datastream_id,
        "feature_id": place.feature_id, "building_id": place.building_id, "storey_id": place.storey_id,
        "geom": func.ST_SetSRID(func.ST_MakePoint(place.lon, place.lat), 4326) if place.has_point else None,
        "height": place.height, "details": draft.details, "linked_cameras": cameras, "count": repeats,
        "first_seen": now, "last_seen": now, "observed_at": draft.observed_at, "created_at": now, "updated_at": now,
    }
    stmt = insert(Alarm).values(values).on_conflict_do_nothing(
        index_elements=["park_id", "dedup_key"], index_where=text("state <> 'cleared'")).returning(Alarm.id)
    alarm_id = session.scalar(stmt)
    if alarm_id is None:  # another worker opened it between our two statements: count ours as a repeat
        repeated = _repeat(session, draft, repeats, now, config)
        assert repeated is not None, "an open alarm with this key must exist after the conflict"
        return repeated
    record_event(session, park_id=draft.park_id, alarm_id=alarm_id, type="raised", actor=actor, time=now,
                 payload={"severity": draft.severity, "kind": draft.kind, "source": draft.source, "details": draft.details,
                          "linked_cameras": cameras})
    publish_change(session, alarm_id=alarm_id, now=now)
    if _broadcasts_automatically(config, draft.kind, draft.severity) and place.has_point:
        _auto_broadcast(session, park=park, alarm_id=alarm_id, draft=draft, config=config, now=now)
    return Raised(alarm_id, opened=True)


def _broadcasts_automatically(config: AlarmConfig, kind: str, severity: str) -> bool:
    return config.auto_broadcast and kind in config.auto_broadcast_kinds and severity == "critical"


def _repeat(session: Session, draft: AlarmDraft, repeats: int, now: datetime, config: AlarmConfig) -> Raised | None:
    row = session.execute(_REPEAT_SQL, {
        "park": draft.park_id, "key": draft.dedup_key, "n": repeats, "seen": now, "observed": draft.observed_at,
        "details": orjson.dumps(draft.details).decode(), "ranks": list(SEVERITIES), "severity": draft.severity,
    }).first()
    if row is None:
        return None
    escalated = row.before != row.after
    if escalated:
        record_event(session, park_id=draft.park_id, alarm_id=row.id, type="escalated", actor=SYSTEM, time=now,
                     payload={"from": row.before, "to": row.after})
    publish_change(session, alarm_id=row.id, now=now)
    if escalated and _broadcasts_automatically(config, draft.kind, row.after):  # e.g. a fire that turned critical
        park = session.get(Park, draft.park_id)
        assert park is not None
        _auto_broadcast(session, park=park, alarm_id=row.id, draft=draft, config=config, now=now)
    return Raised(row.id, opened=False, escalated=escalated)


def _auto_broadcast(session: Session, *, park: Park, alarm_id: int, draft: AlarmDraft, config: AlarmConfig, now: datetime) -> None:
    """Emergency broadcast to displays/speakers near a new critical alarm of an auto-broadcast kind."""
    where = f"（{draft.title}）" if draft.title else ""
    message = f"紧急通知{where}：请听从现场指挥，沿疏散通道有序撤离。"
    message_en = f"Emergency{f' ({draft.title_en})' if draft.title_en else ''}: follow staff instructions and evacuate calmly."
    try:
        with session.begin_nested():
            broadcasts.broadcast(session, park=park, message=message, message_en=message_en, alarm_id=alarm_id,
                                 radius_m=config.broadcast_radius_m, actor=SYSTEM, automatic=True, now=now)
    except Exception as exc:  # noqa: BLE001 — no display nearby must not stop the alarm itself
        log.warning("no automatic broadcast for alarm %s: %s", alarm_id, getattr(exc, "message", exc))


_TRANSITION_SQL = {
    "acknowledged": text("""
        UPDATE alarms SET state = 'acknowledged', acknowledged_by = :actor, acknowledged_at = :now,
               note = COALESCE(:note, note), updated_at = :now
        WHERE id = :id AND state = 'active' RETURNING id"""),
    "cleared": text("""
        UPDATE alarms SET state = 'cleared', cleared_by = :actor, cleared_at = :now, note = COALESCE(:note, note),
               observed_at = GREATEST(observed_at, :observed), updated_at = :now
        WHERE id = :id AND state <> 'cleared' RETURNING id"""),
}


def _transition(session: Session, *, park_id: int, alarm_id: int, to: str, actor: str, note: str | None,
                now: datetime, payload: dict[str, Any] | None = None, observed_at: datetime | None = None) -> bool:
    moved = session.scalar(_TRANSITION_SQL[to], {"id": alarm_id, "actor": actor, "now": now, "note": note, "observed": observed_at})
    if moved is None:
        return False
    record_event(session, park_id=park_id, alarm_id=alarm_id, type=to, actor=actor, time=now, payload={"note": note, **(payload or {})})
    publish_change(session, alarm_id=alarm_id, now=now)
    return True


def acknowledge(session: Session, *, park: Park, alarm_id: int, actor: str, note: str | None = None,
                now: datetime | None = None) -> dict[str, Any]:
    """active → acknowledged (who, when, note); acknowledging twice is a no-op; Conflict once cleared."""
    current = records.get(session, park=park, alarm_id=alarm_id)
    if current["state"] == "cleared":
        raise Conflict(f"alarm {alarm_id} is already cleared")
    _transition(session, park_id=park.id, alarm_id=alarm_id, to="acknowledged", actor=actor, note=note, now=now or datetime.now(UTC))
    return records.get(session, park=park, alarm_id=alarm_id)


def clear(session: Session, *, park: Park, alarm_id: int, actor: str, note: str | None = None,
          now: datetime | None = None) -> dict[str, Any]:
    """active/acknowledged → cleared (who, when, note); Conflict if it is already cleared."""
    records.get(session, park=park, alarm_id=alarm_id)
    if not _transition(session, park_id=park.id, alarm_id=alarm_id, to="cleared", actor=actor, note=note, now=now or datetime.now(UTC)):
        raise Conflict(f"alarm {alarm_id} is already cleared")
    return records.get(session, park=park, alarm_id=alarm_id)


def clear_by_key(session: Session, *, park_id: int, dedup_key: str, actor: str = SYSTEM, note: str | None = None,
                 now: datetime | None = None, observed_at: datetime | None = None, payload: dict[str, Any] | None = None) -> int | None:
    """Clear the open alarm with this key (the condition ended); its id, or None if none was open."""
    alarm_id = session.scalar(select(Alarm.id).where(Alarm.park_id == park_id, Alarm.dedup_key == dedup_key, Alarm.state != "cleared"))
    if alarm_id is None:
        return None
    moved = _transition(session, park_id=park_id, alarm_id=alarm_id, to="cleared", actor=actor, note=note,
                        now=now or datetime.now(UTC), payload=payload, observed_at=observed_at)
    return alarm_id if moved else None


# --- live events ----------------------------------------------------------------------------

_ASSET_STATE_SQL = text("""
SELECT a.code, a.kind, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,
       array_agg(al.severity) FILTER (WHERE al.kind <> 'no_data') AS severities,
       bool_or(al.kind = 'no_data') AS silent
FROM assets a LEFT JOIN alarms al ON al.asset_id = a.id AND al.state <> 'cleared'
WHERE a.id = :asset GROUP BY a.id
""")


def asset_state(session: Session, *, asset_id: int) -> dict[str, Any] | None:
    """An asset's map state from its open alarms: alarm/warning by the worst severity, offline when only a no-data alarm is open."""
    row = session.execute(_ASSET_STATE_SQL, {"asset": asset_id}).first()
    if row is None:
        return None
    severest = worst(list(row.severities or []))
    state = map_state(severest) if severest else ("offline" if row.silent else "normal")
    return {"asset": row.code, "asset_kind": row.kind, "state": state, "lon": row.lon, "lat": row.lat}


def publish_change(session: Session, *, alarm_id: int, now: datetime) -> None:
    """Publish the alarm's new state, and its asset's state, on the live stream (delivered at commit)."""
    session.flush()
    record = records.get_by_id(session, alarm_id=alarm_id)
    events = [records.live_event(record, time=now)]
    asset_id = session.scalar(select(Alarm.asset_id).where(Alarm.id == alarm_id))
    if asset_id is not None and (state := asset_state(session, asset_id=asset_id)) is not None:
        events.append({"type": "asset_state", "park": record["park"], **state})
    live.publish(session, events)


def open_asset_states(session: Session, park_id: int) -> dict[int, str]:
    """asset_states source: {asset id: "alarm" | "warning"} from the park's open alarms (no-data alarms excluded:
    the asset-state snapshot computes offline from reading age itself)."""
    rows = session.execute(
        select(Alarm.asset_id, Alarm.severity)
        .where(Alarm.park_id == park_id, Alarm.state != "cleared", Alarm.asset_id.is_not(None), Alarm.kind != "no_data")
    )
    states: dict[int, str] = {}
    for asset_id, severity in rows:
        state = map_state(severity)
        if states.get(asset_id) != "alarm":
            states[asset_id] = state
    return states

