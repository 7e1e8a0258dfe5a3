"""The live stream of the park: readings, alarms and asset states, fanned out to every service worker.

Events are JSON objects. Clients (the map page, the operations screens) receive one per SSE message
(`data: <event>`) from `GET /api/v1/parks/{park}/live`. Shapes:

- reading — one per datastream per coalescing window (the newest value wins):
  `{"type": "reading", "park": slug, "asset": code, "asset_kind": kind, "asset_name": name,
    "datastream": id, "property": observed property name, "value": result, "unit": symbol or null,
    "time": ISO 8601 phenomenonTime, "lon": deg, "lat": deg}`
- alarm — published by the alarms engine with `publish(session, [event])`; must carry `"park"`,
  and `"asset"`, `"asset_kind"`, `"lon"`, `"lat"` when it concerns a device (used by the filters):
  `{"type": "alarm", "park": slug, "asset": code, ...}`
- asset_state — when an asset's state changes (`twin.integration.asset_states.AssetStateWatcher`):
  `{"type": "asset_state", "park": slug, "asset": code, "asset_kind": kind,
    "state": "normal" | "warning" | "alarm" | "offline", "previous": state, "lon": deg, "lat": deg}`
- broadcast — an emergency broadcast, published by the alarms engine (`twin.integration.alarms.broadcasts`).

Transport: PostgreSQL NOTIFY on channel `twin_live`; a payload is a JSON array of events kept under
the 8,000-byte NOTIFY limit (bigger sets are split). Any worker's commit reaches every worker: each
worker LISTENs on one connection (`LiveHub`) and fans the events out to its own clients. Readings
are coalesced per process to the newest value per datastream per window (20 ms when quiet, 250 ms
under load), so a flood of observations cannot flood NOTIFY or the browsers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING, Any

import orjson
import psycopg
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from twin.integration.ingest import AcceptedObservation

log = logging.getLogger("twin.live")

CHANNEL = "twin_live"
MAX_PAYLOAD_BYTES = 7_900  # PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more
EVENT_TYPES = ("reading", "alarm", "asset_state", "broadcast")
QUIET_WINDOW_S = 0.02
BUSY_WINDOW_S = 0.25
BUSY_EVENTS = 200  # a flush this big means "under load": widen the window
METADATA_TTL_S = 300.0


# --- publishing --------------------------------------------------------------------------------

def payloads(events: Iterable[dict[str, Any]]) -> list[str]:
    """Events packed into JSON-array strings under the NOTIFY size limit."""
    chunks: list[str] = []
    current: list[bytes] = []
    size = 2
    for event in events:
        encoded = orjson.dumps(event)
        if len(encoded) + 2 > MAX_PAYLOAD_BYTES:  # one huge result: send the event without its value
            encoded = orjson.dumps({**event, "value": None, "truncated": True})
        if current and size + len(encoded) + 1 > MAX_PAYLOAD_BYTES:
            chunks.append(b"[" + b",".join(current) + b"]")
            current, size = [], 2
        current.append(encoded)
        size += len(encoded) + 1
    if current:
        chunks.append(b"[" + b",".join(current) + b"]")
    return [chunk.decode() for chunk in chunks]


_NOTIFY_SQL = "SELECT pg_notify('" + CHANNEL + "', p) FROM unnest(CAST(:payloads AS text[])) AS p"


def publish(target: Session | Connection | psycopg.Connection, events: list[dict[str, Any]]) -> None:
    """Queue live events in the caller's transaction: every worker's clients get them on commit."""
    chunks = payloads(events)
    if not chunks:
        return
    if isinstance(target, psycopg.Connection):  # binary: a JSON text array in text format costs a regex per element
        target.execute(_NOTIFY_SQL.replace(":payloads", "%b"), (chunks,))
    else:
        target.execute(text(_NOTIFY_SQL), {"payloads": chunks})


# --- readings: coalesced per process, enriched, notified right after commit --------------------

_METADATA_SQL = """
SELECT d.id, p.slug, a.code, a.kind, a.name, op.name, d.unit_of_measurement->>'symbol', ST_X(a.geom), ST_Y(a.geom)
FROM datastreams d JOIN assets a ON a.id = d.thing_id JOIN parks p ON p.id = a.park_id
JOIN observed_properties op ON op.id = d.observed_property_id
WHERE d.id = ANY(%s)
"""


def conninfo(bind: Engine | Connection) -> str:
    """A libpq connection string for a SQLAlchemy engine or connection (psycopg driver)."""
    engine = bind.engine if isinstance(bind, Connection) else bind
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


class ReadingCoalescer:
    """Keeps the newest committed reading per datastream; a thread notifies them every window."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self._pending: dict[int, AcceptedObservation] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._metadata: dict[int, tuple[float, tuple[Any, ...] | None]] = {}
        self._connection: psycopg.Connection | None = None
        self._thread = threading.Thread(target=self._run, name="twin-live-readings", daemon=True)
        self._thread.start()

    def offer(self, accepted: list[AcceptedObservation]) -> None:
        """Take committed observations; only the newest per datastream survives the window."""
        with self._lock:
            for observation in accepted:
                held = self._pending.get(observation.datastream_id)
                if held is None or held.phenomenon_time <= observation.phenomenon_time:
                    self._pending[observation.datastream_id] = observation
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                batch, self._pending = self._pending, {}
            if not batch:
                continue
            try:
                self._send(list(batch.values()))
            except psycopg.Error as exc:  # live data is best effort: drop this window, reconnect next time
                log.warning("live readings not published: %s", exc)
                self._close()
            time.sleep(BUSY_WINDOW_S if len(batch) >= BUSY_EVENTS else QUIET_WINDOW_S)

    def _send(self, observations: list[AcceptedObservation]) -> None:
        connection = self._connect()
        metadata = self._lookup(connection, {o.datastream_id for o in observations})
        events = [event for o in observations if (event := reading_event(o, metadata.get(o.datastream_id)))]
        if events:
            publish(connection, events)

    def _lookup(self, connection: psycopg.Connection, ids: set[int]) -> dict[int, tuple[Any, ...] | None]:
        now = time.monotonic()
        stale = [i for i in ids if i not in self._metadata or self._metadata[i][0] < now]
        if stale:
            found = {row[0]: row for row in connection.execute(_METADATA_SQL, (stale,))}
            for datastream_id in stale:
                self._metadata[datastream_id] = (now + METADATA_TTL_S, found.get(datastream_id))
        return {i: self._metadata[i][1] for i in ids}

    def _connect(self) -> psycopg.Connection:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(self.dsn, autocommit=True, application_name="parktwin-live")
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                self._connection.close()
        self._connection = None


