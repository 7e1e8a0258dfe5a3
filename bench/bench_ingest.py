"""Ingest benchmark: the running service (uvicorn, 2 workers) against its own database and broker.

Measures, on this machine (client, service, PostgreSQL and Mosquitto share its cores):
1. sustained observations/s over HTTP batch — STA dataArray (`POST /sta/v1.1/CreateObservations`)
   and the compact batch (`POST /api/v1/parks/{park}/observations`), batches of 2,000;
2. MQTT: STA messages published with QoS 1 as fast as the broker takes them, one observation
   each; stored observations/s (first message to last row committed);
3. publish → subscriber latency at 1,000 sensors × 1 Hz: MQTT re-publication and the SSE stream;
4. latest values of one building's devices (SQL, and the assets/state endpoint for the whole park);
5. a 30-day 15-minute aggregate of one stream holding 30 days × 1/min (STA aggregate extension).
Goals: ≥ 20,000 obs/s HTTP, ≥ 5,000 msg/s MQTT, p95 < 200 ms. The reference is ThingsBoard's
published figure (5,000 msg/s on 2 vCPU with PostgreSQL + Kafka); it cannot run here, so the ratio is
to that published number.
Run: .venv/bin/python bench/bench_ingest.py [--seconds 10] [--latency-seconds 30]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from twin.access.tokens import create_token  # noqa: E402
from twin.db import database, migrate  # noqa: E402
from twin.integration.ingest import insert_observations  # noqa: E402
from twin.integration.mqtt.publisher import ORIGIN_PROPERTY  # noqa: E402
from twin.integration.mqtt.wire import Connection, MqttError, publish_packet  # noqa: E402

THINGSBOARD_MSG_S = 5_000
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/parktwin_bench_ingest"
PARK = "bench-park"
EPOCH = datetime(2024, 1, 1, tzinfo=UTC)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 — still starting
            pass
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


# --- set-up ------------------------------------------------------------------------------------

_SEED_SQL = """
WITH park AS (
    INSERT INTO parks (slug, name, name_en, center) VALUES (:slug, '基准园区', 'Bench park', ST_SetSRID(ST_MakePoint(104.065, 30.54), 4326))
    RETURNING id
), layer AS (
    INSERT INTO layers (park_id, slug, name, category) SELECT id, 'buildings', '建筑', 'buildings' FROM park RETURNING id, park_id
), building AS (
    INSERT INTO features (park_id, layer_id, code, kind, name, geom, base_height, top_height, properties)
    SELECT park_id, id, 'B01', 'building', '一号楼', ST_Buffer(ST_SetSRID(ST_MakePoint(104.065, 30.54), 4326), 0.0005), 0, 30, '{}'::jsonb FROM layer
    RETURNING id, park_id
), sensor AS (
    INSERT INTO sensors (park_id, name, encoding_type, metadata) SELECT id, 'bench sensor', 'text/html', '"https://example.org"' FROM park RETURNING id
), prop AS (
    INSERT INTO observed_properties (park_id, name, definition) SELECT id, 'power', 'https://qudt.org/vocab/quantitykind/ActivePower' FROM park RETURNING id
), assets AS (
    INSERT INTO assets (park_id, feature_id, code, kind, name, geom, height, properties)
    SELECT b.park_id, CASE WHEN g <= 100 THEN b.id END, 'M-' || lpad(g::text, 5, '0'), 'meter', '电表 ' || g,
           ST_SetSRID(ST_MakePoint(104.06 + (g % 50) * 0.0002, 30.535 + (g / 50) * 0.0002), 4326), 1.5, '{}'::jsonb
    FROM building b, generate_series(1, :devices) g
    RETURNING id, code
)
INSERT INTO datastreams (thing_id, sensor_id, observed_property_id, name, observation_type, unit_of_measurement)
SELECT a.id, s.id, p.id, a.code || ' power', 'http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement',
       '{"name": "kilowatt", "symbol": "kW", "definition": "http://qudt.org/vocab/unit/KiloW"}'::jsonb
