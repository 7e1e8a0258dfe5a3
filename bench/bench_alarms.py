"""Alarms benchmark: what rule evaluation costs ingest, raising alarms, the no-data sweep, camera linkage.

    .venv/bin/python bench/bench_alarms.py [--devices 1000] [--batches 20]   (or: python -m bench alarms)

Seeds a throw-away park in its own database (TWIN_BENCH_DATABASE_URL, default parktwin_bench_alarms;
created and migrated if missing): N air-quality sensors with a PM2.5 datastream each, a threshold
rule watching them, a no-data rule, and 100 cameras around them. Figures:
1. ingest (insert_observations + commit, batches of 1,000, no value over the threshold) with the alarm
   hook, against the same without it (the reference, same run): the ratio is the hook's cost;
2. raising alarms: a batch in which 10 % of the readings cross the threshold (ms per alarm opened,
   incl. place, building/storey and linked cameras), then the same readings again (repeats);
3. the no-data sweep over N silent sensors (opens N alarms), and a second, idle sweep;
4. linked cameras of one point: ST_DWithin prefilter + `sees` against the reference of PostGIS alone
   (distance and azimuth tests for every camera in SQL).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from geoalchemy2.shape import from_shape  # noqa: E402
from shapely.geometry import Point  # noqa: E402
from sqlalchemy import create_engine, delete, insert, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from twin.db import database, migrate  # noqa: E402
from twin.db.models import Asset, Datastream, ObservedProperty, Park, Sensor  # noqa: E402
from twin.db.session import transaction  # noqa: E402
from twin.integration import ingest  # noqa: E402
from twin.integration.alarms import evaluation, nodata, placement, rules  # noqa: E402

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/parktwin_bench_alarms"
SLUG = "bench-alarms"
ORIGIN = (104.20, 30.60)
T0 = datetime(2026, 1, 1, tzinfo=UTC)

_POSTGIS_ONLY_SQL = text("""
SELECT c.code FROM assets c
WHERE c.park_id = :park AND c.kind = 'camera'
  AND ST_Distance(c.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography) <= COALESCE((c.properties->>'range_m')::float8, 30)
  AND abs(mod((degrees(ST_Azimuth(c.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography))
               - COALESCE((c.properties->>'heading_deg')::float8, 0) + 540)::numeric, 360) - 180)
      <= COALESCE((c.properties->>'fov_deg')::float8, 90) / 2
