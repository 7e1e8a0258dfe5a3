"""Each asset's current state for the map's colouring: normal, warning, alarm or offline.

An asset with datastreams is offline when its newest reading is older than `offline_after_s` (or it
never reported); one without datastreams is not monitored and counts as normal. Open alarms raise
the state: the alarms engine registers a source in `asset_state_sources` — a callable
(session, park_id) → {asset_id: "warning" | "alarm"} — and the worst state wins.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from twin.db.models import Park

STATES = ("normal", "offline", "warning", "alarm")  # in rising severity: the worst one wins
StateSource = Callable[[Session, int], dict[int, str]]
asset_state_sources: list[StateSource] = []

_LAST_SEEN_SQL = text("""
SELECT a.id, a.code, a.kind, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat,
       count(d.id) AS datastreams, max(l.phenomenon_time) AS last_seen
FROM assets a
LEFT JOIN datastreams d ON d.thing_id = a.id
LEFT JOIN datastream_latest l ON l.datastream_id = d.id
WHERE a.park_id = :park
GROUP BY a.id ORDER BY a.code
""")


def _worse(a: str, b: str) -> str:
    return a if STATES.index(a) >= STATES.index(b) else b


def get_all(session: Session, *, park: Park, offline_after_s: int, now: datetime | None = None) -> dict[str, Any]:
    """Every asset of the park with its state, newest reading time (UTC) and position (WGS84)."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=offline_after_s)
    raised: dict[int, str] = {}
    for source in asset_state_sources:
        for asset_id, state in source(session, park.id).items():
            raised[asset_id] = _worse(raised.get(asset_id, "normal"), state if state in STATES else "normal")
    assets = []
    for row in session.execute(_LAST_SEEN_SQL, {"park": park.id}):
        monitored = row.datastreams > 0
        state = "offline" if monitored and (row.last_seen is None or row.last_seen < cutoff) else "normal"
        state = _worse(raised.get(row.id, "normal"), state)
        assets.append({"asset": row.code, "asset_kind": row.kind, "state": state, "monitored": monitored,
                       "last_seen": row.last_seen.isoformat() if row.last_seen else None, "lon": row.lon, "lat": row.lat})
    counts = Counter(a["state"] for a in assets)
    return {"park": park.slug, "time": now.isoformat(), "offline_after_s": offline_after_s,
            "counts": {state: counts.get(state, 0) for state in STATES}, "assets": assets}
