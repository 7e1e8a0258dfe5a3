"""ParkTwin tiler: FeatureMeshes in a local ENU frame -> 3D Tiles 1.1 (tileset.json + GLB with feature metadata).

Pure library: numpy, shapely, mapbox_earcut and pyproj only; no database or web code.
"""

from tiles.enu import Origin, enu_to_ecef_matrix, enu_to_lonlat, lonlat_geometries_to_enu, lonlat_to_enu
from tiles.errors import TilesError
from tiles.extrude import extrude_footprints, extrude_polygon
from tiles.glb import write_glb
from tiles.mesh import FeatureMesh
from tiles.sink import ContentSink, DirectorySink, MemorySink
from tiles.tileset import build_tileset, write_tileset

__all__ = [
    "ContentSink", "DirectorySink", "FeatureMesh", "MemorySink", "Origin", "TilesError", "build_tileset",
    "enu_to_ecef_matrix", "enu_to_lonlat", "extrude_footprints", "extrude_polygon", "lonlat_geometries_to_enu",
    "lonlat_to_enu",
    "write_glb", "write_tileset",
]
