"""Each asset's current state for the map's colouring: normal, warning, alarm or offline.

`get_all` answers `GET /api/v1/parks/{park}/assets/state`; `AssetStateWatcher` publishes an
`asset_state` live event whenever a state changes (checked every 30 s by one worker of the deployment).

An asset with datastreams is offline when its newest reading is older than `offline_after_s` (or it
never reported); one without datastreams is not monitored and counts as normal. Open alarms raise
the state: the alarms engine registers a source in `asset_state_sources` — a callable
(session, park_id) → {asset_id: "warning" | "alarm"} — and the worst state wins.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import select, text
from sqlalchemy.orm import Session, sessionmaker

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


log = logging.getLogger("twin.asset_states")


class AssetStateWatcher:
    """Publishes `asset_state` events for assets whose state changed since the last check.

    Every worker with live clients runs one, but only the holder of a PostgreSQL advisory lock checks
    (one query per park every `interval_s`), so each change is announced once. The first check after
    taking the lock only records the states: clients get the starting states from `get_all`.
    """

    LOCK_KEY = 7_415_265_700_001  # pg_try_advisory_lock key of this job

    def __init__(self, dsn: str, session_factory: sessionmaker[Session], *, offline_after_s: int, interval_s: float = 30.0) -> None:
        self.dsn, self.session_factory = dsn, session_factory
        self.offline_after_s, self.interval_s = offline_after_s, interval_s
        self._known: dict[tuple[str, str], str] | None = None
        self._lock_connection: psycopg.Connection | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="twin-asset-states", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._lock_connection is not None:
            with contextlib.suppress(Exception):
                self._lock_connection.close()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                if self._leader():
                    self.check()
            except Exception as exc:  # noqa: BLE001 — a database hiccup: try again next time
                log.warning("asset states not checked: %s", exc)
                self.stop_leading()

    def _leader(self) -> bool:
        if self._lock_connection is None or self._lock_connection.closed:
            self._lock_connection = psycopg.connect(self.dsn, autocommit=True, application_name="parktwin-asset-states")
            self._known = None
        return bool(self._lock_connection.execute("SELECT pg_try_advisory_lock(%s)", (self.LOCK_KEY,)).fetchone()[0])

    def stop_leading(self) -> None:
        if self._lock_connection is not None:
            with contextlib.suppress(Exception):
                self._lock_connection.close()
        self._lock_connection, self._known = None, None

    def check(self) -> list[dict[str, Any]]:
        """Compare every asset's state with the last check; publish and return the changes."""
        from twin.integration import live  # deferred: live imports nothing from here, but keep start-up light

        events: list[dict[str, Any]] = []
        current: dict[tuple[str, str], str] = {}
        with self.session_factory() as session, session.begin():
            for park in session.scalars(select(Park)):
                for asset in get_all(session, park=park, offline_after_s=self.offline_after_s)["assets"]:
                    current[(park.slug, asset["asset"])] = asset["state"]
                    before = (self._known or {}).get((park.slug, asset["asset"]))
                    if self._known is not None and before != asset["state"]:
                        events.append({"type": "asset_state", "park": park.slug, "asset": asset["asset"],
                                       "asset_kind": asset["asset_kind"], "state": asset["state"], "previous": before,
                                       "lon": asset["lon"], "lat": asset["lat"]})
            if events:
                live.publish(session, events)
        self._known = current
        return events
