"""read_vector: formats, layers, zips, and clear errors for broken input."""

from __future__ import annotations

import shutil
import zipfile

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon

from gis.errors import EmptyInput, GisError, UnsupportedFormat
from gis.read import WARNINGS_ATTR, read_vector

from .conftest import MOSCOW, XIAN_MIXED

SQUARE = Polygon([(104.06, 30.67), (104.061, 30.67), (104.061, 30.671), (104.06, 30.671)])


def test_truncated_geojson_is_a_gis_error(gis_fixtures, tmp_path):
    raw = (gis_fixtures / XIAN_MIXED).read_bytes()
    path = tmp_path / "cut.geojson"
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(GisError, match="cut.geojson.*(truncated|export it again)") as caught:
        read_vector(path)
    assert type(caught.value).__module__.startswith("gis.")


def test_garbage_with_geojson_name_is_a_gis_error(tmp_path):
    path = tmp_path / "junk.geojson"
    path.write_text("this is not json")
    with pytest.raises(GisError, match="junk.geojson"):
        read_vector(path)


def test_empty_feature_collection_is_empty_input(tmp_path):
    path = tmp_path / "empty.geojson"
    path.write_text('{"type": "FeatureCollection", "features": []}')
    with pytest.raises(EmptyInput, match="no features"):
        read_vector(path)


def test_zero_byte_file_is_empty_input(tmp_path):
    path = tmp_path / "zero.gpkg"
    path.write_bytes(b"")
    with pytest.raises(EmptyInput):
        read_vector(path)


def test_missing_file_and_unsupported_type(tmp_path):
    with pytest.raises(GisError, match="not found"):
        read_vector(tmp_path / "nope.geojson")
    kml = tmp_path / "park.kml"
    kml.write_text("<kml/>")
    with pytest.raises(UnsupportedFormat, match="GeoJSON.*GeoPackage.*Shapefile.*CityJSON"):
        read_vector(kml)


def test_geopackage_first_layer_or_named_layer(tmp_path):
    path = tmp_path / "park.gpkg"
    gpd.GeoDataFrame({"name": ["b1", "b2"]}, geometry=[SQUARE, SQUARE], crs=4490).to_file(path, layer="buildings")
    gpd.GeoDataFrame({"name": ["r1"]}, geometry=[LineString([(104.06, 30.67), (104.07, 30.68)])], crs=4326).to_file(
        path, layer="roads"
    )
    frame, declared = read_vector(path)
    assert len(frame) == 2 and declared == "EPSG:4490"
    assert any("roads" in warning for warning in frame.attrs[WARNINGS_ATTR])
    roads, declared = read_vector(path, layer="roads")
    assert roads["name"].tolist() == ["r1"] and declared == "EPSG:4326"
    with pytest.raises(GisError, match="no layer 'water'.*buildings, roads"):
        read_vector(path, layer="water")


@pytest.mark.filterwarnings("ignore:'crs' was not provided")  # a file without a CRS is what this test is about
def test_shapefile_without_prj_declares_no_crs(tmp_path):
    path = tmp_path / "points.shp"
    gpd.GeoDataFrame({"n": [1]}, geometry=[Point(1, 2)], crs=None).to_file(path)
    frame, declared = read_vector(path)
    assert declared is None and len(frame) == 1


def _copy_moscow(gis_fixtures, folder):
    folder.mkdir()
    for part in gis_fixtures.glob("moscow_osm_buildings.*"):
        shutil.copy(part, folder / part.name)
    return folder / MOSCOW


def test_truncated_shapefile_is_caught(gis_fixtures, tmp_path):
    shp = _copy_moscow(gis_fixtures, tmp_path / "cut")
    data = shp.read_bytes()
    shp.write_bytes(data[: len(data) // 3])  # GDAL alone would return ~2/3 of the rows with null geometry
    with pytest.raises(GisError, match="truncated"):
        read_vector(shp)


def test_zipped_shapefile_reads_like_the_plain_one(gis_fixtures, tmp_path):
    archive = tmp_path / "moscow.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for part in sorted(gis_fixtures.glob("moscow_osm_buildings.*")):
            zipped.write(part, f"export/{part.name}")
    plain, plain_crs = read_vector(gis_fixtures / MOSCOW)
    from_zip, zip_crs = read_vector(archive)
    assert zip_crs == plain_crs == "EPSG:4326"
    assert len(from_zip) == len(plain) == 18046
    assert from_zip["osm_id"].tolist() == plain["osm_id"].tolist()
    assert from_zip.geometry.geom_equals_exact(plain.geometry, tolerance=0).all()


def test_zip_without_vector_file_is_unsupported(tmp_path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("readme.txt", "no shapes here")
    with pytest.raises(UnsupportedFormat, match=".shp"):
        read_vector(archive)


def test_corrupt_zip_is_a_gis_error(tmp_path):
    archive = tmp_path / "broken.zip"
    archive.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(GisError, match="zip"):
        read_vector(archive)


def test_fast_geojson_reader_handles_the_fixtures(gis_fixtures):
    from gis.geojson import read_geojson_fast

    for name in (XIAN_MIXED, "changan_university_xian_osm_buildings.geojson"):
        fast = read_geojson_fast(gis_fixtures / name)
        assert fast is not None and fast[1] == "EPSG:4326" and len(fast[0]) > 0


def test_truncated_geopackage_is_a_gis_error(tmp_path):
    path = tmp_path / "cut.gpkg"
    squares = [SQUARE.buffer(i * 1e-5) for i in range(2000)]
    gpd.GeoDataFrame({"n": range(len(squares))}, geometry=squares, crs=4326).to_file(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(GisError, match="cut.gpkg.*(malformed|not a database|truncated)"):
        read_vector(path)


def test_shapefile_without_shx_or_dbf(gis_fixtures, tmp_path):
    shp = _copy_moscow(gis_fixtures, tmp_path / "parts")
    shp.with_suffix(".dbf").unlink()
    frame, _ = read_vector(shp)
    assert len(frame) == 18046 and any(".dbf" in w for w in frame.attrs[WARNINGS_ATTR])
    shp.with_suffix(".shx").unlink()
    with pytest.raises(GisError, match=r"without its \.shx"):
        read_vector(shp)
    archive = tmp_path / "no_index.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(shp, shp.name)
    with pytest.raises(GisError, match=r"without its \.shx"):
        read_vector(archive)
