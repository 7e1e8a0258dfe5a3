"""Triangulate an IFC model's products with ifcopenshell.geom; place shared triangulations per instance.

Each representation is triangulated once (ifcopenshell reuses it across products sharing it) and
converted to numpy once; a product is that triangulation plus its own 4x4 placement (model
metres). Placing, footprints and z ranges are then done in batches, because per-product numpy
and shapely calls dominate the cost on models of many small, repeated parts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field

import ifcopenshell
import ifcopenshell.geom
import numpy as np
import shapely
from shapely.geometry import Polygon

# Measured on the eight fixture models (ifcopenshell 0.9, one thread): the hybrid kernel gives the
# same triangle area and bounding box per element as the default OpenCASCADE one, 2-3x faster,
# except that it leaves some surface models empty (10 cabinets of the Duplex), which are redone
# with OpenCASCADE. "manifold" and "cgal-simple" are faster still but wrong: they drop elements
# (ducts, railings, a slab, whole walls), get half-space clippings wrong (FZK gable walls) and
# "manifold" crashes the process (SIGSEGV) on the Duplex model.
GEOMETRY_LIBRARY = "hybrid-cgal-simple-opencascade"
FALLBACK_LIBRARY = "opencascade"
# The iterator's own threads gave no speed-up here (2 threads: the same wall time for twice the CPU
# on Office_A and an 8,000-product model); bim.parallel runs worker processes instead.
ITERATOR_THREADS = 1
# Products that are not visible building parts: voids, 2D annotation, virtual space boundaries.
EXCLUDED_CLASSES = ("IfcOpeningElement", "IfcAnnotation", "IfcVirtualElement")
SPACE_ALPHA = 0.25  # spaces are kept as their own features, drawn translucent
DEFAULT_COLOR = (0.8, 0.8, 0.8, 1.0)
MIN_FOOTPRINT_TRIANGLE_M2 = 1e-6  # vertical faces project to slivers; skip them in footprints
FOOTPRINT_SIMPLIFY_M = 0.001
DEGENERATE_FOOTPRINT_BUFFER_M = 0.05
FOOTPRINT_MAX_TRIANGLES = 400  # beyond this the convex hull stands in for the exact union
UPRIGHT_TOLERANCE = 1e-9


@dataclass(slots=True, eq=False)
class Triangulation:
    """A representation's triangles in its own frame (metres), converted to numpy once and shared."""

    vertices: np.ndarray  # (n, 3) float64
    indices: np.ndarray  # (m,) uint32
    normals: np.ndarray | None  # (n, 3) float64, one per vertex
    color: tuple[float, float, float, float]  # linear RGBA of the dominant style
    local_footprint: Polygon | None = None
    footprint_done: bool = False


@dataclass(slots=True)
class ShapeInstance:
    """One product's geometry: a shared Triangulation placed by `matrix` (model metres, column vectors)."""

    global_id: str
    ifc_class: str
    step_id: int
    representation_key: str
    triangulation: Triangulation
    matrix: np.ndarray  # (4, 4) float64
    color: tuple[float, float, float, float] = field(default=DEFAULT_COLOR)

    def positions(self) -> np.ndarray:
        """Vertices in model metres, (n, 3) float64."""
        return self.triangulation.vertices @ self.matrix[:3, :3].T + self.matrix[:3, 3]


def geometry_settings() -> ifcopenshell.geom.settings:
    """Iterator settings: local coordinates (instances placed by matrix), SI metres, per-face vertices with normals."""
    settings = ifcopenshell.geom.settings()
    settings.set("use-world-coords", False)  # so a shared representation is converted once
    settings.set("convert-back-units", False)  # vertices and matrices in metres
    # Welded vertices come with a normals buffer that does not match them in 0.9 (other count);
    # unwelded ones carry one normal per vertex, smooth across curved faces.
    settings.set("weld-vertices", False)
    settings.set("apply-default-materials", True)
    return settings