FROM assets a, sensor s, prop p
"""


def set_up_database(url: str, devices: int) -> tuple[list[int], str]:
    """A fresh, migrated bench database with `devices` meters (100 in building B01); (datastream ids, token)."""
    database.drop_database(url)
    database.ensure_database(url)
    migrate.upgrade(url)
    engine = create_engine(url)
    with Session(engine) as session, session.begin():
        session.execute(text(_SEED_SQL), {"slug": PARK, "devices": devices})
        ids = list(session.scalars(text("SELECT id FROM datastreams ORDER BY id")))
        _, token = create_token(session, name="bench", role="integrator", park_id=None)
    engine.dispose()
    return ids, token


class Broker:
    """A private Mosquitto (so a running `make run` and its simulator are not disturbed)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.directory = tempfile.mkdtemp(prefix="bench-mosquitto-")
        config = Path(self.directory) / "mosquitto.conf"
        config.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous true\nlog_dest none\n"
                          "max_queued_messages 200000\n" + ("user root\n" if os.geteuid() == 0 else ""))
        self.process = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: _port_open(self.port), 10, "mosquitto")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def _port_open(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


class Service:
    """`uvicorn twin.main:create_app --workers 2` with MQTT consumers on the private broker."""

    def __init__(self, url: str, broker: Broker, workers: int) -> None:
        self.port = free_port()
        env = {**os.environ, "TWIN_DATABASE_URL": url, "TWIN_MQTT_HOST": "127.0.0.1", "TWIN_MQTT_PORT": str(broker.port),
               "TWIN_MQTT_ENABLED": "true", "TWIN_MQTT_CLIENT_ID": "parktwin-bench", "TWIN_LOG_LEVEL": "WARNING",
               "TWIN_LOG_JSON": "false"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "twin.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(self.port),
             "--workers", str(workers), "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "2"],
            cwd=REPO, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        wait_until(lambda: httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200, 120, "the service")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


class CpuMeter:
    """CPU seconds used by the service's processes (uvicorn workers, their PostgreSQL backends, Mosquitto).

    Wall-clock rates depend on what else the machine runs; CPU per observation does not, and gives the
    rate the service would reach with two idle cores to itself.
    """

    def __init__(self, service: Service, broker: Broker, engine: Any, database: str) -> None:
        self.service, self.broker, self.engine, self.database = service, broker, engine, database

    @staticmethod
    def _cpu(pid: int) -> float:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _children(self, pid: int) -> list[int]:
        found = []
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
        return found

    def sample(self) -> dict[str, float]:
        with self.engine.connect() as connection:
            backends = list(connection.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"),
                                               {"d": self.database}))
        return {"workers": sum(self._cpu(p) for p in self._children(self.service.process.pid)),
                "postgres": sum(self._cpu(p) for p in backends), "mosquitto": self._cpu(self.broker.process.pid)}

    @staticmethod
    def report(before: dict[str, float], after: dict[str, float], count: int) -> str:
        per = {k: (after[k] - before.get(k, 0.0)) / max(count, 1) * 1e6 for k in after}
        total = sum(per.values())
        return (f"service CPU {total:.0f} µs/obs (workers {per['workers']:.0f}, PostgreSQL {per['postgres']:.0f}, "
                f"Mosquitto {per['mosquitto']:.0f}) → ≈ {2e6 / total:,.0f} obs/s on 2 idle cores")


def stored_count(engine: Any) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT count(*) FROM observations"))


# --- 1. HTTP batch -----------------------------------------------------------------------------

def http_batches(datastreams: list[int], batch: int, start_minute: int, count: int, compact: bool) -> list[bytes]:
    """Pre-serialised request bodies: each row a new (datastream, minute) pair."""
    bodies = []
    per_stream = max(1, batch // len(datastreams))
    streams_per_batch = batch // per_stream
    minute = start_minute
    for b in range(count):
        chosen = [datastreams[(b * streams_per_batch + i) % len(datastreams)] for i in range(streams_per_batch)]
        if compact:
            rows = [{"datastream": ds, "time": (EPOCH + timedelta(minutes=minute + k)).isoformat(), "value": 10.0 + k % 7}
                    for ds in chosen for k in range(per_stream)]
        else:
            rows = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
                     "dataArray": [[(EPOCH + timedelta(minutes=minute + k)).isoformat(), 10.0 + k % 7] for k in range(per_stream)]}
                    for ds in chosen]
        bodies.append(orjson.dumps(rows))
        if (b + 1) * streams_per_batch // len(datastreams) != b * streams_per_batch // len(datastreams):
            minute += per_stream  # every stream got a batch at this minute: move on
    return bodies


