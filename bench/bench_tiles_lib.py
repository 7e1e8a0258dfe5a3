"""Throughput of the pure tiles library: lon/lat -> ENU, extrude, GLB + tileset on 100,000 seeded footprints.

Footprints are rectangles and L-shapes (half each) scattered over 10 km x 10 km around Chengdu in
WGS84 lon/lat, with five typed properties. The path is the recommended one: 3D ENU footprints
(lonlat_geometries_to_enu) extruded along the local vertical (origin=...), tiled into a
DirectorySink. Prints features/s per stage and end to end (one process, one thread).
Run: .venv/bin/python bench/bench_tiles_lib.py [--features N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np
import shapely

from tiles.enu import Origin, lonlat_geometries_to_enu
from tiles.extrude import extrude_footprints
from tiles.sink import DirectorySink
from tiles.tileset import build_tileset, write_tileset


ORIGIN = Origin(104.06, 30.67, 500.0)


def random_footprints(n: int, seed: int = 42) -> tuple[list[shapely.Polygon], np.ndarray]:
    """n rectangles / L-shapes (alternating) in a 10 km square of lon/lat around ORIGIN, heights 3..120 m."""
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(-5000, 5000, n), rng.uniform(-5000, 5000, n)
    w, d = rng.uniform(8, 60, n), rng.uniform(8, 60, n)
    cut_w, cut_d = w * rng.uniform(0.3, 0.7, n), d * rng.uniform(0.3, 0.7, n)
    polygons = []
    for i in range(n):
        if i % 2:
            polygons.append(shapely.box(x0[i], y0[i], x0[i] + w[i], y0[i] + d[i]))
        else:
            x, y = x0[i], y0[i]
            polygons.append(shapely.Polygon([
                (x, y), (x + w[i], y), (x + w[i], y + cut_d[i]), (x + cut_w[i], y + cut_d[i]),
                (x + cut_w[i], y + d[i]), (x, y + d[i]),
            ]))
    # metres -> degrees about the origin (a local approximation is fine for test data)
    scale = [1.0 / (111_320.0 * np.cos(np.radians(ORIGIN.lat))), 1.0 / 110_574.0]
    polygons = shapely.transform(np.array(polygons, dtype=object), lambda xy: xy * scale + [ORIGIN.lon, ORIGIN.lat])
    return list(polygons), rng.uniform(3, 120, n)


def pygltflib_reference(tile_bytes: list[bytes]) -> tuple[float, float]:
    """CPU seconds to re-serialise the same tiles through pygltflib (from_dict + save_to_bytes) vs our packer.

    Only the container step (our `pack_glb`) is compared; pygltflib would also need its objects built.
    """
    import pygltflib

    from tiles.glb import pack_glb
    from tiles.glb_read import split_glb

    parsed = [split_glb(data) for data in tile_bytes]
    start = time.process_time()
    for gltf, binary in parsed:
        document = pygltflib.GLTF2().from_dict(gltf)
        document.set_binary_blob(binary)
        b"".join(document.save_to_bytes())
    theirs = time.process_time() - start
    start = time.process_time()
    for gltf, binary in parsed:
        pack_glb(gltf, binary)
    return theirs, time.process_time() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the fastest is reported (shared machines)")
    args = parser.parse_args(argv or [])  # `python -m bench` calls main() with its own argv
    n = args.features
    polygons, heights = random_footprints(n)
    keys = [f"b{i}" for i in range(n)]
    properties = [
        {"name": f"Building {i}", "height": float(heights[i]), "building:levels": int(heights[i] // 3),
         "heritage": bool(i % 7 == 0), "use": None if i % 5 == 0 else "office"}
        for i in range(n)
    ]

    best_wall: list[float] | None = None
    best_cpu: list[float] | None = None
    for _ in range(args.repeat):
        marks = [(time.perf_counter(), time.process_time())]
        footprints = lonlat_geometries_to_enu(ORIGIN, polygons, ORIGIN.height)
        marks.append((time.perf_counter(), time.process_time()))
        meshes = extrude_footprints(footprints, np.zeros(n), heights, keys, properties, origin=ORIGIN)
        marks.append((time.perf_counter(), time.process_time()))
        with tempfile.TemporaryDirectory() as out:
            sink = DirectorySink(out)
            tileset = build_tileset(meshes, origin=ORIGIN, sink=sink, max_features_per_tile=500)
            write_tileset(tileset, out)
            marks.append((time.perf_counter(), time.process_time()))
            size_mb = sum(p.stat().st_size for p in sink.content_dir.iterdir()) / 1e6
            sample = [p.read_bytes() for p in sorted(sink.content_dir.iterdir())[:20]]
        for which, best in ((0, "wall"), (1, "cpu")):
            stages = [marks[i + 1][which] - marks[i][which] for i in range(3)] + [marks[3][which] - marks[0][which]]
            if best == "wall":
                best_wall = stages if best_wall is None else [min(a, b) for a, b in zip(best_wall, stages)]
            else:
                best_cpu = stages if best_cpu is None else [min(a, b) for a, b in zip(best_cpu, stages)]
    vertices = sum(m.positions.shape[0] for m in meshes)
    print(f"features            {n:,}  ({vertices:,} vertices, {tileset['extras']['parktwin']['tileCount']} tiles, "
          f"{size_mb:.1f} MB GLB)")
    assert best_wall is not None and best_cpu is not None
    print(f"best of {args.repeat} runs, one thread (CPU time is the steadier figure on a busy machine)")
    print(f"{'stage':<18}{'wall s':>8}{'cpu s':>8}{'features/s (cpu)':>20}")
    labels = ("lon/lat -> ENU", "extrude", "glb + tileset", "end to end")
    for label, wall, cpu in zip(labels, best_wall, best_cpu):
        print(f"{label:<18}{wall:8.2f}{cpu:8.2f}{n / cpu:20,.0f}")
    theirs, ours = pygltflib_reference(sample)
    print(f"reference: GLB container for {len(sample)} tiles: pygltflib {theirs * 1000:.0f} ms CPU, "
          f"tiles.glb.pack_glb {ours * 1000:.0f} ms (x{theirs / max(ours, 1e-9):.0f})")


if __name__ == "__main__":
    main(sys.argv[1:])
