"""SensorThings API: batched $expand, latest values, aggregation and dataArray over HTTP, each against its naive twin.

    .venv/bin/python bench/bench_sta.py [--things 200] [--readings 250] [--runs 5]

Uses its own database (TWIN_BENCH_DATABASE_URL, default parktwin_bench_sta), created and migrated if missing.

Seeds a throw-away park of N air-quality stations (4 Datastreams each, seeded like the demo) with
`--readings` observations per Datastream, serves the app with uvicorn on a free port and times, in
the same run, each request against what a client does without it:
- `Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)` (one query per level)
  vs. one `Datastreams(id)/Observations?$top=1` request per Datastream (N+1 from the client);
- `Latest?park=` (datastream_latest) vs. the same answer through $expand;
- `Observations/aggregate?interval=1h` vs. fetching the Datastream's observations and averaging in Python;
- `CreateObservations` (dataArray, one request) vs. one POST per Observation, in observations per second.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from geoalchemy2.shape import from_shape  # noqa: E402
from shapely.geometry import Point  # noqa: E402
from sqlalchemy import Engine, delete, insert, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.bench_ogc import serve_in_thread  # noqa: E402
from twin.db.models import ApiToken, Asset, Datastream, Park  # noqa: E402

DATABASE = "parktwin_bench_sta"
SLUG = "bench-sta"
ORIGIN = (104.20, 30.70)  # away from the demo park, in Chengdu
START = datetime(2026, 1, 1, tzinfo=UTC)
YEAR_START = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_READINGS = 365 * 24 * 6


def seed(session: Session, *, things: int, readings: int) -> tuple[int, list[int]]:
    """The park, its stations (seeded Datastreams) and `readings` observations per Datastream; (park id, datastream ids)."""
    from twin.integration.ingest import insert_observations
    from twin.integration.sta.seed import seed_demo_datastreams

    park = Park(slug=SLUG, name="基准园区 STA", name_en="SensorThings benchmark park", city="成都")
    session.add(park)
    session.flush()
    session.execute(insert(Asset), [
        {"park_id": park.id, "code": f"AQ-{i:04d}", "kind": "air_quality_sensor", "name": f"空气站 {i}",
         "geom": from_shape(Point(ORIGIN[0] + (i % 20) * 0.0005, ORIGIN[1] + (i // 20) * 0.0005), srid=4326), "height": 2.0, "properties": {}}
        for i in range(things)
    ])
    seed_demo_datastreams(session, park)
    ids = list(session.scalars(select(Datastream.id).join(Asset, Asset.id == Datastream.thing_id).where(Asset.park_id == park.id).order_by(Datastream.id)))
    batch: list[dict[str, object]] = []
    for ds in ids:
        for k in range(readings):
            batch.append({"datastream_id": ds, "phenomenon_time": START + timedelta(minutes=5 * k), "result": 10 + (ds * 7 + k * 13) % 50 / 2})
            if len(batch) >= 20_000:
                insert_observations(session, batch)
                batch = []
    # One station reported every 10 minutes through 2025: a year-long series to aggregate.
    year = [{"datastream_id": ids[0], "phenomenon_time": YEAR_START + timedelta(minutes=10 * k), "result": 20 + (k * 17) % 40 / 4} for k in range(YEAR_READINGS)]
    for start in range(0, len(year), 20_000):
        batch.extend(year[start : start + 20_000])
        insert_observations(session, batch)
        batch = []
    if batch:
        insert_observations(session, batch)
    return park.id, ids


def median_time(action: Callable[[], object], runs: int) -> float:
    """Median seconds of `action` after one warm-up call."""
    action()
    seconds = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main(argv: list[str] | None = None) -> None:
    """Seed, serve, time, print the figures, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--things", type=int, default=200)
    parser.add_argument("--readings", type=int, default=250)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv or [])  # `python -m bench sta` calls main() with no arguments

    from bench.common import bench_app, bench_database
    from twin.access.tokens import create_token

    app = bench_app(bench_database(DATABASE))
    engine: Engine = app.state.engine
    with Session(engine) as session, session.begin():
        session.execute(delete(Park).where(Park.slug == SLUG))
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        park_id, datastreams = seed(session, things=args.things, readings=args.readings)
        token_row, token = create_token(session, name="bench sta", role="integrator", park_id=park_id)
        token_id = token_row.id
    total = len(datastreams) * args.readings + YEAR_READINGS
    print(f"seeded {args.things} stations, {len(datastreams)} Datastreams, {total:,} Observations in {time.perf_counter() - started:.1f} s")
    headers = {"Authorization": f"Bearer {token}"}
    try:
        with serve_in_thread(app) as base_url, httpx.Client(base_url=f"{base_url}/sta/v1.1", headers=headers, timeout=120) as http:
            _measure(http, datastreams, args.runs)
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(Park).where(Park.id == park_id))
            session.execute(delete(ApiToken).where(ApiToken.id == token_id))


