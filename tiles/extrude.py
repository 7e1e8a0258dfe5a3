"""LOD1 extrusion of footprints (local ENU metres) into prisms: walls, roof, optional floor.

Everything is vectorised over all rings of all footprints at once with numpy; only roofs with holes
or more than one reflex corner go through mapbox_earcut, one polygon per (C++, microsecond) call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor

import mapbox_earcut
import numpy as np
import shapely

from tiles.batch import FeatureBatch
from tiles.enu import Origin, local_up
from tiles.errors import GeometryError
from tiles.glb import TileGeometry
from tiles.mesh import FeatureMesh, PropertyValue

Color = tuple[float, float, float, float]
_POLYGON_TYPE_ID, _MULTIPOLYGON_TYPE_ID = 3, 6
_MIN_EDGE_M = 1e-3  # shorter wall edges are dropped: they would only make degenerate triangles
_MIN_FEATURES_PER_THREAD = 10_000  # below, a second thread saves less than it costs
_WALL_QUAD = np.array([0, 1, 2, 0, 2, 3], dtype=np.uint32)  # (a,base) (b,base) (b,top) (a,top)


# Maps ring coordinates (n, 3) and each coordinate's feature index (n,) to local ENU metres (n, 3).
LocalFrame = Callable[[np.ndarray, np.ndarray], np.ndarray]


class _Rings:
    """Cleaned ring vertices of all polygon parts, flattened (no closing point, no repeats).

    `local`, if given, maps the input coordinates to the local frame first (e.g. lon/lat to ENU),
    which spares building transformed shapely geometries only to take their coordinates apart.
    """

    def __init__(self, polygons: Sequence[shapely.Polygon | shapely.MultiPolygon], local: LocalFrame | None = None) -> None:
        geoms = np.asarray(polygons, dtype=object)
        if geoms.ndim != 1:
            geoms = geoms.reshape(-1)
        types = shapely.get_type_id(geoms)  # -1 for None / non-geometries
        bad = np.flatnonzero((types != _POLYGON_TYPE_ID) & (types != _MULTIPOLYGON_TYPE_ID))
        if bad.size:
            kind = getattr(geoms[bad[0]], "geom_type", type(geoms[bad[0]]).__name__)
            raise GeometryError(f"footprint #{int(bad[0])} is a {kind}, not a Polygon or MultiPolygon")
        if (types == _POLYGON_TYPE_ID).all():  # common case: no MultiPolygons, skip the explode
            parts, part_feature = geoms, np.arange(geoms.size)
        else:
            parts, part_feature = shapely.get_parts(geoms, return_index=True)  # all Polygons
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        xyz, point_ring = shapely.get_coordinates(rings, include_z=True, return_index=True)
        if local is not None:
            xyz = local(xyz, part_feature[ring_part[point_ring]])
        xy = np.ascontiguousarray(xyz[:, :2])
        z = np.nan_to_num(xyz[:, 2], nan=0.0)  # 2D footprints stand at z = 0
        if xy.size and not (np.isfinite(xy).all() and np.isfinite(z).all()):
            raise GeometryError("a footprint has non-finite (NaN or infinite) coordinates")

        # Drop each ring's closing point and consecutive repeats, then a last point equal to the first.
        n = point_ring.size
        starts_ring = np.ones(n, dtype=bool)
        starts_ring[1:] = point_ring[1:] != point_ring[:-1]
        ends_ring = np.ones(n, dtype=bool)
        ends_ring[:-1] = starts_ring[1:]
        keep = ~ends_ring
        same_as_prev = np.zeros(n, dtype=bool)
        same_as_prev[1:] = (xy[1:, 0] == xy[:-1, 0]) & (xy[1:, 1] == xy[:-1, 1]) & ~starts_ring[1:]
        keep &= ~same_as_prev
        xy, z, point_ring = xy[keep], z[keep], point_ring[keep]
        first_idx = _segment_starts(point_ring)
        last_idx = np.r_[first_idx[1:], point_ring.size] - 1
        wraps = (xy[last_idx, 0] == xy[first_idx, 0]) & (xy[last_idx, 1] == xy[first_idx, 1]) & (last_idx > first_idx)
        if wraps.any():
            drop = np.zeros(point_ring.size, dtype=bool)
            drop[last_idx[wraps]] = True
            xy, z, point_ring = xy[~drop], z[~drop], point_ring[~drop]

        # Rings with < 3 distinct points are dropped; a part whose exterior is dropped goes entirely.
        ring_count = np.bincount(point_ring, minlength=len(rings))
        ring_is_exterior = np.ones(len(rings), dtype=bool)
        ring_is_exterior[1:] = ring_part[1:] != ring_part[:-1]
        part_ok = np.zeros(len(parts), dtype=bool)
        part_ok[ring_part[ring_is_exterior]] = ring_count[ring_is_exterior] >= 3
        ring_ok = (ring_count >= 3) & part_ok[ring_part]
        point_ok = ring_ok[point_ring]
        xy, z, point_ring = xy[point_ok], z[point_ok], point_ring[point_ok]

        # Renumber the surviving rings and parts densely.
        ring_new = np.cumsum(ring_ok) - 1
        self.xy = xy
        self.z = z
        self.point_ring = ring_new[point_ring]
        old_rings = np.flatnonzero(ring_ok)
        part_new = np.cumsum(part_ok) - 1
        self.ring_part = part_new[ring_part[old_rings]]
        self.ring_is_exterior = ring_is_exterior[old_rings]
        self.ring_count = ring_count[old_rings]
        self.part_feature = part_feature[part_ok]
        self.feature_count = geoms.size
        self.ring_area2 = _ring_area2(xy, self.point_ring, self.ring_count)  # twice the signed area; > 0: CCW


def _ring_area2(xy: np.ndarray, point_ring: np.ndarray, ring_count: np.ndarray) -> np.ndarray:
    """Twice the signed area of each ring (shoelace on ring-relative coordinates, for precision)."""
    if point_ring.size == 0:
        return np.zeros(ring_count.size)
    ring_start = _offsets(ring_count)[point_ring]
    nxt = np.arange(point_ring.size) + 1
    wrap = nxt == ring_start + ring_count[point_ring]
    nxt[wrap] = ring_start[wrap]
    rel = xy - xy[ring_start]
    cross = rel[:, 0] * rel[nxt, 1] - rel[nxt, 0] * rel[:, 1]
    return np.bincount(point_ring, weights=cross, minlength=ring_count.size)


def _segment_starts(sorted_ids: np.ndarray) -> np.ndarray:
    """Indices where a run of equal ids starts in a sorted id array."""
    if sorted_ids.size == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])


def _counts(ids: np.ndarray, length: int) -> np.ndarray:
    return np.bincount(ids, minlength=length).astype(np.int64)


def _offsets(counts: np.ndarray) -> np.ndarray:
    """Exclusive prefix sum: start offset of each block."""
    out = np.zeros(counts.size, dtype=np.int64)
    np.cumsum(counts[:-1], out=out[1:])
    return out


def _triangulate_roofs(rings: _Rings) -> tuple[np.ndarray, np.ndarray]:
    """Roof triangles as global point indices (t,3), CCW seen from +z, and the part of each triangle."""
    n_parts = rings.part_feature.size
    ring_starts = _offsets(rings.ring_count)
    rings_per_part = _counts(rings.ring_part, n_parts)
    part_first_ring = _offsets(rings_per_part)
    part_point_start = ring_starts[part_first_ring] if n_parts else np.zeros(0, dtype=np.int64)
    part_point_count = np.bincount(rings.ring_part, weights=rings.ring_count, minlength=n_parts).astype(np.int64)

    xy = rings.xy
    n_points = xy.shape[0]
    point_index = np.arange(n_points)
    ring_start_of_point = ring_starts[rings.point_ring]
    nxt = point_index + 1
    ring_end_of_point = ring_start_of_point + rings.ring_count[rings.point_ring]
    nxt[nxt == ring_end_of_point] = ring_start_of_point[nxt == ring_end_of_point]
    prv = point_index - 1
    at_start = point_index == ring_start_of_point
    prv[at_start] = ring_end_of_point[at_start] - 1
    e_in = xy - xy[prv]
    e_out = xy[nxt] - xy
    turn = e_in[:, 0] * e_out[:, 1] - e_in[:, 1] * e_out[:, 0]
    # A vertex is reflex when it turns against the ring's orientation. A hole-free ring with at most
    # one reflex vertex is star-shaped from that vertex (cutting along one of its edges leaves two
    # convex pieces that both contain it), so a fan from it is a valid triangulation: rectangles,
    # L-shapes and most real footprints skip earcut this way.
    reflex = turn * np.sign(rings.ring_area2)[rings.point_ring] < 0
    reflex_count = np.bincount(rings.point_ring, weights=reflex, minlength=rings.ring_count.size)
    fan_start = np.zeros(rings.ring_count.size, dtype=np.int64)
    fan_start[rings.point_ring[reflex]] = (point_index - ring_start_of_point)[reflex]
    part_fan = (rings_per_part == 1) & (reflex_count[part_first_ring] <= 1) if n_parts else np.zeros(0, dtype=bool)

    fan_parts = np.flatnonzero(part_fan)
    fan_tris_per_part = part_point_count[fan_parts] - 2
    fan_part_of_tri = np.repeat(fan_parts, fan_tris_per_part)
    fan_local = np.arange(fan_part_of_tri.size) - np.repeat(_offsets(fan_tris_per_part), fan_tris_per_part)
    fan_base = part_point_start[fan_part_of_tri]
    fan_size = part_point_count[fan_part_of_tri]
    fan_apex = fan_start[part_first_ring[fan_part_of_tri]]
    fan = np.stack([
        fan_base + fan_apex,
        fan_base + (fan_apex + fan_local + 1) % fan_size,
        fan_base + (fan_apex + fan_local + 2) % fan_size,
    ], axis=1)

    # Everything else (holes, concave outlines): earcut, one polygon per call.
    ring_end_local = (np.cumsum(rings.ring_count) - ring_starts[part_first_ring][rings.ring_part]).astype(np.uint32)
    earcut_tris: list[np.ndarray] = []
    earcut_parts = np.flatnonzero(~part_fan)
    starts = part_point_start[earcut_parts].tolist()
    ends = (part_point_start + part_point_count)[earcut_parts].tolist()
    ring_lo = part_first_ring[earcut_parts].tolist()
    ring_hi = (part_first_ring + rings_per_part)[earcut_parts].tolist()
    triangulate = mapbox_earcut.triangulate_float64
    for start, end, r0, r1 in zip(starts, ends, ring_lo, ring_hi):
        earcut_tris.append(triangulate(xy[start:end], ring_end_local[r0:r1]).astype(np.int64) + start)
    earcut_counts = np.fromiter(map(len, earcut_tris), dtype=np.int64, count=len(earcut_tris)) // 3
    earcut_part_of_tri = np.repeat(earcut_parts, earcut_counts)
    triangles = np.concatenate([fan.reshape(-1), *earcut_tris]).reshape(-1, 3).astype(np.int64)
    tri_part = np.concatenate([fan_part_of_tri, earcut_part_of_tri])

    # Keep parts in order (so each feature's triangles are contiguous) and make every triangle CCW.
    order = np.argsort(tri_part, kind="stable")
    triangles, tri_part = triangles[order], tri_part[order]
    a, b, c = xy[triangles[:, 0]], xy[triangles[:, 1]], xy[triangles[:, 2]]
    signed = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    cw = signed < 0
    triangles[cw] = triangles[cw][:, ::-1]
    return triangles, tri_part


def _extrude(
    polygons: Sequence[shapely.Polygon | shapely.MultiPolygon],
    bases: np.ndarray,
    tops: np.ndarray,
    floors: np.ndarray,
    origin: Origin | None,
    local: LocalFrame | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Positions, normals, feature-local indices plus per-feature vertex and index offsets (length n+1)."""
    rings = _Rings(polygons, local)
    n_feat = rings.feature_count
    xy = rings.xy
    n_points = xy.shape[0]
    point_part = rings.ring_part[rings.point_ring]
    point_feature = rings.part_feature[point_part]
    ground = up = None
    if origin is not None:
        # One vertical per feature, at its vertices' mean: across a 200 m building the true
        # vertical turns by 31 microradians (2 mm at the top of 60 m), and one direction keeps
        # walls planar and parallel.
        ground = np.column_stack([xy, rings.z])
        weight = np.bincount(point_feature, minlength=n_feat).astype(np.float64)
        centre = np.stack([np.bincount(point_feature, weights=ground[:, k], minlength=n_feat) for k in range(3)], 1)
        centre /= np.maximum(weight, 1.0)[:, None]
        up = local_up(origin, centre)[point_feature]

    # Walls: one quad (4 vertices, flat normal) per ring edge; edges go CCW around the material.
    ring_starts = _offsets(rings.ring_count)
    point_index = np.arange(n_points)
    ring_start_of_point = ring_starts[rings.point_ring]
    nxt = point_index + 1
    wrap = nxt == ring_start_of_point + rings.ring_count[rings.point_ring]
    nxt[wrap] = ring_start_of_point[wrap]
    ring_flip = (rings.ring_area2 > 0) != rings.ring_is_exterior  # exterior must be CCW, holes CW
    flip = ring_flip[rings.point_ring]
    a_idx = np.where(flip, nxt, point_index)
    b_idx = np.where(flip, point_index, nxt)
    delta = xy[b_idx] - xy[a_idx]
    length = np.hypot(delta[:, 0], delta[:, 1])
    with_height = tops[point_feature] > bases[point_feature]
    edge_ok = (length >= _MIN_EDGE_M) & with_height
    a_idx, b_idx, delta, length = a_idx[edge_ok], b_idx[edge_ok], delta[edge_ok], length[edge_ok]
    edge_feature = point_feature[a_idx]
    n_edges = edge_feature.size
    base_h, top_h = bases[edge_feature], tops[edge_feature]
    wall_pos = np.empty((n_edges, 4, 3), dtype=np.float32)
    outward = np.zeros((n_edges, 3), dtype=np.float32)
    if up is None:  # vertical = the frame's +z
        xy_a, xy_b, ground_a, ground_b = xy[a_idx], xy[b_idx], rings.z[a_idx], rings.z[b_idx]
        wall_pos[:, 0, :2], wall_pos[:, 1, :2], wall_pos[:, 2, :2], wall_pos[:, 3, :2] = xy_a, xy_b, xy_b, xy_a
        wall_pos[:, 0, 2], wall_pos[:, 1, 2] = ground_a + base_h, ground_b + base_h
        wall_pos[:, 2, 2], wall_pos[:, 3, 2] = ground_b + top_h, ground_a + top_h
        outward[:, 0] = delta[:, 1] / length
        outward[:, 1] = -delta[:, 0] / length
    else:  # vertical = the local ellipsoid normal (one per feature)
        ga, gb, ua, ub = ground[a_idx], ground[b_idx], up[a_idx], up[b_idx]
        wall_pos[:, 0], wall_pos[:, 1] = ga + base_h[:, None] * ua, gb + base_h[:, None] * ub
        wall_pos[:, 2], wall_pos[:, 3] = gb + top_h[:, None] * ub, ga + top_h[:, None] * ua
        face = np.cross(gb - ga, ua + ub)
        outward[:] = face / np.linalg.norm(face, axis=1, keepdims=True)

    # Roofs (and floors): triangulated once, reused reversed for floors.
    roof_tris, roof_tri_part = _triangulate_roofs(rings)
    roof_tri_feature = rings.part_feature[roof_tri_part]

    # Per-feature layout: vertices [walls | roof | floor], triangles [walls | roof | floor].
    wall_v = 4 * _counts(edge_feature, n_feat)
    roof_v = _counts(point_feature, n_feat)
    floor_v = np.where(floors, roof_v, 0)
    roof_t = _counts(roof_tri_feature, n_feat)
    floor_t = np.where(floors, roof_t, 0)
    wall_t = wall_v // 2
    vert_off = np.r_[0, np.cumsum(wall_v + roof_v + floor_v)]
    tri_off = np.r_[0, np.cumsum(wall_t + roof_t + floor_t)]
    positions = np.empty((vert_off[-1], 3), dtype=np.float32)
    normals = np.empty((vert_off[-1], 3), dtype=np.float32)
    triangles = np.empty((tri_off[-1], 3), dtype=np.uint32)

    edge_local = np.arange(n_edges) - np.repeat(_offsets(wall_v // 4), wall_v // 4)
    wall_vidx = (vert_off[edge_feature] + 4 * edge_local)[:, None] + np.arange(4)
    positions[wall_vidx] = wall_pos
    normals[wall_vidx] = outward[:, None, :]
    wall_tidx = (tri_off[edge_feature] + 2 * edge_local)[:, None] + np.arange(2)
    triangles[wall_tidx] = ((4 * edge_local)[:, None] + _WALL_QUAD).reshape(-1, 2, 3)

    point_local = point_index - np.repeat(_offsets(roof_v), roof_v)
    roof_vidx = vert_off[point_feature] + wall_v[point_feature] + point_local
    if up is None:
        positions[roof_vidx, :2] = xy
        positions[roof_vidx, 2] = rings.z + tops[point_feature]
        normals[roof_vidx] = (0.0, 0.0, 1.0)
    else:
        positions[roof_vidx] = ground + tops[point_feature][:, None] * up
        normals[roof_vidx] = up
    feature_point_start = _offsets(roof_v)
    tri_feature_base = feature_point_start[roof_tri_feature]
    roof_local = roof_tris - tri_feature_base[:, None] + wall_v[roof_tri_feature][:, None]
    roof_tri_local = np.arange(roof_tri_feature.size) - np.repeat(_offsets(roof_t), roof_t)
    triangles[tri_off[roof_tri_feature] + wall_t[roof_tri_feature] + roof_tri_local] = roof_local

    has_floor = floors[point_feature]
    floor_vidx = roof_vidx[has_floor] + roof_v[point_feature[has_floor]]
    if up is None:
        positions[floor_vidx, :2] = xy[has_floor]
        positions[floor_vidx, 2] = rings.z[has_floor] + bases[point_feature[has_floor]]
        normals[floor_vidx] = (0.0, 0.0, -1.0)
    else:
        positions[floor_vidx] = ground[has_floor] + bases[point_feature[has_floor]][:, None] * up[has_floor]
        normals[floor_vidx] = -up[has_floor]
    tri_floor = floors[roof_tri_feature]
    f_feat = roof_tri_feature[tri_floor]
    floor_local = roof_local[tri_floor][:, ::-1] + roof_v[f_feat][:, None]
    triangles[tri_off[f_feat] + wall_t[f_feat] + roof_t[f_feat] + roof_tri_local[tri_floor]] = floor_local
    return positions, normals, triangles.reshape(-1), vert_off, 3 * tri_off


def _extrude_in_halves(
    polygons: Sequence[shapely.Polygon | shapely.MultiPolygon],
    bases: np.ndarray,
    tops: np.ndarray,
    floors: np.ndarray,
    origin: Origin | None,
    local: LocalFrame | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """_extrude's arrays, computed for each half of the features in its own thread (numpy and shapely
    release the GIL on large arrays: 1.5x on two cores); every feature's output is what one call gives."""
    n = len(polygons)
    if n < _MIN_FEATURES_PER_THREAD * 2 or (os.cpu_count() or 1) < 2:
        return _extrude(polygons, bases, tops, floors, origin, local)

    def half(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        shifted = None if local is None else (lambda xyz, feature: local(xyz, feature + lo))
        return _extrude(polygons[lo:hi], bases[lo:hi], tops[lo:hi], floors[lo:hi], origin, shifted)

    try:
        with ThreadPoolExecutor(2) as pool:
            first, second = pool.map(half, (0, n // 2), (n // 2, n))
    except GeometryError:  # redone in one piece so the message numbers the feature in the whole input
        return _extrude(polygons, bases, tops, floors, origin, local)
    return (np.concatenate([first[0], second[0]]), np.concatenate([first[1], second[1]]), np.concatenate([first[2], second[2]]),
            np.r_[first[3], second[3][1:] + first[3][-1]], np.r_[first[4], second[4][1:] + first[4][-1]])


def _as_heights(values, n: int, what: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(values, dtype=np.float64), (n,))
    if not np.isfinite(arr).all():
        raise GeometryError(f"{what} heights must be finite numbers (metres)")
    return arr


def _floor_flags(floor: bool | None, bases: np.ndarray) -> np.ndarray:
    # Default: a floor only where the prism floats above the local ground (z > 0), where it can be seen.
    if floor is None:
        return bases > 0.0
    return np.full(bases.shape, bool(floor))


def extrude_polygon(
    polygon_enu: shapely.Polygon | shapely.MultiPolygon,
    base: float,
    top: float,
    *,
    floor: bool | None = None,
    origin: Origin | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Extrude one footprint (local ENU metres) from base to top (m): positions, normals (n,3) float32, indices uint32.

    The footprint may be 2D or 3D (z = ground of each vertex in the ENU frame, e.g. from
    lonlat_to_enu); `base` and `top` are heights above that ground along the vertical: the frame's
    +z, or with `origin` the local ellipsoid normal at each vertex (plumb walls and level roofs far
    from the origin: at 15 km the frame's +z leans 2.4 mrad, 14 cm over a 60 m wall).
    Walls get flat outward normals (4 vertices per edge), the roof up, the floor (if `floor`;
    default: only when base > 0) down; triangles are counter-clockwise seen from outside.
    """
    bases = _as_heights(base, 1, "base")
    tops = _as_heights(top, 1, "top")
    if tops[0] < bases[0]:
        raise GeometryError(f"top ({top} m) is below base ({base} m)")
    positions, normals, indices, _, _ = _extrude([polygon_enu], bases, tops, _floor_flags(floor, bases), origin)
    return positions, normals, indices


def extrude_footprints(
    polygons_enu: Sequence[shapely.Polygon | shapely.MultiPolygon],
    bases: np.ndarray,
    tops: np.ndarray,
    keys: Sequence[str],
    properties: Sequence[dict[str, PropertyValue]],
    colors: Color | Sequence[Color] | None = None,
    *,
    groups: Sequence[str | None] | None = None,
    floor: bool | None = None,
    origin: Origin | None = None,
) -> list[FeatureMesh]:
    """Extrude many footprints (local ENU metres, 2D or 3D) between per-feature bases and tops (m) into FeatureMeshes.

    Vectorised over all footprints; `base`/`top`, `floor` and `origin` mean what they mean in
    `extrude_polygon` (pass 3D footprints from lonlat_to_enu and the tileset origin for exact
    heights across a large site). Features whose geometry degenerates (fewer than 3 distinct
    points) come back with empty arrays; callers may drop them. `colors` is one RGBA for all or
    one per feature; `groups` fills FeatureMesh.group.
    """
    batch = extrude_footprints_batch(polygons_enu, bases, tops, keys, properties, colors, groups=groups, floor=floor, origin=origin)
    return batch.meshes()


def extrude_footprints_batch(
    polygons: Sequence[shapely.Polygon | shapely.MultiPolygon],
    bases: np.ndarray,
    tops: np.ndarray,
    keys: Sequence[str],
    properties: Sequence[dict[str, PropertyValue]] | dict[str, list[PropertyValue]],
    colors: Color | Sequence[Color] | None = None,
    *,
    groups: Sequence[str | None] | None = None,
    floor: bool | None = None,
    origin: Origin | None = None,
    local: LocalFrame | None = None,
) -> FeatureBatch:
    """`extrude_footprints` as one FeatureBatch (for build_tileset), without an object per feature.

    `properties` are rows (one dict per feature) or columns (name -> one value per feature, None
    where missing). `local` maps the polygons' coordinates to local ENU metres first (default:
    they already are).
    """
    n = len(polygons)
    rows_given = len(properties) if not isinstance(properties, Mapping) else n
    bad_column = [name for name, column in properties.items() if len(column) != n] if isinstance(properties, Mapping) else []
    if not (len(keys) == rows_given == n) or bad_column:
        raise GeometryError(f"got {n} footprints but {len(keys)} keys and {rows_given} property rows {bad_column or ''}".rstrip())
    bases_arr = _as_heights(bases, n, "base")
    tops_arr = _as_heights(tops, n, "top")
    below = np.flatnonzero(tops_arr < bases_arr)
    if below.size:
        i = int(below[0])
        raise GeometryError(f"feature {keys[i]!r}: top {tops_arr[i]} m is below base {bases_arr[i]} m")
    if colors is None:
        colour_of: list[tuple[float, float, float, float]] = [FeatureMesh.__dataclass_fields__["color"].default] * n
    elif len(colors) == 4 and not isinstance(colors[0], (tuple, list, np.ndarray)):
        colour_of = [tuple(float(c) for c in colors)] * n  # type: ignore[misc, union-attr]
    else:
        if len(colors) != n:
            raise GeometryError(f"got {len(colors)} colours for {n} footprints")
        colour_of = [c if type(c) is tuple else tuple(c) for c in colors]  # type: ignore[misc, arg-type]
    positions, normals, indices, vert_off, idx_off = _extrude_in_halves(
        polygons, bases_arr, tops_arr, _floor_flags(floor, bases_arr), origin, local
    )
    palette = list(dict.fromkeys(colour_of))  # first-seen order, as gather_geometry numbers them
    colour_index = {c: i for i, c in enumerate(palette)}
    geometry = TileGeometry(positions, normals, indices, np.diff(vert_off), np.diff(idx_off),
                            np.fromiter(map(colour_index.__getitem__, colour_of), dtype=np.int64, count=n), palette)
    rows, columns = (None, properties) if isinstance(properties, Mapping) else (list(properties), None)
    return FeatureBatch(geometry, list(keys), rows=rows, columns=columns, groups=None if groups is None else list(groups))