def iterate_shapes(
    model: ifcopenshell.file,
    *,
    threads: int | None = None,
    geometry_library: str = GEOMETRY_LIBRARY,
    progress: Callable[[int], None] | None = None,
    expected: Collection[int] = (),
    products: list | None = None,
) -> Iterator[ShapeInstance]:
    """Yield one ShapeInstance per product with body triangles (openings, annotations, virtual elements excluded).

    Products the fast kernel leaves empty, and products in `expected` (step ids) it skips, are
    triangulated again with FALLBACK_LIBRARY (OpenCASCADE alone), which the hybrid kernel
    sometimes needs (surface models in the Duplex sample). `products` limits the run to those
    products (a worker's share, see bim.parallel); by default every product but EXCLUDED_CLASSES.
    """
    cache: dict[str, Triangulation] = {}
    # Exporters often write identical solids as separate representations (one extrusion per
    # column); equal local triangles and colour share one Triangulation, hence one footprint.
    by_content: dict[bytes, Triangulation] = {}
    seen: set[int] = set()
    empty: list[int] = []
    counter = [0]

    def run(library: str, include: list | None, first: bool) -> Iterator[ShapeInstance]:
        iterator = ifcopenshell.geom.iterator(
            geometry_settings(),
            model,
            threads or ITERATOR_THREADS,
            include=include,
            exclude=None if include is not None else EXCLUDED_CLASSES,
            geometry_library=library,
        )
        if not iterator.initialize():
            return
        while True:
            shape = iterator.get()
            key = shape.geometry.id
            triangulation = cache.get(key)
            if triangulation is None:
                converted = _convert(shape.geometry)
                triangulation = cache[key] = by_content.setdefault(content_digest(converted), converted)
            step_id = shape.id
            seen.add(step_id)
            if first:
                counter[0] += 1
                if progress is not None:
                    progress(counter[0])
            if len(triangulation.indices):
                yield _instance(shape, key, triangulation)
            elif first:
                empty.append(step_id)
            if not iterator.next():
                break

    yield from run(geometry_library, products, True)
    retry = set(empty) | (set(expected) - seen)
    if retry and geometry_library != FALLBACK_LIBRARY:
        cache.clear()  # geometry ids are per iterator run
        yield from run(FALLBACK_LIBRARY, [model.by_id(step_id) for step_id in sorted(retry)], False)


def _instance(shape, key: str, triangulation: Triangulation) -> ShapeInstance:
    """A ShapeInstance from an iterator shape and its (shared) triangulation."""
    ifc_class = shape.type
    color = triangulation.color
    if ifc_class == "IfcSpace":
        color = (color[0], color[1], color[2], min(color[3], SPACE_ALPHA))
    return ShapeInstance(
        global_id=shape.guid,
        ifc_class=ifc_class,
        step_id=shape.id,
        representation_key=key,
        triangulation=triangulation,
        matrix=np.frombuffer(shape.transformation_buffer, dtype=np.float64).reshape((4, 4), order="F"),
        color=color,
    )


def content_digest(triangulation: Triangulation) -> bytes:
    """A collision-safe key for equal geometry: BLAKE2 of vertices, indices and colour."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(triangulation.vertices.tobytes())
    digest.update(triangulation.indices.tobytes())
    digest.update(repr(triangulation.color).encode())
    return digest.digest()


def _convert(geometry) -> Triangulation:
    """numpy arrays and the dominant style colour of an ifcopenshell triangulation."""
    vertices = np.frombuffer(geometry.verts_buffer, dtype=np.float64).reshape(-1, 3)
    indices = np.frombuffer(geometry.faces_buffer, dtype=np.int32).astype(np.uint32)
    normals = np.frombuffer(geometry.normals_buffer, dtype=np.float64).reshape(-1, 3)
    if len(normals) != len(vertices):
        normals = None
    return Triangulation(vertices, indices, normals, _dominant_color(geometry, vertices, indices))


def _dominant_color(geometry, vertices: np.ndarray, indices: np.ndarray) -> tuple[float, float, float, float]:
    """Linear RGBA of the IFC style covering the largest triangle area (a feature has one colour)."""
    materials = geometry.materials
    if not len(materials) or not len(indices):
        return DEFAULT_COLOR
    chosen = 0
    if len(materials) > 1:
        material_ids = np.frombuffer(geometry.material_ids_buffer, dtype=np.int32)
        if len(material_ids) == len(indices) // 3:
            triangles = vertices[indices.reshape(-1, 3)]
            areas = np.linalg.norm(
                np.cross(triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]), axis=1
            )
            valid = material_ids >= 0
            per_material = np.bincount(material_ids[valid], weights=areas[valid], minlength=len(materials))
            chosen = int(np.argmax(per_material))
    style = materials[chosen]
    red, green, blue = (float(c) for c in style.diffuse.components)
    transparency = float(style.transparency) if style.has_transparency() else 0.0
    if not np.isfinite(transparency):
        transparency = 0.0
    alpha = min(1.0, max(0.0, 1.0 - transparency))
    return (_srgb_to_linear(red), _srgb_to_linear(green), _srgb_to_linear(blue), alpha)


def _srgb_to_linear(value: float) -> float:
    """IFC colours are display (sRGB) values; glTF base colours are linear."""
    value = min(1.0, max(0.0, value))
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4


# ---------------------------------------------------------------------------------------------
# Batched placement


def model_bounds(instances: list[ShapeInstance]) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds (model metres) of all instances, from their local boxes' placed corners."""
    corners = np.array([[x, y, z] for x in (0, 1) for y in (0, 1) for z in (0, 1)], dtype=np.float64)
    local_boxes = {}
    for instance in instances:
        tri = instance.triangulation
        if id(tri) not in local_boxes:
            lo, hi = tri.vertices.min(axis=0), tri.vertices.max(axis=0)
            local_boxes[id(tri)] = lo + corners * (hi - lo)
    boxes = np.stack([local_boxes[id(i.triangulation)] for i in instances])  # (N, 8, 3)
    matrices = np.stack([i.matrix for i in instances])  # (N, 4, 4)
    placed = np.einsum("nij,nkj->nki", matrices[:, :3, :3], boxes) + matrices[:, None, :3, 3]
    return placed.reshape(-1, 3).min(axis=0), placed.reshape(-1, 3).max(axis=0)


