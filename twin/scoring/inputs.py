"""Input loading for scoring: the SQL that reads a park's features, devices, tenants and live reports.

Every function returns plain frozen dataclasses (lon/lat in WGS84 degrees, lengths in metres, areas in
m² measured on the geography type), so the measures that turn them into points never touch the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, aliased

from twin.db.models import Asset, Enterprise, Feature, Park
from twin.db.models.sensing import Datastream, DatastreamLatest

METRES_PER_DEGREE = 111_320.0  # at the equator; only used to size a clustering radius


@dataclass(frozen=True, slots=True)
class Place:
    """A feature as scoring sees it: code, names, kind, properties and a representative point."""

    id: int
    code: str
    kind: str
    name: str | None
    name_en: str | None
    properties: dict[str, Any]
    lon: float
    lat: float
    parent_code: str | None = None
    top_height: float | None = None
    height_source: str | None = None
    length_m: float = 0.0  # lines: geodesic length
    area_m2: float = 0.0  # polygons: geodesic area

    def label(self) -> str:
        return self.name or self.code


@dataclass(frozen=True, slots=True)
class Device:
    """An asset (device) with its position and properties."""

    id: int
    code: str
    kind: str
    name: str
    name_en: str | None
    properties: dict[str, Any]
    lon: float
    lat: float
    feature_code: str | None


@dataclass(frozen=True, slots=True)
class Junction:
    """A road junction derived from the road network: where ≥ 3 road arms meet."""

    lon: float
    lat: float
    roads: tuple[str, ...]
    arms: int

    @property
    def code(self) -> str:
        return "junction:" + "+".join(self.roads)


@dataclass(frozen=True, slots=True)
class Tenant:
    code: str
    name: str
    name_en: str | None
    building_code: str | None
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class CoveragePart:
    code: str
    name: str | None
    area_m2: float
    covered_m2: float


def _places(session: Session, park: Park, *conditions: Any) -> list[Place]:
    parent = aliased(Feature)
    geog = func.geography(Feature.geom)
    point = func.ST_PointOnSurface(Feature.geom)
    stmt = (
        select(
            Feature, parent.code.label("parent_code"), func.ST_X(point).label("lon"), func.ST_Y(point).label("lat"),
            func.ST_Length(geog).label("length_m"), func.ST_Area(geog).label("area_m2"),
        )
        .outerjoin(parent, parent.id == Feature.parent_id)
        .where(Feature.park_id == park.id, *conditions)
        .order_by(Feature.code)
    )
    return [
        Place(id=r.Feature.id, code=r.Feature.code, kind=r.Feature.kind, name=r.Feature.name, name_en=r.Feature.name_en,
              properties=r.Feature.properties or {}, lon=r.lon, lat=r.lat, parent_code=r.parent_code,
              top_height=r.Feature.top_height, height_source=r.Feature.height_source,
              length_m=float(r.length_m or 0.0), area_m2=float(r.area_m2 or 0.0))
        for r in session.execute(stmt)
    ]


def features_of_kind(session: Session, *, park: Park, kinds: Sequence[str]) -> list[Place]:
    """The park's features of these kinds (roads with geodesic length, polygons with geodesic area)."""
    return _places(session, park, Feature.kind.in_(list(kinds)))


def key_locations(session: Session, *, park: Park, categories: Sequence[str]) -> list[Place]:
    """Key-location features whose `category` property is one of `categories`."""
    return _places(session, park, Feature.kind == "key_location", Feature.properties["category"].astext.in_(list(categories)))


def spaces_by_use(session: Session, *, park: Park, uses: Sequence[str]) -> list[Place]:
    """Rooms (kind space) whose `use` property is one of `uses`, with their polygon's geodesic area."""
    return _places(session, park, Feature.kind == "space", Feature.properties["use"].astext.in_(list(uses)))


_JUNCTIONS = text("""
WITH r AS (
    SELECT code, geom FROM features
    WHERE park_id = :park_id AND kind = 'road' AND ST_Dimension(geom) = 1
),
touch AS (
    SELECT a.code AS a, b.code AS b,
           (ST_Dump(CASE WHEN ST_Intersects(a.geom, b.geom) THEN ST_Intersection(a.geom, b.geom)
                         ELSE ST_ClosestPoint(a.geom, b.geom) END)).geom AS g
    FROM r a JOIN r b ON a.code < b.code AND ST_DWithin(a.geom::geography, b.geom::geography, :tolerance)
),
pts AS (
    SELECT a, b, g, ST_ClusterDBSCAN(g, eps := :eps, minpoints := 1) OVER () AS cluster
    FROM touch WHERE ST_GeometryType(g) = 'ST_Point'
),
nodes AS (
    SELECT cluster, ST_Centroid(ST_Collect(g)) AS g,
           ARRAY(SELECT DISTINCT x FROM unnest(array_agg(a) || array_agg(b)) AS x ORDER BY x) AS roads
    FROM pts GROUP BY cluster
)
SELECT ST_X(n.g) AS lon, ST_Y(n.g) AS lat, n.roads,
       sum(CASE WHEN ST_DWithin(ST_StartPoint(r.geom)::geography, n.g::geography, :tolerance)
                  OR ST_DWithin(ST_EndPoint(r.geom)::geography, n.g::geography, :tolerance)
                THEN 1 ELSE 2 END)::int AS arms
FROM nodes n JOIN r ON r.code = ANY(n.roads)
GROUP BY n.cluster, n.g, n.roads
ORDER BY lon, lat
""")


