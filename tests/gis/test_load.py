"""load_vector end to end on the real fixtures: every row accounted for, heights, kinds, JSON-safe properties."""

from __future__ import annotations

import json
import re
import zipfile
from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import LineString, Point, Polygon

from gis.errors import CrsError
from gis.load import load_vector, open_vector

from .conftest import CAPE_TOWN, MOSCOW, XIAN_BUILDINGS, XIAN_MIXED

FAMILY_OF_TYPE = {
    "Polygon": "polygon", "MultiPolygon": "polygon",
    "LineString": "line", "MultiLineString": "line",
    "Point": "point", "MultiPoint": "point",
}
NUMBER = re.compile(r"^\s*\d+(\.\d+)?\s*$")


def _raw_features(path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def _expected_height_source(props: dict) -> str:
    """From raw OSM tags: numeric height, else numeric levels, else default for buildings, flat for other areas."""
    height, levels = props.get("height"), props.get("building:levels")
    if height and NUMBER.match(height) and float(height) > 0:
        return "attribute:height"
    if levels and NUMBER.match(levels) and float(levels) > 0:
        return "storeys"
    return "default" if props.get("building") not in (None, "no") else "flat"


@pytest.fixture(scope="module")
def moscow(gis_fixtures):
    return load_vector(gis_fixtures / MOSCOW)


def test_xian_buildings_height_sources_match_the_raw_tags(gis_fixtures):
    path = gis_fixtures / XIAN_BUILDINGS
    raw = _raw_features(path)
    result = load_vector(path)
    expected = Counter(_expected_height_source(f["properties"]) for f in raw)
    assert result.report.height_sources == dict(expected)
    assert result.report.rows_read == result.report.loaded == len(raw) == 218
    assert expected["attribute:height"] + expected["storeys"] > 0  # the fixture really carries heights
    features = result.features
    with_height = features[features["height_source"] == "attribute:height"]
    raw_heights = {f["properties"]["@id"]: float(f["properties"]["height"]) for f in raw if f["properties"].get("height")}
    assert [raw_heights[i] for i in with_height["source_id"]] == with_height["top_height"].tolist()
    flat = features[features["height_source"].isna()]
    assert flat["top_height"].isna().all() and (flat["kind"] != "building").all()


def test_mixed_export_keeps_every_row_with_its_family(gis_fixtures):
    path = gis_fixtures / XIAN_MIXED
    raw = _raw_features(path)
    result = load_vector(path)
    expected = Counter(FAMILY_OF_TYPE[f["geometry"]["type"]] for f in raw)
    assert result.report.by_family == {"polygon": expected["polygon"], "line": expected["line"], "point": expected["point"]}
    assert result.report.loaded == result.report.rows_read == len(raw) == 637
    assert sorted(result.features["source_row"]) == list(range(len(raw)))
    assert sum(result.report.by_kind.values()) == len(raw)
    features = result.features
    not_polygons = features[features["family"] != "polygon"]
    assert not_polygons["top_height"].isna().all() and not_polygons["height_source"].isna().all()
    highways = sum(1 for f in raw if f["properties"].get("highway") and f["geometry"]["type"] == "LineString")
    assert (features["kind"] == "road").sum() == highways
    entrances = sum(1 for f in raw if f["properties"].get("entrance") and f["geometry"]["type"] == "Point")
    assert (features["kind"] == "key_location").sum() >= entrances
    assert any("more than once" in w for w in result.report.warnings)  # the export repeats some ways


def test_moscow_invalid_geometries_are_all_accounted_for(moscow, gis_fixtures):
    raw = pyogrio.read_dataframe(gis_fixtures / MOSCOW)
    invalid = int((~shapely.is_valid(raw.geometry.to_numpy())).sum())
    report = moscow.report
    assert invalid > 0
    assert report.repaired + report.dropped == invalid
    assert report.loaded + report.dropped == report.rows_read == len(raw)
    assert shapely.is_valid(moscow.features.geometry.to_numpy()).all()
    assert len(report.dropped_rows) == report.dropped
    dropped_ids = {item["source_id"] for item in report.dropped_rows}
    assert dropped_ids <= set(raw["osm_id"].astype(str)) and not dropped_ids & set(moscow.features["source_id"])
    assert report.height_sources == {"default": report.loaded}


def test_zipped_moscow_loads_identically(moscow, gis_fixtures, tmp_path):
    archive = tmp_path / "moscow_upload.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for part in gis_fixtures.glob("moscow_osm_buildings.*"):
            zipped.write(part, part.name)
    zipped_result = load_vector(archive)
    for key in ("source_crs", "rows_read", "loaded", "repaired", "dropped", "dropped_rows", "by_family", "height_sources"):
        assert getattr(zipped_result.report, key) == getattr(moscow.report, key), key
    assert zipped_result.features["source_id"].tolist() == moscow.features["source_id"].tolist()
    assert zipped_result.features.geometry.geom_equals_exact(moscow.features.geometry, tolerance=0).all()


def test_properties_and_report_are_json_safe(gis_fixtures):
    result = load_vector(gis_fixtures / CAPE_TOWN, crs="EPSG:32734")
    text = json.dumps(result.features["properties"].tolist(), allow_nan=False)
    assert '"footprint"' in text  # the nested JSON attribute survives as an object
    json.dumps(result.report.to_dict(), allow_nan=False)
    first = result.features.iloc[0]
    assert first["properties"]["building:levels"] == "2"
    assert first["storeys"] == 2 and first["top_height"] == pytest.approx(first["properties"]["building_height"])


def test_geopackage_with_dates_nulls_and_kind_column(tmp_path):
    square = Polygon([(104.06, 30.67), (104.0605, 30.67), (104.0605, 30.6705), (104.06, 30.6705)])
    frame = gpd.GeoDataFrame(
        {
            "名称": ["一号楼", "停车场", "大门"],
            "kind": ["building", "parking_lot", None],
            "built": pd.to_datetime(["2019-05-01", None, "2020-01-02"]),
            "score": [1.5, np.nan, 3.0],
            "层数": [6, None, None],
        },
        geometry=[square, square.buffer(0.0005), Point(104.061, 30.671)],
        crs=4490,
    )
    path = tmp_path / "park.gpkg"
    frame.to_file(path, layer="park")
    result = load_vector(path, progress=(messages := []).append)
    features = result.features
    assert features["name"].tolist() == ["一号楼", "停车场", "大门"]
    assert features["kind"].tolist() == ["building", "parking_lot", "poi"]
    assert features["top_height"].tolist()[:2] == [18.0, None] and features["storeys"].tolist()[0] == 6
    assert features["properties"].tolist()[0]["built"] == "2019-05-01"
    assert "score" not in features["properties"].tolist()[1]
    json.dumps(features["properties"].tolist(), allow_nan=False)
    assert result.report.source_crs == "EPSG:4490" and messages and messages[-1].startswith("done")


def test_gcj02_override_on_load(tmp_path):
    from gis.chinacoords import wgs84_to_gcj02

    lon, lat = wgs84_to_gcj02(np.array([104.06, 104.07]), np.array([30.67, 30.68]))
    path = tmp_path / "amap_trace.geojson"
    gpd.GeoDataFrame({"highway": ["service"]}, geometry=[LineString(zip(lon, lat))], crs=4326).to_file(path)
    result = load_vector(path, crs="gcj02")
    coords = shapely.get_coordinates(result.features.geometry.to_numpy())
    assert np.abs(coords - [[104.06, 30.67], [104.07, 30.68]]).max() < 1e-7
    assert result.report.source_crs == "GCJ02" and result.features["kind"].tolist() == ["road"]


def test_bad_crs_option_fails_before_reading(tmp_path):
    missing = tmp_path / "never_read.geojson"
    with pytest.raises(CrsError, match="Unknown CRS"):
        load_vector(missing, crs="EPSG:0")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # a file without a CRS is what this test is about
def test_no_declared_crs_is_assumed_wgs84_with_a_warning(tmp_path):
    path = tmp_path / "plain.shp"
    gpd.GeoDataFrame({"building": ["yes"]}, geometry=[Point(104.06, 30.67).buffer(1e-4)], crs=None).to_file(path)
    result = load_vector(path)
    assert result.report.source_crs == "EPSG:4326"
    assert any("declares no CRS" in w for w in result.report.warnings)


def test_dropped_rows_keep_file_ids(moscow, gis_fixtures):
    raw = pyogrio.read_dataframe(gis_fixtures / MOSCOW, columns=["osm_id"], read_geometry=False)
    for item in moscow.report.dropped_rows:
        assert item["source_id"] == str(raw["osm_id"].iloc[item["row"]])


@pytest.mark.parametrize("name", [XIAN_BUILDINGS, XIAN_MIXED, CAPE_TOWN])
def test_fast_geojson_reader_matches_gdal(gis_fixtures, monkeypatch, name):
    options = {"crs": "EPSG:32734"} if name == CAPE_TOWN else {}
    fast = load_vector(gis_fixtures / name, **options)
    monkeypatch.setattr("gis.read.read_geojson_fast", lambda path: None)  # force the GDAL path
    gdal = load_vector(gis_fixtures / name, **options)
    fast_report, gdal_report = fast.report.to_dict(), gdal.report.to_dict()
    fast_report.pop("seconds"), gdal_report.pop("seconds")
    assert fast_report == gdal_report
    assert fast.features.geometry.geom_equals_exact(gdal.features.geometry, tolerance=0).all()
    columns = [c for c in fast.features.columns if c != "geometry"]
    assert fast.features[columns].to_dict("records") == gdal.features[columns].to_dict("records")


@pytest.mark.parametrize("name", [MOSCOW, XIAN_MIXED])
def test_chunks_give_what_one_piece_gives(gis_fixtures, name):
    """Features cleaned and typed a few hundred rows at a time (as the PostGIS import streams them) are the
    ones a single pass gives: same rows, geometry, heights, properties; same report."""
    whole = load_vector(gis_fixtures / name)
    stream = open_vector(gis_fixtures / name, chunk_rows=300)
    chunks = list(stream)
    assert len(chunks) == -(-whole.report.rows_read // 300)
    joined = pd.concat(chunks, ignore_index=True)
    columns = [c for c in whole.features.columns if c != "geometry"]
    assert joined[columns].to_dict("list") == whole.features[columns].to_dict("list")
    assert shapely.equals_exact(joined.geometry.to_numpy(), whole.features.geometry.to_numpy(), tolerance=0).all()
    report, expected = stream.report.to_dict(), whole.report.to_dict()
    report.pop("seconds"), expected.pop("seconds")
    assert report == expected and whole.report.dropped_rows == sorted(whole.report.dropped_rows, key=lambda item: item["row"])


def test_attribute_forms_are_decided_over_the_whole_file(tmp_path):
    """A float column whose first chunk holds only whole numbers stays float in every chunk; an integer
    column with nulls (float64 in the file) comes back as integers in every chunk."""
    count = 10
    squares = [Polygon([(104 + i * 1e-3, 30), (104.0005 + i * 1e-3, 30), (104.0005 + i * 1e-3, 30.0005), (104 + i * 1e-3, 30.0005)]) for i in range(count)]
    frame = gpd.GeoDataFrame({"area_ha": [1.0] * 5 + [2.5] * 5, "floors_above": [3.0, np.nan] * 5}, geometry=squares, crs=4326)
    path = tmp_path / "forms.gpkg"
    frame.to_file(path)
    properties = [p for chunk in open_vector(path, chunk_rows=5) for p in chunk["properties"]]
    assert [type(p["area_ha"]) for p in properties] == [float] * count
    assert [type(p["floors_above"]) for p in properties if "floors_above" in p] == [int] * 5
