"""Geometry column types and helpers: everything is stored in WGS84 (SRID 4326), heights in metres."""

from __future__ import annotations

from geoalchemy2 import Geometry

SRID = 4326


def geometry_column(geometry_type: str = "GEOMETRY", *, spatial_index: bool = True) -> Geometry:
    """A 2D geometry column in SRID 4326; GeoAlchemy2 adds the GiST index unless the table declares its own."""
    return Geometry(geometry_type=geometry_type, srid=SRID, spatial_index=spatial_index)
