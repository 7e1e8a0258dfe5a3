"""A small committed park with devices and datastreams, built through the ORM (no demo data needed)."""

from __future__ import annotations

from dataclasses import dataclass

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import delete
from sqlalchemy.orm import Session

from twin.db.models import Asset, Datastream, ObservedProperty, Park, Sensor

CENTER = (104.065, 30.54)  # Chengdu, WGS84 lon/lat


@dataclass
class SensingPark:
    """What the factory made: the park slug and id, and datastream ids by asset code."""

    slug: str
    park_id: int
    datastreams: dict[str, int]
    asset_kinds: dict[str, str]


def make_sensing_park(session: Session, slug: str, *, devices: int = 4, kind_cycle: tuple[str, ...] = ("meter", "air_quality_sensor")) -> SensingPark:
    """A park `slug` (replaced if present) with `devices` assets, one datastream each."""
    session.execute(delete(Park).where(Park.slug == slug))
    park = Park(slug=slug, name=f"测试园区 {slug}", name_en=f"Test park {slug}", center=from_shape(Point(*CENTER), 4326))
    session.add(park)
    session.flush()
    sensor = Sensor(park_id=park.id, name="test sensor", encoding_type="text/html", metadata_="https://example.org")
    prop = ObservedProperty(park_id=park.id, name="power", definition="https://qudt.org/vocab/quantitykind/ActivePower")
    session.add_all([sensor, prop])
    session.flush()
    datastreams: dict[str, int] = {}
    kinds: dict[str, str] = {}
    for i in range(devices):
        code = f"{slug.upper()}-D{i:04d}"
        kind = kind_cycle[i % len(kind_cycle)]
        asset = Asset(park_id=park.id, code=code, kind=kind, name=f"设备 {i}", name_en=f"device {i}",
                      geom=from_shape(Point(CENTER[0] + i * 1e-4, CENTER[1] + i * 1e-4), 4326), height=1.5)
        session.add(asset)
        session.flush()
        ds = Datastream(thing_id=asset.id, sensor_id=sensor.id, observed_property_id=prop.id, name=f"{code} power",
                        observation_type="http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                        unit_of_measurement={"name": "kilowatt", "symbol": "kW", "definition": "http://qudt.org/vocab/unit/KiloW"})
        session.add(ds)
        session.flush()
        datastreams[code] = ds.id
        kinds[code] = kind
    return SensingPark(slug=slug, park_id=park.id, datastreams=datastreams, asset_kinds=kinds)
