"""Benchmark gis.load_vector (file -> clean EPSG:4326 features) on the real fixtures; prints seconds and features/s.

Run: .venv/bin/python bench/gis_load.py   (no database needed; scratch files go to a temp dir)
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyogrio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gis.load import load_vector  # noqa: E402

FIXTURES = REPO.parent / "shared" / "fixtures" / "gis"
RUNS = 5


def timed(path: Path, **options) -> None:
    """Median of RUNS loads, with the time spent in each stage of the last run."""
    durations, stages = [], []
    for _ in range(RUNS):
        marks: list[tuple[float, str]] = []
        started = time.perf_counter()
        result = load_vector(path, progress=lambda m: marks.append((time.perf_counter(), m)), **options)
        durations.append(time.perf_counter() - started)
        stages = [(b[0] - a[0], a[1].split()[0]) for a, b in zip(marks, marks[1:])]
    median = statistics.median(durations)
    loaded = result.report.loaded
    print(f"{path.name:60s} {loaded:7d} features  {median:6.3f} s  {loaded / median:9,.0f} features/s")
    print("    " + ", ".join(f"{name}: {seconds * 1000:.0f} ms" for seconds, name in stages))


def main() -> None:
    timed(FIXTURES / "moscow_osm_buildings.shp")
    with tempfile.TemporaryDirectory() as scratch:
        scratch_dir = Path(scratch)
        moscow = pyogrio.read_dataframe(FIXTURES / "moscow_osm_buildings.shp")
        utm = scratch_dir / "moscow_utm37n.gpkg"
        pyogrio.write_dataframe(moscow.to_crs("EPSG:32637"), utm)
        timed(utm)  # adds a real reprojection
        for name in ("changan_university_xian_osm_export_mixed.geojson", "changan_university_xian_osm_buildings.geojson"):
            # ~19k features in the layout of the original export: Overpass-style sparse tags (mixed) or
            # QGIS-style with all 73 columns written out as null on every feature (buildings).
            data = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
            data["features"] = data["features"] * (19_000 // len(data["features"]))
            repeated = scratch_dir / name.replace(".geojson", "_x_repeated.geojson")
            repeated.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
            print(f"    ({repeated.stat().st_size / 1e6:.0f} MB GeoJSON)")
            timed(repeated)


if __name__ == "__main__":
    main()