def bench_http(service: Service, token: str, datastreams: list[int], *, seconds: float, batch: int, compact: bool,
               start_minute: int, clients: int = 4) -> tuple[float, int, int]:
    """(observations/s, accepted, failed requests) over `seconds` with `clients` concurrent posters."""
    path = f"/api/v1/parks/{PARK}/observations" if compact else "/sta/v1.1/CreateObservations"
    estimate = int(seconds * 40_000 / batch) + clients * 2  # enough bodies for 40k obs/s
    bodies = http_batches(datastreams, batch, start_minute, estimate, compact)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    next_body = iter(bodies)
    lock = threading.Lock()
    accepted = failed = 0
    deadline = time.monotonic() + seconds

    def poster() -> None:
        nonlocal accepted, failed
        with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
            while time.monotonic() < deadline:
                with lock:
                    body = next(next_body, None)
                if body is None:
                    return
                response = client.post(path, content=body)
                with lock:
                    if response.status_code not in (200, 201):
                        failed += 1
                    elif compact:
                        accepted += response.json()["accepted"]
                    else:
                        accepted += sum(1 for link in response.json() if link != "error")

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        for future in [pool.submit(poster) for _ in range(clients)]:
            future.result()
    elapsed = time.monotonic() - started
    return accepted / elapsed, accepted, failed


# --- 2. MQTT throughput ------------------------------------------------------------------------

class LoadPublisher:
    """A QoS 1 device load generator on twin's MQTT wire codec (paho would cost the shared cores more
    than the service it loads); keeps at most the broker's receive maximum unacknowledged."""

    def __init__(self, port: int, name: str) -> None:
        self.link = Connection("127.0.0.1", port, f"bench-{name}-{os.getpid()}", clean_start=True).open()
        self.window = min(self.link.server_receive_maximum, 2_000)
        self.sent = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            while True:
                self.link.receive()
        except (MqttError, OSError):
            pass

    def publish(self, items: list[tuple[str, bytes]], *, chunk: int = 200) -> None:
        """Publish all items, as fast as acknowledgements allow."""
        chunk = max(1, min(chunk, self.window))
        for start in range(0, len(items), chunk):
            part = items[start:start + chunk]
            while self.sent + len(part) - self.link.acknowledged > self.window:
                time.sleep(0.0005)
            self.link.publish_many(publish_packet(topic, payload, qos=1, packet_id=(self.sent + i) % 65_535 + 1)
                                   for i, (topic, payload) in enumerate(part))
            self.sent += len(part)

    def drain(self, timeout: float = 60) -> None:
        wait_until(lambda: self.link.acknowledged >= self.sent, timeout, "PUBACKs")

    def close(self) -> None:
        self.link.close()


def bench_mqtt(broker: Broker, engine: Any, datastreams: list[int], *, messages: int, start_minute: int) -> dict[str, float]:
    """Publish `messages` QoS 1 observations as fast as the broker acknowledges; time until all are stored."""
    payloads = []
    for i in range(messages):
        ds = datastreams[i % len(datastreams)]
        minute = start_minute + i // len(datastreams)
        payloads.append((f"v1.1/Datastreams({ds})/Observations",
                         orjson.dumps({"phenomenonTime": (EPOCH + timedelta(minutes=minute)).isoformat(), "result": float(i % 100)})))
    before = stored_count(engine)
    publisher = LoadPublisher(broker.port, "load")
    started = time.monotonic()
    publisher.publish(payloads)
    publisher.drain()
    published_s = time.monotonic() - started
    deadline = time.monotonic() + 120
    stored = 0
    while time.monotonic() < deadline:
        stored = stored_count(engine) - before
        if stored >= messages:
            break
        time.sleep(0.05)
    stored_s = time.monotonic() - started
    publisher.close()
    return {"published_per_s": messages / published_s, "stored": stored, "stored_per_s": stored / stored_s}


# --- 3. latency --------------------------------------------------------------------------------

