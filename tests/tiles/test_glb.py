"""GLB content: Khronos validator, EXT_mesh_features ids and EXT_structural_metadata values decoded back."""

from __future__ import annotations

import json
import math
import re
import struct

import numpy as np
import pygltflib
import pytest
import shapely

from tiles.errors import GeometryError, MetadataError
from tiles.extrude import extrude_footprints
from tiles.glb import write_glb
from tiles.mesh import FeatureMesh
from tiles.metadata import FLOAT64_NO_DATA, INT32_NO_DATA, infer_property_types, property_ids
from tiles.validate import decode_glb, validate_glb

from .conftest import random_footprints, requires_validator

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ALLOWED_INFOS = {"UNSUPPORTED_EXTENSION", "UNUSED_OBJECT"}  # validator knows neither EXT_ extension


def mixed_meshes() -> list[FeatureMesh]:
    """Footprints with holes, a multipolygon, two colours (one translucent) and every property type."""
    polygons, heights = random_footprints(12, seed=2, spread=200)
    polygons[3] = shapely.Polygon(polygons[3].exterior, [polygons[3].centroid.buffer(1.5).exterior.coords])
    polygons[4] = shapely.MultiPolygon([polygons[4], shapely.affinity.translate(polygons[4], 0, 80)])
    rows = [
        {
            "name": f"楼 {i}" if i % 2 else f"Building {i}",
            "height": float(heights[i]) if i != 5 else None,
            "building:levels": i + 1 if i != 6 else None,
            "heritage": i % 3 == 0,
            "area_m2": float(polygons[i].area) if i != 7 else float("nan"),
            "osm id": 2**40 + i,
            "用途": "办公" if i % 4 else None,
        }
        for i in range(12)
    ]
    colours = [(0.8, 0.2, 0.2, 1.0) if i % 3 else (0.2, 0.4, 0.9, 0.5) for i in range(12)]
    return extrude_footprints(polygons, np.zeros(12), heights, [f"way/{i}" for i in range(12)], rows, colours)


@requires_validator
def test_khronos_validator_zero_errors_zero_warnings() -> None:
    meshes = mixed_meshes()
    no_normals = FeatureMesh("raw", meshes[0].positions + 500.0, meshes[0].indices, None, properties={"name": "x"})
    reports = validate_glb([write_glb(meshes), write_glb([no_normals, meshes[1]]), write_glb(meshes[:1], y_up=False)])
    for report in reports:
        assert report["errors"] == 0, report["messages"]
        assert report["warnings"] == 0, report["messages"]
        assert {m["code"] for m in report["messages"]} <= ALLOWED_INFOS, report["messages"]


@requires_validator
def test_validator_catches_a_broken_glb() -> None:
    """The validator wiring must report errors, not silently pass: corrupt an accessor's min."""
    data = write_glb(mixed_meshes()[:2])
    json_length = struct.unpack_from("<I", data, 12)[0]
    gltf = json.loads(data[20 : 20 + json_length])
    gltf["accessors"][0]["min"] = [0.0, 0.0, 0.0]
    gltf["accessors"][0]["count"] += 1000
    from tiles.glb import pack_glb
    bin_start = 20 + json_length + 8
    report = validate_glb(pack_glb(gltf, data[bin_start:]))[0]
    assert report["errors"] > 0


def test_metadata_round_trip_with_types_and_missing_values() -> None:
    meshes = mixed_meshes()
    types = infer_property_types(m.properties for m in meshes)
    assert types == {"name": "STRING", "height": "FLOAT64", "building:levels": "INT32", "heritage": "BOOLEAN",
                     "area_m2": "FLOAT64", "osm id": "INT64", "用途": "STRING"}
    decoded = decode_glb(write_glb(meshes, class_name="building"))
    ids = property_ids(list(types), reserved=("key",))
    assert all(IDENTIFIER.match(i) for i in decoded["properties"])
    assert ids["building:levels"] == "building_levels" and ids["osm id"] == "osm_id"
    assert decoded["names"][ids["building:levels"]] == "building:levels"
    assert decoded["names"][ids["用途"]] == "用途"
    assert decoded["count"] == len(meshes)
    assert decoded["properties"]["key"] == [m.key for m in meshes]
    for name in types:
        expected = []
        for m in meshes:
            value = m.properties[name]
            missing = value is None or (isinstance(value, float) and math.isnan(value))
            expected.append(False if missing and types[name] == "BOOLEAN" else None if missing else value)
        assert decoded["properties"][ids[name]] == expected, name
    schema = decoded["gltf"]["extensions"]["EXT_structural_metadata"]["schema"]
    properties = schema["classes"]["building"]["properties"]
    assert properties["height"]["noData"] == FLOAT64_NO_DATA and properties["height"]["componentType"] == "FLOAT64"
    assert properties["building_levels"]["noData"] == INT32_NO_DATA
    assert properties["name"] == {"type": "STRING", "noData": ""}
    assert properties["heritage"] == {"type": "BOOLEAN"}


