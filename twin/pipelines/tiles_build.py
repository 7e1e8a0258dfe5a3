"""Build a park's building tiles from PostGIS rows and publish them (atomically) in the database."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import orjson
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tiles.enu import Origin
from tiles.batch import FeatureBatch
from tiles.footprints import footprints_to_batch, origin_for
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
    digest = _source_state(session, park)
    if not force and tileset_queries.source_hash_of_published(session, park=park, slug=slug) == digest:
        count = session.scalar(select(func.count()).where(*_building_filter(park))) or 0
        return BuildResult(tileset=None, skipped=True, features=count)
    rows = _building_rows(session, park)
    if not rows:
        raise InvalidInput(f"park '{park.slug}' has no buildings with heights to tile")
    footprints = shapely.from_wkb([r.wkb for r in rows])  # parsed once, for the origin and the extrusion
    origin = _origin(session, park, footprints)
    batch = rows_to_batch(rows, footprints, origin=origin)
    sink = MemorySink()

    def step(done: int, total: int) -> None:
        if progress:
            progress("tiles", done, total)

    tileset = build_tileset(batch, origin=origin, sink=sink, max_features_per_tile=max_features_per_tile, class_name="building", progress=step)
    record = tileset_queries.publish(session, park=park, new=tileset_queries.NewTileset(
        slug=slug, title="建筑", title_en="Buildings", source_kind="gis", source_ref="features:building",
        source_hash=digest, tileset=tileset, blobs=sink.blobs,
    ))
    return BuildResult(tileset=record, skipped=False, features=len(batch))


def _building_filter(park: Park) -> tuple[Any, ...]:
    return (Feature.park_id == park.id, Feature.kind.in_(BUILDING_KINDS), Feature.top_height.is_not(None), func.ST_Dimension(Feature.geom) == 2)


def _source_state(session: Session, park: Park) -> str:
    """What the tiles depend on, cheaply: count, newest id and newest update of the buildings
    (updated_at is kept by a trigger for every UPDATE), plus the park's frame origin."""
    count, newest_id, newest_update = session.execute(
        select(func.count(), func.max(Feature.id), func.max(Feature.updated_at)).where(*_building_filter(park))).one()
    state = f"{count}:{newest_id}:{newest_update.isoformat() if newest_update else ''}:{park.updated_at.isoformat() if park.updated_at else ''}"
    return hashlib.sha256(state.encode()).hexdigest()


class BuildingRow(NamedTuple):  # a tuple: 100k frozen dataclasses took 0.4 s to build
    code: str
    name: str | None
    name_en: str | None
    kind: str
    wkb: bytes
    base_height: float
    top_height: float
    height_source: str | None
    storeys: int | None
    properties: dict[str, Any]


def _building_rows(session: Session, park: Park) -> list[BuildingRow]:
    """The park's buildings read with a binary cursor (WKB as bytes; no ORM objects: 100k rows in ~0.3 s)."""
    raw = session.connection().connection.driver_connection
    with raw.cursor(binary=True) as cursor:
        cursor.execute(
            "SELECT code, name, name_en, kind, ST_AsBinary(geom), base_height, top_height, height_source, storeys, properties::text "
            "FROM features WHERE park_id = %s AND kind = ANY(%s) AND top_height IS NOT NULL AND ST_Dimension(geom) = 2 ORDER BY id",
            (park.id, list(BUILDING_KINDS)))
        # JSONB as text parsed with orjson: psycopg's jsonb loader (json.loads) was 70% of the fetch.
        return [BuildingRow(*row[:9], orjson.loads(row[9]) if row[9] is not None else None) for row in cursor.fetchall()]


def _origin(session: Session, park: Park, footprints: np.ndarray) -> Origin:
    if park.center is not None:
        center = shapely.from_wkb(bytes(session.scalar(select(func.ST_AsBinary(Park.center)).where(Park.id == park.id))))
        return Origin(lon=center.x, lat=center.y, height=0.0)
    return origin_for(footprints)


def tile_properties(rows: list[Any]) -> dict[str, list[Any]]:
    """The buildings' property table, column-wise: scalar source attributes, then the twin's own fields
    (which win a name clash); names in the order per-row dicts {**source, **own} would first show them."""
    n = len(rows)
    own: dict[str, list[Any]] = {
        "code": [r.code for r in rows], "name": [r.name for r in rows], "name_en": [r.name_en for r in rows],
        "kind": [r.kind for r in rows], "height": [float(r.top_height) for r in rows],
        "base_height": [float(r.base_height) for r in rows], "height_source": [r.height_source for r in rows],
        "storeys": [r.storeys for r in rows],
    }
    source: dict[str, list[Any]] = {}
    leading = 0  # how many source names the first row has: they come before the own fields
    for i, row in enumerate(rows):
        for name, value in (row.properties or {}).items():
            if isinstance(value, str | int | float | bool) and name not in own:
                column = source.get(name)
                if column is None:
                    column = source[name] = [None] * n
                column[i] = value
        if i == 0:
            leading = len(source)
    names = list(source)
    return {**{k: source[k] for k in names[:leading]}, **own, **{k: source[k] for k in names[leading:]}}


def rows_to_batch(rows: list[Any], footprints: np.ndarray, *, origin: Origin) -> FeatureBatch:
    """Building rows (code, heights, properties...) and their WGS84 footprints → extruded FeatureBatch in the origin's frame."""
    colors = [USE_COLORS.get(str((r.properties or {}).get("use", "")), DEFAULT_COLOR) for r in rows]
    return footprints_to_batch(
        footprints, np.array([r.base_height for r in rows]), np.array([r.top_height for r in rows]),
        [r.code for r in rows], tile_properties(rows), origin=origin, colors=colors,
    )
