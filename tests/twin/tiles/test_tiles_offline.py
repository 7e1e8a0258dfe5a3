"""`twin tiles gis`: a file → tileset.json + content/ + ground.geojson, with no database (through the real CLI)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import geopandas as gpd
import orjson
import pytest
from typer.testing import CliRunner

from gis.load import load_vector
from tiles.sink import DirectorySink
from tiles.validate import check_tileset, collect_keys, content_uris
from tiles.enu import Origin
from twin.cli import app

GIS = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "gis"
MIXED = GIS / "changan_university_xian_osm_export_mixed.geojson"
MOSCOW = GIS / "moscow_osm_buildings.shp"
NO_CRS = GIS / "capetown_universityestate_osm_levels_heights_utm34s_nocrs.geojson"


def _tile(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, ["tiles", "gis", *args], env={"COLUMNS": "200"})


def test_a_mixed_file_gives_building_tiles_and_ground_geojson_with_every_feature_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    done = _tile(str(MIXED), "-o", str(out))
    assert done.exit_code == 0, done.output
    features = load_vector(MIXED).features
    is_building = (features["kind"] == "building") & features["top_height"].notna()
    tileset = json.loads((out / "tileset.json").read_text(encoding="utf-8"))
    sink = DirectorySink(out)
    assert check_tileset(tileset, sink.get) == []
    # Every building once in the property tables, keyed by its source id, with the service's property schema.
    keys = collect_keys(tileset, sink.get)
    assert sorted(keys) == sorted(features.loc[is_building, "source_id"].astype(str))
    names = {entry["name"] for entry in tileset["extras"]["parktwin"]["properties"].values()}
    assert {"code", "name", "kind", "height", "base_height", "height_source", "storeys"} <= names
    # Everything else is in ground.geojson, each feature once, with its kind and a geometry of its family.
    ground = orjson.loads((out / "ground.geojson").read_bytes())
    assert tileset["extras"]["parktwin"]["ground"] == "ground.geojson"
    rest = features[~is_building]
    assert sorted(f["id"] for f in ground["features"]) == sorted(rest["source_id"].astype(str))
    assert Counter(f["properties"]["kind"] for f in ground["features"]) == Counter(rest["kind"])
    family_types = {"line": {"LineString", "MultiLineString"}, "point": {"Point", "MultiPoint"}, "polygon": {"Polygon", "MultiPolygon"}}
    assert all(f["geometry"]["type"] in family_types[f["properties"]["family"]] for f in ground["features"])
    min_lon, min_lat, max_lon, max_lat = gpd.read_file(out / "ground.geojson").total_bounds  # GDAL reads it too
    assert 108.5 < min_lon < max_lon < 109.5 and 33.8 < min_lat < max_lat < 34.6  # Xi'an, in lon/lat
    for line in ("241 buildings", "396 ground features", "317 road", "637 loaded"):
        assert line in done.output


def test_a_second_run_into_the_same_folder_leaves_nothing_of_the_first(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    assert _tile(str(MIXED), "-o", str(out)).exit_code == 0
    first = set((out / "content").iterdir())
    again = _tile(str(MOSCOW), "-o", str(out), "--max-features-per-tile", "2000")
    assert again.exit_code == 0, again.output
    tileset = json.loads((out / "tileset.json").read_text(encoding="utf-8"))
    assert sorted(p.name for p in (out / "content").iterdir()) == sorted(uri.removeprefix("content/") for uri in content_uris(tileset))
    assert not first & set((out / "content").iterdir())
    assert not (out / "ground.geojson").exists()  # Moscow has only buildings: the Xi'an roads are not left behind
    assert "ground" not in tileset["extras"]["parktwin"]
    assert f"{len(first)} stale content files removed" in again.output
    assert tileset["extras"]["parktwin"]["featureCount"] == 18026


def test_a_file_whose_coordinates_contradict_its_crs_writes_nothing_and_says_what_to_pass(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    wrong = _tile(str(NO_CRS), "-o", str(out))
    assert wrong.exit_code == 1
    assert "--crs" in wrong.output and "EPSG:32734" in wrong.output
    assert not (out / "tileset.json").exists()
    right = _tile(str(NO_CRS), "-o", str(out), "--crs", "EPSG:32734")
    assert right.exit_code == 0, right.output
    origin = Origin(**json.loads((out / "tileset.json").read_text(encoding="utf-8"))["extras"]["parktwin"]["origin"])
    assert 18.3 < origin.lon < 18.6 and -34.1 < origin.lat < -33.8  # Cape Town


@pytest.mark.parametrize("content", [b'{"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": {"type": "LineString", '
                                     b'"coordinates": [[104.0, 30.5], [104.001, 30.5]]}, "properties": {"highway": "service"}}]}',
                                     b'{"type": "FeatureCollection", "features": [{"type": "Feat'])
def test_a_file_without_buildings_or_truncated_is_a_clear_error(tmp_path, content: bytes) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "input.geojson"
    source.write_bytes(content)
    failed = _tile(str(source), "-o", str(tmp_path / "out"))
    assert failed.exit_code == 1 and "error:" in failed.output and "Traceback" not in failed.output
    assert not (tmp_path / "out" / "tileset.json").exists()
    if b"highway" in content:
        assert "no building footprints" in failed.output and "1 road" in failed.output


def test_source_layer_picks_the_layer_of_a_geopackage(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.twin.tiles.test_tiles_api import _two_layer_files

    geopackage, _ = _two_layer_files(tmp_path / "site")
    first = _tile(str(geopackage), "-o", str(tmp_path / "first"))  # roads: nothing to extrude, and it says how to choose
    assert first.exit_code == 1 and "no building footprints" in first.output and "--source-layer" in first.output
    chosen = _tile(str(geopackage), "-o", str(tmp_path / "out"), "--source-layer", "buildings")
    assert chosen.exit_code == 0, chosen.output
    assert json.loads((tmp_path / "out" / "tileset.json").read_text(encoding="utf-8"))["extras"]["parktwin"]["featureCount"] == 2
