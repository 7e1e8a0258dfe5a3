"""Read building heights (metres above ground) from messy attributes: explicit heights, storey counts, or a default."""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from gis.errors import GisError

MAX_HEIGHT_M = 1000.0  # taller than any building: such values are typos or millimetres
MAX_STOREYS = 200.0
FOOT_M = 0.3048
INCH_M = 0.0254

# Checked in this order; the first column with a usable value wins per row.
HEIGHT_ATTRS: tuple[str, ...] = (
    "geometry_height",  # z-range of a 3D geometry (written by gis.cityjson)
    "height",
    "building:height",
    "HEIGHT",
    "高度",
    "building_height",
    "measuredHeight",
    "top_height",  # a file exported from ParkTwin itself
)
LEVELS_ATTRS: tuple[str, ...] = ("building:levels", "levels", "floors", "storeys", "stories", "层数", "building_levels")
MIN_HEIGHT_ATTRS: tuple[str, ...] = ("min_height", "building:min_height", "base_height")
MIN_LEVEL_ATTRS: tuple[str, ...] = ("building:min_level", "min_level")

SOURCE_STOREYS = "storeys"
SOURCE_DEFAULT = "default"

_NUMBER = r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)"
_METRIC_RE = re.compile(rf"^({_NUMBER})\s*(m|meters?|metres?|米|公尺)?$", re.IGNORECASE)
_FEET_RE = re.compile(rf"^({_NUMBER})\s*(ft|feet|foot|')$", re.IGNORECASE)
_FEET_INCHES_RE = re.compile(r"^(\d+)\s*'\s*(\d+(?:\.\d+)?)\s*(?:\"|'')$")
_PLAIN_NUMBER_RE = re.compile(rf"^({_NUMBER})$")


def _to_float(number_text: str) -> float:
    return float(number_text.replace(",", "."))


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


def _numeric(value: object) -> float | None:
    """A plain number (int/float/numpy/Decimal) as float; bools and non-numbers give None."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def parse_height(value: object) -> float | None:
    """Height in metres from "12", "12 m", "12,5", "12m", "40 ft", 12.5 ...; None for junk, negative or > 1000 m."""
    if _is_missing(value):
        return None
    metres = _numeric(value)
    if metres is None:
        if not isinstance(value, str):
            return None
        text = value.strip()
        if match := _METRIC_RE.match(text):
            metres = _to_float(match.group(1))
        elif match := _FEET_RE.match(text):
            metres = _to_float(match.group(1)) * FOOT_M
        elif match := _FEET_INCHES_RE.match(text):
            metres = float(match.group(1)) * FOOT_M + float(match.group(2)) * INCH_M
        else:
            return None
    if not math.isfinite(metres) or metres < 0 or metres > MAX_HEIGHT_M:
        return None
    return metres


def parse_storeys(value: object) -> float | None:
    """Storey count from 7, "7", "7.5", "7,5"; None for junk, negative or > 200."""
    if _is_missing(value):
        return None
    count = _numeric(value)
    if count is None:
        if not isinstance(value, str) or not (match := _PLAIN_NUMBER_RE.match(value.strip())):
            return None
        count = _to_float(match.group(1))
    if not math.isfinite(count) or count < 0 or count > MAX_STOREYS:
        return None
    return count


def _parse_column(column: pd.Series, parse) -> np.ndarray:
    """Apply a scalar parser to a column as float64 with NaN for unusable values, parsing each distinct value once."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        uniques, inverse = np.unique(column.to_numpy(dtype=np.float64, na_value=np.nan), return_inverse=True)
        parsed_uniques = np.array([np.nan if (v := parse(float(u))) is None else v for u in uniques], dtype=np.float64)
        return parsed_uniques[inverse]
    present_mask = column.notna().to_numpy()
    present = column[present_mask].tolist()
    try:
        lookup = {value: parse(value) for value in set(present)}
        parsed_present = [lookup[value] for value in present]
    except TypeError:  # unhashable cells (lists/dicts from JSON fields)
        parsed_present = [parse(value) for value in present]
    parsed = np.full(len(column), np.nan)
    parsed[present_mask] = np.array([np.nan if v is None else v for v in parsed_present], dtype=np.float64)
    return parsed


