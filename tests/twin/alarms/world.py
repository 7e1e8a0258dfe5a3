"""A small hand-built park for the alarm tests: two buildings with storeys, a geofence, sensors with
datastreams, a tracked robot, cameras placed around a target point, displays and speakers.

Positions are set with geodesic offsets (metres, bearing) from the target point, so the camera
layout is exact: one camera faces the target within range, one faces away, one is too far, and one
has no view properties at all (the defaults of twin.spatial.camera: heading 0°, FOV 90°, range 30 m).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from geoalchemy2.shape import from_shape
from pyproj import Geod
from shapely.geometry import Point, box
from sqlalchemy import delete
from sqlalchemy.orm import Session

from twin.db.models import Asset, Datastream, Feature, Layer, ObservedProperty, Park, Sensor

GEOD = Geod(ellps="WGS84")
TARGET = (104.0645, 30.5404)  # the air-quality sensor, inside building B1, storey B1-F1
OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"


def offset(lon: float, lat: float, *, bearing_deg: float, metres: float) -> tuple[float, float]:
    """The WGS84 point `metres` away from lon/lat towards `bearing_deg` (0 = north, clockwise)."""
    x, y, _ = GEOD.fwd(lon, lat, bearing_deg, metres)
    return x, y


@dataclass
class World:
    park: Park
    features: dict[str, int] = field(default_factory=dict)
    assets: dict[str, int] = field(default_factory=dict)
    datastreams: dict[str, int] = field(default_factory=dict)


def _asset(session: Session, world: World, code: str, kind: str, lon: float, lat: float, *, height: float = 1.5,
           feature: str | None = None, **properties: Any) -> int:
    asset = Asset(park_id=world.park.id, code=code, kind=kind, name=f"{code} 设备", name_en=f"{code} device",
                  feature_id=world.features.get(feature) if feature else None,
                  geom=from_shape(Point(lon, lat), 4326), height=height, properties=properties)
    session.add(asset)
    session.flush()
    world.assets[code] = asset.id
    return asset.id


def _datastream(session: Session, world: World, code: str, asset: str, prop: ObservedProperty, sensor: Sensor,
                unit: str | None, observation_type: str = "OM_Measurement") -> None:
    ds = Datastream(thing_id=world.assets[asset], sensor_id=sensor.id, observed_property_id=prop.id, name=code,
                    observation_type=OM + observation_type, unit_of_measurement={"name": unit, "symbol": unit, "definition": None})
    session.add(ds)
    session.flush()
    world.datastreams[code] = ds.id


def build_world(session: Session, slug: str = "alarm-test") -> World:
    """Create the park (replacing one with the same slug) and flush; nothing is committed here."""
    session.execute(delete(Park).where(Park.slug == slug))
    park = Park(slug=slug, name="告警测试园区", name_en="Alarm test park", center=from_shape(Point(*TARGET), 4326))
    session.add(park)
    session.flush()
    world = World(park=park)
    layer = Layer(park_id=park.id, slug="test", name="测试", category="buildings")
    session.add(layer)
    session.flush()
    lon, lat = TARGET
    footprints = {
        "B1": box(lon - 0.0005, lat - 0.0004, lon + 0.0005, lat + 0.0004),
        "B2": box(lon + 0.0015, lat - 0.0004, lon + 0.0025, lat + 0.0004),
    }
    rows = [("B1", "building", None, footprints["B1"], 0.0, 8.0), ("B1-F1", "storey", "B1", footprints["B1"], 0.0, 4.0),
            ("B1-F2", "storey", "B1", footprints["B1"], 4.0, 8.0), ("B2", "building", None, footprints["B2"], 0.0, 12.0),
            ("B2-F1", "storey", "B2", footprints["B2"], 0.0, 4.0),
            ("GF-T", "geofence", None, box(lon + 0.0035, lat - 0.0004, lon + 0.0045, lat + 0.0006), 0.0, None)]
    for code, kind, parent, geom, base, top in rows:
        feature = Feature(park_id=park.id, layer_id=layer.id, code=code, kind=kind, name=f"{code} 名称", name_en=f"{code} name",
                          parent_id=world.features.get(parent) if parent else None, geom=from_shape(geom, 4326),
                          base_height=base, top_height=top)
        session.add(feature)
        session.flush()
        world.features[code] = feature.id

    sensor = Sensor(park_id=park.id, name="test sensor", encoding_type="text/html", metadata_="https://example.org")
    pm25 = ObservedProperty(park_id=park.id, name="PM2.5 concentration", definition="https://smartdatamodels.org/dataModel.Environment/pm25")
    power = ObservedProperty(park_id=park.id, name="power", definition="http://qudt.org/vocab/quantitykind/ActivePower")
    state = ObservedProperty(park_id=park.id, name="Elevator state", definition="urn:parktwin:def:elevator-state")
    location = ObservedProperty(park_id=park.id, name="location", definition="urn:parktwin:def:location")
    session.add_all([sensor, pm25, power, state, location])
    session.flush()

    _asset(session, world, "AQ-1", "air_quality_sensor", lon, lat, feature="B1-F1")
    _datastream(session, world, "AQ-1/pm25", "AQ-1", pm25, sensor, "µg/m³")
    _asset(session, world, "AQ-2", "air_quality_sensor", *offset(lon, lat, bearing_deg=0, metres=200))
    _datastream(session, world, "AQ-2/pm25", "AQ-2", pm25, sensor, "µg/m³")
    _asset(session, world, "MTR-1", "meter", lon + 0.002, lat, feature="B2-F1")
    _datastream(session, world, "MTR-1/power", "MTR-1", power, sensor, "kW")
    _asset(session, world, "MTR-2", "meter", lon + 0.0021, lat, feature="B2-F1")
    _datastream(session, world, "MTR-2/power", "MTR-2", power, sensor, "kW")
    _asset(session, world, "ELV-1", "elevator", lon + 0.0001, lat, feature="B1-F1")
    _datastream(session, world, "ELV-1/state", "ELV-1", state, sensor, None, "OM_CategoryObservation")
    _asset(session, world, "ROB-1", "robot", lon + 0.004, lat + 0.0001, height=0.0)
    _datastream(session, world, "ROB-1/location", "ROB-1", location, sensor, None, "OM_Observation")

    # Cameras around the target: facing it 20 m south of it, facing away, too far, and one with default view.
    _asset(session, world, "CAM-FACING", "camera", *offset(lon, lat, bearing_deg=180, metres=20), heading_deg=0.0, fov_deg=60.0, range_m=50.0)
    _asset(session, world, "CAM-AWAY", "camera", *offset(lon, lat, bearing_deg=180, metres=20), heading_deg=180.0, fov_deg=60.0, range_m=50.0)
    _asset(session, world, "CAM-FAR", "camera", *offset(lon, lat, bearing_deg=180, metres=200), heading_deg=0.0, fov_deg=60.0, range_m=50.0)
    _asset(session, world, "CAM-DEFAULT", "camera", *offset(lon, lat, bearing_deg=180, metres=10))
    # Displays and speakers at known distances from the target.
    _asset(session, world, "SPK-NEAR", "broadcast_speaker", *offset(lon, lat, bearing_deg=45, metres=30), emergency=True)
    _asset(session, world, "DSP-MID", "display_screen", *offset(lon, lat, bearing_deg=270, metres=120))
    _asset(session, world, "DSP-FAR", "display_screen", *offset(lon, lat, bearing_deg=0, metres=1000))
    _asset(session, world, "SMOKE-1", "fire_equipment", lon - 0.0002, lat, height=5.0, feature="B1-F2")
    return world


def remove_world(session: Session, slug: str = "alarm-test") -> None:
    session.execute(delete(Park).where(Park.slug == slug))
