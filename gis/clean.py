"""Repair or drop broken geometries and split mixed GeometryCollections, counting every row touched (any CRS)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

SOURCE_ROW = "source_row"  # 0-based feature position in the source file
FAMILY = "family"

# shapely.get_type_id codes
_POINT, _LINESTRING, _LINEARRING, _POLYGON, _MULTIPOINT, _MULTILINESTRING, _MULTIPOLYGON, _COLLECTION = range(8)
_FAMILY_BY_TYPE = {
    _POINT: "point",
    _MULTIPOINT: "point",
    _LINESTRING: "line",
    _LINEARRING: "line",
    _MULTILINESTRING: "line",
    _POLYGON: "polygon",
    _MULTIPOLYGON: "polygon",
}
_FAMILY_TYPES = {
    "polygon": (_POLYGON, _MULTIPOLYGON),
    "line": (_LINESTRING, _MULTILINESTRING),
    "point": (_POINT, _MULTIPOINT),
}

REASON_NO_GEOMETRY = "no geometry (null or empty)"
REASON_NON_FINITE = "coordinates are NaN or infinite"
REASON_COLLAPSED = "invalid {family} ({why}) with no {family} left after repair"


@dataclass
class CleanCounts:
    """What cleaning did: rows repaired, dropped (with reasons and 0-based source rows), collections split."""

    rows_in: int = 0
    repaired: int = 0
    dropped: int = 0
    exploded: int = 0  # GeometryCollection rows that were split into one row per family
    dropped_rows: list[dict] = field(default_factory=list)

    def drop(self, rows: np.ndarray, reason: str) -> None:
        self.dropped += len(rows)
        self.dropped_rows.extend({"row": int(row), "reason": reason} for row in rows)

    def absorb(self, later: CleanCounts) -> None:
        """Add the counts of the rows that follow these in the file (so dropped rows stay in file order)."""
        self.repaired += later.repaired
        self.dropped += later.dropped
        self.exploded += later.exploded
        self.dropped_rows.extend(later.dropped_rows)


def family_of(geometries: np.ndarray) -> np.ndarray:
    """'polygon' | 'line' | 'point' per geometry (object array; None for collections and missing)."""
    type_ids = shapely.get_type_id(geometries)
    families = np.full(len(geometries), None, dtype=object)
    for type_id, family in _FAMILY_BY_TYPE.items():
        families[type_ids == type_id] = family
    return families


def ranked_families(counts: dict[str, int]) -> dict[str, int]:
    """The families that occur, most common first (ties: polygon, line, point): the first is a file's main family."""
    order = list(_FAMILY_TYPES)
    present = [family for family in order if counts.get(family, 0) > 0]
    return {family: counts[family] for family in sorted(present, key=lambda f: (-counts[f], order.index(f)))}


def expected_families(geometries: np.ndarray) -> dict[str, int]:
    """How many features of each family the rows as read should give (ranked_families order): a collection
    gives one per family among its parts. Cleaning can only lower these, by dropping broken rows."""
    families = family_of(geometries)
    counts = Counter(f for f in families.tolist() if f is not None)
    collections = np.flatnonzero(shapely.get_type_id(geometries) == _COLLECTION)
    if len(collections):
        parts, owner = _flatten_collections(geometries[collections])
        counts.update(family for _, family in {(int(o), f) for o, f in zip(owner, family_of(parts).tolist()) if f is not None})
    return ranked_families(dict(counts))


