"""Bind an asset to a spatial feature: by code, or the smallest feature containing its position."""

from __future__ import annotations

from sqlalchemy import Float, bindparam, case, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from twin.db.models import Feature, Park
from twin.errors import InvalidInput

# Containers for automatic binding, smallest first; a device at a point goes to the room before
# the storey before the building (parking spaces before their lot).
CONTAINER_RANK: dict[str, int] = {"space": 0, "parking_space": 0, "storey": 1, "parking_lot": 1, "building": 2}
HEIGHT_TOLERANCE_M = 0.01
BATCH = 5000
Point3 = tuple[float, float, float]  # lon, lat (WGS84 degrees), height (m above the park's ground)


class Binder:
    """Resolves feature codes of one park to ids; `preload` reads every code once (bulk imports)."""

    def __init__(self, session: Session, *, park: Park, preload: bool = False) -> None:
        self.session = session
        self.park = park
        self._ids: dict[str, int] | None = None
        self._containers: dict[Point3, int | None] = {}
        if preload:
            self._ids = dict(session.execute(select(Feature.code, Feature.id).where(Feature.park_id == park.id)).all())

    def feature_id(self, code: str) -> int | None:
        """The id of the feature with this code; None for the park's own slug; InvalidInput if unknown."""
        if code == self.park.slug:
            return None
        found = self._ids.get(code) if self._ids is not None else self.session.scalar(
            select(Feature.id).where(Feature.park_id == self.park.id, Feature.code == code)
        )
        if found is None:
            raise InvalidInput(f"feature '{code}' not found in park '{self.park.slug}'")
        return found

    def prefetch(self, points: list[Point3]) -> None:
        """Find the containers of many positions in bulk, so that `bind` answers them without a query."""
        unique = list(dict.fromkeys(points))
        self._containers.update(zip(unique, containing_feature_ids(self.session, park=self.park, points=unique), strict=True))

    def bind(self, *, feature: str | None, lon: float, lat: float, height: float) -> int | None:
        """The feature id an asset belongs to: the named one, else the smallest container, else None (park)."""
        if feature is not None:
            return self.feature_id(feature)
        if (lon, lat, height) in self._containers:
            return self._containers[(lon, lat, height)]
        return containing_feature_id(self.session, park=self.park, lon=lon, lat=lat, height=height)


def containing_feature_id(session: Session, *, park: Park, lon: float, lat: float, height: float) -> int | None:
    """The smallest space/storey/building (or parking space/lot) covering a WGS84 point at a height (m), if any."""
    return containing_feature_ids(session, park=park, points=[(lon, lat, height)])[0]


def containing_feature_ids(session: Session, *, park: Park, points: list[Point3]) -> list[int | None]:
    """containing_feature_id for many (lon, lat, height) points in one query per 5,000 (bulk imports)."""
    found: list[int | None] = []
    for start in range(0, len(points), BATCH):
        chunk = points[start : start + BATCH]
        # Three array parameters, not thousands of scalars: unnest them WITH ORDINALITY into rows.
        lons, lats, heights = (bindparam(name, list(axis), type_=ARRAY(Float)) for name, axis in zip(("lons", "lats", "heights"), zip(*chunk), strict=True))
        pts = func.unnest(lons, lats, heights).table_valued("lon", "lat", "h", with_ordinality="i").render_derived(name="pts")
        point = func.ST_SetSRID(func.ST_MakePoint(pts.c.lon, pts.c.lat), 4326)
        # Rooms and storeys must span the height; a building also owns what sits on its roof.
        within_height = or_(Feature.kind == "building", Feature.top_height.is_(None), pts.c.h <= Feature.top_height + HEIGHT_TOLERANCE_M)
        best = (
            select(Feature.id)
            .where(
                Feature.park_id == park.id,
                Feature.kind.in_(CONTAINER_RANK),
                # ST_Covers is ST_Contains that also accepts points on the boundary (devices on walls).
                func.ST_Covers(Feature.geom, point),
                Feature.base_height <= pts.c.h + HEIGHT_TOLERANCE_M,
                within_height,
            )
            # Smallest kind first, then smallest area; at a storey boundary the upper storey wins.
            .order_by(case(CONTAINER_RANK, value=Feature.kind), func.ST_Area(Feature.geom), Feature.base_height.desc())
            .limit(1)
            .correlate(pts)
            .scalar_subquery()
        )
        by_index = dict(session.execute(select(pts.c.i, best)).tuples().all())
        found += [by_index.get(i) for i in range(1, len(chunk) + 1)]
    return found
