"""A small SensorThings world built per test inside the rolled-back session: two parks, a building
with a storey, devices with Locations, seeded Datastreams and a known series of observations."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point, box
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import bearer
from twin.access.tokens import create_token
from twin.db.models import Asset, Datastream, Feature, Layer, Observation, Park
from twin.integration.ingest import insert_observations
from twin.integration.sta.seed import seed_demo_datastreams

STA = "/sta/v1.1"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
PM25 = [12.0, 15.5, 18.0, 21.0, 9.5, 30.0, 27.5, 14.0, 16.0, 22.5, 19.0, 11.0]  # every 5 min from T0


@dataclass
class World:
    park: Park
    other: Park
    things: dict[str, int] = field(default_factory=dict)  # asset code → Thing id
    streams: dict[str, int] = field(default_factory=dict)  # "CODE:key" → Datastream id
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # name → auth headers


def _asset(park: Park, code: str, kind: str, lon: float, lat: float, *, feature: Feature | None = None, **props: object) -> Asset:
    return Asset(park_id=park.id, code=code, kind=kind, name=f"{code}设备", name_en=f"{code} device", geom=from_shape(Point(lon, lat), srid=4326),
                 height=1.5, feature_id=feature.id if feature else None, properties=dict(props))


@pytest.fixture()
def world(db: Session, tokens: dict[str, str]) -> World:
    park = Park(slug="sta-park", name="传感园区", name_en="Sensing park", center=from_shape(Point(104.06, 30.54), srid=4326))
    other = Park(slug="sta-other", name="别的园区", center=from_shape(Point(104.2, 30.7), srid=4326))
    db.add_all([park, other])
    db.flush()
    layer = Layer(park_id=park.id, slug="buildings", name="建筑", category="buildings")
    db.add(layer)
    db.flush()
    building = Feature(park_id=park.id, layer_id=layer.id, code="B01", kind="building", name="一号楼", geom=from_shape(box(104.0605, 30.5405, 104.0615, 30.5415), srid=4326), top_height=20)
    db.add(building)
    db.flush()
    storey = Feature(park_id=park.id, layer_id=layer.id, parent_id=building.id, code="B01-F01", kind="storey", geom=building.geom, top_height=4)
    db.add(storey)
    db.flush()
    assets = [
        _asset(park, "CAM-1", "camera", 104.0600, 30.5400),
        _asset(park, "AQ-1", "air_quality_sensor", 104.0610, 30.5410, feature=storey),
        _asset(park, "MTR-1", "meter", 104.0700, 30.5500, meter_type="electricity", smart=True),
        _asset(park, "LAMP-1", "street_lamp", 104.0800, 30.5600),
        _asset(other, "CAM-9", "camera", 104.2000, 30.7000),
    ]
    db.add_all(assets)
    db.flush()
    seed_demo_datastreams(db, park)
    seed_demo_datastreams(db, other)
    found = World(park=park, other=other, things={a.code: a.id for a in assets})
    for code, key, ds_id in db.execute(
        select(Asset.code, Datastream.properties["key"].astext, Datastream.id)
        .join(Asset, Asset.id == Datastream.thing_id)
        .where(Asset.park_id.in_([park.id, other.id]))
    ):
        found.streams[f"{code}:{key}"] = ds_id
    rows = [{"datastream_id": found.streams["AQ-1:pm25"], "phenomenon_time": T0 + timedelta(minutes=5 * i), "result": v} for i, v in enumerate(PM25)]
    rows += [{"datastream_id": found.streams["CAM-1:online"], "phenomenon_time": T0, "result": 1},
             {"datastream_id": found.streams["CAM-9:online"], "phenomenon_time": T0, "result": 0},
             {"datastream_id": found.streams["AQ-1:temperature"], "phenomenon_time": T0, "result": 21.5,
              "parameters": {"calibrated": True}}]
    outcome = insert_observations(db, rows)
    assert not outcome.rejected, outcome.rejected
    _, scoped_viewer = create_token(db, name="park viewer", role="viewer", park_id=park.id)
    _, other_integrator = create_token(db, name="other integrator", role="integrator", park_id=other.id)
    found.headers = {
        "viewer": bearer(tokens["viewer"]),
        "integrator": bearer(tokens["integrator"]),
        "admin": bearer(tokens["admin"]),
        "park_viewer": bearer(scoped_viewer),
        "other_integrator": bearer(other_integrator),
    }
    return found


def observation_count(db: Session, datastream_id: int) -> int:
    return len(db.scalars(select(Observation.id).where(Observation.datastream_id == datastream_id)).all())
