"""LOD1 extrusion: volumes, normals, winding, triangle counts, holes, multipolygons, batching."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import shapely

from tiles.errors import GeometryError
from tiles.extrude import extrude_footprints, extrude_polygon

from .conftest import random_footprints


def triangles_of(positions: np.ndarray, indices: np.ndarray) -> np.ndarray:
    return positions.astype(np.float64)[indices.reshape(-1, 3)]


def signed_volume(positions: np.ndarray, indices: np.ndarray) -> float:
    """Divergence theorem: > 0 for a closed mesh whose triangles are CCW seen from outside."""
    t = triangles_of(positions, indices)
    return float(np.einsum("ij,ij->i", t[:, 0], np.cross(t[:, 1], t[:, 2])).sum() / 6.0)


def face_normals(positions: np.ndarray, indices: np.ndarray) -> np.ndarray:
    t = triangles_of(positions, indices)
    n = np.cross(t[:, 1] - t[:, 0], t[:, 2] - t[:, 0])
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def assert_winding_matches_normals(positions: np.ndarray, normals: np.ndarray, indices: np.ndarray) -> None:
    """Every triangle's geometric normal (CCW) equals the stored normal of its three vertices."""
    faces = face_normals(positions, indices)
    for corner in range(3):
        stored = normals[indices.reshape(-1, 3)[:, corner]]
        np.testing.assert_allclose(np.einsum("ij,ij->i", faces, stored), 1.0, atol=1e-5)


def assert_closed(positions: np.ndarray, indices: np.ndarray) -> None:
    """Each undirected edge (by position) is used by exactly two triangles, once in each direction."""
    keys = [tuple(np.round(p, 4)) for p in positions.astype(np.float64)]
    directed = Counter()
    for a, b, c in indices.reshape(-1, 3):
        for u, v in ((a, b), (b, c), (c, a)):
            directed[(keys[u], keys[v])] += 1
    for (u, v), count in directed.items():
        assert count == 1 and directed[(v, u)] == 1, f"edge {u}->{v} is not shared by exactly two faces"


def roof_area(positions: np.ndarray, normals: np.ndarray, indices: np.ndarray) -> float:
    t = triangles_of(positions, indices)
    up = normals[indices.reshape(-1, 3)[:, 0], 2] > 0.99
    return float(np.linalg.norm(np.cross(t[up, 1] - t[up, 0], t[up, 2] - t[up, 0]), axis=1).sum() / 2.0)


def test_square_volume_normals_and_triangle_count() -> None:
    square = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    positions, normals, indices = extrude_polygon(square, 0.0, 5.0, floor=True)
    assert positions.dtype == np.float32 and normals.dtype == np.float32 and indices.dtype == np.uint32
    assert indices.size // 3 == 4 * 2 + 2 + 2  # four wall quads, roof, floor
    assert positions.shape == (4 * 4 + 4 + 4, 3)  # walls have their own vertices (flat normals)
    assert signed_volume(positions, indices) == pytest.approx(500.0)
    assert_closed(positions, indices)
    assert_winding_matches_normals(positions, normals, indices)
    wall_normals = {tuple(n) for n in np.round(normals[np.abs(normals[:, 2]) < 0.5]).astype(int)}
    assert wall_normals == {(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0)}
    assert roof_area(positions, normals, indices) == pytest.approx(100.0)


def test_floor_only_when_lifted_by_default() -> None:
    square = shapely.box(0, 0, 4, 4)
    _, normals_ground, indices_ground = extrude_polygon(square, 0.0, 3.0)
    _, normals_lifted, indices_lifted = extrude_polygon(square, 2.0, 3.0)
    assert indices_ground.size // 3 == 10 and not (normals_ground[:, 2] < -0.5).any()
    with pytest.raises(AssertionError, match="exactly two faces"):  # open at the bottom: the check bites
        assert_closed(*extrude_polygon(square, 0.0, 3.0)[::2])
    assert indices_lifted.size // 3 == 12 and (normals_lifted[:, 2] < -0.5).any()


def test_clockwise_input_still_faces_outward() -> None:
    clockwise = shapely.Polygon([(0, 0), (0, 10), (10, 10), (10, 0)])
    assert not clockwise.exterior.is_ccw
    positions, normals, indices = extrude_polygon(clockwise, 0.0, 5.0, floor=True)
    assert signed_volume(positions, indices) == pytest.approx(500.0)
    assert_winding_matches_normals(positions, normals, indices)


