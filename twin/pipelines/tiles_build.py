"""Build a park's building tiles from PostGIS rows and publish them (atomically) in the database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tiles.enu import Origin
from tiles.footprints import footprints_to_meshes, origin_for
from tiles.sink import MemorySink
from tiles.tileset import build_tileset
from twin.db.models import Feature, Park, Tileset
from twin.db.queries import tilesets as tileset_queries
from twin.errors import InvalidInput

BUILDING_KINDS = ("building",)
# Colours by building use (linear RGBA); the viewer can restyle by any property.
USE_COLORS: dict[str, tuple[float, float, float, float]] = {
    "office": (0.62, 0.72, 0.84, 1.0), "rnd": (0.55, 0.70, 0.80, 1.0), "factory": (0.80, 0.74, 0.62, 1.0),
    "workshop": (0.80, 0.74, 0.62, 1.0), "warehouse": (0.72, 0.68, 0.60, 1.0), "datacenter": (0.58, 0.60, 0.72, 1.0),
    "canteen": (0.86, 0.72, 0.58, 1.0), "dormitory": (0.84, 0.80, 0.70, 1.0), "admin": (0.70, 0.78, 0.88, 1.0),
}
DEFAULT_COLOR = (0.82, 0.82, 0.80, 1.0)
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class BuildResult:
    tileset: Tileset | None  # None when the data had not changed and nothing was rebuilt
    skipped: bool
    features: int


def build_buildings(session: Session, *, park: Park, slug: str = "buildings", force: bool = False, max_features_per_tile: int = 500, progress: Progress | None = None) -> BuildResult:
    """Extrude the park's buildings (LOD1) into a new published tileset version, unless unchanged."""
    rows = _building_rows(session, park)
    if not rows:
        raise InvalidInput(f"park '{park.slug}' has no buildings with heights to tile")
    digest = _source_hash(rows)
    if not force and tileset_queries.source_hash_of_published(session, park=park, slug=slug) == digest:
        return BuildResult(tileset=None, skipped=True, features=len(rows))
    origin = _origin(session, park, rows)
    meshes = rows_to_meshes(rows, origin=origin)
    sink = MemorySink()

    def step(done: int, total: int) -> None:
        if progress:
            progress("tiles", done, total)

    tileset = build_tileset(meshes, origin=origin, sink=sink, max_features_per_tile=max_features_per_tile, class_name="building", progress=step)
    record = tileset_queries.publish(session, park=park, new=tileset_queries.NewTileset(
        slug=slug, title="建筑", title_en="Buildings", source_kind="gis", source_ref="features:building",
        source_hash=digest, tileset=tileset, blobs=sink.blobs,
    ))
    return BuildResult(tileset=record, skipped=False, features=len(meshes))


def _building_rows(session: Session, park: Park) -> list[Any]:
    stmt = (
        select(Feature.code, Feature.name, Feature.name_en, Feature.kind, func.ST_AsBinary(Feature.geom).label("wkb"),
               Feature.base_height, Feature.top_height, Feature.height_source, Feature.storeys, Feature.properties)
        .where(Feature.park_id == park.id, Feature.kind.in_(BUILDING_KINDS), Feature.top_height.is_not(None),
               func.ST_Dimension(Feature.geom) == 2)
        .order_by(Feature.id)
    )
    return list(session.execute(stmt))


def _source_hash(rows: list[Any]) -> str:
    digest = hashlib.sha256()
    for row in rows:
        digest.update(orjson.dumps([row.code, row.name, row.name_en, row.base_height, row.top_height, row.height_source, row.storeys, row.properties], option=orjson.OPT_SORT_KEYS))
        digest.update(bytes(row.wkb))
    return digest.hexdigest()


def _origin(session: Session, park: Park, rows: list[Any]) -> Origin:
    if park.center is not None:
        center = shapely.from_wkb(bytes(session.scalar(select(func.ST_AsBinary(Park.center)).where(Park.id == park.id))))
        return Origin(lon=center.x, lat=center.y, height=0.0)
    return origin_for(shapely.from_wkb([bytes(r.wkb) for r in rows]))


def tile_properties(row: Any) -> dict[str, Any]:
    """The property table row of one building: the twin's fields, then scalar source attributes."""
    own = {
        "code": row.code, "name": row.name, "name_en": row.name_en, "kind": row.kind,
        "height": float(row.top_height), "base_height": float(row.base_height), "height_source": row.height_source,
        "storeys": row.storeys,
    }
    source = {k: v for k, v in (row.properties or {}).items() if isinstance(v, str | int | float | bool) and k not in own}
    return {**source, **own}


def rows_to_meshes(rows: list[Any], *, origin: Origin) -> list:
    """Building rows (code, wkb, heights, properties...) → FeatureMeshes in the origin's frame."""
    geoms = shapely.from_wkb([bytes(r.wkb) for r in rows])
    colors = [USE_COLORS.get(str((r.properties or {}).get("use", "")), DEFAULT_COLOR) for r in rows]
    return footprints_to_meshes(
        geoms, np.array([r.base_height for r in rows]), np.array([r.top_height for r in rows]),
        [r.code for r in rows], [tile_properties(r) for r in rows], origin=origin, colors=colors,
    )
