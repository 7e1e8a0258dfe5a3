"""The demo park's devices appear as Things with the Datastreams their kind reports (seeded by `twin demo load`)."""

from __future__ import annotations

import json
from collections import Counter

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import DEMO_DIR
from tests.twin.sta.conftest import STA
from twin.db.models import Asset, Datastream, Park, ThingLocation
from twin.integration.sta.seed import DEVICES, device_key, seed_demo_datastreams


def test_every_reporting_demo_device_has_its_datastreams(client: TestClient, demo_park: str, db: Session) -> None:
    features = json.loads((DEMO_DIR / "assets.geojson").read_text(encoding="utf-8"))["features"]
    expected = Counter()
    for feature in features:
        key = device_key(feature["properties"]["kind"], feature["properties"])
        if key is not None:
            expected[feature["properties"]["kind"]] += len(DEVICES[key][2])
    park = db.scalars(select(Park).where(Park.slug == demo_park)).one()
    stored = Counter(dict(db.execute(
        select(Asset.kind, func.count(Datastream.id)).join(Datastream, Datastream.thing_id == Asset.id).where(Asset.park_id == park.id).group_by(Asset.kind)
    ).all()))
    assert stored == expected
    without_location = db.scalar(select(func.count(Asset.id)).where(Asset.park_id == park.id, ~select(ThingLocation.thing_id).where(ThingLocation.thing_id == Asset.id).exists()))
    assert without_location == 0
    assert seed_demo_datastreams(db, park).datastreams == 0
    parking = client.get(f"{STA}/Datastreams", params={"$filter": "Thing/properties/kind eq 'parking_sensor'", "$count": "true", "$top": "1",
                                                       "$expand": "ObservedProperty"}).json()
    assert parking["@iot.count"] >= expected["parking_sensor"]
    assert parking["value"][0]["ObservedProperty"]["definition"].endswith("ParkingSpot/status")