def _find_columns(columns: Sequence[str], wanted: Sequence[str]) -> list[str]:
    """Columns matching the wanted names, in wanted order: exact first, then case-insensitive."""
    found: list[str] = []
    by_lower: dict[str, list[str]] = {}
    for name in columns:
        by_lower.setdefault(str(name).lower(), []).append(name)
    for want in wanted:
        for name in [want] if want in columns else by_lower.get(want.lower(), []):
            if name not in found:
                found.append(name)
    return found


def _require(columns: Sequence[str], name: str, what: str) -> list[str]:
    if name not in columns:
        shown = ", ".join(map(str, list(columns)[:30]))
        raise GisError(f"The {what} column {name!r} is not in the file; available columns: {shown}.")
    return [name]


def _first_valid(frame: pd.DataFrame, names: Sequence[str], parse) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the first positive parsed value among the columns and the index of the column it came from (-1: none)."""
    values = np.full(len(frame), np.nan)
    origin = np.full(len(frame), -1, dtype=np.int64)
    for index, name in enumerate(names):
        parsed = _parse_column(frame[name], parse)
        take = np.isnan(values) & (parsed > 0)
        values[take] = parsed[take]
        origin[take] = index
    return values, origin


@dataclass(frozen=True)
class Heights:
    """Per-row heights in metres above ground; iterates as (top_height, storeys, source) for tuple unpacking."""

    top_height: np.ndarray  # float64, metres above ground
    storeys: np.ndarray  # float64, NaN where unknown
    source: np.ndarray  # str: "attribute:<column>", "storeys" or "default"
    base_height: np.ndarray  # float64, metres above ground (0 unless min_height / building:min_level say otherwise)

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.top_height, self.storeys, self.source))


def resolve_heights(
    gdf: pd.DataFrame,
    *,
    height_attr: str | None = None,
    levels_attr: str | None = None,
    storey_height: float = 3.0,
    default_height: float = 10.0,
) -> Heights:
    """Top/base heights (m above ground), storeys and where each height came from; auto-detects common attribute names."""
    if not storey_height > 0 or not default_height > 0:
        raise GisError("storey_height and default_height must be positive numbers of metres.")
    columns = [c for c in gdf.columns if c != getattr(gdf, "_geometry_column_name", None)]
    height_cols = _require(columns, height_attr, "height") if height_attr else _find_columns(columns, HEIGHT_ATTRS)
    levels_cols = _require(columns, levels_attr, "storeys") if levels_attr else _find_columns(columns, LEVELS_ATTRS)

    top, height_origin = _first_valid(gdf, height_cols, parse_height)
    storeys, _ = _first_valid(gdf, levels_cols, parse_storeys)

    source = np.full(len(gdf), SOURCE_DEFAULT, dtype=object)
    for index, name in enumerate(height_cols):
        source[height_origin == index] = f"attribute:{name}"
    from_storeys = np.isnan(top) & ~np.isnan(storeys)
    top[from_storeys] = storeys[from_storeys] * storey_height
    source[from_storeys] = SOURCE_STOREYS
    top[np.isnan(top)] = default_height

    base, _ = _first_valid(gdf, _find_columns(columns, MIN_HEIGHT_ATTRS), parse_height)
    min_level, _ = _first_valid(gdf, _find_columns(columns, MIN_LEVEL_ATTRS), parse_storeys)
    base = np.where(np.isnan(base), min_level * storey_height, base)
    # A base at or above the top is contradictory data: keep the top, put the base on the ground.
    base = np.where(np.isnan(base) | (base >= top), 0.0, base)
    return Heights(top_height=top, storeys=storeys, source=source, base_height=base)
