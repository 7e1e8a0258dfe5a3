"""Build a 3D Tiles 1.1 tileset (tileset.json dict + GLB content in a sink) from FeatureMeshes.

Tree: refine "ADD" with importance. A tile holding more than `max_features_per_tile` features (or
`max_vertices_per_tile` vertices) keeps its region's largest ones (bounding-box volume) as its own
content and hands the rest to children,
split by FeatureMesh.group when several groups are present (e.g. BIM storeys) and otherwise
spatially (kd split of centroids, two levels -> up to 4 children). So every feature is written
exactly once, coarse levels show the biggest buildings from far away, and no tile exceeds the limit.

Geometric error of a tile = the largest feature (bounding-box diagonal, m) among its descendants,
i.e. the biggest thing missing while the children are not shown; leaves get 0. This never grows
with depth.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tiles.enu import Origin, enu_to_ecef_matrix
from tiles.errors import TilesError
from tiles.batch import FeatureBatch
from tiles.glb import TileGeometry, encode_tile
from tiles.mesh import FeatureMesh
from tiles.metadata import KEY_PROPERTY, PropertyTable, infer_column_types, property_ids
from tiles.parallel import fork_map
from tiles.sink import ContentSink, write_atomic

_MIN_HALF_SIZE_M = 0.01  # flat or point-like features still get a box with volume
_GROUP_FAN_OUT = 8  # at most this many children when splitting by group
_SPATIAL_FAN_OUT_LEVELS = 2  # two kd levels -> up to 4 children
_MIN_TILES_PER_WORKER = 64  # below this a fork (and the idle-core sample) costs more than it saves (85 tiles: 10% slower forked)


@dataclass
class _Tile:
    members: np.ndarray  # feature indices written in this tile's content
    children: list[_Tile] = field(default_factory=list)


class _Features:
    """Per-feature bounds, sizes and importance, from the concatenated geometry with vectorised reductions."""

    def __init__(self, groups: list[str | None], geometry: TileGeometry) -> None:
        starts = geometry.vertex_starts[:-1]
        lo = np.stack([np.minimum.reduceat(geometry.positions[:, k], starts) for k in range(3)], axis=1)
        hi = np.stack([np.maximum.reduceat(geometry.positions[:, k], starts) for k in range(3)], axis=1)
        mid = (lo.astype(np.float64) + hi) / 2
        half = np.maximum((hi.astype(np.float64) - lo) / 2, _MIN_HALF_SIZE_M)
        self.lo, self.hi = mid - half, mid + half
        self.centroid = mid[:, :2]
        extent = self.hi - self.lo
        self.size = np.sqrt(np.einsum("ij,ij->i", extent, extent))  # bounding-box diagonal, m
        self.importance = extent[:, 0] * extent[:, 1] * extent[:, 2]  # bounding-box volume, m^3
        self.vertices = geometry.vertex_counts
        names = sorted({g for g in groups if g is not None})
        code = {g: i for i, g in enumerate(names)}
        self.group = np.array([-1 if g is None else code[g] for g in groups], dtype=np.int64)


def _split_spatial(idx: np.ndarray, centroid: np.ndarray, levels: int) -> list[np.ndarray]:
    """Halve at the median of the wider centroid axis, `levels` times (deterministic for equal input)."""
    parts = [idx]
    for _ in range(levels):
        halves = []
        for part in parts:
            if part.size < 2:
                halves.append(part)
                continue
            points = centroid[part]
            spread = [np.ptp(points[:, 0]), np.ptp(points[:, 1])]
            coordinate = points[:, int(np.argmax(spread))]
            middle = part.size // 2
            order = np.argpartition(coordinate, middle)  # median split: O(n), no full sort
            halves += [np.sort(part[order[:middle]]), np.sort(part[order[middle:]])]
        parts = halves
    return [p for p in parts if p.size]


def _split_groups(idx: np.ndarray, group: np.ndarray) -> list[np.ndarray]:
    """One child per group (None-group features together), packing groups into bins if there are many."""
    codes, inverse = np.unique(group[idx], return_inverse=True)
    by_group = [idx[inverse == i] for i in range(codes.size)]
    if len(by_group) <= _GROUP_FAN_OUT:
        return by_group
    sizes = np.cumsum([g.size for g in by_group])
    bins = np.minimum((sizes - 1) * _GROUP_FAN_OUT // sizes[-1], _GROUP_FAN_OUT - 1)
    return [np.concatenate([g for g, b in zip(by_group, bins) if b == k]) for k in np.unique(bins)]


def _build_tree(idx: np.ndarray, features: _Features, limit: int, vertex_budget: int) -> _Tile:
    """A tile keeps the largest features that fit both limits (at least one); children share the rest."""
    vertices = features.vertices[idx]
    if idx.size == 1 or (idx.size <= limit and int(vertices.sum()) <= vertex_budget):
        return _Tile(idx)
    by_importance = np.argsort(-features.importance[idx], kind="stable")
    within_budget = int(np.searchsorted(np.cumsum(vertices[by_importance]), vertex_budget, side="right"))
    count = max(1, min(limit, within_budget))
    keep = np.zeros(idx.size, dtype=bool)
    keep[by_importance[:count]] = True
    tile = _Tile(idx[keep])
    rest = idx[~keep]
    if np.unique(features.group[rest]).size > 1:
        parts = _split_groups(rest, features.group)
    else:
        parts = _split_spatial(rest, features.centroid, _SPATIAL_FAN_OUT_LEVELS)
    tile.children = [_build_tree(p, features, limit, vertex_budget) for p in parts]
    return tile


def _box(lo: np.ndarray, hi: np.ndarray) -> list[float]:
    """3D Tiles box (centre + three half-axes) for an axis-aligned extent, rounded outward to mm."""
    lo = np.floor(lo * 1000.0) / 1000.0
    hi = np.ceil(hi * 1000.0) / 1000.0
    c, h = (lo + hi) / 2, (hi - lo) / 2
    return [float(c[0]), float(c[1]), float(c[2]), float(h[0]), 0.0, 0.0, 0.0, float(h[1]), 0.0, 0.0, 0.0, float(h[2])]


def _preorder(tile: _Tile) -> list[_Tile]:
    """Tiles in the order the JSON lists them: a tile, then each child's subtree."""
    out, stack = [], [tile]
    while stack:
        tile = stack.pop()
        out.append(tile)
        stack.extend(reversed(tile.children))
    return out