def bench_latency(service: Service, broker: Broker, token: str, datastreams: list[int], *, seconds: float,
                  rate_hz: float = 1.0) -> dict[str, list[float]]:
    """1,000 sensors × 1 Hz; latency = arrival − send time (carried as the result) for MQTT and SSE."""
    mqtt_ms: list[float] = []
    sse_ms: list[float] = []
    stop = threading.Event()
    subscriber = Connection("127.0.0.1", broker.port, f"bench-sub-{os.getpid()}", clean_start=True).open()
    subscriber.subscribe(["v1.1/+/Observations"], qos=0)

    def read_mqtt() -> None:
        try:
            while not stop.is_set():
                for message in subscriber.receive():
                    if ORIGIN_PROPERTY in message.properties:  # the service's re-publication
                        sent = orjson.loads(message.payload)["result"]
                        if isinstance(sent, float) and sent > 1e9:  # one of this phase's readings
                            mqtt_ms.append((time.time() - sent) * 1000)
        except (MqttError, OSError):
            pass

    def read_sse() -> None:
        url = f"{service.url}/api/v1/parks/{PARK}/live?types=reading&access_token={token}"
        with httpx.Client(timeout=httpx.Timeout(60, read=60)) as client, client.stream("GET", url) as response:
            for line in response.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("data: "):
                    sent = orjson.loads(line[6:])["value"]
                    if isinstance(sent, float) and sent > 1e9:
                        sse_ms.append((time.time() - sent) * 1000)

    for reader in (read_mqtt, read_sse):
        threading.Thread(target=reader, daemon=True).start()
    time.sleep(1.0)
    publisher = LoadPublisher(broker.port, "lat")
    tick = 0.05  # the sensors' readings spread over each second
    per_tick = len(datastreams) * rate_hz * tick
    started = time.monotonic()
    credit, index, step = 0.0, 0, 0
    while time.monotonic() - started < seconds:
        credit += per_tick
        burst = []
        while credit >= 1:
            ds = datastreams[index % len(datastreams)]
            now = time.time()
            burst.append((f"v1.1/Datastreams({ds})/Observations",
                          orjson.dumps({"phenomenonTime": datetime.fromtimestamp(now, UTC).isoformat(), "result": now})))
            index += 1
            credit -= 1
        publisher.publish(burst, chunk=10)  # each device sends its own message: no big writes
        step += 1
        time.sleep(max(0.0, started + step * tick - time.monotonic()))
    time.sleep(1.0)
    stop.set()
    subscriber.close()
    publisher.close()
    return {"mqtt": mqtt_ms, "sse": sse_ms, "sent": [float(index)]}


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --- 4 and 5. queries --------------------------------------------------------------------------

_BUILDING_LATEST_SQL = text("""
SELECT a.code, d.id, l.phenomenon_time, l.result_number, l.result_json
FROM features f JOIN assets a ON a.feature_id = f.id OR a.feature_id IN (SELECT id FROM features WHERE parent_id = f.id)
JOIN datastreams d ON d.thing_id = a.id JOIN datastream_latest l ON l.datastream_id = d.id
WHERE f.park_id = (SELECT id FROM parks WHERE slug = :park) AND f.code = 'B01'
""")


