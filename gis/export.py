"""Loaded features (gis.load's columns, EPSG:4326) → an RFC 7946 GeoJSON FeatureCollection, e.g. the ground
layers (roads, green, water, parking, points) a viewer drapes on the terrain beside the building tiles."""

from __future__ import annotations

import geopandas as gpd
import orjson
import shapely

# The loader's own fields, written after the source attributes so they win a name clash (as the service's API does).
OWN_FIELDS = ("kind", "name", "family", "base_height", "top_height", "height_source", "storeys")


def feature_collection(frame: gpd.GeoDataFrame) -> bytes:
    """The features as GeoJSON bytes: id = source id, properties = source attributes then OWN_FIELDS."""
    geometries = shapely.to_geojson(frame.geometry.values)  # GEOS writes each geometry's JSON: no Python dict per coordinate
    columns = {name: frame[name].tolist() for name in OWN_FIELDS}
    features = []
    for i, (source_id, properties) in enumerate(zip(frame["source_id"].tolist(), frame["properties"].tolist())):
        own = {name: values[i] for name, values in columns.items()}  # (a NaN orjson writes as null)
        features.append({"type": "Feature", "id": str(source_id), "geometry": orjson.Fragment(geometries[i]),
                         "properties": {**(properties or {}), "code": str(source_id), **own}})
    return orjson.dumps({"type": "FeatureCollection", "features": features}, option=orjson.OPT_SERIALIZE_NUMPY)
