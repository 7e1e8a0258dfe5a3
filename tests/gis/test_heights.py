"""Height parsing and resolution: text heights, storeys, defaults, base heights."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from gis.errors import GisError
from gis.heights import parse_height, parse_storeys, resolve_heights

from .conftest import XIAN_BUILDINGS


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", 12.0),
        ("12 m", 12.0),
        ("12.5", 12.5),
        ("12,5", 12.5),
        ("12m", 12.0),
        (" 7 米 ", 7.0),
        ("40 ft", 40 * 0.3048),
        ("40'", 40 * 0.3048),
        ("10'6\"", 10 * 0.3048 + 6 * 0.0254),
        (12, 12.0),
        (12.5, 12.5),
        (np.float32(3.5), 3.5),
        ("0", 0.0),
    ],
)
def test_parse_height_reads_common_spellings(value, expected):
    assert parse_height(value) == pytest.approx(expected)


@pytest.mark.parametrize("value", ["abc", "", "-3", -3, 1200, "1001 m", "12;15", None, float("nan"), True, "inf", [12]])
def test_parse_height_rejects_junk(value):
    assert parse_height(value) is None


def test_parse_storeys():
    assert parse_storeys("7") == 7.0
    assert parse_storeys("2,5") == 2.5
    assert parse_storeys("seven") is None
    assert parse_storeys(-1) is None
    assert parse_storeys(500) is None


def test_resolve_heights_prefers_height_then_storeys_then_default():
    frame = pd.DataFrame(
        {
            "height": ["12 m", None, "junk", None, "40 ft"],
            "building:levels": ["9", "4", "2", None, None],
        }
    )
    top, storeys, source = resolve_heights(frame, storey_height=3.5, default_height=8.0)
    assert top.tolist() == pytest.approx([12.0, 14.0, 7.0, 8.0, 12.192])
    assert np.isnan(storeys[3]) and storeys[:3].tolist() == [9.0, 4.0, 2.0]
    assert source.tolist() == ["attribute:height", "storeys", "storeys", "default", "attribute:height"]


def test_resolve_heights_detects_chinese_and_uppercase_names():
    frame = pd.DataFrame({"高度": ["30", None], "层数": [None, 5], "HEIGHT": [None, None]})
    top, _, source = resolve_heights(frame)
    assert top.tolist() == [30.0, 15.0]
    assert source.tolist() == ["attribute:高度", "storeys"]


def test_resolve_heights_explicit_columns_and_missing_column():
    frame = pd.DataFrame({"h_roof": [21.0, np.nan], "height": [5.0, 6.0], "fl": [None, "3"]})
    top, _, source = resolve_heights(frame, height_attr="h_roof", levels_attr="fl")
    assert top.tolist() == [21.0, 9.0]
    assert source.tolist() == ["attribute:h_roof", "storeys"]
    with pytest.raises(GisError, match="'nope'.*available columns"):
        resolve_heights(frame, height_attr="nope")


def test_resolve_heights_base_from_min_height_and_min_level():
    frame = pd.DataFrame(
        {
            "height": [20.0, 20.0, 20.0],
            "min_height": [5.0, None, 25.0],  # the third is above the top: contradictory, base goes to ground
            "building:min_level": [None, 2, None],
        }
    )
    heights = resolve_heights(frame, storey_height=3.0)
    assert heights.base_height.tolist() == [5.0, 6.0, 0.0]


def _expected_xian_sources(features: list[dict]) -> dict[str, int]:
    """Independent count from the raw JSON: numeric height text wins, then numeric storeys, else default."""
    number = re.compile(r"^\s*\d+(\.\d+)?\s*(m)?\s*$")
    counts = {"attribute:height": 0, "storeys": 0, "default": 0}
    for feature in features:
        props = feature["properties"]
        height, levels = props.get("height"), props.get("building:levels")
        if height is not None and number.match(height) and float(height.rstrip(" m")) > 0:
            counts["attribute:height"] += 1
        elif levels is not None and number.match(levels) and float(levels) > 0:
            counts["storeys"] += 1
        else:
            counts["default"] += 1
    return counts


def test_resolve_heights_counts_on_xian_campus(gis_fixtures):
    import geopandas as gpd

    path = gis_fixtures / XIAN_BUILDINGS
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    frame = gpd.read_file(path)
    _, _, source = resolve_heights(frame)
    counted = pd.Series(source).value_counts().to_dict()
    assert counted == {k: v for k, v in _expected_xian_sources(features).items() if v}
    assert sum(counted.values()) == len(features) == 218
