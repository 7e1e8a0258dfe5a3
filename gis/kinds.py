"""Guess what each feature is (building, road, green, ...) from a `kind` column or OpenStreetMap-style tags."""

from __future__ import annotations

import numpy as np
import pandas as pd

KINDS: tuple[str, ...] = (
    "building",
    "road",
    "parking_lot",
    "green",
    "water",
    "zone",
    "key_location",
    "poi",
    "other",
)

_FALSE_VALUES = {"", "no", "false", "0", "none"}
_PARKING = {"parking", "parking_space", "bicycle_parking", "motorcycle_parking", "parking_entrance"}
_WATER_LANDUSE = {"reservoir", "basin", "salt_pond"}
_WATER_NATURAL = {"water", "wetland", "bay", "spring"}
_GREEN_LANDUSE = {
    "grass", "meadow", "forest", "recreation_ground", "village_green", "orchard",
    "flowerbed", "plant_nursery", "allotments", "cemetery", "vineyard",
}
_GREEN_LEISURE = {"park", "garden", "pitch", "playground", "golf_course", "nature_reserve", "dog_park", "common"}
_GREEN_NATURAL = {"wood", "grassland", "scrub", "heath", "tree_row", "shrubbery"}
_GATE_BARRIERS = {
    "gate", "lift_gate", "entrance", "turnstile", "swing_gate", "sliding_gate",
    "full-height_turnstile", "kissing_gate", "border_control", "toll_booth",
}
_KEY_AMENITIES = {"fire_station", "police", "security_booth", "guard", "emergency_phone"}
_KEY_MAN_MADE = {"surveillance", "monitoring_station"}
# Tags that make an untagged-looking polygon an area of some kind rather than a building footprint.
_AREA_TAGS = (
    "amenity", "landuse", "leisure", "natural", "man_made", "tourism", "shop", "place",
    "boundary", "office", "industrial", "area", "aeroway", "military", "power", "sport",
)
_ALL_TAGS = ("building", "highway", "waterway", "water", "parking", "railway", "entrance", "barrier", "emergency") + _AREA_TAGS


def _tag(frame: pd.DataFrame, key: str) -> np.ndarray:
    """Lower-cased tag values as an object array ("" where missing)."""
    if key not in frame.columns:
        return np.full(len(frame), "", dtype=object)
    column = frame[key]
    text = column.astype("string").str.strip().str.lower()
    return text.fillna("").to_numpy(dtype=object)


def _truthy(values: np.ndarray) -> np.ndarray:
    return ~np.isin(values, list(_FALSE_VALUES))


def guess_kinds(frame: pd.DataFrame, family: np.ndarray) -> np.ndarray:
    """Kind per row ("building", "road", ...; see KINDS) from a `kind` column if set, else OSM-style tags and family."""
    tags = {key: _tag(frame, key) for key in _ALL_TAGS}
    has_tag = {key: _truthy(values) for key, values in tags.items()}
    any_area_tag = np.logical_or.reduce([has_tag[key] for key in _AREA_TAGS])
    any_known_tag = np.logical_or.reduce(list(has_tag.values()))
    is_parking = np.isin(tags["amenity"], list(_PARKING)) | has_tag["parking"]
    is_water = (
        np.isin(tags["natural"], list(_WATER_NATURAL))
        | has_tag["water"]
        | has_tag["waterway"]
        | np.isin(tags["landuse"], list(_WATER_LANDUSE))
        | (tags["leisure"] == "swimming_pool")
    )
    is_green = (
        np.isin(tags["landuse"], list(_GREEN_LANDUSE))
        | np.isin(tags["leisure"], list(_GREEN_LEISURE))
        | np.isin(tags["natural"], list(_GREEN_NATURAL))
    )
    is_key_location = (
        has_tag["entrance"]
        | np.isin(tags["barrier"], list(_GATE_BARRIERS))
        | has_tag["emergency"]
        | np.isin(tags["amenity"], list(_KEY_AMENITIES))
        | np.isin(tags["man_made"], list(_KEY_MAN_MADE))
    )

    polygon_kind = np.select(
        [has_tag["building"], is_parking, is_water, is_green, has_tag["highway"], any_area_tag, ~any_known_tag],
        ["building", "parking_lot", "water", "green", "road", "zone", "building"],  # untagged footprints: buildings
        default="other",
    )
    line_kind = np.select([has_tag["highway"], has_tag["waterway"]], ["road", "water"], default="other")
    point_kind = np.select([is_key_location, is_parking], ["key_location", "parking_lot"], default="poi")
    kinds = np.select(
        [family == "polygon", family == "line", family == "point"],
        [polygon_kind, line_kind, point_kind],
        default="other",
    ).astype(object)

    if "kind" in frame.columns:
        given = _tag(frame, "kind")
        kinds = np.where(given != "", given, kinds)
    return kinds
