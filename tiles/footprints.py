"""WGS84 footprints with heights → FeatureMeshes in a tileset's local frame (the GIS tiling front half)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from tiles.enu import Origin, lonlat_geometries_to_enu
from tiles.extrude import Color, extrude_footprints
from tiles.mesh import FeatureMesh, PropertyValue


def origin_for(geometries_wgs84: Sequence[shapely.Geometry] | np.ndarray) -> Origin:
    """A local-frame origin at the centre of the footprints' extent, on the ellipsoid."""
    min_x, min_y, max_x, max_y = shapely.total_bounds(np.asarray(geometries_wgs84, dtype=object))
    return Origin(lon=(min_x + max_x) / 2, lat=(min_y + max_y) / 2, height=0.0)


def footprints_to_meshes(
    geometries_wgs84: Sequence[shapely.Geometry] | np.ndarray,
    bases: np.ndarray,
    tops: np.ndarray,
    keys: Sequence[str],
    properties: Sequence[dict[str, PropertyValue]],
    *,
    origin: Origin,
    colors: Color | Sequence[Color] | None = None,
    ground: float | np.ndarray = 0.0,
) -> list[FeatureMesh]:
    """Extrude lon/lat footprints between base and top heights (m above the ground) into FeatureMeshes.

    `ground` is the ellipsoidal height (m) of the ground, one for all or one per footprint (0: the
    ellipsoid, which is what CesiumJS shows without terrain). Every footprint vertex is placed on
    the curved ground in the origin's ENU frame and extruded along its local vertical, so
    buildings kilometres from the origin neither float above the ground nor lean.
    """
    footprints = lonlat_geometries_to_enu(origin, geometries_wgs84, ground)
    return extrude_footprints(footprints, bases, tops, keys, properties, colors, origin=origin)