def road_junctions(session: Session, *, park: Park, tolerance_m: float = 1.0) -> list[Junction]:
    """Road junctions computed in PostGIS from the road lines: crossings and shared or touching endpoints.

    Pairs of roads within `tolerance_m` meet at their intersection (or closest point, for ends that
    stop just short); meeting points closer than the tolerance are merged. A node counts as a junction
    when at least three road arms meet there (a road passing through gives two arms, a road ending
    there one), so the bend where two pieces of one road join is not a junction.
    """
    rows = session.execute(_JUNCTIONS, {"park_id": park.id, "tolerance": tolerance_m, "eps": tolerance_m / METRES_PER_DEGREE})
    return [Junction(lon=r.lon, lat=r.lat, roads=tuple(r.roads), arms=r.arms) for r in rows if r.arms >= 3]


def devices(session: Session, *, park: Park, kinds: Sequence[str]) -> list[Device]:
    """The park's assets of these kinds, with position and the code of the feature they are bound to."""
    stmt = (
        select(Asset, Feature.code.label("feature_code"), func.ST_X(Asset.geom).label("lon"), func.ST_Y(Asset.geom).label("lat"))
        .outerjoin(Feature, Feature.id == Asset.feature_id)
        .where(Asset.park_id == park.id, Asset.kind.in_(list(kinds)))
        .order_by(Asset.code)
    )
    return [
        Device(id=r.Asset.id, code=r.Asset.code, kind=r.Asset.kind, name=r.Asset.name, name_en=r.Asset.name_en,
               properties=r.Asset.properties or {}, lon=r.lon, lat=r.lat, feature_code=r.feature_code)
        for r in session.execute(stmt)
    ]


def tenants(session: Session, *, park: Park) -> list[Tenant]:
    """The park's enterprises with the code of their building."""
    stmt = (
        select(Enterprise, Feature.code.label("building_code"))
        .outerjoin(Feature, Feature.id == Enterprise.building_id)
        .where(Enterprise.park_id == park.id)
        .order_by(Enterprise.code)
    )
    return [Tenant(code=r.Enterprise.code, name=r.Enterprise.name, name_en=r.Enterprise.name_en,
                   building_code=r.building_code, properties=r.Enterprise.properties or {})
            for r in session.execute(stmt)]


def devices_near(session: Session, *, park: Park, feature_ids: Iterable[int], asset_kind: str, radius_m: float) -> dict[int, list[str]]:
    """For each feature, the codes of assets of `asset_kind` within `radius_m` metres (geodesic) of it."""
    ids = list(feature_ids)
    if not ids:
        return {}
    stmt = (
        select(Feature.id, func.array_agg(Asset.code))
        .join(Asset, func.ST_DWithin(func.geography(Feature.geom), func.geography(Asset.geom), radius_m))
        .where(Feature.id.in_(ids), Asset.park_id == park.id, Asset.kind == asset_kind)
        .group_by(Feature.id)
    )
    return {fid: sorted(codes) for fid, codes in session.execute(stmt)}


_DISCS = """
discs AS (
    SELECT ST_Union(ST_Buffer(ST_SetSRID(ST_MakePoint(e.lon, e.lat), 4326)::geography, e.radius)::geometry) AS g
    FROM unnest(CAST(:lons AS float8[]), CAST(:lats AS float8[]), CAST(:radii AS float8[])) AS e(lon, lat, radius)
)"""
_PART_COVERAGE = text(f"""
WITH {_DISCS},
targets AS (
    SELECT code, name, geom FROM features WHERE id = ANY(CAST(:target_ids AS bigint[]))
)
SELECT t.code, t.name, ST_Area(t.geom::geography) AS area,
       COALESCE(ST_Area(ST_Intersection(t.geom, d.g)::geography), 0) AS covered
FROM targets t CROSS JOIN discs d
ORDER BY t.code
""")
_AREA_GEOMETRY = text(f"""
WITH {_DISCS},
target AS (SELECT ST_Union(geom) AS g FROM features WHERE id = ANY(CAST(:target_ids AS bigint[])))
SELECT ST_AsGeoJSON(ST_Intersection(t.g, d.g), 7) AS covered,
       ST_AsGeoJSON(CASE WHEN d.g IS NULL THEN t.g ELSE ST_Difference(t.g, d.g) END, 7) AS uncovered
FROM target t CROSS JOIN discs d
""")


