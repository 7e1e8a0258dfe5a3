"""Where an alarm is: its point, the feature containing it, that feature's storey and building, and the
cameras whose field of view covers it (linkage 联动)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from twin.db.models import Asset, Feature, Park
from twin.db.queries import features as feature_queries
from twin.integration.assets.binding import containing_feature_id
from twin.spatial.camera import asset_sees, view_parameters

DEFAULT_CAMERA_RANGE_M = view_parameters({})["range_m"]  # what `sees` assumes for a camera without range_m


@dataclass(slots=True)
class Place:
    """An alarm's place: WGS84 point (may be unknown), height above ground (m), feature/storey/building ids."""

    lon: float | None = None
    lat: float | None = None
    height: float | None = None
    feature_id: int | None = None
    storey_id: int | None = None
    building_id: int | None = None

    @property
    def has_point(self) -> bool:
        return self.lon is not None and self.lat is not None


def asset_place(session: Session, *, asset_id: int) -> Place:
    """The place of an asset: its position, height and bound feature."""
    row = session.execute(
        select(func.ST_X(Asset.geom), func.ST_Y(Asset.geom), Asset.height, Asset.feature_id).where(Asset.id == asset_id)
    ).one()
    return Place(lon=row[0], lat=row[1], height=row[2], feature_id=row[3])


def resolve(session: Session, *, park: Park, place: Place) -> Place:
    """Fill the feature (smallest container of the point, if none is known), its storey and building."""
    if place.feature_id is None and place.has_point:
        place.feature_id = containing_feature_id(session, park=park, lon=place.lon, lat=place.lat, height=place.height or 0.0)  # type: ignore[arg-type]
    if place.feature_id is None:
        return place
    own = session.execute(select(Feature.code, Feature.kind).where(Feature.id == place.feature_id)).one()
    chain = [{"code": own.code, "kind": own.kind}, *feature_queries.ancestors(session, feature_id=place.feature_id)]
    storey = next((f["code"] for f in chain if f["kind"] == "storey"), None)
    building = next((f["code"] for f in chain if f["kind"] == "building"), None)
    wanted = [c for c in (storey, building) if c]
    if wanted:
        ids = dict(session.execute(select(Feature.code, Feature.id).where(Feature.park_id == park.id, Feature.code.in_(wanted))).all())
        place.storey_id = ids.get(storey) if storey else None
        place.building_id = ids.get(building) if building else None
    return place


# Prefilter in PostGIS with each camera's own range (geodesic metres), then `sees` decides the angle.
_CAMERAS_NEAR_SQL = text("""
SELECT a.code, ST_X(a.geom) AS lon, ST_Y(a.geom) AS lat, a.properties
FROM assets a
WHERE a.park_id = :park AND a.kind = 'camera'
  AND ST_DWithin(a.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography,
                 CASE WHEN jsonb_typeof(a.properties->'range_m') = 'number' THEN (a.properties->>'range_m')::float8
                      ELSE :default_range END)
ORDER BY ST_Distance(a.geom::geography, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography), a.code
""")


def cameras_seeing(session: Session, *, park_id: int, lon: float, lat: float) -> list[str]:
    """Codes of the park's cameras whose field of view (position, heading, FOV, range) covers a WGS84 point, nearest first."""
    rows = session.execute(_CAMERAS_NEAR_SQL, {"park": park_id, "lon": lon, "lat": lat, "default_range": DEFAULT_CAMERA_RANGE_M})
    return [row.code for row in rows if asset_sees(row.properties or {}, row.lon, row.lat, target_lon=lon, target_lat=lat)]