def _without_empty(batch: FeatureBatch) -> tuple[FeatureBatch, list[str]]:
    """Features with triangles, and the keys of those without."""
    geometry = batch.geometry
    has_triangles = (geometry.vertex_counts > 0) & (geometry.index_counts > 0)
    if has_triangles.all():
        return batch, []
    skipped = [batch.keys[i] for i in np.flatnonzero(~has_triangles).tolist()]
    return batch.take(np.flatnonzero(has_triangles)), skipped


def build_tileset(
    meshes: Iterable[FeatureMesh] | FeatureBatch,
    *,
    origin: Origin,
    sink: ContentSink,
    max_features_per_tile: int = 500,
    class_name: str = "feature",
    progress: Callable[[int, int], None] | None = None,
    property_types: Mapping[str, str] | None = None,
    max_vertices_per_tile: int = 400_000,
    workers: int | None = None,
) -> dict:
    """FeatureMeshes or a FeatureBatch (local ENU metres about `origin`) -> tileset.json dict (3D Tiles 1.1); GLB content goes to `sink`.

    root.transform is the ENU->ECEF matrix of `origin` (column-major), boxes are in the local ENU
    frame. Features without triangles are skipped (their keys are listed in
    extras.parktwin.skippedEmpty). Property types are inferred once over all features (or taken
    from `property_types`) so every tile shares one schema. `max_vertices_per_tile` (~12 MB of GLB)
    keeps detailed BIM tiles streamable; a single feature above it still gets its own tile.
    Tiles are encoded in forked processes on idle cores (`workers`: how many at most; 1: in this
    process); the output does not depend on it. `progress(done, total)` is called after each
    tile's content is stored.
    """
    if max_features_per_tile < 1 or max_vertices_per_tile < 1:
        raise TilesError("max_features_per_tile and max_vertices_per_tile must be at least 1")
    if isinstance(meshes, FeatureBatch):
        batch, skipped = _without_empty(meshes)
    else:
        all_meshes = list(meshes)
        kept = [m for m in all_meshes if m.positions.shape[0] and np.asarray(m.indices).size]
        skipped = [m.key for m in all_meshes if not (m.positions.shape[0] and np.asarray(m.indices).size)]
        batch = FeatureBatch.from_meshes(kept) if kept else None  # type: ignore[assignment]
    if batch is None or len(batch) == 0:
        raise TilesError("no feature has any triangles: nothing to tile")
    columns = batch.property_columns()
    types = dict(property_types) if property_types is not None else infer_column_types(columns)
    # Geometry and property columns are gathered once, in input order; each tile then takes its
    # rows with vectorised indexing instead of touching 500 scattered Python objects.
    geometry = batch.geometry
    table = PropertyTable(batch.keys, columns, types)
    features = _Features(batch.group_of(), geometry)
    root = _build_tree(np.arange(len(batch)), features, max_features_per_tile, max_vertices_per_tile)
    tiles = _preorder(root)
    # Each tile's features with groups together; the tiles' contents are independent of each other.
    members = [t.members[np.lexsort((t.members, features.group[t.members]))] for t in tiles]

    def encode(rows: np.ndarray) -> bytes:
        return encode_tile(geometry.take(rows), table.take(rows), class_name=class_name, y_up=True)

    contents = fork_map(encode, members, min_items_per_worker=_MIN_TILES_PER_WORKER, workers=workers)
    uris: dict[int, str] = {}
    for done, (tile, content) in enumerate(zip(tiles, contents), start=1):
        uris[id(tile)] = sink.put(content, suffix=".glb")
        if progress is not None:
            progress(done, len(tiles))
    member_of = {id(t): m for t, m in zip(tiles, members)}

    def emit(tile: _Tile) -> tuple[dict, np.ndarray, np.ndarray, float]:
        """Tile JSON, its box extent, and the largest feature size in its subtree."""
        rows = member_of[id(tile)]
        content_lo = features.lo[rows].min(axis=0)
        content_hi = features.hi[rows].max(axis=0)
        lo, hi = content_lo.copy(), content_hi.copy()
        own_size = float(features.size[rows].max())
        children_json, children_size = [], 0.0
        for child in tile.children:
            child_json, child_lo, child_hi, child_size = emit(child)
            children_json.append(child_json)
            lo, hi = np.minimum(lo, child_lo), np.maximum(hi, child_hi)
            children_size = max(children_size, child_size)
        node: dict = {
            "boundingVolume": {"box": _box(lo, hi)},
            "geometricError": children_size,  # the largest feature not shown until children load
            "content": {"uri": uris[id(tile)], "boundingVolume": {"box": _box(content_lo, content_hi)}},
        }
        if children_json:
            node["children"] = children_json
        return node, lo, hi, max(own_size, children_size)

    root_json, lo, hi, _ = emit(root)
    root_json["refine"] = "ADD"
    root_json["transform"] = [float(v) for v in enu_to_ecef_matrix(origin).T.reshape(-1)]  # column-major
    ids = property_ids(list(types), reserved=(KEY_PROPERTY,))
    return {
        "asset": {"version": "1.1", "generator": "ParkTwin tiles"},
        # Error if the tileset is not drawn at all: the whole site's diagonal (>= the root's own error).
        "geometricError": max(float(np.linalg.norm(hi - lo)), root_json["geometricError"]),
        "root": root_json,
        "extras": {"parktwin": {
            "class": class_name,
            "featureCount": len(batch),
            "tileCount": len(tiles),
            "origin": {"lon": origin.lon, "lat": origin.lat, "height": origin.height},
            "properties": {KEY_PROPERTY: {"name": KEY_PROPERTY, "type": "STRING"}}
            | {ids[name]: {"name": name, "type": type_} for name, type_ in types.items()},
            "skippedEmpty": skipped,
        }},
    }


def write_tileset(tileset: dict, out_dir: Path) -> Path:
    """Write tileset.json into out_dir (atomically, UTF-8) and return its path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / "tileset.json"
    write_atomic(target, json.dumps(tileset, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode())
    return target