def reading_event(observation: AcceptedObservation, meta: tuple[Any, ...] | None) -> dict[str, Any] | None:
    """The `reading` event for a committed observation (None when its datastream is gone)."""
    if meta is None:
        return None
    _, park, asset, kind, asset_name, prop, unit, lon, lat = meta
    return {"type": "reading", "park": park, "asset": asset, "asset_kind": kind, "asset_name": asset_name,
            "datastream": observation.datastream_id, "property": prop, "value": observation.result, "unit": unit,
            "time": observation.phenomenon_time.astimezone(UTC).isoformat().replace("+00:00", "Z"), "lon": lon, "lat": lat}


_coalescers: dict[str, ReadingCoalescer] = {}
_coalescers_lock = threading.Lock()


def offer_readings(session_factory: sessionmaker[Session], accepted: list[AcceptedObservation]) -> None:
    """Feed committed observations to this process's coalescer for their database."""
    dsn = conninfo(session_factory.kw["bind"])
    coalescer = _coalescers.get(dsn)
    if coalescer is None:
        with _coalescers_lock:
            coalescer = _coalescers.get(dsn)
            if coalescer is None:
                coalescer = _coalescers[dsn] = ReadingCoalescer(dsn)
    coalescer.offer(accepted)


# --- receiving: one LISTEN connection per worker, fanned out to its clients --------------------

@dataclass(eq=False)
class LiveFilter:
    """What one client wants: its park, and optionally asset kinds, a WGS84 bbox, event types."""

    park: str
    kinds: frozenset[str] = frozenset()
    bbox: tuple[float, float, float, float] | None = None
    types: frozenset[str] = frozenset()

    def matches(self, event: dict[str, Any]) -> bool:
        if self.types and event.get("type") not in self.types:
            return False
        if self.kinds and event.get("asset_kind") not in self.kinds:
            return False
        if self.bbox is not None:
            lon, lat = event.get("lon"), event.get("lat")
            if lon is None or lat is None:
                return False
            min_x, min_y, max_x, max_y = self.bbox
            if not (min_y <= lat <= max_y and (min_x <= lon <= max_x if min_x <= max_x else (lon >= min_x or lon <= max_x))):
                return False
        return True


@dataclass(eq=False)
class Subscription:
    """One connected client: its filter and a bounded queue (the oldest events go when it lags)."""

    filter: LiveFilter
    queue: asyncio.Queue[dict[str, Any]] = field(default_factory=lambda: asyncio.Queue(maxsize=5_000))
    dropped: int = 0

    def put(self, event: dict[str, Any]) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(event)


class LiveHub:
    """This worker's LISTEN connection and its clients; started on the first subscriber."""

    def __init__(self, dsn: str, *, on_first_client: Callable[[], None] | None = None) -> None:
        self.dsn = dsn
        self._on_first_client = on_first_client  # e.g. start the asset-state watcher only when someone watches
        self._by_park: dict[str, set[Subscription]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()

    @contextlib.asynccontextmanager
    async def subscribe(self, flt: LiveFilter) -> AsyncIterator[Subscription]:
        """Register a client for the duration of the block."""
        self._ensure_listening()
        subscription = Subscription(flt)
        self._by_park[flt.park].add(subscription)
        try:
            yield subscription
        finally:
            self._by_park[flt.park].discard(subscription)

    def dispatch(self, events: list[dict[str, Any]]) -> None:
        """Hand events to this worker's matching clients."""
        for event in events:
            for subscription in self._by_park.get(event.get("park"), ()):  # type: ignore[arg-type]
                if subscription.filter.matches(event):
                    subscription.put(event)

    def _ensure_listening(self) -> None:
        if self._on_first_client is not None:
            self._on_first_client()
            self._on_first_client = None
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._listen(), name="twin-live-listen")

    async def _listen(self) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.dsn, autocommit=True,
                                                                application_name="parktwin-live-listen") as connection:
                    await connection.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    delay = 0.5
                    while True:
                        async for notify in connection.notifies(timeout=15.0):
                            self._receive(notify.payload)
                        await connection.execute("SELECT 1")  # quiet for 15 s: make sure the link is alive
            except asyncio.CancelledError:
                raise
            except (psycopg.Error, OSError) as exc:
                self.listening.clear()
                log.warning("live LISTEN connection lost (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def _receive(self, payload: str) -> None:
        try:
            events = orjson.loads(payload)
        except orjson.JSONDecodeError:
            log.warning("ignoring a malformed live payload")
            return
        self.dispatch(events if isinstance(events, list) else [events])

    async def close(self) -> None:
        """Stop listening (app shutdown)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