def timed_ms(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def fill_month(factory: sessionmaker[Session], datastream: int) -> datetime:
    """30 days × 1/min (43,200 observations) for one stream; returns the first time."""
    start = EPOCH + timedelta(days=400)
    rows = [{"datastream_id": datastream, "phenomenon_time": start + timedelta(minutes=m), "result": 50 + 30 * ((m % 1440) / 1440)}
            for m in range(30 * 24 * 60)]
    for i in range(0, len(rows), 5_000):
        with factory() as session, session.begin():
            insert_observations(session, rows[i:i + 5_000])
    return start


# --- main --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each HTTP phase")
    parser.add_argument("--batch", type=int, default=2_000, help="observations per HTTP request")
    parser.add_argument("--mqtt-messages", type=int, default=50_000)
    parser.add_argument("--latency-seconds", type=float, default=30.0)
    parser.add_argument("--devices", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv or [])  # `python -m bench ingest` calls main() with no arguments
    url = os.environ.get("TWIN_BENCH_DATABASE_URL", DEFAULT_URL)

    print(f"set-up: database {url.rsplit('/', 1)[-1]}, {args.devices} meters, uvicorn × {args.workers} workers, private Mosquitto; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (other work on the machine lowers the obs/s figures)")
    datastreams, token = set_up_database(url, args.devices)
    engine = create_engine(url)
    broker = Broker()
    service = Service(url, broker, args.workers)
    results: dict[str, float] = {}
    try:
        time.sleep(2)  # consumers subscribe
        bench_http(service, token, datastreams, seconds=2, batch=args.batch, compact=True, start_minute=3 * 10**6)  # warm-up
        meter = CpuMeter(service, broker, engine, url.rsplit("/", 1)[-1])
        before = meter.sample()
        rate, accepted, failed = bench_http(service, token, datastreams, seconds=args.seconds, batch=args.batch, compact=False, start_minute=0)
        results["http_sta"] = rate
        print(f"HTTP STA dataArray      {rate:>9,.0f} obs/s  ({accepted:,} stored, {failed} failed requests, batches of {args.batch})")
        print(f"    {meter.report(before, (before := meter.sample()), accepted)}")
        rate, accepted, failed = bench_http(service, token, datastreams, seconds=args.seconds, batch=args.batch, compact=True, start_minute=10**6)
        results["http_compact"] = rate
        print(f"HTTP compact batch      {rate:>9,.0f} obs/s  ({accepted:,} stored, {failed} failed requests)")
        print(f"    {meter.report(before, (before := meter.sample()), accepted)}")
        mqtt_result = bench_mqtt(broker, engine, datastreams, messages=args.mqtt_messages, start_minute=2 * 10**6)
        results["mqtt"] = mqtt_result["stored_per_s"]
        print(f"MQTT QoS 1 → stored     {mqtt_result['stored_per_s']:>9,.0f} msg/s  ({mqtt_result['stored']:,.0f} of {args.mqtt_messages:,} stored; "
              f"broker took {mqtt_result['published_per_s']:,.0f} msg/s)")
        print(f"    {meter.report(before, meter.sample(), int(mqtt_result['stored']))}")
        latency = bench_latency(service, broker, token, datastreams, seconds=args.latency_seconds)
        for channel in ("mqtt", "sse"):
            values = latency[channel]
            results[f"{channel}_p95"] = percentile(values, 0.95)
            print(f"latency {channel.upper():4} ({len(values):,} of {latency['sent'][0]:,.0f} sent; 1,000 sensors × 1 Hz, {args.latency_seconds:.0f} s) "
                  f"p50 {percentile(values, 0.5):.0f} ms, p95 {percentile(values, 0.95):.0f} ms")
        def building_latest() -> list[Any]:
            with engine.connect() as connection:
                return connection.execute(_BUILDING_LATEST_SQL, {"park": PARK}).all()

        building_ms, building_rows = timed_ms(building_latest, 20)
        print(f"latest values, building B01 ({len(building_rows)} devices, SQL): {building_ms:.1f} ms (median of 20)")
        headers = {"Authorization": f"Bearer {token}"}
        state_ms, state = timed_ms(lambda: httpx.get(f"{service.url}/api/v1/parks/{PARK}/assets/state", headers=headers, timeout=30).json(), 10)
        print(f"asset states, whole park ({len(state['assets'])} devices, HTTP): {state_ms:.1f} ms (median of 10)")
        factory = sessionmaker(bind=engine)
        started = time.perf_counter()
        first = fill_month(factory, datastreams[0])
        print(f"30 days × 1/min for one stream: 43,200 observations stored in {time.perf_counter() - started:.1f} s")
        params = {"interval": "15min", "from": first.isoformat(), "to": (first + timedelta(days=30)).isoformat(), "func": "avg,min,max,count"}
        aggregate_url = f"{service.url}/sta/v1.1/Datastreams({datastreams[0]})/Observations/aggregate"
        aggregate_ms, aggregate = timed_ms(lambda: httpx.get(aggregate_url, params=params, headers=headers, timeout=30), 5)
        buckets = len(aggregate.json().get("value", aggregate.json().get("buckets", []))) if aggregate.status_code == 200 else 0
        print(f"30-day 15-minute aggregate (HTTP, STA extension): {aggregate_ms:.1f} ms, {buckets} buckets (status {aggregate.status_code})")
    finally:
        try:
            service.stop()
        finally:
            broker.stop()
            engine.dispose()
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print()
    print(f"goals: HTTP ≥ 20,000 obs/s: {'met' if max(results['http_sta'], results['http_compact']) >= 20_000 else 'NOT met'}; "
          f"MQTT ≥ 5,000 msg/s: {'met' if results['mqtt'] >= 5_000 else 'NOT met'}; "
          f"p95 < 200 ms: {'met' if results['mqtt_p95'] < 200 else 'NOT met'} (MQTT), {'met' if results['sse_p95'] < 200 else 'NOT met'} (SSE)")
    print(f"ratio to ThingsBoard's published {THINGSBOARD_MSG_S:,} msg/s (2 vCPU, PostgreSQL + Kafka): "
          f"MQTT {results['mqtt'] / THINGSBOARD_MSG_S:.2f}×, HTTP batch {max(results['http_sta'], results['http_compact']) / THINGSBOARD_MSG_S:.2f}×")


if __name__ == "__main__":
    main(sys.argv[1:])
