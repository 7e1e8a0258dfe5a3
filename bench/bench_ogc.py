"""OGC API – Features: time to serve one page of 1,000 features over HTTP.

    .venv/bin/python bench/bench_ogc.py [--features 1000] [--runs 5]   (or: python -m bench ogc)

Seeds a throw-away park of N small buildings in its own database (TWIN_BENCH_DATABASE_URL,
default parktwin_bench_ogc; created and migrated if missing), serves the app with uvicorn on a free port and
fetches /ogc/collections/<park>-buildings/items?limit=N (median of runs, after one warm-up).
Same run reference: the database alone building the same GeoJSON with json_agg (what
pg_featureserv does). Published references (NOTES): pg_featureserv 0.31 s, pygeoapi 2.81 s.
"""

from __future__ import annotations

import argparse
import math
import socket
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
from sqlalchemy import Engine, delete, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from twin.db.models import ApiToken, Feature, Layer, Park  # noqa: E402

DATABASE = "parktwin_bench_ogc"
REFERENCE_S = {"pg_featureserv": 0.31, "pygeoapi": 2.81}
GRID_ORIGIN = (104.10, 30.60)  # away from the demo park, in Chengdu
CELL_DEG = 0.0002  # ≈ 20 m


def seed_grid_park(session: Session, *, slug: str, count: int) -> Park:
    """A park of `count` square buildings (≈ 15 m, heights 3–60 m) on a grid, committed by the caller."""
    park = Park(slug=slug, name=f"基准园区 {slug}", name_en=f"Benchmark park {slug}", city="成都")
    session.add(park)
    session.flush()
    layer = Layer(park_id=park.id, slug="buildings", name="建筑", name_en="Buildings", category="buildings", source_crs="EPSG:4326")
    session.add(layer)
    session.flush()
    side = math.ceil(math.sqrt(count))
    rows = []
    for i in range(count):
        x0, y0 = GRID_ORIGIN[0] + (i % side) * CELL_DEG, GRID_ORIGIN[1] + (i // side) * CELL_DEG
        x1, y1 = x0 + CELL_DEG * 0.75, y0 + CELL_DEG * 0.75
        rows.append({
            "park_id": park.id, "layer_id": layer.id, "code": f"G{i:05d}", "kind": "building",
            "name": f"基准楼 {i}", "name_en": f"Benchmark building {i}",
            "geom": f"SRID=4326;POLYGON(({x0} {y0},{x1} {y0},{x1} {y1},{x0} {y1},{x0} {y0}))",
            "base_height": 0.0, "top_height": 3.0 + (i % 20) * 3.0, "height_source": "attribute:height",
            "storeys": 1 + i % 20, "properties": {"use": "office" if i % 2 else "plant", "grid_index": i},
        })
    session.execute(insert(Feature), rows)
    return park


def drop_park(session: Session, *, slug: str) -> None:
    """Remove a seeded park and everything under it (cascades)."""
    session.execute(delete(Park).where(Park.slug == slug))


def free_port() -> int:
    """A TCP port nothing listens on now (never 8000)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_in_thread(app: object) -> Iterator[str]:
    """Run the ASGI app with uvicorn in a daemon thread; yields its base URL, stops it after."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def time_page(base_url: str, collection: str, *, token: str, limit: int, runs: int) -> tuple[float, int]:
    """Median seconds to GET one page of `limit` items (after a warm-up), and the items returned."""
    url = f"{base_url}/ogc/collections/{collection}/items"
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/geo+json"}
    with httpx.Client(timeout=60) as http:
        http.get(url, params={"limit": limit}, headers=headers).raise_for_status()
        seconds, returned = [], 0
        for _ in range(runs):
            started = time.perf_counter()
            response = http.get(url, params={"limit": limit}, headers=headers)
            response.raise_for_status()
            returned = len(response.json()["features"])
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), returned


def time_database_only(engine: Engine, park_id: int, *, limit: int, runs: int) -> float:
    """Median seconds for PostGIS alone to build the same FeatureCollection (json_agg), fetched as text."""
    sql = text(
        "SELECT json_build_object('type','FeatureCollection','features', json_agg(f))::text FROM ("
        " SELECT 'Feature' AS type, code AS id, ST_AsGeoJSON(geom, 7)::json AS geometry,"
        " properties || jsonb_build_object('code', code, 'name', name, 'base_height', base_height, 'top_height', top_height) AS properties"
        " FROM features WHERE park_id = :park AND kind = 'building' ORDER BY id LIMIT :limit) f"
    )
    seconds = []
    with engine.connect() as connection:
        connection.execute(sql, {"park": park_id, "limit": limit})
        for _ in range(runs):
            started = time.perf_counter()
            connection.execute(sql, {"park": park_id, "limit": limit}).scalar_one()
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def main(argv: list[str] | None = None) -> None:
    """Seed, serve, time, print the figures, clean up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv or [])  # `python -m bench ogc` calls main() with no arguments

    from bench.common import bench_app, bench_database
    from twin.access.tokens import create_token

    app = bench_app(bench_database(DATABASE))
    engine: Engine = app.state.engine
    slug = "bench-ogc"
    with Session(engine) as session, session.begin():
        drop_park(session, slug=slug)
        park = seed_grid_park(session, slug=slug, count=args.features)
        token_row, token = create_token(session, name="bench ogc", role="viewer", park_id=park.id)
        park_id, token_id = park.id, token_row.id
    try:
        with serve_in_thread(app) as base_url:
            api_s, returned = time_page(base_url, f"{slug}-buildings", token=token, limit=args.features, runs=args.runs)
        db_s = time_database_only(engine, park_id, limit=args.features, runs=args.runs)
    finally:
        with Session(engine) as session, session.begin():
            drop_park(session, slug=slug)
            session.execute(delete(ApiToken).where(ApiToken.id == token_id))
    print(f"OGC API – Features, one page of {returned} features over HTTP: {api_s:.3f} s ({returned / api_s:,.0f} items/s)")
    print(f"  same run, PostGIS alone (json_agg, no HTTP): {db_s:.3f} s → ParkTwin/PostGIS ratio {api_s / db_s:.1f}×")
    for name, seconds in REFERENCE_S.items():
        print(f"  reference {name} (NOTES, 1,000 features): {seconds:.2f} s → ParkTwin is {seconds / api_s:.1f}× {'faster' if api_s < seconds else 'slower'}")


if __name__ == "__main__":
    main(sys.argv[1:])
