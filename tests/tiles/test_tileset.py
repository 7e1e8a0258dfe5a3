"""Tileset structure: tree, bounding boxes, geometric error, exactly-once features, sinks, broken tilesets."""

from __future__ import annotations

import copy
import json
import struct
from collections import Counter

import numpy as np
import pytest
import shapely

from tiles.enu import Origin, enu_to_ecef_matrix
from tiles.errors import TilesError
from tiles.extrude import extrude_footprints
from tiles.glb import pack_glb
from tiles.sink import DirectorySink, MemorySink
from tiles.tileset import build_tileset, write_tileset
from tiles.validate import check_tileset, collect_keys, decode_glb, iter_tiles, validate_glb

from .conftest import random_footprints, requires_validator

ORIGIN = Origin(104.0657, 30.6595, 500.0)
N_FEATURES = 2000
LIMIT = 100


@pytest.fixture(scope="module")
def random_park() -> tuple[dict, MemorySink, list]:
    polygons, heights = random_footprints(N_FEATURES, seed=7, spread=3000)
    rows = [{"height": float(h), "volume": float(p.area * h)} for p, h in zip(polygons, heights)]
    meshes = extrude_footprints(polygons, np.zeros(N_FEATURES), heights, [f"f{i}" for i in range(N_FEATURES)], rows)
    sink = MemorySink()
    calls: list[tuple[int, int]] = []
    tileset = build_tileset(meshes, origin=ORIGIN, sink=sink, max_features_per_tile=LIMIT,
                            progress=lambda done, total: calls.append((done, total)))
    return tileset, sink, calls


def contents(tileset: dict, sink: MemorySink) -> list[tuple[dict, int, dict]]:
    return [(tile, depth, decode_glb(sink.get(tile["content"]["uri"]))) for tile, depth in iter_tiles(tileset)]


def test_random_park_passes_structure_checks(random_park) -> None:
    tileset, sink, _ = random_park
    assert check_tileset(tileset, sink.get) == []
    assert tileset["asset"]["version"] == "1.1"
    assert tileset["root"]["refine"] == "ADD"
    np.testing.assert_allclose(np.array(tileset["root"]["transform"]).reshape(4, 4).T, enu_to_ecef_matrix(ORIGIN))


def test_every_feature_exactly_once_and_tiles_within_limit(random_park) -> None:
    tileset, sink, _ = random_park
    keys = collect_keys(tileset, sink.get)
    assert Counter(keys) == Counter(f"f{i}" for i in range(N_FEATURES))
    decoded = contents(tileset, sink)
    assert all(0 < d["count"] <= LIMIT for _, _, d in decoded)
    assert max(depth for _, depth, _ in decoded) >= 2  # coarse levels exist


def test_geometric_error_decreases_and_parents_hold_the_biggest(random_park) -> None:
    tileset, sink, _ = random_park
    root = tileset["root"]
    assert tileset["geometricError"] >= root["geometricError"] > 0

    def walk(tile: dict) -> list[float]:
        """Volumes of all features below `tile` (exclusive), checking the parent rule on the way."""
        own = decode_glb(sink.get(tile["content"]["uri"]))["properties"]["volume"]
        below: list[float] = []
        for child in tile.get("children", []):
            assert child["geometricError"] <= tile["geometricError"]
            below += decode_glb(sink.get(child["content"]["uri"]))["properties"]["volume"] + walk(child)
        if not tile.get("children"):
            assert tile["geometricError"] == 0
        else:
            assert tile["geometricError"] > 0
            # footprint area x height is close to (not equal to) the box volume used for ranking: L-shapes
            assert np.median(own) > np.median(below)
        return below

    walk(root)


def test_progress_reports_every_tile(random_park) -> None:
    tileset, _, calls = random_park
    total = sum(1 for _ in iter_tiles(tileset))
    assert calls == [(i, total) for i in range(1, total + 1)]


