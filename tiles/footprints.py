"""WGS84 footprints with heights → FeatureMeshes in a tileset's local frame (the GIS tiling front half)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from tiles.enu import Origin, lonlat_to_enu
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
) -> list[FeatureMesh]:
    """Extrude lon/lat footprints between base and top heights (m above the ellipsoid at ground level).

    Footprints are projected into the origin's ENU plane; each is then lifted by the ENU height of
    its own centroid on the ellipsoid, so buildings far from the origin (kilometres away, where the
    Earth curves away from the plane) still stand on the ground rather than float above it.
    """
    geoms = np.asarray(geometries_wgs84, dtype=object)

    def to_plane(coords: np.ndarray) -> np.ndarray:
        x, y, _ = lonlat_to_enu(origin, coords[:, 0], coords[:, 1], 0.0)
        return np.column_stack([x, y])

    projected = shapely.transform(geoms, to_plane)
    centroids = shapely.get_coordinates(shapely.centroid(geoms))
    _, _, ground = lonlat_to_enu(origin, centroids[:, 0], centroids[:, 1], 0.0)
    bases = np.asarray(bases, dtype=np.float64) + ground
    tops = np.asarray(tops, dtype=np.float64) + ground
    return extrude_footprints(list(projected), bases, tops, keys, properties, colors)
