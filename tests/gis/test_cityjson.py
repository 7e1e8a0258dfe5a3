"""CityJSON: footprints from solids, heights from z-range, transform and referenceSystem honoured."""

from __future__ import annotations

import json

import pyproj
import pytest

from gis.errors import EmptyInput, GisError
from gis.load import load_vector
from gis.read import read_vector

CHENGDU = (104.06, 30.67)
SCALE = 0.001


def _box_solid(x0: float, y0: float, dx: float, dy: float, z0: float, dz: float, offset: int) -> tuple[list, list, dict]:
    """Vertices (in file integers), a Solid with Ground/Wall/Roof semantics, for an axis-aligned box."""
    corners = [(x0, y0), (x0 + dx, y0), (x0 + dx, y0 + dy), (x0, y0 + dy)]
    vertices = [[round(x / SCALE), round(y / SCALE), round(z / SCALE)] for z in (z0, z0 + dz) for x, y in corners]
    b, t = [offset + i for i in range(4)], [offset + 4 + i for i in range(4)]
    ground = [[b[0], b[3], b[2], b[1]]]
    roof = [[t[0], t[1], t[2], t[3]]]
    walls = [[[b[i], b[(i + 1) % 4], t[(i + 1) % 4], t[i]]] for i in range(4)]
    geometry = {
        "type": "Solid",
        "lod": "2",
        "boundaries": [[ground, roof, *walls]],
        "semantics": {
            "surfaces": [{"type": "GroundSurface"}, {"type": "RoofSurface"}, {"type": "WallSurface"}],
            "values": [[0, 1, 2, 2, 2, 2]],
        },
    }
    return vertices, [geometry], {}


def make_cityjson(path, *, reference="https://www.opengis.net/def/crs/EPSG/0/4544"):
    """A 20 m x 10 m x 24 m building and a BuildingPart under a geometry-less parent, near Chengdu in EPSG:4544."""
    x, y = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4544", always_xy=True).transform(*CHENGDU)
    translate = [round(x, 3), round(y, 3), 0.0]
    v1, g1, _ = _box_solid(0, 0, 20, 10, 500, 24, offset=0)
    v2, g2, _ = _box_solid(40, 0, 8, 8, 500, 6, offset=8)
    data = {
        "type": "CityJSON",
        "version": "2.0",
        "transform": {"scale": [SCALE, SCALE, SCALE], "translate": translate},
        "metadata": {"referenceSystem": reference},
        "CityObjects": {
            "B1": {"type": "Building", "attributes": {"名称": "一号楼", "function": "office", "yearOfConstruction": 2019}, "geometry": g1},
            "B2": {"type": "Building", "children": ["B2-part"]},
            "B2-part": {"type": "BuildingPart", "parents": ["B2"], "geometry": g2},
            "T": {"type": "TINRelief", "geometry": [{"type": "CompositeSurface", "lod": "1", "boundaries": [[[0, 1, 2]]]}]},
        },
        "vertices": v1 + v2,
    }
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return translate


def test_cityjson_footprints_heights_and_crs(tmp_path):
    path = tmp_path / "park.city.json"
    translate = make_cityjson(path)
    frame, declared = read_vector(path)
    assert declared == "EPSG:4544"
    assert frame["id"].tolist() == ["B1", "B2-part"]
    assert frame["geometry_height"].tolist() == pytest.approx([24.0, 6.0])
    assert frame["ground_z"].tolist() == pytest.approx([500.0, 500.0])
    # Footprints are in file coordinates after scale/translate: the 20 x 10 m box starts at translate.
    assert frame.geometry.area.tolist() == pytest.approx([200.0, 64.0], rel=1e-6)
    assert frame.geometry.iloc[0].bounds[:2] == pytest.approx(translate[:2], abs=1e-3)
    assert any("TINRelief" in w for w in frame.attrs["gis_warnings"])
    assert any("without a surface geometry" in w for w in frame.attrs["gis_warnings"])


def test_cityjson_loads_to_wgs84_as_buildings(tmp_path):
    path = tmp_path / "park.json"  # plain .json: recognised by its "type": "CityJSON"
    make_cityjson(path, reference="urn:ogc:def:crs:EPSG::4544")
    result = load_vector(path)
    features = result.features
    assert result.report.source_crs == "EPSG:4544"
    assert features["kind"].tolist() == ["building", "building"]
    assert features["top_height"].tolist() == pytest.approx([24.0, 6.0])
    assert set(features["height_source"]) == {"attribute:geometry_height"}
    assert features["name"].tolist() == ["一号楼", None]
    assert features["properties"].iloc[0]["yearOfConstruction"] == 2019
    corner = features.geometry.iloc[0].bounds[:2]
    assert corner == pytest.approx(CHENGDU, abs=1e-6)


def test_cityjson_without_objects_and_broken_json(tmp_path):
    empty = tmp_path / "empty.city.json"
    empty.write_text('{"type": "CityJSON", "version": "2.0", "CityObjects": {}, "vertices": []}')
    with pytest.raises(EmptyInput):
        read_vector(empty)
    cut = tmp_path / "cut.city.json"
    make_cityjson(cut)
    cut.write_bytes(cut.read_bytes()[:300])
    with pytest.raises(GisError, match="not valid JSON.*truncated"):
        read_vector(cut)


def test_cityjson_bad_vertex_index_is_a_gis_error(tmp_path):
    path = tmp_path / "bad.city.json"
    make_cityjson(path)
    data = json.loads(path.read_text(encoding="utf-8"))
    data["vertices"] = data["vertices"][:5]
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(GisError, match="vertices that do not exist"):
        read_vector(path)
