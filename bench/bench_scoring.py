"""Scoring: time to score the demo park on the 2021 rubric, and the camera-coverage test at scale.

    .venv/bin/python bench/bench_scoring.py [--runs 5] [--cameras 500] [--targets 2000]   (or: python -m bench scoring)

Uses its own database (TWIN_BENCH_DATABASE_URL, default parktwin_bench_scoring), created and migrated if missing.

1. The demo park (data/demo) is loaded inside a transaction that is rolled back at the end, then
   scored `runs` times (median, after a warm-up): the whole score (70 indicators, 32 computed) and one
   indicator with map geometries. Same-run reference: reading the inputs alone (the SQL the measures
   run, without any rule), so the ratio is the cost of scoring over fetching.
2. Camera coverage on a synthetic grid of cameras and key locations (no database): the measure's
   pre-filtered test against the reference of calling twin.spatial.camera.sees for every pair.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from twin.settings import get_settings  # noqa: E402


def _median(func, runs: int) -> float:  # type: ignore[no-untyped-def]
    func()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def bench_demo(runs: int) -> None:
    from twin.pipelines.demo_load import load_demo
    from twin.scoring.inputs import ParkInputs
    from twin.scoring.rubric import load_rubric
    from twin.scoring.service import get_indicator, get_score

    from bench.common import bench_database

    url = bench_database("parktwin_bench_scoring")
    settings = get_settings().model_copy(update={"database_url": url})
    engine = create_engine(url)
    with engine.connect() as connection:
        outer = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            report = load_demo(session, demo_dir=settings.demo_dir)
            from twin.db.queries import parks

            park = parks.get_by_slug(session, slug=report.park)
            rubric = load_rubric()

            def inputs_only() -> None:
                data = ParkInputs(session, park)
                for indicator in rubric.indicators:  # the same queries the measures run, no rules
                    if indicator.measure in ("road_conduit", "building_flag", "gis_3d"):
                        data.features("road"), data.features("building")
                data.key_locations(rubric.locate("ops.camera_coverage")[2].params["categories"])
                data.junctions(1.0)
                for kind in ("camera", "meter", "elevator", "smart_pole", "ev_charger", "wifi_ap", "cell_5g", "robot"):
                    data.devices(kind)
                data.features("parking_space"), data.tenants()

            score = get_score(session, park=park, settings=settings).public()
            full = _median(lambda: get_score(session, park=park, settings=settings), runs)
            reference = _median(inputs_only, runs)
            detail = _median(lambda: get_indicator(session, park=park, settings=settings, indicator_id="ops.camera_coverage"), runs)
            print(f"demo park: total {score['total']} / {score['max']} "
                  f"({score['summary']['computed']} computed, {score['summary']['not_assessed']} not assessed)")
            print(f"full score (70 indicators):      {full * 1000:8.1f} ms  (median of {runs})")
            print(f"camera coverage with geometries: {detail * 1000:8.1f} ms")
            print(f"reference, inputs only (SQL):    {reference * 1000:8.1f} ms  → ratio score/inputs {full / reference:.2f}")
        finally:
            session.close()
            outer.rollback()
    engine.dispose()


def bench_cameras(cameras: int, targets: int) -> None:
    from twin.scoring.inputs import Device
    from twin.scoring.measures import cameras_seeing
    from twin.spatial.camera import sees

    rng = random.Random(7)
    lon0, lat0, spread = 104.06, 30.54, 0.02  # ≈ 2 km square
    devices = [Device(id=i, code=f"C{i}", kind="camera", name="c", name_en=None, lon=lon0 + rng.random() * spread,
                      lat=lat0 + rng.random() * spread, feature_code=None,
                      properties={"heading_deg": rng.uniform(0, 360), "fov_deg": rng.uniform(40, 110), "range_m": rng.uniform(20, 80)})
               for i in range(cameras)]
    points = [(lon0 + rng.random() * spread, lat0 + rng.random() * spread) for _ in range(targets)]

    def reference() -> list[list[str]]:
        return [[c.code for c in devices if sees(c.lon, c.lat, heading_deg=c.properties["heading_deg"], fov_deg=c.properties["fov_deg"],
                                                 range_m=c.properties["range_m"], target_lon=lon, target_lat=lat)] for lon, lat in points]

    assert cameras_seeing(devices, points) == reference(), "the pre-filter must not change the result"
    fast, slow = _median(lambda: cameras_seeing(devices, points), 1), _median(reference, 1)
    pairs = cameras * targets
    print(f"camera coverage {cameras} cameras × {targets} key locations ({pairs:,} pairs): {fast:.2f} s; "
          f"reference (sees on every pair) {slow:.2f} s → {slow / fast:.1f}× faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--cameras", type=int, default=500)
    parser.add_argument("--targets", type=int, default=2000)
    args, _ = parser.parse_known_args()
    bench_demo(args.runs)
    bench_cameras(args.cameras, args.targets)


if __name__ == "__main__":
    main()