def test_feature_ids_point_at_the_right_rows() -> None:
    meshes = mixed_meshes()
    decoded = decode_glb(write_glb(meshes))
    ids = decoded["feature_ids"]
    assert ids.min() == 0 and ids.max() == len(meshes) - 1
    for row, mesh in enumerate(meshes):
        mine = decoded["positions"][ids == row]
        assert mine.shape == mesh.positions.shape
        np.testing.assert_allclose(np.sort(mine, axis=0), np.sort(mesh.positions.astype(np.float64), axis=0), atol=1e-3)
        assert decoded["properties"]["key"][row] == mesh.key
    # Normals survive the y-up round trip; roofs point up.
    assert np.allclose(np.linalg.norm(decoded["normals"], axis=1), 1.0, atol=1e-5)
    assert (decoded["normals"][:, 2] > 0.99).any()


def test_materials_per_colour_and_blend_for_translucent() -> None:
    meshes = mixed_meshes()
    decoded = decode_glb(write_glb(meshes))
    gltf = decoded["gltf"]
    assert len(gltf["meshes"][0]["primitives"]) == 2
    colours = {tuple(m["pbrMetallicRoughness"]["baseColorFactor"]): m.get("alphaMode", "OPAQUE") for m in gltf["materials"]}
    assert colours == {(0.8, 0.2, 0.2, 1.0): "OPAQUE", (0.2, 0.4, 0.9, 0.5): "BLEND"}
    for primitive in gltf["meshes"][0]["primitives"]:
        feature_ids = primitive["extensions"]["EXT_mesh_features"]["featureIds"]
        assert feature_ids[0]["propertyTable"] == 0 and feature_ids[0]["attribute"] == 0
    counts = sorted(p["extensions"]["EXT_mesh_features"]["featureIds"][0]["featureCount"] for p in gltf["meshes"][0]["primitives"])
    assert counts == [4, 8]
    # Each vertex's material matches its feature's colour.
    material_colour = [tuple(m["pbrMetallicRoughness"]["baseColorFactor"]) for m in gltf["materials"]]
    for vertex_feature, material in zip(decoded["feature_ids"][::50], decoded["material_of_vertex"][::50]):
        assert material_colour[material] == meshes[vertex_feature].color


def test_independent_reader_pygltflib_sees_the_same_geometry() -> None:
    meshes = mixed_meshes()
    data = write_glb(meshes)
    gltf = pygltflib.GLTF2.load_from_bytes(data)
    blob = gltf.binary_blob()
    total = 0
    for primitive in gltf.meshes[0].primitives:
        accessor = gltf.accessors[primitive.attributes.POSITION]
        view = gltf.bufferViews[accessor.bufferView]
        values = np.frombuffer(blob, np.float32, accessor.count * 3, view.byteOffset + (accessor.byteOffset or 0))
        values = values.reshape(-1, 3)
        np.testing.assert_array_equal(values.min(axis=0), accessor.min)
        np.testing.assert_array_equal(values.max(axis=0), accessor.max)
        total += accessor.count
    assert total == sum(m.positions.shape[0] for m in meshes)
    translation = np.array(gltf.nodes[0].translation)
    centre_enu = np.array([translation[0], -translation[2], translation[1]])  # y-up -> ENU
    lo = np.min([m.positions.min(axis=0) for m in meshes], axis=0)
    hi = np.max([m.positions.max(axis=0) for m in meshes], axis=0)
    np.testing.assert_allclose(centre_enu, (lo + hi) / 2, atol=1e-3)


def test_far_from_origin_keeps_sub_millimetre_precision() -> None:
    """40 km from the origin float32 has a 4 mm step; positions relative to the tile centre keep 0.1 mm."""
    mesh = extrude_footprints([shapely.box(0, 0, 0.123, 0.077)], [0.0], [3.0], ["far"], [{}])[0]
    offset = np.array([40_000.0, -30_000.0, 12.0])
    far = FeatureMesh("far", mesh.positions.astype(np.float64) + offset, mesh.indices, mesh.normals)
    decoded = decode_glb(write_glb([far]))
    np.testing.assert_allclose(decoded["positions"], far.positions, rtol=0, atol=1e-4)


