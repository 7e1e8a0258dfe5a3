"""Read CityJSON (1.0/1.1/2.0) into 2D footprints with heights from each object's z-range, in the file's own CRS.

Hand-written because neither GDAL nor any maintained pure-Python reader on our
stack turns CityJSON solids into footprints: the format is plain JSON (shared,
quantised vertices + nested index arrays), so a small reader is enough.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from gis.errors import EmptyInput, GisError

_EPSG_IN_URL = re.compile(r"EPSG(?:/\d+/|::|:)(\d+)", re.IGNORECASE)
# CityObject types that are not footprints of anything (terrain would be extruded into a block).
_SKIPPED_TYPES = {"TINRelief"}
_KIND_BY_TYPE = {
    "Building": "building",
    "BuildingPart": "building",
    "BuildingInstallation": "building",
    "BuildingStorey": "building",
    "BuildingUnit": "building",
    "Road": "road",
    "Railway": "road",
    "TransportSquare": "road",
    "WaterBody": "water",
    "PlantCover": "green",
    "SolitaryVegetationObject": "green",
    "LandUse": "zone",
}
# A projected surface smaller than this fraction of its object's squared xy extent is a wall seen edge-on.
_EDGE_ON_AREA_FRACTION = 1e-9


def looks_like_cityjson(path: Path) -> bool:
    """True if the start of the file declares "type": "CityJSON"."""
    with path.open("rb") as handle:
        head = handle.read(65536).decode("utf-8", errors="ignore")
    return re.search(r'"type"\s*:\s*"CityJSON"', head) is not None


def _reference_system(metadata: dict) -> str | None:
    """'EPSG:7415' from the many spellings of metadata.referenceSystem (URL, URN, plain); None if absent."""
    reference = metadata.get("referenceSystem") or metadata.get("crs")
    if not reference:
        return None
    match = _EPSG_IN_URL.search(str(reference))
    return f"EPSG:{match.group(1)}" if match else str(reference)


def _surfaces(geometry: dict) -> Iterator[tuple[list, object]]:
    """(rings, semantic index) for every surface of a CityJSON geometry, whatever its nesting."""
    kind = geometry.get("type")
    boundaries = geometry.get("boundaries") or []
    values = (geometry.get("semantics") or {}).get("values")
    if kind in ("MultiSurface", "CompositeSurface"):
        depth = 0
    elif kind == "Solid":
        depth = 1
    elif kind in ("MultiSolid", "CompositeSolid"):
        depth = 2
    else:
        return

    def walk(node: list, semantic: object, level: int) -> Iterator[tuple[list, object]]:
        for index, child in enumerate(node):
            child_semantic = semantic[index] if isinstance(semantic, list) and index < len(semantic) else None
            if level == 0:
                yield child, child_semantic
            else:
                yield from walk(child, child_semantic, level - 1)

    yield from walk(boundaries, values, depth)


def _ring_polygon(rings: list, vertices: np.ndarray) -> shapely.Polygon | None:
    """2D polygon of one surface (first ring outer, rest holes); None if a ring is too short."""
    coords = [vertices[np.asarray(ring, dtype=np.int64)][:, :2] for ring in rings if len(ring) >= 3]
    if not coords or len(coords[0]) < 3:
        return None
    return shapely.Polygon(coords[0], holes=coords[1:])


def _lod_rank(geometry: dict) -> float:
    try:
        return float(str(geometry.get("lod", 0)))
    except ValueError:
        return 0.0


def _footprint(geometries: list[dict], vertices: np.ndarray) -> tuple[object, float, float] | None:
    """(2D footprint, zmin, zmax) of one CityObject: its GroundSurfaces if tagged, else the outline of its best LoD."""
    used: list[int] = []
    ground: list[shapely.Polygon] = []
    outline: list[shapely.Polygon] = []
    best = max((g for g in geometries if g.get("type") != "GeometryInstance"), key=_lod_rank, default=None)
    for geometry in geometries:
        surface_types = [s.get("type") for s in (geometry.get("semantics") or {}).get("surfaces", [])]
        for rings, semantic in _surfaces(geometry):
            used.extend(index for ring in rings for index in ring)
            polygon = _ring_polygon(rings, vertices)
            if polygon is None:
                continue
            if isinstance(semantic, int) and semantic < len(surface_types) and surface_types[semantic] == "GroundSurface":
                ground.append(polygon)
            elif geometry is best:
                outline.append(polygon)
    if not used:
        return None
    points = vertices[np.unique(np.asarray(used, dtype=np.int64))]
    zmin, zmax = float(points[:, 2].min()), float(points[:, 2].max())
    parts = np.array(ground or outline, dtype=object)
    if not len(parts):
        return None
    extent = float(np.ptp(points[:, 0]) ** 2 + np.ptp(points[:, 1]) ** 2)
    parts = shapely.make_valid(parts)
    parts = parts[shapely.area(parts) > extent * _EDGE_ON_AREA_FRACTION]
    if not len(parts):
        return None
    footprint = shapely.union_all(parts)
    polygons = [p for p in shapely.get_parts(footprint) if p.geom_type == "Polygon"]
    if not polygons:
        return None
    return (polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)), zmin, zmax


def _load_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise GisError(
            f"{path.name} is not valid JSON ({exc.msg} at line {exc.lineno}); the file is probably truncated: "
            "export or download it again."
        ) from None
    except UnicodeDecodeError:
        raise GisError(f"{path.name} is not UTF-8 JSON; save it as UTF-8 and try again.") from None
    if not isinstance(data, dict) or data.get("type") != "CityJSON":
        raise GisError(f'{path.name} is not a CityJSON file (no "type": "CityJSON" at the top level).')
    return data


def read_cityjson(path: Path) -> tuple[gpd.GeoDataFrame, str | None]:
    """Footprint polygons (file CRS) with geometry_height = z-range (m), ground_z, roof_z and attributes; plus the declared CRS."""
    data = _load_json(path)
    try:
        vertices = np.asarray(data.get("vertices") or [], dtype=np.float64).reshape(-1, 3)
    except ValueError:
        raise GisError(f"{path.name}: 'vertices' must be a list of [x, y, z] triples.") from None
    transform = data.get("transform")
    if transform:
        vertices = vertices * np.asarray(transform.get("scale", [1, 1, 1]), dtype=np.float64) + np.asarray(
            transform.get("translate", [0, 0, 0]), dtype=np.float64
        )
    declared = _reference_system(data.get("metadata") or {})
    city_objects = data.get("CityObjects") or {}
    if not city_objects:
        raise EmptyInput(f"{path.name} holds no CityObjects: export a CityJSON file with buildings in it.")

    rows: list[dict] = []
    footprints: list[object] = []
    without_geometry = 0
    skipped_types: dict[str, int] = {}
    for object_id, city_object in city_objects.items():
        object_type = city_object.get("type", "")
        if object_type in _SKIPPED_TYPES:
            skipped_types[object_type] = skipped_types.get(object_type, 0) + 1
            continue
        try:
            result = _footprint(city_object.get("geometry") or [], vertices)
        except (IndexError, TypeError, ValueError):
            raise GisError(
                f"{path.name}: CityObject {object_id!r} refers to vertices that do not exist; the file is corrupt."
            ) from None
        if result is None:
            without_geometry += 1
            continue
        footprint, zmin, zmax = result
        attributes = {
            (f"attribute_{key}" if key == "geometry" else key): value
            for key, value in (city_object.get("attributes") or {}).items()
        }
        row = {"id": object_id, "cityjson_type": object_type}
        row.update(attributes)
        row.setdefault("kind", _KIND_BY_TYPE.get(object_type, "other"))
        row.update({"geometry_height": zmax - zmin, "ground_z": zmin, "roof_z": zmax})
        rows.append(row)
        footprints.append(footprint)

    warnings = []
    if without_geometry:
        warnings.append(
            f"{without_geometry} CityObject(s) without a surface geometry (e.g. parents of BuildingParts) were skipped."
        )
    for object_type, count in skipped_types.items():
        warnings.append(f"{count} {object_type} object(s) skipped: terrain is not imported as a footprint.")
    if not rows:
        raise EmptyInput(f"{path.name} has no CityObject with a surface geometry to take a footprint from.")
    frame = gpd.GeoDataFrame(rows, geometry=footprints, crs=None)
    frame.attrs["gis_warnings"] = warnings
    return frame, declared