@requires_validator
def test_all_tiles_pass_the_khronos_validator(random_park) -> None:
    tileset, sink, _ = random_park
    uris = [tile["content"]["uri"] for tile, _ in iter_tiles(tileset)]
    for report in validate_glb([sink.get(u) for u in uris]):
        assert report["errors"] == 0 and report["warnings"] == 0, report["messages"][:5]


def broken(tileset: dict, change) -> dict:
    copied = copy.deepcopy(tileset)
    change(copied)
    return copied


def first_child(tileset: dict) -> dict:
    return tileset["root"]["children"][0]


@pytest.mark.parametrize(
    ("name", "change", "expected"),
    [
        ("child box outside parent", lambda t: first_child(t)["boundingVolume"]["box"].__setitem__(0, 1e5), "out of its parent"),
        ("increasing geometric error", lambda t: first_child(t).__setitem__("geometricError", 1e9), "larger than its parent"),
        ("missing uri", lambda t: first_child(t)["content"].__setitem__("uri", "content/missing.glb"), "does not resolve"),
        ("wrong version", lambda t: t["asset"].__setitem__("version", "1.0"), "asset.version"),
        ("negative error", lambda t: t["root"].__setitem__("geometricError", -1), "non-negative"),
        ("content box too small", lambda t: first_child(t)["content"]["boundingVolume"]["box"].__setitem__(3, 0.5), "outside its content"),
        ("bad refine", lambda t: t["root"].__setitem__("refine", "MERGE"), "refine"),
    ],
)
def test_broken_tilesets_fail(random_park, name, change, expected) -> None:
    tileset, sink, _ = random_park
    problems = check_tileset(broken(tileset, change), sink.get)
    assert any(expected in p for p in problems), (name, problems)


def test_broken_content_fails(random_park) -> None:
    tileset, sink, _ = random_park
    uri = first_child(tileset)["content"]["uri"]
    good = sink.get(uri)
    truncated = {uri: good[:-100]}
    problems = check_tileset(tileset, lambda u: truncated.get(u, sink.get(u)))
    assert any("header says" in p for p in problems), problems
    # A property table shorter than the feature ids that point into it.
    json_length = struct.unpack_from("<I", good, 12)[0]
    gltf = json.loads(good[20 : 20 + json_length])
    gltf["extensions"]["EXT_structural_metadata"]["propertyTables"][0]["count"] = 3
    short = {uri: pack_glb(gltf, good[20 + json_length + 8 :])}
    problems = check_tileset(tileset, lambda u: short.get(u, sink.get(u)))
    assert any("outside property table count 3" in p for p in problems), problems
    # Content drawn away from where the tile says it is.
    gltf = json.loads(good[20 : 20 + json_length])
    gltf["nodes"][0]["translation"][0] += 500.0
    moved = {uri: pack_glb(gltf, good[20 + json_length + 8 :])}
    problems = check_tileset(tileset, lambda u: moved.get(u, sink.get(u)))
    assert any("outside its tile bounding box" in p for p in problems), problems


def test_groups_stay_together() -> None:
    """BIM-like: three storeys of elements; below the root every tile holds one storey only."""
    polygons, heights = random_footprints(300, seed=9, spread=40)
    storeys = [f"{i % 3 + 1}F" for i in range(300)]
    rows = [{"storey": s} for s in storeys]
    meshes = extrude_footprints(polygons, np.zeros(300), heights, [f"e{i}" for i in range(300)], rows, groups=storeys)
    sink = MemorySink()
    tileset = build_tileset(meshes, origin=ORIGIN, sink=sink, max_features_per_tile=40)
    assert check_tileset(tileset, sink.get) == []
    for tile, depth in iter_tiles(tileset):
        if depth > 0:
            assert len(set(decode_glb(sink.get(tile["content"]["uri"]))["properties"]["storey"])) == 1


