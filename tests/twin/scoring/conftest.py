"""Hand-built parks for the scoring tests: features, assets, tenants and live readings placed in metres.

Positions are given on a local transverse-Mercator grid (x east, y north, metres) centred on
104.0°E 30.5°N, so each test can work its expected score out on paper in metres.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from geoalchemy2.shape import from_shape
from pyproj import Transformer
from shapely.geometry import LineString, Point, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import transform
from sqlalchemy.orm import Session

from twin.db.models import Asset, Enterprise, Feature, Layer, Park
from twin.db.models.sensing import Datastream, DatastreamLatest, ObservedProperty, Sensor
from twin.db.queries import parks as park_queries

ORIGIN_LON, ORIGIN_LAT = 104.0, 30.5
_TO_LONLAT = Transformer.from_crs(f"+proj=tmerc +lat_0={ORIGIN_LAT} +lon_0={ORIGIN_LON} +k=1 +x_0=0 +y_0=0 +ellps=WGS84",
                                  "EPSG:4326", always_xy=True)


def lonlat(x: float, y: float) -> tuple[float, float]:
    """Grid metres → WGS84 lon/lat."""
    return _TO_LONLAT.transform(x, y)


def to_wgs84(geometry: BaseGeometry) -> BaseGeometry:
    return transform(_TO_LONLAT.transform, geometry)


class ParkBuilder:
    """Insert a small park by hand: every call adds rows to the test's (rolled-back) session."""

    def __init__(self, db: Session, slug: str, **park_properties: Any) -> None:
        self.db = db
        self.park: Park = park_queries.create(db, slug=slug, name=f"测试园区 {slug}", name_en=f"Test park {slug}",
                                              center=(ORIGIN_LON, ORIGIN_LAT), properties=park_properties)
        self.layer = Layer(park_id=self.park.id, slug="hand", name="手工图层", category="other")
        db.add(self.layer)
        db.flush()
        self.features: dict[str, Feature] = {}
        self.assets: dict[str, Asset] = {}
        self._sensor: Sensor | None = None
        self._property: ObservedProperty | None = None

    def feature(self, code: str, kind: str, geometry: BaseGeometry, *, parent: str | None = None, top_height: float | None = None,
                height_source: str | None = None, wgs84: bool = False, **properties: Any) -> Feature:
        """A feature from grid metres (or, with wgs84=True, from lon/lat as given)."""
        row = Feature(park_id=self.park.id, layer_id=self.layer.id, code=code, kind=kind, name=properties.pop("name", code),
                      geom=from_shape(geometry if wgs84 else to_wgs84(geometry), srid=4326), top_height=top_height, height_source=height_source,
                      parent_id=self.features[parent].id if parent else None, properties=properties)
        self.db.add(row)
        self.db.flush()
        self.features[code] = row
        return row

    def road(self, code: str, *points: tuple[float, float], **properties: Any) -> Feature:
        return self.feature(code, "road", LineString(points), **properties)

    def building(self, code: str, x0: float, y0: float, x1: float, y1: float, **properties: Any) -> Feature:
        return self.feature(code, "building", box(x0, y0, x1, y1), top_height=properties.pop("top_height", 12.0),
                            height_source=properties.pop("height_source", "attribute:height"), **properties)

    def room(self, code: str, x0: float, y0: float, x1: float, y1: float, **properties: Any) -> Feature:
        return self.feature(code, "space", box(x0, y0, x1, y1), **properties)

    def point(self, code: str, kind: str, x: float, y: float, **properties: Any) -> Feature:
        return self.feature(code, kind, Point(x, y), **properties)

    def key_location(self, code: str, category: str, x: float, y: float, **properties: Any) -> Feature:
        return self.point(code, "key_location", x, y, category=category, **properties)

    def boundary(self, polygon: Polygon) -> Feature:
        return self.feature("BND", "park_boundary", polygon)

    def asset(self, code: str, kind: str, x: float, y: float, *, feature: str | None = None, **properties: Any) -> Asset:
        lon, lat = lonlat(x, y)
        row = Asset(park_id=self.park.id, code=code, kind=kind, name=properties.pop("name", code), geom=from_shape(Point(lon, lat), srid=4326),
                    feature_id=self.features[feature].id if feature else None, properties=properties)
        self.db.add(row)
        self.db.flush()
        self.assets[code] = row
        return row

    def camera(self, code: str, x: float, y: float, *, heading: float, fov: float, range_m: float, **properties: Any) -> Asset:
        return self.asset(code, "camera", x, y, heading_deg=heading, fov_deg=fov, range_m=range_m, **properties)

    def tenant(self, code: str, building: str | None = None, **properties: Any) -> Enterprise:
        row = Enterprise(park_id=self.park.id, code=code, name=f"企业{code}",
                         building_id=self.features[building].id if building else None, properties=properties)
        self.db.add(row)
        self.db.flush()
        return row

    def reading(self, asset_code: str, at: datetime) -> None:
        """A Datastream on the asset (a SensorThings Thing) whose latest observation is at `at`."""
        if self._sensor is None:
            self._sensor = Sensor(park_id=self.park.id, name="test sensor", description="", encoding_type="text/plain", metadata_="none")
            self._property = ObservedProperty(park_id=self.park.id, name="status", definition="urn:test:status", description="")
            self.db.add_all([self._sensor, self._property])
            self.db.flush()
        assert self._property is not None
        stream = Datastream(thing_id=self.assets[asset_code].id, sensor_id=self._sensor.id, observed_property_id=self._property.id,
                            name=f"{asset_code} status", description="", unit_of_measurement={},
                            observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement")
        self.db.add(stream)
        self.db.flush()
        self.db.add(DatastreamLatest(datastream_id=stream.id, observation_id=0, phenomenon_time=at, result_number=1.0))
        self.db.flush()


@pytest.fixture()
def build(db: Session):  # type: ignore[no-untyped-def]
    """Make hand-built parks in the test's transaction: build("slug", **park_properties) → ParkBuilder."""
    return lambda slug, **properties: ParkBuilder(db, slug, **properties)
