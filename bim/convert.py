"""The whole IFC pipeline the service calls: validate, georeference, triangulate, read metadata, tile."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ifcopenshell
import numpy as np

from bim.elements import Element, ModelInfo, Space, Storey, read_model_info
from bim.errors import MissingGeoreference, NoGeometry
from bim.geometry import (
    EXCLUDED_CLASSES,
    GEOMETRY_LIBRARY,
    ShapeInstance,
    footprints,
    model_bounds,
    place_all,
)
from bim.georef import (
    Anchor,
    Georef,
    footprints_to_wgs84,
    model_heights,
    model_to_enu_matrix,
    model_to_wgs84,
    resolve_georef,
)
from bim.open import open_ifc
from bim.parallel import Triangulator
from tiles.enu import Origin
from tiles.mesh import FeatureMesh
from tiles.sink import DirectorySink
from tiles.tileset import build_tileset, write_tileset

Progress = Callable[[str, float], None]
PHASES = ("validate", "georef", "geometry", "metadata")
PROGRESS_STEPS = 100  # geometry progress is reported at most this many times
MAX_FEATURES_PER_TILE = 500
TILE_CLASS_NAME = "ifc_element"
BODY_IDENTIFIERS = ("Body", "Facetation")  # the representations ifcopenshell's iterator triangulates


@dataclass
class BimResult:
    """A converted model: georeference, the tileset origin, element metadata and one mesh per element with geometry.

    Mesh positions are in the local ENU frame (metres) of `origin`; element footprints and z ranges
    are in model metres (project them with bim.georef.model_to_wgs84 / footprint_to_wgs84).
    """

    schema: str
    georef: Georef
    origin: Origin
    elements: list[Element]
    meshes: list[FeatureMesh]
    storeys: list[Storey] = field(default_factory=list)
    spaces: list[Space] = field(default_factory=list)
    buildings: list[str] = field(default_factory=list)
    model_to_enu: np.ndarray = field(default_factory=lambda: np.eye(4))  # 4x4, model metres -> ENU metres
    stats: dict[str, float | int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def convert_ifc(
    path: Path,
    *,
    anchor: Anchor | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
    geometry_library: str = GEOMETRY_LIBRARY,
    processes: int | None = None,
) -> BimResult:
    """IFC / IFCZIP file -> BimResult; raises InvalidIfc (and subclasses) for files the user must fix.

    progress(phase, fraction) is called with phases "validate", "georef", "geometry", "metadata".
    The geometry kernels are C++ and can crash the process on rare files: a service should call
    bim.isolated.convert_ifc_isolated, which runs this in a child process. Geometry runs in
    `processes` worker processes (default: the cores idle now; see bim.parallel).
    """
    report = progress or (lambda phase, fraction: None)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    report("validate", 0.0)
    model = open_ifc(Path(path))
    products = model.by_type("IfcProduct")
    excluded = {p.id() for c in EXCLUDED_CLASSES for p in model.by_type(c)}
    expected = {p.id() for p in products if p.id() not in excluded and _has_3d_representation(p)}
    if not expected:
        raise NoGeometry(f"the model has no product with 3D geometry ({len(products)} products checked)")
    timings["validate_s"] = time.perf_counter() - clock
    report("validate", 1.0)

    clock = time.perf_counter()
    report("georef", 0.0)
    georef = resolve_georef(model, anchor=anchor)
    if georef.source == "none":
        raise MissingGeoreference(georef.warnings[-1])
    timings["georef_s"] = time.perf_counter() - clock
    report("georef", 1.0)

    clock = time.perf_counter()
    report("geometry", 0.0)
    # Workers triangulate while this process reads the model's metadata (bim.parallel).
    with Triangulator(model, processes=processes, threads=threads, geometry_library=geometry_library, expected=expected) as job:
        metadata_clock = time.perf_counter()
        info = read_model_info(model)
        timings["metadata_s"] = time.perf_counter() - metadata_clock
        shapes = job.result(_geometry_progress(len(expected), report))
    if not shapes:
        raise NoGeometry(f"the model has no product with 3D body geometry ({len(products)} products checked)")
    timings["geometry_s"] = time.perf_counter() - clock - timings["metadata_s"]
    report("geometry", 1.0)

    clock = time.perf_counter()
    report("metadata", 0.0)
    origin, matrix = _placement(georef, shapes)
    meshes = _attach_geometry(info, shapes, matrix)
    if not meshes:
        raise NoGeometry(f"the model has no element with 3D body geometry ({len(products)} products checked)")
    timings["metadata_s"] += time.perf_counter() - clock
    report("metadata", 1.0)

    warnings = list(georef.warnings)
    missing = expected - {shape.step_id for shape in shapes}
    if missing:
        classes = sorted({model.by_id(step_id).is_a() for step_id in missing})
        warnings.append(
            f"{len(missing)} product(s) with a 3D representation gave no triangles and are not shown "
            f"({', '.join(classes)})"
        )
    stats: dict[str, float | int] = {
        "products": len(products),
        "elements": len(info.elements),
        "with_geometry": len(meshes),
        "triangulations": len({id(shape.triangulation) for shape in shapes}),  # after reuse
        "triangles": int(sum(len(mesh.indices) for mesh in meshes) // 3),
        **{k: round(v, 3) for k, v in timings.items()},
    }
    return BimResult(
        schema=model.schema_identifier,
        georef=georef,
        origin=origin,
        elements=info.elements,
        meshes=meshes,
        storeys=info.storeys,
        spaces=info.spaces,
        buildings=info.buildings,
        model_to_enu=matrix,
        stats=stats,
        warnings=warnings,
    )


def write_ifc_tiles(result: BimResult, out_dir: Path, *, max_features_per_tile: int = MAX_FEATURES_PER_TILE) -> Path:
    """Write the result's meshes as a 3D Tiles 1.1 tileset into out_dir; returns out_dir/tileset.json."""
    out_dir = Path(out_dir)
    clock = time.perf_counter()
    tileset = build_tileset(
        result.meshes,
        origin=result.origin,
        sink=DirectorySink(out_dir),
        max_features_per_tile=max_features_per_tile,
        class_name=TILE_CLASS_NAME,
    )
    path = write_tileset(tileset, out_dir)
    result.stats["tiles_s"] = round(time.perf_counter() - clock, 3)
    return path