def test_meshes_without_normals_get_flat_normals() -> None:
    positions = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    indices = np.array([0, 2, 1, 0, 1, 3], dtype=np.uint32)
    decoded = decode_glb(write_glb([FeatureMesh("tri", positions, indices)]))
    assert decoded["positions"].shape == (6, 3)  # unindexed: 3 vertices per triangle
    np.testing.assert_allclose(decoded["normals"][:3], [[0, 0, -1]] * 3, atol=1e-6)
    np.testing.assert_allclose(decoded["normals"][3:], [[0, -1, 0]] * 3, atol=1e-6)


def test_declared_types_are_enforced_and_converted() -> None:
    mesh = extrude_footprints([shapely.box(0, 0, 1, 1)], [0.0], [1.0], ["a"], [{"levels": "3", "flag": "yes"}])[0]
    decoded = decode_glb(write_glb([mesh], property_types={"levels": "INT64", "flag": "BOOLEAN"}))
    assert decoded["properties"]["levels"] == [3] and decoded["properties"]["flag"] == [True]
    with pytest.raises(MetadataError, match="'levels'.*INT64"):
        bad = FeatureMesh("b", mesh.positions, mesh.indices, mesh.normals, properties={"levels": "three"})
        write_glb([bad], property_types={"levels": "INT64"})
    with pytest.raises(MetadataError, match="unknown type"):
        write_glb([mesh], property_types={"levels": "DATE"})


def test_a_user_property_called_key_does_not_clash() -> None:
    mesh = extrude_footprints([shapely.box(0, 0, 1, 1)], [0.0], [1.0], ["feature-1"], [{"key": "user value"}])[0]
    decoded = decode_glb(write_glb([mesh]))
    assert decoded["properties"]["key"] == ["feature-1"]
    renamed = next(i for i, n in decoded["names"].items() if n == "key" and i != "key")
    assert decoded["properties"][renamed] == ["user value"]


def test_bad_geometry_is_refused() -> None:
    positions = np.zeros((3, 3), dtype=np.float32)
    with pytest.raises(GeometryError, match="index points past"):
        write_glb([FeatureMesh("x", positions, np.array([0, 1, 5], dtype=np.uint32), np.zeros((3, 3), np.float32))])
    with pytest.raises(GeometryError, match="multiple of 3"):
        write_glb([FeatureMesh("y", positions, np.array([0, 1], dtype=np.uint32), np.zeros((3, 3), np.float32))])
    with pytest.raises(GeometryError, match="non-finite"):
        nan = np.full((3, 3), np.nan, dtype=np.float32)
        write_glb([FeatureMesh("z", nan, np.array([0, 1, 2], dtype=np.uint32), np.zeros((3, 3), np.float32))])


def test_real_osm_properties_from_xian(gis_fixtures) -> None:
    """Changan University OSM buildings: 70 columns, names like 'name:zh-Latn-pinyin', '@id', Chinese text."""
    import geopandas

    frame = geopandas.read_file(gis_fixtures / "changan_university_xian_osm_buildings.geojson")
    columns = [c for c in frame.columns if c != "geometry"]
    rows = [{c: (None if isinstance(v, float) and math.isnan(v) else v) for c, v in zip(columns, values)}
            for values in frame[columns].itertuples(index=False, name=None)]
    squares = [shapely.box(10 * i, 0, 10 * i + 5, 5) for i in range(len(rows))]
    meshes = extrude_footprints(squares, np.zeros(len(rows)), np.full(len(rows), 10.0), list(frame["id"]), rows)
    data = write_glb(meshes)
    decoded = decode_glb(data)
    assert all(IDENTIFIER.match(i) for i in decoded["properties"])
    assert sorted(decoded["names"].values()) == sorted(["key", *columns])
    by_name = {decoded["names"][i]: values for i, values in decoded["properties"].items()}
    for column in columns:
        assert by_name[column] == [r[column] for r in rows], column
    assert any("大学" in (v or "") for v in by_name["name"])
    if validate_available():
        report = validate_glb(data)[0]
        assert report["errors"] == 0 and report["warnings"] == 0


def validate_available() -> bool:
    from tiles.validate import validator_available

    return validator_available()


@requires_validator
def test_all_missing_text_column_is_still_valid() -> None:
    """glTF forbids empty buffer views: a text column with no text at all must still validate."""
    meshes = extrude_footprints([shapely.box(0, 0, 1, 1), shapely.box(3, 0, 4, 1)], [0.0, 0.0], [2.0, 3.0],
                                ["a", "b"], [{"note": None, "flag": None}, {"note": None, "flag": None}])
    data = write_glb(meshes, property_types={"note": "STRING", "flag": "BOOLEAN"})
    decoded = decode_glb(data)
    assert decoded["properties"]["note"] == [None, None] and decoded["properties"]["flag"] == [False, False]
    report = validate_glb(data)[0]
    assert report["errors"] == 0 and report["warnings"] == 0, report["messages"]
