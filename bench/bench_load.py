"""Sustained mixed load on `twin serve --workers N`: p50/p95/p99 latency per request type and the error rate.

    .venv/bin/python bench/bench_load.py [--seconds 180] [--workers 2] [--users 16] [--think 0.1] [--sse 20]
                                         [--gateways 2] [--batch 100] [--reference-seconds 45]
    (or `python -m bench load`; TWIN_BENCH_LOAD_SECONDS overrides the default duration)

Uses its own database (TWIN_BENCH_DATABASE_URL, default parktwin_bench_load), dropped and rebuilt: the demo
park, its building tiles, 12 h of history for every demo Datastream. The service runs as an operator runs
it (`twin serve`, MQTT off, job runner off) and is driven on loopback, all at once, by:
- `--users` virtual map users, each looping over a weighted mix with `--think` s between requests: the park,
  features as GeoJSON (by kind, and by bbox), tileset.json and tile content (half revalidated with
  If-None-Match, as a browser does), SensorThings queries with $filter/$expand and an Observations window,
  the Latest extension, asset states and the alarm summary;
- `--gateways` sensor gateways each posting `--batch` new observations every 0.5 s (the compact batch API);
- `--sse` live-stream clients connected for the whole run; one of them times the push of ingested readings.
An error is any unexpected status (5xx, 4xx), a transport error or timeout, or a live stream that ends early.
Goal: 0 errors. The reference, measured in the same run, is the same load on one worker (`--reference-seconds`).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import math
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import orjson  # noqa: E402
from sqlalchemy import create_engine, pool, select, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/parktwin_bench_load"
DEFAULT_SECONDS = 180.0
HISTORY_HOURS, HISTORY_STEP_MIN = 12, 10
REQUEST_TIMEOUT_S = 10.0


# --- the database ------------------------------------------------------------------------------

@dataclass
class Target:
    """What the load needs to know about the prepared database."""

    park: str
    viewer: str
    integrator: str
    datastreams: list[int]
    buildings: list[str]
    extent: tuple[float, float, float, float]  # WGS84 lon/lat


def prepare_database(url: str) -> Target:
    """Drop and rebuild `url`: migrated, the demo park with building tiles, 12 h of history, two tokens."""
    from twin.access.tokens import create_token
    from twin.db import database, migrate
    from twin.db.models import Asset, Datastream, Feature
    from twin.db.queries import parks
    from twin.integration.ingest import insert_observations
    from twin.pipelines.demo_load import load_demo
    from twin.pipelines.tiles_build import build_buildings
    from twin.settings import REPO_ROOT

    database.drop_database(url)
    database.ensure_database(url)
    migrate.upgrade(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    with Session(engine, expire_on_commit=False) as session, session.begin():
        report = load_demo(session, demo_dir=REPO_ROOT / "data" / "demo")
        park = parks.get_by_slug(session, slug=report.park)
        build_buildings(session, park=park)
        viewer = create_token(session, name="bench load viewer", role="viewer", park_id=None)[1]
        integrator = create_token(session, name="bench load integrator", role="integrator", park_id=None)[1]
        datastreams = list(session.scalars(select(Datastream.id).join(Asset, Asset.id == Datastream.thing_id)
                                           .where(Asset.park_id == park.id).order_by(Datastream.id)))
        buildings = list(session.scalars(select(Feature.code).where(Feature.park_id == park.id, Feature.kind == "building")))
        extent = session.execute(text("SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
                                      "(SELECT ST_Extent(geom) AS e FROM features WHERE park_id = :p) x"), {"p": park.id}).one()
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=HISTORY_HOURS)
    steps = HISTORY_HOURS * 60 // HISTORY_STEP_MIN
    rows = [{"datastream_id": ds, "phenomenon_time": start + timedelta(minutes=HISTORY_STEP_MIN * k), "result": 10 + (ds * 7 + k * 13) % 30}
            for ds in datastreams for k in range(steps)]
    for offset in range(0, len(rows), 20_000):
        with Session(engine) as session, session.begin():
            insert_observations(session, rows[offset:offset + 20_000])
    engine.dispose()
    return Target(park=report.park, viewer=viewer, integrator=integrator, datastreams=datastreams, buildings=buildings,
                  extent=tuple(extent))  # type: ignore[arg-type]


# --- recording ---------------------------------------------------------------------------------

@dataclass
class Results:
    """Latencies (ms) and errors per request type, from one load phase."""

    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    sse_events: int = 0
    sse_clients: int = 0
    observations: int = 0

    def record(self, kind: str, started: float, error: str | None = None) -> None:
        self.latencies[kind].append((time.perf_counter() - started) * 1000)
        if error:
            self.errors[kind][error] += 1

    def requests(self, kind: str | None = None) -> int:
        return sum(len(v) for k, v in self.latencies.items() if kind in (None, k))

    def error_count(self, kind: str | None = None) -> int:
        return sum(sum(c.values()) for k, c in self.errors.items() if kind in (None, k))

    def error_rate(self) -> float:
        return self.error_count() / max(1, self.requests())

    def throughput(self) -> float:
        """Requests per second, live-push samples excluded (they are not requests)."""
        return (self.requests() - len(self.latencies.get("sse_reading_push", []))) / max(self.seconds, 1e-9)


def percentile(values: list[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank method."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))] if ordered else float("nan")


def table(results: Results, title: str) -> str:
    """The per-type latency table, as printed."""
    lines = [title, f"{'type':<22}{'requests':>9}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'req/s':>8}"]
    for kind in sorted(results.latencies):
        values = results.latencies[kind]
        rate = f"{len(values) / results.seconds:8.1f}" if kind != "sse_reading_push" else f"{'':>8}"
        lines.append(f"{kind:<22}{len(values):>9}{results.error_count(kind):>8}{percentile(values, .5):>9.1f}"
                     f"{percentile(values, .95):>9.1f}{percentile(values, .99):>9.1f}{rate}")
    everything = [v for k, values in results.latencies.items() if k != "sse_reading_push" for v in values]
    lines.append(f"{'all requests':<22}{len(everything):>9}{results.error_count():>8}{percentile(everything, .5):>9.1f}"
                 f"{percentile(everything, .95):>9.1f}{percentile(everything, .99):>9.1f}{results.throughput():8.1f}")
    for kind, reasons in sorted(results.errors.items()):
        lines.append(f"  errors {kind}: {dict(reasons)}")
    return "\n".join(lines)


# --- the load ----------------------------------------------------------------------------------

@dataclass
class Request:
    kind: str
    url: str
    params: dict[str, str] | None = None
    headers: dict[str, str] | None = None
    ok: tuple[int, ...] = (200,)


class MapUsers:
    """The weighted request mix of a map page and an integrator's dashboard (see the module docstring)."""

    def __init__(self, target: Target, tiles: list[tuple[str, str]]) -> None:
        self.target = target
        self.tiles = tiles  # (url, etag) of tileset.json and every tile content
        since = (datetime.now(UTC) - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
        park = f"/api/v1/parks/{target.park}"
        self.mix: list[tuple[int, Callable[[random.Random], Request]]] = [
            (1, lambda r: Request("park", park)),
            (3, lambda r: Request("features_geojson", f"{park}/features", {"kind": r.choice(["building", "road,green,water", "parking_space", "space"])})),
            (2, lambda r: Request("features_bbox", f"{park}/features", {"bbox": self._bbox(r), "limit": "500"})),
            (2, lambda r: self._tile(r, "tileset_json", 0)),
            (3, lambda r: self._tile(r, "tile_content", r.randrange(1, len(self.tiles)) if len(self.tiles) > 1 else 0)),
            (2, lambda r: Request("sta_filter_expand", "/sta/v1.1/Datastreams", {
                "$filter": r.choice(["ObservedProperty/name eq 'PM2.5 concentration'", "unitOfMeasurement/symbol eq 'kW'",
                                     "startswith(name, 'AQ')", "Thing/properties/kind eq 'meter'"]),
                "$expand": "Thing($select=name),Observations($top=3;$orderby=phenomenonTime desc)", "$top": "50"})),
            (2, lambda r: Request("sta_observations", f"/sta/v1.1/Datastreams({r.choice(target.datastreams)})/Observations",
                                  {"$filter": f"phenomenonTime ge {since} and result ge 0", "$orderby": "phenomenonTime desc", "$top": "100"})),
            (2, lambda r: Request("sta_latest", "/sta/v1.1/Latest", {"building": r.choice(target.buildings), "park": target.park})),
            (1, lambda r: Request("assets_state", f"{park}/assets/state")),
            (1, lambda r: Request("alarm_summary", f"{park}/alarms/summary")),
        ]
        self.weights = [w for w, _ in self.mix]

    def _bbox(self, r: random.Random) -> str:
        min_x, min_y, max_x, max_y = self.target.extent
        width, height = (max_x - min_x) / 3, (max_y - min_y) / 3
        x, y = r.uniform(min_x, max_x - width), r.uniform(min_y, max_y - height)
        return f"{x:.6f},{y:.6f},{x + width:.6f},{y + height:.6f}"

    def _tile(self, r: random.Random, kind: str, index: int) -> Request:
        url, etag = self.tiles[index]
        if r.random() < 0.5:  # a browser revalidating its cached copy
            return Request(kind, url, headers={"If-None-Match": etag}, ok=(304,))
        return Request(kind, url)

    def next(self, r: random.Random) -> Request:
        return r.choices(self.mix, self.weights)[0][1](r)


def tile_urls(base_url: str, target: Target) -> list[tuple[str, str]]:
    """(url, ETag) of the buildings tileset.json, then of every content it references."""
    headers = {"Authorization": f"Bearer {target.viewer}"}
    base = f"/api/v1/parks/{target.park}/tilesets/buildings"
    answer = httpx.get(f"{base_url}{base}/tileset.json", headers=headers, timeout=30)
    answer.raise_for_status()
    found = [(f"{base}/tileset.json", answer.headers["etag"])]
    stack = [answer.json()["root"]]
    while stack:
        tile = stack.pop()
        stack.extend(tile.get("children", []))
        for content in [tile.get("content")] + tile.get("contents", []):
            if content and not content["uri"].startswith("http"):
                url = f"{base}/{content['uri']}"
                found.append((url, httpx.get(f"{base_url}{url}", headers=headers, timeout=30).headers["etag"]))
    return found


async def _user(client: httpx.AsyncClient, users: MapUsers, results: Results, seed: int, think_s: float, until: float) -> None:
    rng = random.Random(seed)
    while time.monotonic() < until:
        request = users.next(rng)
        started = time.perf_counter()
        try:
            response = await client.get(request.url, params=request.params, headers=request.headers)
            results.record(request.kind, started, None if response.status_code in request.ok else f"HTTP {response.status_code}")
        except httpx.HTTPError as exc:
            results.record(request.kind, started, type(exc).__name__)
        await asyncio.sleep(think_s * rng.uniform(0.5, 1.5))


class Gateway:
    """Posts batches of new readings (unique datastream × second) and remembers when each was sent."""

    def __init__(self, target: Target, counter: itertools.count[int], batch: int) -> None:
        self.target, self.counter, self.batch = target, counter, batch
        self.base = datetime.now(UTC).replace(microsecond=0)
        self.sent_at: dict[tuple[int, str], float] = {}

    def body(self) -> tuple[bytes, list[tuple[int, str]]]:
        streams = self.target.datastreams
        rows, keys = [], []
        for _ in range(self.batch):
            n = next(self.counter)
            moment = (self.base + timedelta(seconds=n // len(streams))).isoformat().replace("+00:00", "Z")
            rows.append({"datastream": streams[n % len(streams)], "time": moment, "value": 10 + n % 25})
            keys.append((streams[n % len(streams)], moment))
        return orjson.dumps(rows), keys


async def _gateway(client: httpx.AsyncClient, gateway: Gateway, results: Results, path: str, until: float) -> None:
    while time.monotonic() < until:
        body, keys = gateway.body()
        started = time.perf_counter()
        sent = time.monotonic()
        for key in keys:
            gateway.sent_at[key] = sent
        try:
            response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
            ok = response.status_code == 200 and not response.json()["rejected"]
            results.record("ingest_batch", started, None if ok else f"HTTP {response.status_code}")
            if ok:
                results.observations += response.json()["accepted"]
        except httpx.HTTPError as exc:
            results.record("ingest_batch", started, type(exc).__name__)
        await asyncio.sleep(max(0.0, 0.5 - (time.monotonic() - sent)))


async def _next(stream: Any, until: float) -> Any:
    """The stream's next item, or None once `until` has passed; StopAsyncIteration when it ended."""
    try:
        return await asyncio.wait_for(stream.__anext__(), timeout=max(0.05, until - time.monotonic()))
    except TimeoutError:
        return None


async def _sse_client(base_url: str, target: Target, results: Results, until: float, timer: Gateway | None) -> None:
    """One live-stream client for the whole run; with `timer`, it parses events and times ingested readings' arrival,
    otherwise it only counts them (the load generator must not become the bottleneck)."""
    url = f"{base_url}/api/v1/parks/{target.park}/live"
    started = time.perf_counter()
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(REQUEST_TIMEOUT_S, read=40)) as client, \
                client.stream("GET", url, params={"access_token": target.viewer}) as response:
            if response.status_code != 200:
                results.record("sse_connect", started, f"HTTP {response.status_code}")
                return
            stream = response.aiter_lines() if timer else response.aiter_raw()
            connected = False
            while time.monotonic() < until and (item := await _next(stream, until)) is not None:
                if not connected and (": connected" in item if timer else b": connected" in item):
                    connected = True
                    results.record("sse_connect", started)
                    results.sse_clients += 1
                if timer is None:
                    results.sse_events += item.count(b"\ndata: ") + item.startswith(b"data: ")
                elif item.startswith("data: "):
                    results.sse_events += 1
                    event = orjson.loads(item[6:])
                    sent = timer.sent_at.get((event.get("datastream"), event.get("time"))) if event.get("type") == "reading" else None
                    if sent is not None:
                        results.latencies["sse_reading_push"].append((time.monotonic() - sent) * 1000)
    except StopAsyncIteration:
        results.errors["sse_stream"]["ended early"] += 1
    except httpx.HTTPError as exc:
        results.errors["sse_stream"][type(exc).__name__] += 1


async def run_load(base_url: str, target: Target, *, seconds: float, users: int = 16, think_s: float = 0.1, sse: int = 20,
                   gateways: int = 2, batch: int = 100, seed: int = 1) -> Results:
    """Drive the service at `base_url` for `seconds` (see the module docstring); the measured results."""
    tiles = await asyncio.to_thread(tile_urls, base_url, target)
    mix = MapUsers(target, tiles)
    results = Results()
    counter = itertools.count()
    feeders = [Gateway(target, counter, batch) for _ in range(gateways)]
    limits = httpx.Limits(max_connections=users + gateways, max_keepalive_connections=users + gateways)
    async with httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {target.viewer}"}, limits=limits,
                                 timeout=REQUEST_TIMEOUT_S) as reader, \
            httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {target.integrator}"}, limits=limits,
                              timeout=REQUEST_TIMEOUT_S) as writer:
        started = time.monotonic()
        until = started + seconds
        streams = [asyncio.create_task(_sse_client(base_url, target, results, until + 1, feeders[0] if i == 0 and feeders else None))
                   for i in range(sse)]
        await asyncio.sleep(min(2.0, seconds / 10))  # the live clients connect first, as pages open before data flows
        path = f"/api/v1/parks/{target.park}/observations"
        await asyncio.gather(*(_user(reader, mix, results, seed * 1000 + i, think_s, until) for i in range(users)),
                             *(_gateway(writer, feeder, results, path, until) for feeder in feeders))
        results.seconds = time.monotonic() - started
        await asyncio.gather(*streams)
    return results


