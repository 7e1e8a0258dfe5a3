"""The demo park's alarm rules: seeded once by the demo loader, and they fire on its real datastreams."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from twin.db.models import Alarm, AlarmRule, Datastream, ObservedProperty, Park
from twin.integration import ingest
from tests.twin.alarms.world import offset
from twin.integration.alarms import device, evaluation
from twin.integration.alarms.demo import DEMO_RULES, seed_demo_rules
from twin.integration.ingest import insert_observations


def test_the_engine_is_registered_as_an_ingest_hook() -> None:
    assert ingest.after_commit_hooks.count(evaluation.evaluate_committed) == 1


def test_demo_rules_are_seeded_once(demo_park: str, db: Session) -> None:
    park = db.scalars(select(Park).where(Park.slug == demo_park)).one()
    codes = set(db.scalars(select(AlarmRule.code).where(AlarmRule.park_id == park.id)))
    assert {r["code"] for r in DEMO_RULES} <= codes  # the loader seeded them (GF-01 exists in the demo)
    assert seed_demo_rules(db, park=park) == []  # idempotent
    geofence = db.scalars(select(AlarmRule).where(AlarmRule.park_id == park.id, AlarmRule.code == "demo-gf01-exit")).one()
    assert geofence.feature_id is not None and geofence.params == {"mode": "exit"}


def test_demo_pm25_rule_fires_on_a_demo_sensor_with_its_place_and_cameras(demo_park: str, db: Session) -> None:
    park = db.scalars(select(Park).where(Park.slug == demo_park)).one()
    pm25 = db.execute(select(Datastream.id).join(ObservedProperty, ObservedProperty.id == Datastream.observed_property_id)
                      .where(ObservedProperty.park_id == park.id, ObservedProperty.definition.like("%/pm25")).order_by(Datastream.id)).scalars().first()
    assert pm25 is not None, "the demo seeds PM2.5 datastreams"
    insert_observations(db, [{"datastream_id": pm25, "phenomenon_time": datetime(2026, 1, 5, 8, tzinfo=UTC), "result": 120.5}])
    db.commit()
    alarm = db.scalars(select(Alarm).where(Alarm.park_id == park.id, Alarm.datastream_id == pm25, Alarm.state == "active")).one()
    assert alarm.severity == "major" and alarm.title == "PM2.5 超标" and "120.5" in alarm.message
    assert alarm.geom is not None and alarm.count == 1


def test_demo_alarm_links_exactly_the_cameras_that_see_it(demo_park: str, db: Session) -> None:
    park = db.scalars(select(Park).where(Park.slug == demo_park)).one()
    camera = db.execute(text("SELECT code, ST_X(geom), ST_Y(geom), properties FROM assets WHERE park_id = :p AND kind = 'camera' ORDER BY code LIMIT 1"),
                        {"p": park.id}).one()
    heading, reach = camera.properties.get("heading_deg", 0.0), camera.properties.get("range_m", 30.0)
    lon, lat = offset(camera[1], camera[2], bearing_deg=heading, metres=reach / 2)  # straight ahead, half its range
    record, _ = device.report(db, park=park, alarm=device.parse({"lon": lon, "lat": lat, "kind": "intrusion"}), source="api", actor="t")
    assert record is not None and camera.code in record["linked_cameras"]
    # The same answer from PostGIS alone: within each camera's range and half its FOV of its heading.
    expected = db.scalars(text("""
        SELECT c.code FROM assets c, alarms al
        WHERE al.id = :id AND c.park_id = al.park_id AND c.kind = 'camera'
          AND ST_Distance(c.geom::geography, al.geom::geography) <= COALESCE((c.properties->>'range_m')::float8, 30)
          AND abs(mod((degrees(ST_Azimuth(c.geom::geography, al.geom::geography)) - COALESCE((c.properties->>'heading_deg')::float8, 0) + 540)::numeric, 360) - 180)
              <= COALESCE((c.properties->>'fov_deg')::float8, 90) / 2 + 0.01
        ORDER BY c.code"""), {"id": record["id"]}).all()
    assert sorted(record["linked_cameras"]) == list(expected)
