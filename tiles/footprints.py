"""WGS84 footprints with heights → FeatureMeshes in a tileset's local frame (the GIS tiling front half)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from tiles.batch import FeatureBatch
from tiles.enu import Origin, lonlat_coordinates_to_enu
from tiles.extrude import Color, extrude_footprints_batch
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
    return footprints_to_batch(geometries_wgs84, bases, tops, keys, properties, origin=origin, colors=colors, ground=ground).meshes()


def footprints_to_batch(
    geometries_wgs84: Sequence[shapely.Geometry] | np.ndarray,
    bases: np.ndarray,
    tops: np.ndarray,
    keys: Sequence[str],
    properties: Sequence[dict[str, PropertyValue]] | dict[str, list[PropertyValue]],
    *,
    origin: Origin,
    colors: Color | Sequence[Color] | None = None,
    ground: float | np.ndarray = 0.0,
) -> FeatureBatch:
    """`footprints_to_meshes` as one FeatureBatch for build_tileset (no object per feature); `properties`
    are rows or columns (see extrude_footprints_batch)."""
    ground_of = np.broadcast_to(np.asarray(ground, dtype=np.float64), (len(keys),))

    def to_enu(lonlat: np.ndarray, feature: np.ndarray) -> np.ndarray:
        return lonlat_coordinates_to_enu(origin, lonlat, ground_of[feature])

    return extrude_footprints_batch(geometries_wgs84, bases, tops, keys, properties, colors, origin=origin, local=to_enu)