def _flatten_collections(geometries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All non-collection parts of the given geometries and the index of the geometry each came from."""
    parts, owner = shapely.get_parts(geometries, return_index=True)
    while len(parts) and (nested := shapely.get_type_id(parts) == _COLLECTION).any():
        inner, inner_owner = shapely.get_parts(parts[nested], return_index=True)
        parts = np.concatenate([parts[~nested], inner])
        owner = np.concatenate([owner[~nested], owner[nested][inner_owner]])
    return parts, owner


def _combine(parts: np.ndarray, owner: np.ndarray, family: str, size: int) -> np.ndarray:
    """One (multi)geometry per owner from same-family parts; owners without parts get None. Single parts stay single."""
    result = np.full(size, None, dtype=object)
    if not len(parts):
        return result
    if family == "line":
        ring = shapely.get_type_id(parts) == _LINEARRING
        if ring.any():  # LinearRing is not a feature geometry in GeoJSON/PostGIS: store it as a closed LineString
            parts = parts.copy()
            ring_indices = np.repeat(np.arange(ring.sum()), shapely.get_num_coordinates(parts[ring]))
            parts[ring] = shapely.linestrings(shapely.get_coordinates(parts[ring]), indices=ring_indices)
    simple = shapely.get_parts(parts, return_index=True)
    flat, flat_owner = simple[0], owner[simple[1]]
    counts = np.bincount(flat_owner, minlength=size)
    builder = {"polygon": shapely.multipolygons, "line": shapely.multilinestrings, "point": shapely.multipoints}[family]
    multi_owners = np.flatnonzero(counts > 1)
    if len(multi_owners):
        in_multi = np.isin(flat_owner, multi_owners)
        order = np.argsort(flat_owner[in_multi], kind="stable")
        owners_sorted = flat_owner[in_multi][order]
        _, dense = np.unique(owners_sorted, return_inverse=True)
        result[multi_owners] = builder(flat[in_multi][order], indices=dense)
    single = counts[flat_owner] == 1
    result[flat_owner[single]] = flat[single]
    return result


def _repair_keeping_family(geometries: np.ndarray, family: str) -> np.ndarray:
    """make_valid, keeping only parts of the original family (None where nothing of it is left)."""
    if family == "polygon":
        # "structure" rebuilds areas from shells and holes and drops collapsed slivers instead of turning them into lines.
        repaired = shapely.make_valid(geometries, method="structure", keep_collapsed=False)
    else:
        repaired = shapely.make_valid(geometries)
    parts, owner = _flatten_collections(repaired)
    wanted = _FAMILY_TYPES[family] + ((_LINEARRING,) if family == "line" else ())
    keep = np.isin(shapely.get_type_id(parts), wanted) & ~shapely.is_empty(parts)
    return _combine(parts[keep], owner[keep], family, len(geometries))


def _explode_collections(frame: gpd.GeoDataFrame, counts: CleanCounts) -> gpd.GeoDataFrame:
    """Replace each GeometryCollection row by one row per family it holds (attributes copied)."""
    geometries = frame.geometry.to_numpy()
    is_collection = shapely.get_type_id(geometries) == _COLLECTION
    if not is_collection.any():
        return frame
    collection_rows = np.flatnonzero(is_collection)
    parts, owner = _flatten_collections(geometries[collection_rows])
    part_family = family_of(parts)
    pieces = [frame.iloc[np.flatnonzero(~is_collection)]]
    produced = np.zeros(len(collection_rows), dtype=bool)
    for family in ("polygon", "line", "point"):
        mask = (part_family == family) & ~shapely.is_empty(parts)
        combined = _combine(parts[mask], owner[mask], family, len(collection_rows))
        has = np.array([g is not None for g in combined], dtype=bool)
        if has.any():
            produced |= has
            piece = frame.iloc[collection_rows[has]].copy()
            piece = piece.set_geometry(gpd.GeoSeries(combined[has], index=piece.index, crs=frame.crs))
            pieces.append(piece)
    counts.exploded = int(produced.sum())
    counts.drop(frame[SOURCE_ROW].to_numpy()[collection_rows[~produced]], REASON_NO_GEOMETRY)
    merged = pd.concat(pieces)
    return merged.sort_values(SOURCE_ROW, kind="stable").reset_index(drop=True)


def clean_geometries(gdf: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, CleanCounts]:
    """Drop empty/non-finite rows, split collections by family, make_valid invalid ones (polygons stay polygons), in any CRS."""
    counts = CleanCounts(rows_in=len(gdf))
    frame = gdf.copy()
    if SOURCE_ROW not in frame.columns:
        frame[SOURCE_ROW] = np.arange(len(frame))
    geometries = frame.geometry.to_numpy()
    with_z = shapely.has_z(geometries)
    if with_z.any():  # most files are 2D: rebuilding every geometry cost 0.14 s per 100k rows for nothing
        geometries = geometries.copy()
        geometries[with_z] = shapely.force_2d(geometries[with_z])
        frame = frame.set_geometry(geometries, crs=gdf.crs)

    geometries = frame.geometry.to_numpy()
    missing = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    counts.drop(frame[SOURCE_ROW].to_numpy()[missing], REASON_NO_GEOMETRY)
    frame = frame.iloc[np.flatnonzero(~missing)]

    coords, coord_owner = shapely.get_coordinates(frame.geometry.to_numpy(), return_index=True)
    non_finite = np.zeros(len(frame), dtype=bool)
    non_finite[np.unique(coord_owner[~np.isfinite(coords).all(axis=1)])] = True
    counts.drop(frame[SOURCE_ROW].to_numpy()[non_finite], REASON_NON_FINITE)
    frame = frame.iloc[np.flatnonzero(~non_finite)]

    frame = _explode_collections(frame, counts)
    geometries = frame.geometry.to_numpy().copy()
    families = family_of(geometries)
    invalid = ~shapely.is_valid(geometries)
    unrepairable = np.zeros(len(frame), dtype=bool)
    for family in ("polygon", "line", "point"):
        rows = np.flatnonzero(invalid & (families == family))
        if not len(rows):
            continue
        fixed = _repair_keeping_family(geometries[rows], family)
        ok = np.array([g is not None for g in fixed], dtype=bool)
        geometries[rows[ok]] = fixed[ok]
        unrepairable[rows[~ok]] = True
        counts.repaired += int(ok.sum())
        for row, why in zip(rows[~ok], shapely.is_valid_reason(geometries[rows[~ok]])):
            # GEOS appends the failing coordinate in brackets; the reason alone is what a user can act on.
            counts.drop(frame[SOURCE_ROW].to_numpy()[[row]], REASON_COLLAPSED.format(family=family, why=why.split("[")[0]))

    frame = frame.set_geometry(gpd.GeoSeries(geometries, index=frame.index, crs=gdf.crs))
    frame = frame.iloc[np.flatnonzero(~unrepairable)].copy()
    frame[FAMILY] = family_of(frame.geometry.to_numpy())
    counts.dropped_rows.sort(key=lambda item: item["row"])
    return frame.reset_index(drop=True), counts