@dataclass(slots=True)
class PlacedMesh:
    """An instance's triangles in a target frame plus its model-frame height range."""

    positions: np.ndarray  # (n, 3) float32, target frame
    normals: np.ndarray | None  # (n, 3) float32 unit vectors, target frame
    z_min: float  # model metres
    z_max: float


def place_all(instances: list[ShapeInstance], target_from_model: np.ndarray) -> list[PlacedMesh]:
    """Vertices and normals of every instance in the frame of `target_from_model` (4x4, e.g. model->ENU).

    Instances sharing a triangulation are placed together with one einsum, so repeated parts cost
    a few numpy calls per representation rather than per product.
    """
    if not instances:
        return []
    placements = np.stack([i.matrix for i in instances])
    combined = np.einsum("ij,njk->nik", target_from_model, placements)  # target <- model <- local
    # Normals transform by the inverse-transpose (placements may scale); batched in one call.
    normal_matrices = np.linalg.inv(combined[:, :3, :3]).transpose(0, 2, 1)
    groups: dict[int, list[int]] = {}
    for number, instance in enumerate(instances):
        groups.setdefault(id(instance.triangulation), []).append(number)
    placed: list[PlacedMesh | None] = [None] * len(instances)
    for members in groups.values():
        tri = instances[members[0]].triangulation
        index = np.asarray(members)
        rotation, offset = combined[index, :3, :3], combined[index, :3, 3]
        positions = (np.einsum("nij,kj->nki", rotation, tri.vertices) + offset[:, None, :]).astype(np.float32)
        normals = None
        if tri.normals is not None:
            turned = np.einsum("nij,kj->nki", normal_matrices[index], tri.normals)
            lengths = np.sqrt(np.einsum("nki,nki->nk", turned, turned))[:, :, None]
            normals = (turned / np.where(lengths > 0, lengths, 1.0)).astype(np.float32)
        z_rows = placements[index, 2, :]
        z = tri.vertices @ z_rows[:, :3].T + z_rows[:, 3]  # (k, n)
        z_min, z_max = z.min(axis=0), z.max(axis=0)
        for slot, number in enumerate(members):
            placed[number] = PlacedMesh(
                positions[slot], None if normals is None else normals[slot], float(z_min[slot]), float(z_max[slot])
            )
    return placed  # type: ignore[return-value]