def disc_coverage(session: Session, *, emitters: Sequence[tuple[float, float, float]], target_ids: Sequence[int],
                  with_geometry: bool = False) -> tuple[list[CoveragePart], dict[str, Any] | None, dict[str, Any] | None]:
    """Per target feature, its geodesic area and the part inside the union of radio discs.

    `emitters` are (lon, lat, radius m); each disc is ST_Buffer on geography, so radii are true metres.
    With `with_geometry`, the covered and uncovered parts of the targets come back as GeoJSON.
    """
    if not target_ids:
        return [], None, None
    params = {"lons": [e[0] for e in emitters], "lats": [e[1] for e in emitters], "radii": [e[2] for e in emitters],
              "target_ids": list(target_ids)}
    parts = [CoveragePart(code=r.code, name=r.name, area_m2=float(r.area), covered_m2=float(r.covered))
             for r in session.execute(_PART_COVERAGE, params)]
    covered = uncovered = None
    if with_geometry:
        row = session.execute(_AREA_GEOMETRY, params).one()
        covered = orjson.loads(row.covered) if row.covered else None
        uncovered = orjson.loads(row.uncovered) if row.uncovered else None
    return parts, covered, uncovered


def park_area_ids(session: Session, *, park: Park) -> list[int]:
    """Ids of the park's boundary features (kind park_boundary); the park's area for coverage."""
    return list(session.scalars(select(Feature.id).where(Feature.park_id == park.id, Feature.kind == "park_boundary")))


def latest_report_times(session: Session, *, asset_ids: Sequence[int]) -> dict[int, datetime]:
    """When each asset (SensorThings Thing) last reported: the newest phenomenonTime of its Datastreams.

    The one place scoring reads live data (tables of twin/db/models/sensing.py); assets without any
    Datastream or reading are absent from the result.
    """
    if not asset_ids:
        return {}
    stmt = (
        select(Datastream.thing_id, func.max(DatastreamLatest.phenomenon_time))
        .join(DatastreamLatest, DatastreamLatest.datastream_id == Datastream.id)
        .where(Datastream.thing_id.in_(list(asset_ids)))
        .group_by(Datastream.thing_id)
    )
    return dict(session.execute(stmt).all())


class ParkInputs:
    """One park's scoring inputs for one scoring run, each query run at most once (memoised)."""

    def __init__(self, session: Session, park: Park) -> None:
        self.session = session
        self.park = park
        self._cache: dict[tuple[Any, ...], Any] = {}

    def _memo(self, key: tuple[Any, ...], load: Any) -> Any:
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    @property
    def properties(self) -> dict[str, Any]:
        """The park record's properties (declared facts: services offered, video functions...)."""
        return self.park.properties or {}

    def features(self, *kinds: str) -> list[Place]:
        return self._memo(("features", kinds), lambda: features_of_kind(self.session, park=self.park, kinds=kinds))

    def key_locations(self, categories: Sequence[str]) -> list[Place]:
        key = ("key_locations", tuple(categories))
        return self._memo(key, lambda: key_locations(self.session, park=self.park, categories=categories))

    def spaces(self, uses: Sequence[str]) -> list[Place]:
        return self._memo(("spaces", tuple(uses)), lambda: spaces_by_use(self.session, park=self.park, uses=uses))

    def junctions(self, tolerance_m: float) -> list[Junction]:
        key = ("junctions", tolerance_m)
        return self._memo(key, lambda: road_junctions(self.session, park=self.park, tolerance_m=tolerance_m))

    def devices(self, *kinds: str) -> list[Device]:
        return self._memo(("devices", kinds), lambda: devices(self.session, park=self.park, kinds=kinds))

    def tenants(self) -> list[Tenant]:
        return self._memo(("tenants",), lambda: tenants(self.session, park=self.park))

    def park_area_ids(self) -> list[int]:
        return self._memo(("park_area",), lambda: park_area_ids(self.session, park=self.park))

    def devices_near(self, feature_ids: Sequence[int], asset_kind: str, radius_m: float) -> dict[int, list[str]]:
        key = ("near", tuple(feature_ids), asset_kind, radius_m)
        return self._memo(key, lambda: devices_near(self.session, park=self.park, feature_ids=feature_ids,
                                                    asset_kind=asset_kind, radius_m=radius_m))

    def disc_coverage(self, emitters: Sequence[tuple[float, float, float]], target_ids: Sequence[int], *,
                      with_geometry: bool) -> tuple[list[CoveragePart], dict[str, Any] | None, dict[str, Any] | None]:
        key = ("discs", tuple(emitters), tuple(target_ids), with_geometry)
        return self._memo(key, lambda: disc_coverage(self.session, emitters=emitters, target_ids=target_ids,
                                                     with_geometry=with_geometry))

    def latest_report_times(self, asset_ids: Sequence[int]) -> dict[int, datetime]:
        key = ("latest", tuple(asset_ids))
        return self._memo(key, lambda: latest_report_times(self.session, asset_ids=asset_ids))
