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


class _Tags:
    """The frame's OSM-style tag columns, lower-cased and stripped; a missing column reads as "" in every row.

    Membership goes through pandas' hash tables (Series.isin): numpy's isin sorts object arrays,
    and 25 tags × 100k rows made classification 18% of an import.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self._frame, self._none = frame, np.zeros(len(frame), dtype=bool)
        self._text: dict[str, pd.Series | None] = {}

    def text(self, key: str) -> pd.Series | None:
        if key not in self._text:
            column = self._frame[key] if key in self._frame.columns else None
            self._text[key] = None if column is None else column.astype("string").str.strip().str.lower().fillna("")
        return self._text[key]

    def isin(self, key: str, values: set[str]) -> np.ndarray:
        text = self.text(key)
        return self._none if text is None else text.isin(values).to_numpy(dtype=bool)

    def truthy(self, key: str) -> np.ndarray:
        text = self.text(key)
        return self._none if text is None else ~text.isin(_FALSE_VALUES).to_numpy(dtype=bool)


def guess_kinds(frame: pd.DataFrame, family: np.ndarray) -> np.ndarray:
    """Kind per row ("building", "road", ...; see KINDS) from a `kind` column if set, else OSM-style tags and family."""
    tags = _Tags(frame)
    has_tag = {key: tags.truthy(key) for key in _ALL_TAGS}
    any_area_tag = np.logical_or.reduce([has_tag[key] for key in _AREA_TAGS])
    any_known_tag = np.logical_or.reduce(list(has_tag.values()))
    is_parking = tags.isin("amenity", _PARKING) | has_tag["parking"]
    is_water = (
        tags.isin("natural", _WATER_NATURAL)
        | has_tag["water"]
        | has_tag["waterway"]
        | tags.isin("landuse", _WATER_LANDUSE)
        | tags.isin("leisure", {"swimming_pool"})
    )
    is_green = tags.isin("landuse", _GREEN_LANDUSE) | tags.isin("leisure", _GREEN_LEISURE) | tags.isin("natural", _GREEN_NATURAL)
    is_key_location = (
        has_tag["entrance"]
        | tags.isin("barrier", _GATE_BARRIERS)
        | has_tag["emergency"]
        | tags.isin("amenity", _KEY_AMENITIES)
        | tags.isin("man_made", _KEY_MAN_MADE)
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

    given = tags.text("kind")
    if given is not None:
        given_values = given.to_numpy(dtype=object)
        kinds = np.where(given_values != "", given_values, kinds)
    return kinds