""")


def seed(factory: sessionmaker[Session], devices: int) -> tuple[int, list[int]]:
    """The park (replaced), its sensors, datastreams, rules and cameras; (park id, datastream ids)."""
    rng = random.Random(7)
    with transaction(factory) as session:
        session.execute(delete(Park).where(Park.slug == SLUG))
        park = Park(slug=SLUG, name="告警基准园区", name_en="Alarm benchmark park", center=from_shape(Point(*ORIGIN), 4326))
        session.add(park)
        session.flush()
        sensor = Sensor(park_id=park.id, name="bench", encoding_type="text/html", metadata_="-")
        prop = ObservedProperty(park_id=park.id, name="PM2.5 concentration", definition="https://smartdatamodels.org/dataModel.Environment/pm25")
        session.add_all([sensor, prop])
        session.flush()
        side = int(devices ** 0.5) + 1
        assets = [{"park_id": park.id, "code": f"AQ-{i:05d}", "kind": "air_quality_sensor", "name": f"AQ {i}",
                   "geom": f"SRID=4326;POINT({ORIGIN[0] + (i % side) * 0.0003} {ORIGIN[1] + (i // side) * 0.0003})", "height": 2.0,
                   "properties": {}} for i in range(devices)]
        ids = session.scalars(insert(Asset).returning(Asset.id), assets).all()
        cameras = [{"park_id": park.id, "code": f"CAM-{i:03d}", "kind": "camera", "name": f"CAM {i}",
                    "geom": f"SRID=4326;POINT({ORIGIN[0] + rng.uniform(0, side * 0.0003)} {ORIGIN[1] + rng.uniform(0, side * 0.0003)})",
                    "height": 6.0, "properties": {"heading_deg": rng.uniform(0, 360), "fov_deg": 70.0, "range_m": 60.0}} for i in range(100)]
        session.execute(insert(Asset), cameras)
        streams = session.scalars(insert(Datastream).returning(Datastream.id), [
            {"thing_id": a, "sensor_id": sensor.id, "observed_property_id": prop.id, "name": f"pm25 {a}",
             "observation_type": "OM_Measurement", "unit_of_measurement": {"symbol": "µg/m³"}} for a in ids]).all()
        rules.create(session, park=park, spec=rules.parse_spec({"name": "PM2.5 超标", "kind": "threshold", "severity": "major",
                     "asset_kinds": ["air_quality_sensor"], "observed_property": "PM2.5", "params": {"high": 75, "high_clear": 60}}), actor="bench")
        rules.create(session, park=park, spec=rules.parse_spec({"name": "离线", "kind": "no_data", "severity": "minor",
                     "asset_kinds": ["air_quality_sensor"], "params": {"minutes": 15}}), actor="bench")
        return park.id, list(streams)


def ingest_rate(factory: sessionmaker[Session], streams: list[int], batches: int, start: datetime, value: float) -> float:
    """Observations/s through insert_observations + commit (hooks run on commit), batches of 1,000."""
    total, started = 0, time.perf_counter()
    for b in range(batches):
        rows = [{"datastream_id": streams[(b * 1000 + i) % len(streams)], "phenomenon_time": start + timedelta(seconds=b * 1000 + i),
                 "result": value + (i % 7)} for i in range(1000)]
        with transaction(factory) as session:
            total += len(ingest.insert_observations(session, rows).accepted)
    return total / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args(argv or [])  # `python -m bench` calls main() with its own argv in sys.argv
    url = os.environ.get("TWIN_BENCH_DATABASE_URL", DEFAULT_URL)
    database.ensure_database(url)
    migrate.upgrade(url)
    engine = create_engine(url, pool_size=5)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    park_id, streams = seed(factory, args.devices)
    print(f"park: {args.devices} sensors with one PM2.5 datastream each, 100 cameras, a threshold and a no-data rule")

    # 1. ingest with and without the hook (alternating, to share the machine's mood).
    hook = evaluation.evaluate_committed
    if hook not in ingest.after_commit_hooks:
        ingest.after_commit_hooks.append(hook)
    with_hook, without = [], []
    for round_ in range(3):
        start = T0 + timedelta(days=round_ * 2)
        with_hook.append(ingest_rate(factory, streams, args.batches // 3 or 1, start, 20.0))
        ingest.after_commit_hooks.remove(hook)
        without.append(ingest_rate(factory, streams, args.batches // 3 or 1, start + timedelta(days=1), 20.0))
        ingest.after_commit_hooks.append(hook)
    a, b = statistics.median(with_hook), statistics.median(without)
    print(f"1. ingest, no alarm raised: {a:,.0f} obs/s with rule evaluation, {b:,.0f} obs/s without (reference); ratio {a / b:.2f}")

    # 2. raising: 10 % of a batch over the threshold → one alarm per datastream.
    over = streams[: len(streams) // 10]
    rows = [{"datastream_id": s, "phenomenon_time": T0 + timedelta(days=30), "result": 120.0} for s in over]
    started = time.perf_counter()
    with transaction(factory) as session:
        ingest.insert_observations(session, rows)
    raise_s = time.perf_counter() - started
    rows = [{**r, "phenomenon_time": T0 + timedelta(days=30, seconds=1)} for r in rows]
    started = time.perf_counter()
    with transaction(factory) as session:
        ingest.insert_observations(session, rows)
    repeat_s = time.perf_counter() - started
    with engine.connect() as connection:
        opened = connection.scalar(text("SELECT count(*) FROM alarms WHERE park_id = :p AND kind = 'threshold' AND state = 'active'"), {"p": park_id})
    print(f"2. {opened} alarms opened by one batch in {raise_s:.2f} s ({1000 * raise_s / max(opened, 1):.1f} ms each, place + cameras incl.); "
          f"the same readings again (repeats): {repeat_s:.2f} s ({1000 * repeat_s / max(opened, 1):.1f} ms each)")

    # 3. no-data sweep: every sensor silent 40 days later.
    later = T0 + timedelta(days=40)
    started = time.perf_counter()
    counts = nodata.sweep_committed(factory, now=later)
    first = time.perf_counter() - started
    started = time.perf_counter()
    nodata.sweep_committed(factory, now=later)
    idle = time.perf_counter() - started
    print(f"3. no-data sweep over {len(streams)} sensors: {counts['raised']} alarms opened in {first:.2f} s; idle sweep {1000 * idle:.0f} ms")

    # 4. linked cameras: ours (ST_DWithin prefilter + sees) against PostGIS alone.
    rng = random.Random(3)
    side = (int(args.devices ** 0.5) + 1) * 0.0003
    points = [(ORIGIN[0] + rng.uniform(0, side), ORIGIN[1] + rng.uniform(0, side)) for _ in range(200)]
    with factory() as session:
        started = time.perf_counter()
        ours = [placement.cameras_seeing(session, park_id=park_id, lon=x, lat=y) for x, y in points]
        ours_s = (time.perf_counter() - started) / len(points)
        started = time.perf_counter()
        reference = [sorted(session.scalars(_POSTGIS_ONLY_SQL, {"park": park_id, "lon": x, "lat": y}).all()) for x, y in points]
        reference_s = (time.perf_counter() - started) / len(points)
    agree = sum(sorted(o) == r for o, r in zip(ours, reference, strict=True))
    print(f"4. linked cameras per point: {1000 * ours_s:.2f} ms (ST_DWithin + sees), {1000 * reference_s:.2f} ms PostGIS alone (reference); "
          f"ratio {ours_s / reference_s:.2f}; same cameras for {agree}/{len(points)} points, {sum(map(len, ours))} links")
    with transaction(factory) as session:
        session.execute(delete(Park).where(Park.slug == SLUG))
    engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1:])
