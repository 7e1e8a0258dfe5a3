"""Alarm rules, alarms (with their lifecycle) and the event log (alarm history, broadcasts).

An alarm is open while its state is active or acknowledged. `dedup_key` names what it is about —
`rule:<rule id>/ds:<datastream id>`, `rule:<rule id>/asset:<asset id>`, `device:<asset id>/<kind>` or
`place:<lon>,<lat>/<kind>` — and a unique partial index on (park_id, dedup_key) WHERE state <> 'cleared'
lets only one open alarm exist per key: every writer uses INSERT … ON CONFLICT, so several service
workers evaluating the same rule cannot open it twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, func, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from twin.db.base import Base, Timestamps, referrer_index
from twin.db.geometry import geometry_column


class AlarmRule(Timestamps, Base):
    """A rule evaluated on ingest (threshold, state, geofence) or periodically (no_data)."""

    __tablename__ = "alarm_rules"
    __table_args__ = (
        UniqueConstraint("park_id", "code"),
        Index("ix_alarm_rules_park_kind", "park_id", "kind"),
        referrer_index("alarm_rules", "feature_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    code: Mapped[str | None] = mapped_column(String(100))  # optional stable name (demo seeding)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    severity: Mapped[str] = mapped_column(String(10))
    enabled: Mapped[bool] = mapped_column(default=True)
    # What the rule watches: one datastream, or datastreams/assets picked by kind, code and property.
    datastream_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("datastreams.id", ondelete="CASCADE"), index=True)
    asset_kinds: Mapped[list[str]] = mapped_column(ARRAY(String(40)), default=list)
    asset_codes: Mapped[list[str]] = mapped_column(ARRAY(String(100)), default=list)
    observed_property: Mapped[str | None] = mapped_column(String(200))
    feature_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("features.id", ondelete="CASCADE"))  # geofence
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_by: Mapped[str | None] = mapped_column(String(200))


class Alarm(Timestamps, Base):
    """One alarm: what, where (asset, feature, building, storey, point), how bad, and who handled it."""

    __tablename__ = "alarms"
    __table_args__ = (
        Index("uq_alarms_park_id_dedup_key_open", "park_id", "dedup_key", unique=True,
              postgresql_where=text("state <> 'cleared'")),
        Index("ix_alarms_park_state", "park_id", "state"),
        Index("ix_alarms_park_first_seen", "park_id", "first_seen"),
        *(referrer_index("alarms", column) for column in ("feature_id", "building_id", "storey_id")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("alarm_rules.id", ondelete="SET NULL"), index=True)
    dedup_key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(16), default="active")
    source: Mapped[str] = mapped_column(String(20))  # rule, api, mqtt
    title: Mapped[str] = mapped_column(String(300))
    title_en: Mapped[str | None] = mapped_column(String(300))
    message: Mapped[str] = mapped_column(Text, default="")
    asset_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("assets.id", ondelete="SET NULL"), index=True)
    datastream_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("datastreams.id", ondelete="SET NULL"))
    feature_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("features.id", ondelete="SET NULL"))
    building_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("features.id", ondelete="SET NULL"))
    storey_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("features.id", ondelete="SET NULL"))
    geom = mapped_column(geometry_column("POINT"), nullable=True)
    height: Mapped[float | None]  # metres above the park's ground
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)  # trigger value, threshold, unit...
    linked_cameras: Mapped[list[Any]] = mapped_column(default=list)  # camera codes whose view covers the place
    count: Mapped[int] = mapped_column(default=1)  # occurrences while open (deduplicated repeats)
    first_seen: Mapped[datetime] = mapped_column(server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(server_default=func.now())
    observed_at: Mapped[datetime | None]  # newest observation time that moved it (late readings are ignored)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None]
    cleared_by: Mapped[str | None] = mapped_column(String(200))
    cleared_at: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(Text)


class Event(Base):
    """Something that happened: an alarm raised/acknowledged/cleared, a broadcast sent (type, payload, who, when)."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_park_time", "park_id", "time"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    alarm_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    actor: Mapped[str] = mapped_column(String(200))
    time: Mapped[datetime] = mapped_column(server_default=func.now())
