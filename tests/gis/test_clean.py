"""clean_geometries: repair, drop with reasons and rows, split collections by family."""

from __future__ import annotations

import geopandas as gpd
import shapely
from shapely import wkt

from gis.clean import clean_geometries


def _frame(*texts: str | None) -> gpd.GeoDataFrame:
    geometries = [wkt.loads(t) if t else None for t in texts]
    return gpd.GeoDataFrame({"tag": [f"t{i}" for i in range(len(texts))]}, geometry=geometries, crs=4326)


def test_bowtie_is_repaired_into_polygons():
    frame, counts = clean_geometries(_frame("POLYGON((0 0, 2 2, 2 0, 0 2, 0 0))"))
    assert counts.repaired == 1 and counts.dropped == 0
    geometry = frame.geometry.iloc[0]
    assert geometry.is_valid and geometry.geom_type == "MultiPolygon" and geometry.area == 2.0
    assert frame["family"].tolist() == ["polygon"]


def test_collapsed_and_empty_rows_are_dropped_with_rows_and_reasons():
    frame, counts = clean_geometries(
        _frame(
            "POLYGON((0 0, 1 1, 0 0))",  # two distinct points: no area left
            None,
            "POINT EMPTY",
            "POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))",
            "LINESTRING(1 1, 1 1)",
        )
    )
    assert frame["tag"].tolist() == ["t3"]
    assert counts.dropped == 4 and counts.repaired == 0
    assert [item["row"] for item in counts.dropped_rows] == [0, 1, 2, 4]
    reasons = {item["row"]: item["reason"] for item in counts.dropped_rows}
    assert "no polygon left" in reasons[0] and "no geometry" in reasons[1] and "no line left" in reasons[4]


def test_geometry_collection_is_split_by_family_and_keeps_attributes():
    frame, counts = clean_geometries(
        _frame(
            "GEOMETRYCOLLECTION(POINT(0 0), LINESTRING(0 0, 1 1), POLYGON((0 0, 1 0, 1 1, 0 0)), "
            "GEOMETRYCOLLECTION(POLYGON((5 5, 6 5, 6 6, 5 5))))",
            "POINT(9 9)",
        )
    )
    assert counts.exploded == 1
    assert sorted(zip(frame["source_row"], frame["family"])) == [(0, "line"), (0, "point"), (0, "polygon"), (1, "point")]
    polygon = frame[frame["family"] == "polygon"].geometry.iloc[0]
    assert polygon.geom_type == "MultiPolygon" and len(polygon.geoms) == 2
    assert set(frame[frame["source_row"] == 0]["tag"]) == {"t0"}


def test_z_is_dropped_and_nan_coordinates_are_rejected():
    frame, counts = clean_geometries(_frame("POINT Z (1 2 3)", "POINT(nan 1)"))
    assert not shapely.has_z(frame.geometry.iloc[0])
    assert counts.dropped == 1 and "NaN" in counts.dropped_rows[0]["reason"]


def test_invalid_polygon_inside_a_collection_is_split_then_repaired():
    frame, counts = clean_geometries(
        _frame("GEOMETRYCOLLECTION(POLYGON((0 0, 2 2, 2 0, 0 2, 0 0)), LINESTRING(0 0, 1 1))", "POINT(1 1)")
    )
    assert counts.exploded == 1 and counts.repaired == 1 and counts.dropped == 0
    assert frame["family"].tolist() == ["polygon", "line", "point"]
    assert shapely.is_valid(frame.geometry.to_numpy()).all() and frame.geometry.iloc[0].area == 2.0