def test_polygon_with_courtyard() -> None:
    outer = [(0, 0), (20, 0), (20, 20), (0, 20)]
    hole = [(5, 5), (15, 5), (15, 15), (5, 15)]  # counter-clockwise on purpose (shapely does not orient)
    courtyard = shapely.Polygon(outer, [hole])
    positions, normals, indices = extrude_polygon(courtyard, 1.0, 9.0, floor=True)
    assert signed_volume(positions, indices) == pytest.approx((400 - 100) * 8.0)
    assert roof_area(positions, normals, indices) == pytest.approx(300.0)
    assert_closed(positions, indices)
    assert_winding_matches_normals(positions, normals, indices)
    assert indices.size // 3 == 8 * 2 + 8 + 8  # 8 wall quads; earcut: n + 2*holes - 2 = 8 roof triangles
    # Courtyard walls face into the courtyard (towards its centre).
    inner = (np.abs(normals[:, 2]) < 0.5) & (np.abs(positions[:, 0] - 10) <= 5) & (np.abs(positions[:, 1] - 10) <= 5)
    to_centre = np.array([10.0, 10.0]) - positions[inner, :2]
    assert inner.sum() == 16
    assert (np.einsum("ij,ij->i", normals[inner, :2], to_centre) > 0).all()


def test_concave_and_many_vertex_outlines() -> None:
    l_shape = shapely.Polygon([(0, 0), (30, 0), (30, 10), (10, 10), (10, 25), (0, 25)])
    round_tower = shapely.Point(50, 50).buffer(12.0, quad_segs=32)  # 128-gon
    for polygon in (l_shape, round_tower, shapely.Polygon(round_tower.exterior, [shapely.Point(50, 50).buffer(4).exterior.coords])):
        positions, normals, indices = extrude_polygon(polygon, 0.0, 7.5, floor=True)
        assert signed_volume(positions, indices) == pytest.approx(polygon.area * 7.5, rel=1e-6)
        assert roof_area(positions, normals, indices) == pytest.approx(polygon.area, rel=1e-6)
        assert_winding_matches_normals(positions, normals, indices)


def test_multipolygon_parts_and_holes() -> None:
    left = shapely.Polygon([(0, 0), (10, 0), (10, 10), (0, 10)], [[(3, 3), (7, 3), (7, 7), (3, 7)]])
    right = shapely.box(20, 0, 26, 5)
    multi = shapely.MultiPolygon([left, right])
    positions, normals, indices = extrude_polygon(multi, 0.0, 4.0, floor=True)
    assert signed_volume(positions, indices) == pytest.approx((84 + 30) * 4.0)
    assert roof_area(positions, normals, indices) == pytest.approx(114.0)
    assert_closed(positions, indices)
    assert_winding_matches_normals(positions, normals, indices)


def test_repeated_and_closing_points_are_cleaned() -> None:
    messy = shapely.Polygon([(0, 0), (0, 0), (10, 0), (10, 0), (10, 10), (0, 10), (0, 10)])
    clean = shapely.box(0, 0, 10, 10)
    p1, n1, i1 = extrude_polygon(messy, 0.0, 3.0)
    p2, n2, i2 = extrude_polygon(clean, 0.0, 3.0)
    assert i1.size == i2.size and p1.shape == p2.shape
    assert signed_volume(p1, i1) == pytest.approx(signed_volume(p2, i2))
    assert np.isfinite(n1).all()


def test_degenerate_and_flat_footprints() -> None:
    sliver = shapely.Polygon([(0, 0), (5, 0), (5, 0), (0, 0)])  # two distinct points only
    positions, normals, indices = extrude_polygon(sliver, 0.0, 3.0)
    assert positions.shape == (0, 3) and indices.size == 0
    positions, normals, indices = extrude_polygon(shapely.box(0, 0, 2, 2), 4.0, 4.0, floor=False)
    assert indices.size // 3 == 2 and (normals[:, 2] == 1).all()  # no zero-height walls, roof only


def test_errors_are_clear() -> None:
    with pytest.raises(GeometryError, match="below base"):
        extrude_polygon(shapely.box(0, 0, 1, 1), 5.0, 2.0)
    with pytest.raises(GeometryError, match="LineString"):
        extrude_polygon(shapely.LineString([(0, 0), (1, 1)]), 0.0, 2.0)
    with pytest.raises(GeometryError, match="finite"):
        extrude_polygon(shapely.box(0, 0, 1, 1), 0.0, float("nan"))
    with pytest.raises(GeometryError, match="keys"):
        extrude_footprints([shapely.box(0, 0, 1, 1)], [0.0], [1.0], [], [])


