"""bim.georef against positions computed here with pyproj from the files' raw attribute values."""

from __future__ import annotations

import math
from pathlib import Path

import ifcopenshell
import numpy as np
import pytest

from bim.georef import Anchor, model_to_enu, model_to_enu_matrix, model_to_wgs84, resolve_georef
from tests.bim.helpers import degrees_apart_m, fixture, lonlat_to_enu_reference, projected_to_lonlat
from tiles.enu import Origin

TOLERANCE_M = 0.05


@pytest.fixture(scope="module")
def simple_scene() -> ifcopenshell.file:
    return ifcopenshell.open(str(fixture("bSI-SimpleScene_Building-Architecture_IFC4.ifc")))


# Raw values of #19 IFCMAPCONVERSION in bSI-SimpleScene (map unit #15 = millimetre, like the project).
SCENE_E_MM, SCENE_N_MM, SCENE_H_MM = 729013348.8297004, 9063992684.697363, 1300.0
SCENE_XAXIS = (0.4999999999999999, 0.8660254037844387)


def scene_reference_lonlat(x_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The IFC map conversion formula by hand: mm in, EPSG:32760 metres, then pyproj."""
    x_mm = np.atleast_2d(x_m) * 1000.0
    cos_t, sin_t = SCENE_XAXIS
    east = (SCENE_E_MM + cos_t * x_mm[:, 0] - sin_t * x_mm[:, 1]) / 1000.0
    north = (SCENE_N_MM + sin_t * x_mm[:, 0] + cos_t * x_mm[:, 1]) / 1000.0
    height = (SCENE_H_MM + x_mm[:, 2]) / 1000.0
    lon, lat = projected_to_lonlat("EPSG:32760", east, north)  # type: ignore[arg-type]
    return np.asarray(lon), np.asarray(lat), height


def test_ifc4_map_conversion_rotated_in_millimetres(simple_scene: ifcopenshell.file) -> None:
    georef = resolve_georef(simple_scene)
    assert georef.source == "map_conversion" and georef.crs == "EPSG:32760"
    assert georef.rotation_deg == pytest.approx(60.0)
    lon, lat, height = scene_reference_lonlat(np.zeros(3))
    assert degrees_apart_m(georef.lon, georef.lat, float(lon[0]), float(lat[0])) < TOLERANCE_M
    assert georef.lon == pytest.approx(179.0801, abs=1e-4) and georef.lat == pytest.approx(-8.4622, abs=1e-4)
    assert georef.height == pytest.approx(1.3)


def test_points_away_from_the_origin_follow_the_rotation(simple_scene: ifcopenshell.file) -> None:
    georef = resolve_georef(simple_scene)
    points = np.array([[100.0, 0.0, 0.0], [0.0, 100.0, 3.0], [-70.0, 70.0, -2.0]])
    lon, lat, height = model_to_wgs84(georef, points)
    ref_lon, ref_lat, ref_h = scene_reference_lonlat(points)
    for i in range(len(points)):
        assert degrees_apart_m(lon[i], lat[i], ref_lon[i], ref_lat[i]) < TOLERANCE_M
    assert np.allclose(height, ref_h)


def test_enu_matrix_matches_exact_transform_within_5cm_at_100m(simple_scene: ifcopenshell.file) -> None:
    # 179E is 2 degrees from UTM zone 60's central meridian: grid convergence (~0.3 deg) and the
    # scale factor (~1.0002) move a point 100 m away by ~50 cm and ~2 cm if ignored.
    georef = resolve_georef(simple_scene)
    origin = Origin(georef.lon, georef.lat, georef.height)
    points = np.array([[0.0, 0.0, 0.0], [100.0, 0.0, 0.0], [0.0, -100.0, 0.0], [70.0, 70.0, 10.0], [-100.0, 0.0, 0.0]])
    enu = model_to_enu(georef, points, origin)
    lon, lat, height = scene_reference_lonlat(points)
    expected = lonlat_to_enu_reference(origin.lon, origin.lat, origin.height, lon, lat, height)
    assert np.abs(enu - expected).max() < TOLERANCE_M
    # A plain rotation by the map conversion alone (no convergence) would be off by decimetres here:
    naive = points @ np.array([[0.5, -0.8660254, 0], [0.8660254, 0.5, 0], [0, 0, 1]]).T
    assert np.abs(naive - expected).max() > 0.2


def test_ifc4x3_map_conversion_scale_written_inverted() -> None:
    model = ifcopenshell.open(str(fixture("geographic-referencing-utm_IFC4X3.ifc")))
    georef = resolve_georef(model)
    assert georef.source == "map_conversion" and georef.crs == "EPSG:25832"
    lon, lat = projected_to_lonlat("EPSG:25832", 458657.30, 5438232.25)
    assert degrees_apart_m(georef.lon, georef.lat, lon, lat) < TOLERANCE_M
    assert georef.height == pytest.approx(113.7)
    # Project unit mm, map unit m: Scale must be 0.001; the file says 1000 (inverted), which would
    # put the proxy's 1 m pyramid 1,000 km wide. Expect the unit ratio and a warning.
    assert georef.scale == pytest.approx(0.001)
    assert any("Scale 1000" in warning for warning in georef.warnings)
    theta = math.atan2(0.962691746426, 0.270600445976)
    lon10, lat10, _ = model_to_wgs84(georef, np.array([[10.0, 0.0, 0.0]]))
    ref_lon, ref_lat = projected_to_lonlat(
        "EPSG:25832", 458657.30 + 10 * math.cos(theta), 5438232.25 + 10 * math.sin(theta)
    )
    assert degrees_apart_m(lon10[0], lat10[0], ref_lon, ref_lat) < TOLERANCE_M
    # Its IfcSite RefLatitude/RefLongitude agrees with the map conversion to a few metres.
    site_lat = 49 + 5 / 60 + 43.9837 / 3600
    site_lon = 8 + 26 / 60 + 1.2473 / 3600
    assert degrees_apart_m(georef.lon, georef.lat, site_lon, site_lat) < 5.0


def test_ifc2x3_epset_map_conversion_beats_the_site_in_chicago() -> None:
    model = ifcopenshell.open(str(fixture("Duplex_A_20110907_georeferenced.ifc")))
    georef = resolve_georef(model)
    assert georef.source == "epset_map_conversion" and georef.crs == "EPSG:9897"
    # ePSet_MapConversion on the IfcSite: Eastings 76670, Northings 77179; EPSG:9897 = LUREF TM (EPSG:2169) + NG95.
    lon, lat = projected_to_lonlat("EPSG:2169", 76670.0, 77179.0)
    assert degrees_apart_m(georef.lon, georef.lat, lon, lat) < TOLERANCE_M
    assert georef.lon == pytest.approx(6.1220, abs=1e-3) and georef.lat == pytest.approx(49.6292, abs=1e-3)
    assert georef.height == pytest.approx(293.7, abs=1e-3)
    assert georef.rotation_deg == pytest.approx(math.degrees(math.atan2(0.945518575599318, 0.325568154457152)))
    assert any("Chicago" in warning for warning in georef.warnings)


def test_site_reference_latitude_longitude_and_true_north() -> None:
    model = ifcopenshell.open(str(fixture("AC20-FZK-Haus.ifc")))
    georef = resolve_georef(model)
    assert georef.source == "site_reflatlon"
    lat = 49 + 6 / 60 + (1 + 566000 / 1e6) / 3600
    lon = 8 + 26 / 60 + (11 + 540400 / 1e6) / 3600
    assert degrees_apart_m(georef.lon, georef.lat, lon, lat) < TOLERANCE_M
    assert georef.lat == pytest.approx(49.1004, abs=1e-4) and georef.lon == pytest.approx(8.4365, abs=1e-4)
    assert georef.height == pytest.approx(110.0)
    # TrueNorth (0.766, 0.643): 10 m along it in the model must land 10 m due north.
    north = np.array([[0.766044443119, 0.642787609687, 0.0]]) * 10.0
    lon_n, lat_n, _ = model_to_wgs84(georef, north)
    assert degrees_apart_m(lon, lat, lon_n[0], lat) < TOLERANCE_M  # no east-west offset
    assert degrees_apart_m(lon, lat, lon, lat_n[0]) == pytest.approx(10.0, abs=TOLERANCE_M)
    assert lat_n[0] > lat


def test_impossible_site_latitude_is_ignored_with_a_warning(tmp_path: Path) -> None:
    # No fixture has a latitude beyond 90 degrees (checked: all IfcSite RefLatitude values are sane),
    # so the small UTM sample is stripped of its map conversion and given one.
    text = fixture("geographic-referencing-utm_IFC4X3.ifc").read_text()
    kept = [line for line in text.splitlines() if not line.startswith(("#1=", "#2=", "#3="))]
    text = "\n".join(kept).replace("(49,5,43,983700)", "(270600745,0,0,0)")
    path = tmp_path / "absurd.ifc"
    path.write_text(text)
    georef = resolve_georef(ifcopenshell.open(str(path)))
    assert georef.source == "none" and georef.lon is None
    assert any("impossible position" in w and "270600745" in w for w in georef.warnings)
    anchored = resolve_georef(ifcopenshell.open(str(path)), anchor=Anchor(104.06, 30.57, 500.0))
    assert anchored.source == "anchor" and anchored.lat == 30.57


def test_anchor_overrides_a_map_conversion(simple_scene: ifcopenshell.file) -> None:
    anchor = Anchor(lon=104.0657, lat=30.6595, height=500.0, rotation_deg=90.0)
    georef = resolve_georef(simple_scene, anchor=anchor)
    assert georef.source == "anchor"
    assert any("overrides" in w for w in georef.warnings)
    lon, lat, height = model_to_wgs84(georef, np.array([[0.0, 0.0, 0.0], [20.0, 0.0, 0.0]]))
    assert degrees_apart_m(lon[0], lat[0], anchor.lon, anchor.lat) < TOLERANCE_M
    # rotation 90: model +X points north.
    assert degrees_apart_m(anchor.lon, anchor.lat, lon[1], lat[1]) == pytest.approx(20.0, abs=TOLERANCE_M)
    assert degrees_apart_m(anchor.lon, lat[1], lon[1], lat[1]) < TOLERANCE_M
    origin = Origin(anchor.lon, anchor.lat, anchor.height)
    matrix = model_to_enu_matrix(georef, origin)
    assert np.allclose(matrix[:3, 3], 0.0, atol=1e-3)
    assert np.allclose(matrix[:3, :3] @ [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], atol=1e-4)


def test_model_without_any_georeferencing(tmp_path: Path) -> None:
    import ifcopenshell.api.root

    model = ifcopenshell.file(schema="IFC4")
    ifcopenshell.api.root.create_entity(model, ifc_class="IfcProject", name="P")
    georef = resolve_georef(model)
    assert georef.source == "none"
    assert "give an anchor" in georef.warnings[-1]