def footprints(instances: list[ShapeInstance]) -> list[Polygon | None]:
    """Plan footprints (model XY metres) of all instances; upright instances reuse their shared outline,
    moved by their placements and built in one vectorised shapely call."""
    result: list[Polygon | None] = [None] * len(instances)
    upright_groups: dict[int, list[int]] = {}
    for number, instance in enumerate(instances):
        if _upright(instance.matrix):
            upright_groups.setdefault(id(instance.triangulation), []).append(number)
        else:
            result[number] = footprint_xy(instance.positions(), instance.triangulation.indices)
    coords, ring_lengths, rings_per_polygon, slots = [], [], [], []
    for members in upright_groups.values():
        tri = instances[members[0]].triangulation
        _local_footprint(tri)
        if tri.local_footprint is None:
            continue
        _, ring_coords, (ring_offsets, _) = shapely.to_ragged_array([tri.local_footprint])
        matrices = np.stack([instances[n].matrix for n in members])
        moved = np.einsum("nij,kj->nki", matrices[:, :2, :2], ring_coords) + matrices[:, None, :2, 3]
        coords.append(moved.reshape(-1, 2))
        ring_lengths.append(np.tile(np.diff(ring_offsets), len(members)))
        rings_per_polygon.append(np.full(len(members), len(ring_offsets) - 1))
        slots += members
    if slots:
        ring_offsets = np.concatenate([[0], np.cumsum(np.concatenate(ring_lengths))])
        polygon_offsets = np.concatenate([[0], np.cumsum(np.concatenate(rings_per_polygon))])
        polygons = shapely.from_ragged_array(
            shapely.GeometryType.POLYGON, np.concatenate(coords), (ring_offsets, polygon_offsets)
        )
        for number, polygon in zip(slots, polygons):
            result[number] = polygon
    return result


def prepare_footprints(instances: list[ShapeInstance]) -> None:
    """Compute the shared outline of every triangulation placed upright, ahead of footprints()
    (geometry workers do it, so the parent only moves outlines)."""
    for instance in instances:
        if _upright(instance.matrix):
            _local_footprint(instance.triangulation)


def _upright(m: np.ndarray) -> bool:
    """True for a placement that keeps the Z axis vertical (its footprint is the shared outline, moved)."""
    return (
        abs(m[2, 0]) < UPRIGHT_TOLERANCE and abs(m[2, 1]) < UPRIGHT_TOLERANCE
        and abs(m[0, 2]) < UPRIGHT_TOLERANCE and abs(m[1, 2]) < UPRIGHT_TOLERANCE and m[2, 2] > 0
    )


def _local_footprint(tri: Triangulation) -> None:
    if not tri.footprint_done:
        tri.local_footprint = footprint_xy(tri.vertices, tri.indices)
        tri.footprint_done = True


def footprint_xy(positions: np.ndarray, indices: np.ndarray) -> Polygon | None:
    """Plan-view outline (XY metres of `positions`) of a mesh: the union of its non-vertical triangles.

    A footprint in several pieces (e.g. a railing) becomes their convex hull, so callers always get one Polygon.
    """
    if not len(indices):
        return None
    if len(indices) // 3 > FOOTPRINT_MAX_TRIANGLES:
        # Detailed equipment: an exact union costs tens of ms; the hull is a fair plan outline.
        return _hull_footprint(positions)
    triangles = positions[indices.reshape(-1, 3)][:, :, :2]
    edge1, edge2 = triangles[:, 1] - triangles[:, 0], triangles[:, 2] - triangles[:, 0]
    areas = np.abs(edge1[:, 0] * edge2[:, 1] - edge1[:, 1] * edge2[:, 0]) / 2
    flat = triangles[areas > MIN_FOOTPRINT_TRIANGLE_M2]
    if len(flat):
        rings = np.concatenate([flat, flat[:, :1]], axis=1)
        union = shapely.union_all(shapely.polygons(rings)).simplify(FOOTPRINT_SIMPLIFY_M)
        if isinstance(union, Polygon) and not union.is_empty:
            return union
        if not union.is_empty:
            hull = union.convex_hull
            return hull if isinstance(hull, Polygon) else None
    # Only vertical faces (a wall drawn as a surface): outline the points with a thin buffer.
    return _hull_footprint(positions)


def _hull_footprint(positions: np.ndarray) -> Polygon | None:
    """Convex hull of the XY points, thickened when it is degenerate (a line or a point)."""
    hull = shapely.MultiPoint(positions[:, :2]).convex_hull
    if not isinstance(hull, Polygon) or hull.area < MIN_FOOTPRINT_TRIANGLE_M2:
        hull = hull.buffer(DEGENERATE_FOOTPRINT_BUFFER_M, cap_style="flat")
    return hull if isinstance(hull, Polygon) else None