def _get(http: httpx.Client, url: str, **params: str) -> dict:
    response = http.get(url, params=params)
    response.raise_for_status()
    return response.json()


def _measure(http: httpx.Client, datastreams: list[int], runs: int) -> None:
    n = len(datastreams)
    newest = {"$top": str(n), "$select": "id,name", "$expand": "Observations($top=1;$orderby=phenomenonTime desc;$select=result,phenomenonTime)"}
    expand_s = median_time(lambda: _get(http, "/Datastreams", **newest), runs)

    def client_side_n_plus_one() -> None:
        ids = [d["@iot.id"] for d in _get(http, "/Datastreams", **{"$top": str(n), "$select": "id"})["value"]]
        for ds in ids:
            _get(http, f"/Datastreams({ds})/Observations", **{"$top": "1", "$orderby": "phenomenonTime desc"})

    naive_s = median_time(client_side_n_plus_one, max(1, runs // 3))
    print(f"newest observation of {n} Datastreams: $expand {expand_s * 1000:.0f} ms vs {n + 1} requests {naive_s * 1000:.0f} ms → {naive_s / expand_s:.0f}× faster")

    latest_s = median_time(lambda: _get(http, "/Latest", park=SLUG), runs)
    print(f"  /Latest?park= (datastream_latest, with Thing and ObservedProperty inline) {latest_s * 1000:.0f} ms = {latest_s / expand_s:.1f}× the $expand time")

    ds = datastreams[0]
    span = {"from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}
    aggregate_s = median_time(lambda: _get(http, f"/Datastreams({ds})/Observations/aggregate", interval="1d", func="avg,min,max,count", **span), runs)

    def client_side_average() -> None:
        """Page through the year (nextLink) and average per day in Python."""
        days: dict[str, list[float]] = {}
        page = _get(http, f"/Datastreams({ds})/Observations", **{"$top": "10000", "$select": "phenomenonTime,result",
                                                                 "$filter": "phenomenonTime lt 2026-01-01T00:00:00Z"})
        while True:
            for row in page["value"]:
                days.setdefault(row["phenomenonTime"][:10], []).append(row["result"])
            if "@iot.nextLink" not in page:
                break
            page = http.get(page["@iot.nextLink"]).raise_for_status().json()
        [(statistics.mean(v), min(v), max(v), len(v)) for v in days.values()]

    fetch_s = median_time(client_side_average, max(1, runs // 2))
    print(f"daily avg/min/max/count over a year of 10-minute readings ({YEAR_READINGS:,}): aggregate {aggregate_s * 1000:.0f} ms "
          f"vs paging + averaging in Python {fetch_s * 1000:.0f} ms → {fetch_s / aggregate_s:.1f}× faster")

    geo = "st_within(Locations/location, geography'POLYGON((104.2 30.7, 104.205 30.7, 104.205 30.705, 104.2 30.705, 104.2 30.7))')"
    geo_s = median_time(lambda: _get(http, "/Things", **{"$filter": geo, "$top": "1000", "$count": "true"}), runs)
    print(f"Things st_within a polygon (with $count): {geo_s * 1000:.0f} ms")

    rows = 10_000
    array_start = datetime(2027, 1, 1, tzinfo=UTC)
    body = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"],
             "dataArray": [[(array_start + timedelta(seconds=i)).isoformat(), i % 97 / 3] for i in range(rows)]}]
    started = time.perf_counter()
    response = http.post("/CreateObservations", json=body)
    response.raise_for_status()
    array_s = time.perf_counter() - started
    singles = 300
    started = time.perf_counter()
    for i in range(singles):
        http.post(f"/Datastreams({ds})/Observations", json={"phenomenonTime": (array_start + timedelta(days=1, seconds=i)).isoformat(), "result": i}).raise_for_status()
    single_s = time.perf_counter() - started
    array_rate, single_rate = rows / array_s, singles / single_s
    print(f"CreateObservations (dataArray) {array_rate:,.0f} obs/s vs single POSTs {single_rate:,.0f} obs/s → {array_rate / single_rate:.0f}×")


if __name__ == "__main__":
    main(sys.argv[1:])