def test_batched_equals_one_by_one() -> None:
    polygons, heights = random_footprints(60, seed=11, spread=300)
    polygons[7] = shapely.Polygon(polygons[7].exterior, [shapely.box(*polygons[7].centroid.buffer(1).bounds).exterior.coords])
    polygons[8] = shapely.MultiPolygon([polygons[8], shapely.affinity.translate(polygons[8], 100, 0)])
    bases = np.where(np.arange(60) % 3 == 0, 2.0, 0.0)
    keys = [f"k{i}" for i in range(60)]
    rows = [{"i": i} for i in range(60)]
    colours = [(0.1 * (i % 10), 0.5, 0.5, 1.0) for i in range(60)]
    meshes = extrude_footprints(polygons, bases, heights, keys, rows, colours, groups=[f"g{i % 4}" for i in range(60)])
    assert [m.key for m in meshes] == keys and [m.properties for m in meshes] == rows
    assert meshes[13].color == colours[13] and meshes[13].group == "g1"
    for polygon, base, top, mesh in zip(polygons, bases, heights, meshes):
        positions, normals, indices = extrude_polygon(polygon, base, top)
        np.testing.assert_array_equal(mesh.positions, positions)
        np.testing.assert_array_equal(mesh.normals, normals)
        np.testing.assert_array_equal(mesh.indices, indices)
        assert roof_area(mesh.positions, mesh.normals, mesh.indices) == pytest.approx(polygon.area, rel=1e-5)
        assert_winding_matches_normals(mesh.positions, mesh.normals, mesh.indices)


def test_single_colour_for_all() -> None:
    meshes = extrude_footprints([shapely.box(0, 0, 1, 1)] * 3, 0.0, 2.0, ["a", "b", "c"], [{}] * 3, (1.0, 0.0, 0.0, 1.0))
    assert {m.color for m in meshes} == {(1.0, 0.0, 0.0, 1.0)}


def test_3d_footprint_heights_are_above_each_vertex_ground() -> None:
    sloped = shapely.Polygon([(0, 0, 10.0), (10, 0, 10.5), (10, 10, 11.0), (0, 10, 10.5)])
    positions, normals, indices = extrude_polygon(sloped, 0.0, 20.0)
    roof = normals[:, 2] > 0.99
    ground_z = {(0, 0): 10.0, (10, 0): 10.5, (10, 10): 11.0, (0, 10): 10.5}
    for (x, y, z) in positions[roof]:
        assert z == pytest.approx(ground_z[(round(x), round(y))] + 20.0)
    walls = ~roof
    assert sorted({round(float(z), 3) for z in positions[walls][:, 2]}) == [10.0, 10.5, 11.0, 30.0, 30.5, 31.0]
    # The roof follows the 5% slope while its normals stay vertical: CCW faces, normals within 5 degrees.
    faces = face_normals(positions, indices)
    assert (np.einsum("ij,ij->i", faces, normals[indices.reshape(-1, 3)[:, 0]]) > 0.996).all()


def test_origin_mode_matches_flat_mode_at_the_origin() -> None:
    from tiles.enu import Origin

    square = shapely.box(-5, -5, 5, 5)
    flat = extrude_polygon(square, 0.0, 30.0, floor=True)
    curved = extrude_polygon(square, 0.0, 30.0, floor=True, origin=Origin(104.0, 30.0, 0.0))
    np.testing.assert_array_equal(flat[2], curved[2])
    np.testing.assert_allclose(flat[0], curved[0], atol=1e-4)  # 5 m off the origin the vertical leans < 1 mrad
    np.testing.assert_allclose(flat[1], curved[1], atol=2e-6)
    assert signed_volume(curved[0], curved[2]) == pytest.approx(3000.0, rel=1e-5)
    assert_winding_matches_normals(curved[0], curved[1], curved[2])


def test_fan_from_the_single_reflex_vertex_covers_exactly_the_footprint() -> None:
    """Random convex polygons with one vertex pushed inwards (one reflex vertex), plus T-shapes (two)."""
    rng = np.random.default_rng(21)
    shapes = []
    for _ in range(200):
        n = int(rng.integers(4, 12))
        angles = np.sort(rng.uniform(0, 2 * np.pi, n))
        radius = rng.uniform(5, 20)
        points = np.column_stack([np.cos(angles), np.sin(angles)]) * radius
        points[int(rng.integers(n))] *= rng.uniform(0.05, 0.6)  # dent: that vertex becomes reflex
        polygon = shapely.Polygon(points)
        if polygon.is_valid:
            shapes.append(polygon if rng.random() < 0.5 else shapely.Polygon(points[::-1]))
    shapes.append(shapely.Polygon([(0, 0), (30, 0), (30, 5), (20, 5), (20, 20), (10, 20), (10, 5), (0, 5)]))  # T
    meshes = extrude_footprints(shapes, np.zeros(len(shapes)), np.full(len(shapes), 3.0),
                                [str(i) for i in range(len(shapes))], [{}] * len(shapes))
    for polygon, mesh in zip(shapes, meshes):
        # Unsigned triangle areas add up to the footprint only if no triangle overlaps or leaves it.
        assert roof_area(mesh.positions, mesh.normals, mesh.indices) == pytest.approx(polygon.area, rel=1e-5)
        assert_winding_matches_normals(mesh.positions, mesh.normals, mesh.indices)
