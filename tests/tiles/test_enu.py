"""The local ENU frame: matrix, forward and inverse transforms, checked against PROJ."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Transformer

import shapely

from tiles.enu import (
    Origin, enu_to_ecef_matrix, enu_to_lonlat, geodetic_to_ecef, local_up, lonlat_geometries_to_enu, lonlat_to_enu,
)

CHENGDU = Origin(lon=104.0657, lat=30.6595, height=500.0)


def test_matrix_is_rotation_plus_origin_translation() -> None:
    matrix = enu_to_ecef_matrix(CHENGDU)
    rotation = matrix[:3, :3]
    assert matrix.shape == (4, 4) and matrix.dtype == np.float64
    np.testing.assert_allclose(rotation.T @ rotation, np.eye(3), atol=1e-12)
    assert np.linalg.det(rotation) == pytest.approx(1.0)
    np.testing.assert_array_equal(matrix[3], [0, 0, 0, 1])
    ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True).transform(104.0657, 30.6595, 500.0)
    np.testing.assert_allclose(matrix[:3, 3], ecef, atol=1e-6)
    # The up column is the ellipsoid normal: a point 100 m above the origin is 100 m along it.
    above = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True).transform(104.0657, 30.6595, 600.0)
    np.testing.assert_allclose(matrix @ [0, 0, 100, 1], [*above, 1], atol=1e-6)


def test_forward_closed_form_matches_proj() -> None:
    rng = np.random.default_rng(3)
    lon, lat, h = rng.uniform(-180, 180, 1000), rng.uniform(-89, 89, 1000), rng.uniform(-100, 5000, 1000)
    proj = np.stack(Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True).transform(lon, lat, h), axis=-1)
    np.testing.assert_allclose(geodetic_to_ecef(lon, lat, h), proj, atol=1e-6)


def test_lonlat_enu_directions_and_distances() -> None:
    x, y, z = lonlat_to_enu(CHENGDU, [104.0657, 104.0757, 104.0657], [30.6595, 30.6595, 30.6695], [500.0, 500.0, 500.0])
    assert abs(x[0]) < 1e-6 and abs(y[0]) < 1e-6 and abs(z[0]) < 1e-6
    # 0.01 degree of longitude at 30.66N is ~957.6 m east; of latitude ~1108.8 m north.
    assert x[1] == pytest.approx(957.6, abs=1.0) and abs(y[1]) < 0.5
    assert y[2] == pytest.approx(1108.8, abs=1.0) and abs(x[2]) < 1e-6
    assert z[1] < 0 and z[2] < 0  # the Earth curves away below the tangent plane


def test_enu_round_trip_over_30_km() -> None:
    rng = np.random.default_rng(5)
    lon = CHENGDU.lon + rng.uniform(-0.2, 0.2, 5000)
    lat = CHENGDU.lat + rng.uniform(-0.15, 0.15, 5000)
    h = rng.uniform(400, 700, 5000)
    x, y, z = lonlat_to_enu(CHENGDU, lon, lat, h)
    lon2, lat2, h2 = enu_to_lonlat(CHENGDU, x, y, z)
    np.testing.assert_allclose(lon2, lon, atol=1e-10)
    np.testing.assert_allclose(lat2, lat, atol=1e-10)
    np.testing.assert_allclose(h2, h, atol=1e-6)


def test_enu_matches_proj_topocentric() -> None:
    """An independent ENU: PROJ's topocentric conversion."""
    topocentric = Transformer.from_pipeline(
        "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad +step +proj=cart +ellps=WGS84 "
        f"+step +proj=topocentric +ellps=WGS84 +lon_0={CHENGDU.lon} +lat_0={CHENGDU.lat} +h_0={CHENGDU.height}"
    )
    lon, lat, h = np.array([104.2, 103.9]), np.array([30.8, 30.5]), np.array([480.0, 900.0])
    expected = np.stack(topocentric.transform(lon, lat, h), axis=-1)
    np.testing.assert_allclose(np.stack(lonlat_to_enu(CHENGDU, lon, lat, h), axis=-1), expected, atol=1e-6)


def test_geometries_to_enu_keeps_shape_and_adds_ground_z() -> None:
    square = shapely.box(104.07, 30.66, 104.0703, 30.6602)
    courtyard = shapely.Polygon(square.exterior, [shapely.box(104.0701, 30.6601, 104.0702, 30.66015).exterior.coords])
    multi = shapely.MultiPolygon([square, shapely.affinity.translate(square, 0.2, 0)])
    out = lonlat_geometries_to_enu(CHENGDU, [square, courtyard, multi], [500.0, 510.0, 520.0])
    assert shapely.has_z(out).all()
    assert [g.geom_type for g in out] == ["Polygon", "Polygon", "MultiPolygon"]
    assert len(out[1].interiors) == 1 and len(out[2].geoms) == 2
    for geometry, ground in zip(out, (500.0, 510.0, 520.0)):
        xyz = shapely.get_coordinates(geometry, include_z=True)
        lon, lat, h = enu_to_lonlat(CHENGDU, xyz[:, 0], xyz[:, 1], xyz[:, 2])
        np.testing.assert_allclose(h, ground, atol=1e-6)
    far = shapely.get_coordinates(out[2].geoms[1], include_z=True)
    assert far[:, 2].max() < 520.0 - 500.0 - 1.0  # ~19 km east: well below the tangent plane


def test_local_up_leans_towards_the_origin() -> None:
    np.testing.assert_allclose(local_up(CHENGDU, np.zeros((1, 3))), [[0, 0, 1]], atol=1e-12)
    x, y, z = lonlat_to_enu(CHENGDU, 104.2, 30.6595, 500.0)
    up = local_up(CHENGDU, np.array([[float(x), float(y), float(z)]]))[0]
    # 10-13 km east: the vertical tilts east by distance / radius (~2 mrad)
    assert up[0] == pytest.approx(float(x) / 6_378_000, rel=0.01) and abs(up[1]) < 1e-4
    above = lonlat_to_enu(CHENGDU, 104.2, 30.6595, 600.0)
    np.testing.assert_allclose(np.array(above) - np.array([x, y, z]), 100.0 * up, atol=1e-4)
