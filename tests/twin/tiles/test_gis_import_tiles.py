"""File → PostGIS → 3D Tiles 1.1: completeness, position, metadata, validity, atomic versions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pyproj import Transformer
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tests.twin.tiles.conftest import resolver
from tiles.glb_read import decode_glb
from tiles.validate import check_tileset, collect_keys, iter_tiles, validate_glb, validator_available
from twin.db.models import Asset, Feature, Layer, Park
from twin.db.queries import tilesets
from twin.errors import InvalidInput
from twin.pipelines.gis_import import import_gis
from twin.pipelines.tiles_build import build_buildings

TO_GEODETIC = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)


def _changan(fixtures_dir: Path) -> Path:
    return fixtures_dir / "gis" / "changan_university_xian_osm_buildings.geojson"


def test_every_building_lands_in_postgis_and_once_in_the_tiles(db: Session, park: Park, fixtures_dir: Path) -> None:
    source = json.loads(_changan(fixtures_dir).read_text(encoding="utf-8"))["features"]
    result = import_gis(db, park=park, path=_changan(fixtures_dir), layer="campus")
    assert result.report["rows_read"] == len(source)
    assert result.report["loaded"] + result.report["dropped"] == len(source)
    stored = db.scalar(select(func.count()).where(Feature.park_id == park.id))
    assert stored == result.report["loaded"] == sum(result.layers.values())

    built = build_buildings(db, park=park, max_features_per_tile=40)
    record = built.tileset
    problems = check_tileset(record.tileset, resolver(db, park, "buildings"))
    assert problems == []
    keys = collect_keys(record.tileset, resolver(db, park, "buildings"))
    buildings = set(db.scalars(select(Feature.code).where(Feature.park_id == park.id, Feature.kind == "building")))
    assert sorted(keys) == sorted(buildings), "every building exactly once in the property tables"
    depths = {depth for _, depth in iter_tiles(record.tileset)}
    assert max(depths) >= 1, "subdivided: coarse parents and finer children"


def test_a_known_building_lands_within_half_a_metre(db: Session, park: Park, fixtures_dir: Path) -> None:
    import_gis(db, park=park, path=_changan(fixtures_dir), layer="campus")
    record = build_buildings(db, park=park).tileset
    source = json.loads(_changan(fixtures_dir).read_text(encoding="utf-8"))["features"]
    target = next(f for f in source if f["geometry"]["type"] == "Polygon" and f["properties"].get("name"))
    code = db.scalar(select(Feature.code).where(Feature.park_id == park.id, Feature.name == target["properties"]["name"]))
    transform = np.array(record.tileset["root"]["transform"]).reshape(4, 4).T
    resolve = resolver(db, park, "buildings")
    for tile, _ in iter_tiles(record.tileset):
        decoded = decode_glb(resolve(tile["content"]["uri"]))
        keys = decoded["properties"]["key"]
        if code in keys:
            mask = decoded["feature_ids"] == keys.index(code)
            local = decoded["positions"][mask]
            break
    else:
        pytest.fail("building not found in any tile")
    ecef = np.c_[local, np.ones(len(local))] @ transform.T
    lon, lat, _ = TO_GEODETIC.transform(ecef[:, 0], ecef[:, 1], ecef[:, 2])
    ring = np.array(target["geometry"]["coordinates"][0])
    metres_per_deg_lat = 110_574.0
    metres_per_deg_lon = 111_320.0 * np.cos(np.radians(ring[:, 1].mean()))
    for x, y in ring:  # every source vertex has a tile vertex within 0.5 m
        nearest = np.min(np.hypot((lon - x) * metres_per_deg_lon, (lat - y) * metres_per_deg_lat))
        assert nearest < 0.5


@pytest.mark.skipif(not validator_available(), reason="npm gltf-validator not installed")
def test_every_glb_passes_the_khronos_validator(db: Session, park: Park, fixtures_dir: Path) -> None:
    import_gis(db, park=park, path=_changan(fixtures_dir), layer="campus")
    record = build_buildings(db, park=park, max_features_per_tile=60).tileset
    resolve = resolver(db, park, "buildings")
    blobs = [resolve(tile["content"]["uri"]) for tile, _ in iter_tiles(record.tileset)]
    reports = validate_glb(blobs)
    assert [r["errors"] for r in reports] == [0] * len(blobs)


def test_edits_in_postgis_show_after_a_rebuild_and_versions_switch_atomically(db: Session, park: Park, fixtures_dir: Path) -> None:
    import_gis(db, park=park, path=_changan(fixtures_dir), layer="campus")
    first = build_buildings(db, park=park).tileset
    assert build_buildings(db, park=park).skipped, "unchanged data is not rebuilt"
    code = db.scalar(select(Feature.code).where(Feature.park_id == park.id, Feature.kind == "building").limit(1))
    db.execute(update(Feature).where(Feature.park_id == park.id, Feature.code == code).values(top_height=123.5))
    second = build_buildings(db, park=park).tileset
    assert second.version == first.version + 1
    assert tilesets.get(db, park=park, slug="buildings").id == second.id
    heights = {}
    resolve = resolver(db, park, "buildings")
    for tile, _ in iter_tiles(second.tileset):
        decoded = decode_glb(resolve(tile["content"]["uri"]))
        heights.update(zip(decoded["properties"]["key"], decoded["properties"]["height"]))
    assert heights[code] == 123.5
    for tile, _ in iter_tiles(first.tileset):  # a viewer still holding v1 can load all of it
        assert resolve(tile["content"]["uri"]) is not None


def test_mixed_export_keeps_every_row_in_a_layer(db: Session, park: Park, fixtures_dir: Path) -> None:
    path = fixtures_dir / "gis" / "changan_university_xian_osm_export_mixed.geojson"
    rows = len(json.loads(path.read_text(encoding="utf-8"))["features"])
    result = import_gis(db, park=park, path=path, layer="osm")
    assert sum(result.layers.values()) + result.report["dropped"] == rows
    families = {f for f, n in result.report["by_family"].items() if n}
    assert families == {"polygon", "line", "point"}
    # The dominant family (lines, here) keeps the layer name; the others get a suffix.
    assert set(result.layers) == {"osm", "osm-polygons", "osm-points"}


def test_mislabelled_crs_is_a_clear_error_and_the_right_crs_works(db: Session, park: Park, fixtures_dir: Path) -> None:
    path = fixtures_dir / "gis" / "capetown_universityestate_osm_levels_heights_utm34s_nocrs.geojson"
    with pytest.raises(InvalidInput, match="--crs"):
        import_gis(db, park=park, path=path, layer="capetown")
    assert db.scalar(select(func.count()).where(Feature.park_id == park.id)) == 0, "nothing half-imported"
    import_gis(db, park=park, path=path, layer="capetown", crs="EPSG:32734")
    lon, lat = db.execute(select(func.ST_X(func.ST_Centroid(func.ST_Collect(Feature.geom))), func.ST_Y(func.ST_Centroid(func.ST_Collect(Feature.geom)))).where(Feature.park_id == park.id)).one()
    assert 18.0 < lon < 19.0 and -34.5 < lat < -33.5


def test_moscow_shapefile_with_invalid_geometries_imports_with_a_report(db: Session, park: Park, fixtures_dir: Path) -> None:
    result = import_gis(db, park=park, path=fixtures_dir / "gis" / "moscow_osm_buildings.shp", layer="moscow")
    report = result.report
    assert report["rows_read"] == 18046
    assert report["loaded"] + report["dropped"] == 18046
    assert report["repaired"] + report["dropped"] >= 1
    assert db.scalar(select(func.count()).where(Feature.park_id == park.id)) == report["loaded"]


def test_a_main_family_changed_by_cleaning_is_stored_as_a_whole_import_would(db: Session, park: Park, tmp_path: Path) -> None:
    """Layers are planned from the geometry types as read; here the polygons all collapse in repair, so
    the lines become the main family: the stream is undone and the lines stored in the main layer."""
    collapsed = [{"type": "Polygon", "coordinates": [[[104.0 + i * 1e-3, 30.0], [104.001 + i * 1e-3, 30.0], [104.002 + i * 1e-3, 30.0], [104.0 + i * 1e-3, 30.0]]]} for i in range(3)]
    lines = [{"type": "LineString", "coordinates": [[104.0, 30.0 + i * 1e-3], [104.001, 30.0 + i * 1e-3]]} for i in range(2)]
    path = tmp_path / "odd.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"id": f"f{i}", "highway": "service"}, "geometry": g} for i, g in enumerate(collapsed + lines)]}))
    result = import_gis(db, park=park, path=path, layer="odd")
    assert result.report["dropped"] == 3 and result.layers == {"odd": 2}
    stored = db.execute(select(Feature.code, Layer.slug, Layer.category).join(Layer, Layer.id == Feature.layer_id).where(Feature.park_id == park.id)).all()
    assert sorted(stored) == [("odd:f3", "odd", "roads"), ("odd:f4", "odd", "roads")]
    assert db.scalar(select(func.count()).select_from(Layer).where(Layer.park_id == park.id)) == 1, "no empty layer left behind"


def test_a_reimport_keeps_the_features_it_still_has_and_what_is_bound_to_them(db: Session, park: Park, fixtures_dir: Path, tmp_path: Path) -> None:
    """A corrected file imported again: changed features are updated in place, so an asset bound to a building
    stays bound; a row the file no longer has is removed, a new one added, an unchanged one not touched."""
    source = json.loads(_changan(fixtures_dir).read_text(encoding="utf-8"))
    first = import_gis(db, park=park, path=_changan(fixtures_dir), layer="campus")
    assert first.report["changes"] == {"added": first.layers["campus"], "updated": 0, "unchanged": 0, "removed": 0}
    ids = dict(db.execute(select(Feature.code, Feature.id).where(Feature.park_id == park.id)).all())
    kept, edited, gone = (f"campus:{source['features'][i]['properties']['@id']}" for i in range(3))
    asset = Asset(park_id=park.id, feature_id=ids[edited], code="CAM-1", kind="camera", name="camera on a re-imported building",
                  geom="SRID=4326;POINT(108.9 34.23)")
    db.add(asset)
    db.flush()
    before = db.scalar(select(Feature.updated_at).where(Feature.id == ids[kept]))

    source["features"][1]["properties"]["height"] = "42"
    del source["features"][2]
    added = json.loads(json.dumps(source["features"][0]))
    added["properties"]["@id"] = added["properties"]["id"] = "way/1"
    added["geometry"]["coordinates"][0] = [[x + 0.001, y] for x, y in added["geometry"]["coordinates"][0]]
    source["features"].append(added)
    corrected = tmp_path / "campus.geojson"
    corrected.write_text(json.dumps(source), encoding="utf-8")
    second = import_gis(db, park=park, path=corrected, layer="campus")

    assert second.report["changes"] == {"added": 1, "updated": 1, "unchanged": first.layers["campus"] - 2, "removed": 1}
    after = dict(db.execute(select(Feature.code, Feature.id).where(Feature.park_id == park.id)).all())
    assert gone not in after, gone
    assert "campus:way/1" in after
    assert {code: after[code] for code in ids if code != gone} == {code: ids[code] for code in ids if code != gone}, "ids kept"
    assert db.scalar(select(Feature.top_height).where(Feature.id == ids[edited])) == 42.0
    db.refresh(asset)
    assert asset.feature_id == ids[edited]
    assert db.scalar(select(Feature.updated_at).where(Feature.id == ids[kept])) == before, "unchanged rows are not rewritten"
    assert import_gis(db, park=park, path=corrected, layer="campus").report["changes"]["unchanged"] == len(after)


def test_a_code_taken_by_another_layer_is_a_clear_error(db: Session, park: Park, fixtures_dir: Path) -> None:
    import_gis(db, park=park, path=_changan(fixtures_dir), layer="campus")
    layer = db.scalar(select(Layer).where(Layer.park_id == park.id, Layer.slug == "campus"))
    other = Layer(park_id=park.id, slug="other", name="other")
    db.add(other)
    db.flush()
    code = db.scalar(select(Feature.code).where(Feature.layer_id == layer.id).limit(1))
    db.execute(update(Feature).where(Feature.code == code, Feature.park_id == park.id).values(layer_id=other.id))
    with pytest.raises(InvalidInput, match="already used by another layer"), db.begin_nested():
        import_gis(db, park=park, path=_changan(fixtures_dir), layer="campus")


def test_tile_blobs_are_stored_compressed_and_served_whole(db: Session, park: Park, fixtures_dir: Path) -> None:
    """Migration 0010: GLB content is lz4-compressed in TOAST (where the server has lz4) and comes back byte for byte."""
    from sqlalchemy import text

    if not db.scalar(text("SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'")):
        pytest.skip("this PostgreSQL has no lz4")
    import_gis(db, park=park, path=_changan(fixtures_dir), layer="campus")
    record = build_buildings(db, park=park, force=True).tileset
    stored, size, method = db.execute(text(
        "SELECT sum(pg_column_size(b.data)), sum(b.size), min(pg_column_compression(b.data)) FROM tile_blobs b "
        "JOIN tileset_blobs t ON t.blob_name = b.name WHERE t.tileset_id = :id"), {"id": record.id}).one()
    assert method == "lz4" and stored < 0.8 * size
    resolve = resolver(db, park, "buildings")
    assert check_tileset(record.tileset, resolve) == []
