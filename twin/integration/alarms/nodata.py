"""No-data rules (信号消失): a periodic sweep opens an alarm for each asset whose watched datastreams have
all been silent for the rule's `minutes`, and clears it once a reading arrives (ingest clears it at once;
the sweep catches the rest). The clock is a parameter (`now`) so tests can move time.

Several workers may sweep at the same moment: a transaction-level advisory lock lets one of them do
the work, and the unique open-alarm index (INSERT … ON CONFLICT) guarantees no alarm opens twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from twin.db.session import transaction
from twin.integration.alarms import lifecycle
from twin.integration.alarms.history import SYSTEM
from twin.integration.alarms.selectors import RULE_WATCHES, dedup_key
from twin.integration.mqtt.topics import iso_utc


SWEEP_LOCK = 0x7477_616C_6172_6D31  # "twalarm1": the advisory lock key of the sweep

_SUBJECTS_SQL = text(f"""
SELECT r.id AS rule_id, r.severity, r.name, r.name_en, r.params, a.park_id, a.id AS asset_id, a.code AS asset,
       a.name AS asset_name, max(l.phenomenon_time) AS last_seen, min(d.id) AS datastream_id, count(d.id) AS datastreams
FROM alarm_rules r
JOIN assets a ON a.park_id = r.park_id
JOIN datastreams d ON d.thing_id = a.id
JOIN observed_properties op ON op.id = d.observed_property_id
LEFT JOIN datastream_latest l ON l.datastream_id = d.id
WHERE r.kind = 'no_data' AND (CAST(:park AS int) IS NULL OR r.park_id = :park) AND {RULE_WATCHES}
GROUP BY r.id, a.id
""")

_OPEN_SQL = text("SELECT dedup_key FROM alarms WHERE kind = 'no_data' AND state <> 'cleared' AND (CAST(:park AS int) IS NULL OR park_id = :park)")


def sweep(session: Session, *, now: datetime | None = None, park_id: int | None = None, lock: bool = True) -> dict[str, int]:
    """Open/clear no-data alarms as of `now` (UTC); {"raised", "cleared"} counts, or zeros when another worker holds the lock."""
    now = now or datetime.now(UTC)
    if lock and not session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK}):
        return {"raised": 0, "cleared": 0}
    already_open = set(session.scalars(_OPEN_SQL, {"park": park_id}))
    raised = cleared = 0
    for subject in session.execute(_SUBJECTS_SQL, {"park": park_id}).all():
        minutes = float((subject.params or {}).get("minutes", 15))
        never = subject.last_seen is None
        silent = (never and (subject.params or {}).get("include_never_reported", False)) or (
            not never and subject.last_seen < now - timedelta(minutes=minutes))
        key = dedup_key(rule_id=subject.rule_id, kind="no_data", datastream_id=None, asset_id=subject.asset_id)
        if silent and key not in already_open:
            lifecycle.raise_alarm(session, draft=_draft(subject, key, minutes), now=now)
            raised += 1
        elif not silent and not never and key in already_open:
            if lifecycle.clear_by_key(session, park_id=subject.park_id, dedup_key=key, actor=SYSTEM, now=now,
                                      note="data again / 数据已恢复", payload={"last_seen": iso_utc(subject.last_seen)}):
                cleared += 1
    return {"raised": raised, "cleared": cleared}


def _draft(subject: Any, key: str, minutes: float) -> lifecycle.AlarmDraft:
    last = iso_utc(subject.last_seen) if subject.last_seen else None
    since = f"，最后数据 {last}" if last else "，从未上报"
    return lifecycle.AlarmDraft(
        park_id=subject.park_id, dedup_key=key, kind="no_data", severity=subject.severity, source="rule",
        title=subject.name, title_en=subject.name_en, rule_id=subject.rule_id, asset_id=subject.asset_id,
        datastream_id=subject.datastream_id if subject.datastreams == 1 else None,
        message=f"{subject.asset_name}（{subject.asset}）{minutes:g} 分钟无数据{since}",
        details={"minutes": minutes, "last_seen": last},
    )


def sweep_committed(session_factory: sessionmaker[Session], *, now: datetime | None = None) -> dict[str, int]:
    """One sweep in its own transaction (the periodic task's unit of work)."""
    with transaction(session_factory) as session:
        return sweep(session, now=now)
