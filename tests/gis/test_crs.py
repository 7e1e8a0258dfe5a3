"""CRS parsing, plausibility checks, reprojection to EPSG:4326 and the GCJ-02 / BD-09 offsets."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from shapely.geometry import Point

from gis import chinacoords
from gis.crs import SPECIAL_CRS, check_plausible, parse_crs, to_wgs84
from gis.errors import CrsError
from gis.load import load_vector

from .conftest import CAPE_TOWN

CHENGDU = (104.06, 30.67)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("EPSG:4544", 4544), ("4490", 4490), (" epsg:32734 ", 32734), ("+proj=longlat +datum=WGS84 +no_defs", 4326)],
)
def test_parse_crs_epsg_and_proj_inputs(text, expected):
    crs = parse_crs(text)
    assert isinstance(crs, pyproj.CRS)
    assert crs.to_epsg() == expected


@pytest.mark.parametrize(
    ("text", "expected"), [("gcj02", "GCJ02"), ("GCJ-02", "GCJ02"), ("gcj_02", "GCJ02"), ("bd09", "BD09"), ("BD-09", "BD09")]
)
def test_parse_crs_special_names(text, expected):
    assert parse_crs(text) == expected
    assert expected in SPECIAL_CRS


@pytest.mark.parametrize("text", ["EPSG:999999", "not a crs", ""])
def test_parse_crs_unknown_is_a_clear_error(text):
    with pytest.raises(CrsError, match="EPSG"):
        parse_crs(text)


def test_gcj02_matches_published_samples():
    # wandergis/coordtransform test/app.js publishes these outputs of the standard forward formulas.
    lon, lat = chinacoords.wgs84_to_gcj02(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx((116.41024449916938, 39.91640428150164), abs=1e-9)
    lon, lat = chinacoords.gcj02_to_bd09(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx((116.41036949371029, 39.92133699351021), abs=1e-9)
    # Its inverses are one-step approximations; ours iterate, so they agree only to a few centimetres.
    lon, lat = chinacoords.gcj02_to_wgs84(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx((116.39775550083061, 39.91359571849836), abs=2e-6)
    lon, lat = chinacoords.bd09_to_gcj02(116.404, 39.915)
    assert (float(lon), float(lat)) == pytest.approx((116.39762729119315, 39.90865673957631), abs=2e-6)
    # The Tiananmen sample from the brief: within ~1 m (1e-5 deg) of the commonly quoted GCJ-02 value.
    lon, lat = chinacoords.wgs84_to_gcj02(116.397428, 39.90923)
    assert (float(lon), float(lat)) == pytest.approx((116.403673, 39.910628), abs=1e-5)


def test_gcj02_and_bd09_round_trip_below_1e7_degrees():
    rng = np.random.default_rng(7)
    lon, lat = rng.uniform(73.0, 135.0, 5000), rng.uniform(18.0, 53.0, 5000)
    back_lon, back_lat = chinacoords.gcj02_to_wgs84(*chinacoords.wgs84_to_gcj02(lon, lat))
    assert np.abs(back_lon - lon).max() < 1e-7 and np.abs(back_lat - lat).max() < 1e-7
    back_lon, back_lat = chinacoords.bd09_to_wgs84(*chinacoords.wgs84_to_bd09(lon, lat))
    assert np.abs(back_lon - lon).max() < 1e-7 and np.abs(back_lat - lat).max() < 1e-7
    # The offset itself is typically hundreds of metres, so a no-op "inverse" could not pass.
    shifted_lon, shifted_lat = chinacoords.wgs84_to_gcj02(lon, lat)
    assert np.median(np.hypot(shifted_lon - lon, shifted_lat - lat)) > 1e-3


def test_gcj02_leaves_points_outside_china_alone():
    lon, lat = chinacoords.wgs84_to_gcj02(np.array([2.35, 18.42]), np.array([48.85, -33.92]))
    assert lon.tolist() == [2.35, 18.42] and lat.tolist() == [48.85, -33.92]


def test_to_wgs84_undoes_gcj02_offset_on_geometries():
    gcj_lon, gcj_lat = chinacoords.wgs84_to_gcj02(*CHENGDU)
    frame = gpd.GeoDataFrame({"a": [1]}, geometry=[Point(float(gcj_lon), float(gcj_lat))], crs=None)
    result, used = to_wgs84(frame, declared=None, override="GCJ-02")
    assert used == "GCJ02"
    assert result.crs.to_epsg() == 4326
    assert (result.geometry.x[0], result.geometry.y[0]) == pytest.approx(CHENGDU, abs=1e-7)


def _write_geojson_in(crs: str, path, point=CHENGDU):
    """A one-polygon GeoJSON whose coordinates are `point` projected into `crs`, with the crs member set."""
    x, y = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True).transform(*point)
    frame = gpd.GeoDataFrame({"name": ["probe"]}, geometry=[Point(x, y).buffer(5)], crs=crs)
    frame.to_file(path, driver="GeoJSON")
    return x, y


@pytest.mark.parametrize("epsg", ["EPSG:4544", "EPSG:4490", "EPSG:32648"])
def test_projected_and_cgcs2000_geojson_round_trip(tmp_path, epsg):
    path = tmp_path / f"chengdu_{epsg.replace(':', '_')}.geojson"
    _write_geojson_in(epsg, path)
    assert epsg.split(":")[1] in json.loads(path.read_text())["crs"]["properties"]["name"]
    result = load_vector(path)
    assert result.report.source_crs == epsg
    centroid = result.features.geometry.iloc[0].centroid
    assert (centroid.x, centroid.y) == pytest.approx(CHENGDU, abs=1e-7)


def test_cape_town_mislabelled_utm_is_caught_and_fixed_with_crs(gis_fixtures):
    with pytest.raises(CrsError) as caught:
        load_vector(gis_fixtures / CAPE_TOWN)
    message = str(caught.value)
    assert "--crs" in message and "metres" in message and "EPSG:32734" in message
    result = load_vector(gis_fixtures / CAPE_TOWN, crs="EPSG:32734")
    minx, miny, maxx, maxy = result.features.total_bounds
    # University Estate, Cape Town: ~18.45E 33.94S.
    assert 18.3 < minx < maxx < 18.6 and -34.1 < miny < maxy < -33.8
    assert result.report.source_crs == "EPSG:32734"
    assert result.report.loaded == 305


def test_projected_label_on_degree_coordinates_is_an_error():
    frame = gpd.GeoDataFrame(geometry=[Point(CHENGDU)], crs=None)
    with pytest.raises(CrsError, match="look like degrees.*EPSG:4326"):
        check_plausible(frame, parse_crs("EPSG:4544"))


def test_projected_data_outside_the_crs_area_is_an_error():
    # Cape Town UTM 34S metres claimed to be UTM 48N (Chengdu's zone): northing far outside the zone's area.
    frame = gpd.GeoDataFrame(geometry=[Point(264573, 16241779)], crs=None)
    with pytest.raises(CrsError, match="outside the area"):
        check_plausible(frame, parse_crs("EPSG:32648"))


def test_gauss_kruger_zone_prefix_is_recognised():
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4523", always_xy=True).transform(*CHENGDU)
    frame = gpd.GeoDataFrame(geometry=[Point(x, y)], crs=None)
    with pytest.raises(CrsError, match="EPSG:4523"):
        check_plausible(frame, parse_crs("EPSG:4326"))
    check_plausible(frame, parse_crs("EPSG:4523"))  # the right label passes


def test_swapped_lat_lon_is_named_as_such():
    frame = gpd.GeoDataFrame(geometry=[Point(CHENGDU[1], CHENGDU[0])], crs=None)
    with pytest.raises(CrsError, match="swapped"):
        check_plausible(frame, parse_crs("EPSG:4326"))


def test_custom_crs_without_code_is_recorded_as_a_short_proj_string(tmp_path):
    local = pyproj.CRS("+proj=tmerc +lat_0=0 +lon_0=104.1 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs")
    x, y = pyproj.Transformer.from_crs("EPSG:4326", local, always_xy=True).transform(*CHENGDU)
    path = tmp_path / "local_grid.gpkg"
    gpd.GeoDataFrame({"building": ["yes"]}, geometry=[Point(x, y).buffer(10)], crs=local).to_file(path)
    result = load_vector(path)
    assert result.report.source_crs.startswith("+proj=tmerc") and len(result.report.source_crs) <= 200
    centroid = shapely.centroid(result.features.geometry.iloc[0])
    assert (centroid.x, centroid.y) == pytest.approx(CHENGDU, abs=1e-6)
