"""Fast GeoJSON reader (orjson + shapely.from_geojson) for files of ordinary size, in the file's own CRS.

Why not only GDAL: its GeoJSON driver parses in two passes at ~15-20 MB/s here, so a
QGIS-style export (every column written as null on every feature, ~3 KB per feature)
reads at ~5,000 features/s, a quarter of the import budget. orjson plus GEOS's
vectorised GeoJSON reader is ~3x faster. Anything this reader is not sure about
(very large files, exotic crs members, geometries GEOS rejects) returns None and
the caller reads the file with GDAL instead, so behaviour never depends on the path.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import orjson
import pandas as pd
import pyproj
import shapely
from pyproj.exceptions import CRSError as PyprojCRSError

from gis.errors import GisError

# Above this, GDAL's streaming parser keeps memory bounded (orjson holds the whole document as Python objects).
MAX_FAST_BYTES = 256 * 1024 * 1024
_GEOMETRY_TYPES = {
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection",
}


class _NotForFastPath(Exception):
    """Internal: let GDAL read this file."""


def _declared_crs(document: dict) -> str | None:
    """'EPSG:4544' from a (pre-RFC 7946) crs member; 'EPSG:4326' when absent, as RFC 7946 defines."""
    member = document.get("crs")
    if member is None:
        return "EPSG:4326"
    if not isinstance(member, dict):
        raise _NotForFastPath
    properties = member.get("properties") or {}
    if member.get("type") == "EPSG" and "code" in properties:
        name = f"EPSG:{properties['code']}"
    elif member.get("type") == "name" and isinstance(properties.get("name"), str):
        name = properties["name"]
    else:
        raise _NotForFastPath
    try:
        crs = pyproj.CRS.from_user_input(name)
    except PyprojCRSError:
        raise _NotForFastPath from None
    if crs.equals(pyproj.CRS.from_epsg(4326), ignore_axis_order=True):
        return "EPSG:4326"  # OGC:CRS84 and EPSG:4326 differ only in axis order; GDAL reads both as lon/lat
    authority = crs.to_authority(min_confidence=70)
    if authority is None:
        raise _NotForFastPath
    return f"{authority[0]}:{authority[1]}"


def _features(document: object) -> list:
    if not isinstance(document, dict):
        raise _NotForFastPath
    kind = document.get("type")
    if kind == "FeatureCollection" and isinstance(document.get("features"), list):
        return document["features"]
    if kind == "Feature":
        return [document]
    if kind in _GEOMETRY_TYPES:
        return [{"type": "Feature", "geometry": document, "properties": {}}]
    raise _NotForFastPath


def read_geojson_fast(path: Path) -> tuple[gpd.GeoDataFrame, str | None] | None:
    """Features and declared CRS of a GeoJSON file, or None when GDAL should read it; malformed JSON is a GisError."""
    if path.stat().st_size > MAX_FAST_BYTES:
        return None
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise GisError(
            f"Could not read {path.name} as GeoJSON: {exc.msg} at line {exc.lineno}, column {exc.colno}. "
            "The file is probably truncated or not GeoJSON: export it again."
        ) from None
    try:
        features = _features(document)
        declared = _declared_crs(document)
        if not all(isinstance(feature, dict) for feature in features):
            raise _NotForFastPath
    except _NotForFastPath:
        return None

    raw_geometries = [feature.get("geometry") for feature in features]
    encoded = np.array([None if g is None else orjson.dumps(g) for g in raw_geometries], dtype=object)
    geometries = shapely.from_geojson(encoded, on_invalid="ignore")
    if int(shapely.is_missing(geometries).sum()) != sum(g is None for g in raw_geometries):
        return None  # GEOS refused some geometry: let GDAL try, so nothing is lost on this path

    properties = pd.DataFrame.from_records(
        [feature.get("properties") or {} for feature in features], index=pd.RangeIndex(len(features))
    )
    ids = [feature.get("id") for feature in features]
    if "id" not in properties.columns and any(i is not None for i in ids):
        properties.insert(0, "id", pd.Series(ids, dtype=object))  # GDAL exposes the member id as a field too
    properties = properties.rename(columns=str)
    if properties.columns.has_duplicates or "geometry" in properties.columns:
        return None
    frame = gpd.GeoDataFrame(properties, geometry=geometries, crs=declared)
    return frame, declared