def footprint_to_wgs84(georef: Georef, footprint):
    """A footprint Polygon in model XY metres -> the same Polygon in WGS84 lon/lat (EPSG:4326)."""
    return footprints_to_wgs84(georef, [footprint])[0]


def store_rows(result: BimResult) -> list[dict]:
    """One flat dict per element for a spatial database: WGS84 footprint, heights in the georeference's
    vertical datum (result.georef.height_kind) and the JSON-safe psets. The service writes these to PostGIS."""
    outlines = footprints_to_wgs84(result.georef, [element.footprint for element in result.elements])
    rows = []
    for element, outline in zip(result.elements, outlines):
        has_z = element.z_min is not None and element.z_max is not None
        heights = model_heights(result.georef, np.array([element.z_min, element.z_max])) if has_z else (None, None)
        rows.append({
            "global_id": element.global_id,
            "ifc_class": element.ifc_class,
            "name": element.name,
            "storey": element.storey,
            "storey_index": element.storey_index,
            "building": element.building,
            "space": element.space,
            "footprint_wgs84": outline,
            "base_height": None if heights[0] is None else float(heights[0]),
            "top_height": None if heights[1] is None else float(heights[1]),
            "psets": element.psets,
        })
    return rows


def _has_3d_representation(product: ifcopenshell.entity_instance) -> bool:
    """True for a product with a Body shape in a 3D 'Model' context (cheap test before triangulating)."""
    if product.Representation is None:
        return False
    for representation in product.Representation.Representations or ():
        if representation.RepresentationIdentifier not in BODY_IDENTIFIERS:
            continue
        context = representation.ContextOfItems
        context_type = getattr(context, "ContextType", None) or getattr(
            getattr(context, "ParentContext", None), "ContextType", None
        )
        if context_type == "Model" and representation.Items:
            return True
    return False


def _geometry_progress(expected: int, report: Progress) -> Callable[[int], None]:
    """A shape counter that reports the geometry phase's fraction now and then."""
    expected = max(1, expected)
    step = max(1, expected // PROGRESS_STEPS)

    def on_shape(done: int) -> None:
        if done % step == 0:
            report("geometry", min(0.99, done / expected))

    return on_shape


def _placement(georef: Georef, shapes: list[ShapeInstance]) -> tuple[Origin, np.ndarray]:
    """Tileset origin (WGS84, at the model's plan centre and lowest point) and the model->ENU matrix."""
    lo, hi = model_bounds(shapes)
    anchor_point = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, lo[2]])
    lon, lat, height = model_to_wgs84(georef, anchor_point[None, :])
    origin = Origin(float(lon[0]), float(lat[0]), float(height[0]))
    return origin, model_to_enu_matrix(georef, origin, center_m=anchor_point)


def _attach_geometry(info: ModelInfo, shapes: list[ShapeInstance], matrix: np.ndarray) -> list[FeatureMesh]:
    """Fill each element's footprint and z range; build its FeatureMesh in ENU metres."""
    by_id = {element.global_id: element for element in info.elements}
    # Geometry of spatial containers (e.g. a building's own body) is not an element: skipped.
    kept = [shape for shape in shapes if shape.global_id in by_id]
    placed = place_all(kept, matrix)
    outlines = footprints(kept)
    meshes: list[FeatureMesh] = []
    for shape, mesh, outline in zip(kept, placed, outlines):
        element = by_id[shape.global_id]
        element.footprint = outline
        element.z_min, element.z_max = mesh.z_min, mesh.z_max
        meshes.append(
            FeatureMesh(
                key=shape.global_id,
                positions=mesh.positions,
                indices=shape.triangulation.indices,
                normals=mesh.normals,
                color=shape.color,
                properties=_mesh_properties(element),
                group=element.storey,
            )
        )
    return meshes


def _mesh_properties(element: Element) -> dict[str, str | int | float | None]:
    """The flat per-feature properties written to the tile's property table (full psets live in PostGIS)."""
    return {
        "GlobalId": element.global_id,
        "ifc_class": element.ifc_class,
        "name": element.name,
        "storey": element.storey,
        "storey_index": element.storey_index,
        "building": element.building,
        "space": element.space,
        "type_name": element.type_name,
        "predefined_type": element.predefined_type,
        "z_min": round(element.z_min, 3) if element.z_min is not None else None,
        "z_max": round(element.z_max, 3) if element.z_max is not None else None,
    }