def test_small_park_is_one_tile_and_empty_features_are_reported() -> None:
    meshes = extrude_footprints(
        [shapely.box(0, 0, 10, 10), shapely.Polygon([(0, 0), (1, 0), (0, 0)]), shapely.box(20, 0, 30, 8)],
        [0.0, 0.0, 0.0], [5.0, 5.0, 12.0], ["a", "empty", "c"], [{}, {}, {}],
    )
    sink = MemorySink()
    tileset = build_tileset(meshes, origin=ORIGIN, sink=sink)
    assert "children" not in tileset["root"] and tileset["root"]["geometricError"] == 0
    assert tileset["geometricError"] > 0
    assert tileset["extras"]["parktwin"]["skippedEmpty"] == ["empty"]
    assert collect_keys(tileset, sink.get) == ["a", "c"]
    assert check_tileset(tileset, sink.get) == []
    with pytest.raises(TilesError, match="nothing to tile"):
        build_tileset(meshes[1:2], origin=ORIGIN, sink=sink)


def test_directory_sink_is_content_addressed(tmp_path) -> None:
    sink = DirectorySink(tmp_path)
    first = sink.put(b"glTF-one")
    again = sink.put(b"glTF-one")
    other = sink.put(b"glTF-two", suffix=".bin")
    assert first == again and first.startswith("content/") and first.endswith(".glb") and len(first) == 8 + 20 + 4
    assert other.endswith(".bin") and other != first
    assert sorted(p.name for p in (tmp_path / "content").iterdir()) == sorted([first[8:], other[8:]])
    mtime = (tmp_path / first).stat().st_mtime_ns
    sink.put(b"glTF-one")
    assert (tmp_path / first).stat().st_mtime_ns == mtime  # written once
    assert sink.get(first) == b"glTF-one" and sink.get("content/nothing.glb") is None
    assert sink.get("../../etc/passwd") is None
    memory = MemorySink()
    assert memory.put(b"glTF-one") == first and memory.get(first) == b"glTF-one"


def test_write_tileset_round_trips(tmp_path, random_park) -> None:
    tileset, _, _ = random_park
    path = write_tileset(tileset, tmp_path / "out")
    assert path == tmp_path / "out" / "tileset.json"
    assert json.loads(path.read_text(encoding="utf-8")) == tileset


def test_directory_output_checks_from_disk(tmp_path) -> None:
    polygons, heights = random_footprints(300, seed=4)
    meshes = extrude_footprints(polygons, np.zeros(300), heights, [str(i) for i in range(300)], [{}] * 300)
    sink = DirectorySink(tmp_path)
    tileset = build_tileset(meshes, origin=ORIGIN, sink=sink, max_features_per_tile=50)
    write_tileset(tileset, tmp_path)
    loaded = json.loads((tmp_path / "tileset.json").read_text())
    assert check_tileset(loaded, sink.get) == []
    assert len(list((tmp_path / "content").glob("*.glb"))) == sum(1 for _ in iter_tiles(loaded))


def test_vertex_budget_splits_heavy_tiles() -> None:
    """Detailed (BIM-like) meshes: a vertex budget caps tile size; a single oversized feature still gets a tile."""
    polygons = [shapely.Point(10 * i, 0).buffer(3, quad_segs=64) for i in range(40)]  # 256-gons: ~1,300 vertices
    meshes = extrude_footprints(polygons, np.zeros(40), np.full(40, 10.0), [f"p{i}" for i in range(40)], [{}] * 40)
    per_feature = meshes[0].positions.shape[0]
    sink = MemorySink()
    tileset = build_tileset(meshes, origin=ORIGIN, sink=sink, max_vertices_per_tile=5 * per_feature)
    assert check_tileset(tileset, sink.get) == []
    assert Counter(collect_keys(tileset, sink.get)) == Counter(m.key for m in meshes)
    for tile, _ in iter_tiles(tileset):
        assert decode_glb(sink.get(tile["content"]["uri"]))["positions"].shape[0] <= 5 * per_feature
    tiny = build_tileset(meshes[:3], origin=ORIGIN, sink=MemorySink(), max_vertices_per_tile=10)
    assert sum(1 for _ in iter_tiles(tiny)) == 3  # one feature per tile when even one is over budget
