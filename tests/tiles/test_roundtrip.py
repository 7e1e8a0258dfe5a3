"""Positions survive lon/lat -> ENU -> extrude -> GLB -> root transform -> ECEF -> lon/lat (within 5 cm)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from tiles.enu import Origin, lonlat_geometries_to_enu, lonlat_to_enu
from tiles.extrude import extrude_footprints
from tiles.sink import MemorySink
from tiles.tileset import build_tileset
from tiles.validate import check_tileset, collect_keys, decode_glb, iter_tiles

TO_GEODETIC = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)
TO_ECEF = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)


def content_to_ecef(tileset: dict, data: bytes) -> tuple[np.ndarray, dict]:
    """Decode a tile and apply the root transform as a 3D Tiles client does (tiles carry no own transform)."""
    decoded = decode_glb(data)
    matrix = np.array(tileset["root"]["transform"], dtype=np.float64).reshape(4, 4).T  # column-major
    return decoded["positions"] @ matrix[:3, :3].T + matrix[:3, 3], decoded


def footprint_enu(origin: Origin, lonlat: np.ndarray, ground: float) -> shapely.Polygon:
    """A 3D footprint in the ENU frame: x, y and the ENU z of each corner at ground height (m)."""
    x, y, z = lonlat_to_enu(origin, lonlat[:, 0], lonlat[:, 1], np.full(len(lonlat), ground))
    return shapely.Polygon(np.column_stack([x, y, z]))


def metres_between(lon_lat_h_a: np.ndarray, lon_lat_h_b: np.ndarray) -> np.ndarray:
    """For each point of a, the 3D distance (m) to the nearest point of b (both lon, lat, h columns)."""
    a = np.stack(TO_ECEF.transform(*lon_lat_h_a.T), axis=-1)
    b = np.stack(TO_ECEF.transform(*lon_lat_h_b.T), axis=-1)
    return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2).min(axis=1)


@pytest.mark.parametrize("offset_deg", [(0.0002, 0.0001), (0.15, -0.12)])  # beside the origin; ~18 km away
def test_building_lands_where_it_was(offset_deg) -> None:
    origin = Origin(104.0657, 30.6595, 500.0)
    lon0, lat0 = origin.lon + offset_deg[0], origin.lat + offset_deg[1]
    corners = np.array([[lon0, lat0], [lon0 + 0.0003, lat0], [lon0 + 0.0003, lat0 + 0.0002], [lon0, lat0 + 0.0002]])
    ground, height = 520.0, 60.0
    polygon = footprint_enu(origin, corners, ground)
    mesh = extrude_footprints([polygon], [0.0], [height], ["b1"], [{"name": "test"}], origin=origin)[0]
    sink = MemorySink()
    tileset = build_tileset([mesh], origin=origin, sink=sink)
    ecef, decoded = content_to_ecef(tileset, sink.get(tileset["root"]["content"]["uri"]))
    assert decoded["properties"]["key"] == ["b1"]
    lon, lat, h = (np.asarray(v) for v in TO_GEODETIC.transform(ecef[:, 0], ecef[:, 1], ecef[:, 2]))
    got = np.column_stack([lon, lat, h])
    at_ground, at_roof = np.abs(h - ground) < 1.0, np.abs(h - ground - height) < 1.0
    assert (at_ground | at_roof).all() and at_ground.sum() == 8 and at_roof.sum() == 12  # wall + roof vertices
    for level, mask in ((ground, at_ground), (ground + height, at_roof)):
        expected = np.column_stack([corners, np.full(4, level)])
        assert metres_between(expected, got[mask]).max() < 0.05  # every corner is there...
        assert metres_between(got[mask], expected).max() < 0.05  # ...and nothing else


def test_flat_extrusion_leans_far_from_origin() -> None:
    """Why `origin` matters: without it a 60 m building 18 km out has its roof ~15 cm off."""
    origin = Origin(104.0657, 30.6595, 500.0)
    corners = np.array([[104.2157, 30.5395], [104.216, 30.5395], [104.216, 30.5397], [104.2157, 30.5397]])
    polygon = footprint_enu(origin, corners, 500.0)
    curved = extrude_footprints([polygon], [0.0], [60.0], ["c"], [{}], origin=origin)[0]
    flat = extrude_footprints([polygon], [0.0], [60.0], ["f"], [{}])[0]
    roof = curved.normals[:, 2] > 0.99
    lean = np.linalg.norm(curved.positions[roof] - flat.positions[flat.normals[:, 2] > 0.99], axis=1)
    assert 0.10 < lean.min() and lean.max() < 0.2


def test_moscow_buildings_over_16_km(gis_fixtures) -> None:
    """18,000 real OSM footprints spanning 16 x 10 km: structure, exactly-once, and every vertex back home."""
    import geopandas

    frame = geopandas.read_file(gis_fixtures / "moscow_osm_buildings.shp")
    frame = frame[frame.is_valid].reset_index(drop=True)  # 30 invalid rings are gis/'s job to repair
    west, south, east, north = frame.total_bounds
    origin = Origin((west + east) / 2, (south + north) / 2, 150.0)
    lonlat, ring_index = shapely.get_coordinates(frame.geometry.values, return_index=True)
    polygons = lonlat_geometries_to_enu(origin, frame.geometry.values, 150.0)
    assert shapely.has_z(polygons).all()
    heights = np.random.default_rng(1).uniform(5, 60, len(frame))
    keys = [str(k) for k in frame["osm_id"]]
    rows = [{"name": n, "type": t} for n, t in zip(frame["name"], frame["type"])]
    meshes = extrude_footprints(polygons, np.zeros(len(frame)), heights, keys, rows, origin=origin)
    sink = MemorySink()
    tileset = build_tileset(meshes, origin=origin, sink=sink, max_features_per_tile=500)
    assert check_tileset(tileset, sink.get) == []
    built = [m.key for m in meshes if m.indices.size]
    assert Counter(collect_keys(tileset, sink.get)) == Counter(built)
    assert len(built) >= len(frame) - 5

    # Every roof vertex goes back to a footprint vertex of its own feature (nearest, in metres),
    # at its building's height above the ground.
    lonlat_by_key = {}
    starts = np.r_[0, np.flatnonzero(np.diff(ring_index)) + 1, len(ring_index)]
    for feature, (a, b) in enumerate(zip(starts[:-1], starts[1:])):
        lonlat_by_key[keys[ring_index[a]]] = lonlat[a:b]
    worst = worst_height = 0.0
    height_by_key = dict(zip(keys, heights))
    for tile, _ in iter_tiles(tileset):
        ecef, decoded = content_to_ecef(tileset, sink.get(tile["content"]["uri"]))
        roof = decoded["normals"][:, 2] > 0.99
        lon, lat, h = TO_GEODETIC.transform(ecef[roof, 0], ecef[roof, 1], ecef[roof, 2])
        back = np.column_stack([lon, lat])
        ids = decoded["feature_ids"][roof]
        for row, key in enumerate(decoded["properties"]["key"]):
            original = lonlat_by_key[key]
            mine = back[ids == row]
            # degrees -> metres locally (1e-5 deg lat ~ 1.11 m); fine for a 5 cm bound
            dlon = (mine[:, None, 0] - original[None, :, 0]) * 111_320 * np.cos(np.radians(original[0, 1]))
            dlat = (mine[:, None, 1] - original[None, :, 1]) * 110_574
            worst = max(worst, float(np.sqrt(dlon**2 + dlat**2).min(axis=1).max()))
            worst_height = max(worst_height, float(np.abs(h[ids == row] - 150.0 - height_by_key[key]).max()))
    assert worst < 0.05, worst
    assert worst_height < 0.05, worst_height


def test_footprints_to_meshes_puts_real_buildings_on_the_ground(gis_fixtures) -> None:
    """The service's front half on the Xi'an campus: every vertex back at its lon/lat, walls plumb."""
    import geopandas

    from tiles.footprints import footprints_to_meshes, origin_for

    frame = geopandas.read_file(gis_fixtures / "changan_university_xian_osm_buildings.geojson")
    geometries = frame.geometry.values
    origin = origin_for(geometries)
    heights = np.linspace(6.0, 80.0, len(frame))
    meshes = footprints_to_meshes(geometries, np.zeros(len(frame)), heights, list(frame["id"]),
                                  [{"name": n} for n in frame["name"]], origin=origin, ground=400.0)
    sink = MemorySink()
    tileset = build_tileset(meshes, origin=origin, sink=sink, max_features_per_tile=50)
    assert check_tileset(tileset, sink.get) == []
    by_key = dict(zip(frame["id"], zip(geometries, heights)))
    seen = 0
    for tile, _ in iter_tiles(tileset):
        ecef, decoded = content_to_ecef(tileset, sink.get(tile["content"]["uri"]))
        lon, lat, h = (np.asarray(v) for v in TO_GEODETIC.transform(ecef[:, 0], ecef[:, 1], ecef[:, 2]))
        for row, key in enumerate(decoded["properties"]["key"]):
            geometry, height = by_key[key]
            mine = decoded["feature_ids"] == row
            corners = shapely.get_coordinates(geometry)
            for level in (400.0, 400.0 + height):
                at_level = mine & (np.abs(h - level) < 0.05)
                got = np.column_stack([lon[at_level], lat[at_level], h[at_level]])
                expected = np.column_stack([corners, np.full(len(corners), level)])
                assert metres_between(got, expected).max() < 0.05, key
            assert (mine & ~(np.abs(h - 400.0) < 0.05) & ~(np.abs(h - 400.0 - height) < 0.05)).sum() == 0
            seen += 1
    assert seen == len(frame)