# --- the service -------------------------------------------------------------------------------

def measure(url: str, target: Target, *, workers: int, seconds: float, **load: Any) -> Results:
    """Start `twin serve --workers N` on `url`, drive it for `seconds`, stop it; the results."""
    from tests.support.servers import ServiceProcess

    with tempfile.TemporaryDirectory(prefix="bench-load-") as scratch:
        service = ServiceProcess(url, Path(scratch), workers=workers, TWIN_JOBS_ENABLED="false", TWIN_LOG_LEVEL="WARNING").start(timeout=120)
        try:
            httpx.get(f"{service.url}/api/v1/parks/{target.park}", headers={"Authorization": f"Bearer {target.viewer}"}, timeout=30)
            return asyncio.run(run_load(service.url, target, seconds=seconds, **load))
        finally:
            service.stop()


def main(argv: list[str] | None = None) -> None:
    """Prepare, load N workers then 1 worker, print both tables and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=float(os.environ.get("TWIN_BENCH_LOAD_SECONDS", DEFAULT_SECONDS)))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--think", type=float, default=0.1, help="seconds between a user's requests (±50%%)")
    parser.add_argument("--sse", type=int, default=20)
    parser.add_argument("--gateways", type=int, default=2)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--reference-seconds", type=float, default=None, help="the 1-worker reference run (default: a quarter of --seconds; 0: skip)")
    args = parser.parse_args(argv or [])  # `python -m bench load` calls main() with no arguments

    url = os.environ.get("TWIN_BENCH_DATABASE_URL", DEFAULT_URL)
    prepared = time.perf_counter()
    target = prepare_database(url)
    print(f"database: demo park '{target.park}', {len(target.datastreams)} datastreams × {HISTORY_HOURS} h of history "
          f"({time.perf_counter() - prepared:.0f} s to prepare)")
    load = {"users": args.users, "think_s": args.think, "sse": args.sse, "gateways": args.gateways, "batch": args.batch}
    shape = (f"{args.users} map users (think {args.think:g} s), {args.sse} SSE clients, "
             f"{args.gateways} gateways × {args.batch} observations / 0.5 s")
    main_run = measure(url, target, workers=args.workers, seconds=args.seconds, **load)
    print(table(main_run, f"\n{args.workers} workers, {main_run.seconds:.0f} s: {shape}"))
    print(f"error rate {main_run.error_rate():.3%} ({main_run.error_count()} of {main_run.requests()}); "
          f"{main_run.observations / main_run.seconds:.0f} observations/s stored; {main_run.sse_clients}/{args.sse} live clients "
          f"connected, {main_run.sse_events} live events received")
    reference_seconds = args.seconds / 4 if args.reference_seconds is None else args.reference_seconds
    if reference_seconds > 0:
        reference = measure(url, target, workers=1, seconds=reference_seconds, **load)
        print(table(reference, f"\nreference: 1 worker, {reference.seconds:.0f} s, same load"))
        print(f"error rate {reference.error_rate():.3%}")
        everything = lambda r: [v for k, vs in r.latencies.items() if k != "sse_reading_push" for v in vs]  # noqa: E731
        print(f"ratio {args.workers} workers / 1 worker: throughput ×{main_run.throughput() / max(reference.throughput(), 1e-9):.2f}, "
              f"p95 ×{percentile(everything(main_run), .95) / max(percentile(everything(reference), .95), 1e-9):.2f}")
    if main_run.error_count():
        raise SystemExit(1)


if __name__ == "__main__":
    main(sys.argv[1:])
