"""ParkTwin extensions: time-bucket aggregation (checked against sums done by hand) and latest values."""

from __future__ import annotations

from datetime import timedelta
from statistics import mean

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.twin.sta.conftest import PM25, STA, T0, World
from twin.integration.sta.seed import seed_demo_datastreams


def _aggregate(client: TestClient, ds: int, **params: str) -> dict:
    response = client.get(f"{STA}/Datastreams({ds})/Observations/aggregate", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_fifteen_minute_buckets_match_a_hand_computation(client: TestClient, world: World) -> None:
    ds = world.streams["AQ-1:pm25"]
    body = _aggregate(client, ds, interval="15min", func="avg,min,max,count,sum", **{"from": "2026-03-01T08:00:00Z", "to": "2026-03-01T09:00:00Z"})
    assert body["unitOfMeasurement"]["symbol"] == "µg/m³" and body["interval"] == "PT900S"
    expected = []
    for bucket in range(4):  # 12 readings every 5 minutes: three per 15-minute bucket
        values = PM25[bucket * 3 : bucket * 3 + 3]
        start = T0 + timedelta(minutes=15 * bucket)
        expected.append({
            "start": start.isoformat().replace("+00:00", "Z"), "end": (start + timedelta(minutes=15)).isoformat().replace("+00:00", "Z"),
            "avg": mean(values), "min": min(values), "max": max(values), "count": 3, "sum": sum(values),
        })
    for got, want in zip(body["buckets"], expected, strict=True):
        assert got["start"] == want["start"] and got["end"] == want["end"] and got["count"] == want["count"]
        for name in ("avg", "min", "max", "sum"):
            assert abs(got[name] - want[name]) < 1e-9, (name, got, want)


def test_hour_buckets_follow_the_origin_and_the_period(client: TestClient, world: World) -> None:
    ds = world.streams["AQ-1:pm25"]
    # Buckets start at :30 with this origin: [07:30, 08:30) holds 6 readings, [08:30, 09:30) the other 6.
    body = _aggregate(client, ds, interval="PT1H", func="count,avg", origin="2026-01-01T00:30:00Z", **{"from": "2026-03-01T07:00:00Z", "to": "2026-03-01T12:00:00Z"})
    assert [(b["start"], b["count"]) for b in body["buckets"]] == [("2026-03-01T07:30:00Z", 6), ("2026-03-01T08:30:00Z", 6)]
    assert abs(body["buckets"][0]["avg"] - mean(PM25[:6])) < 1e-9
    narrow = _aggregate(client, ds, interval="1h", func="count", **{"from": "2026-03-01T08:10:00Z", "to": "2026-03-01T08:20:00Z"})
    assert [b["count"] for b in narrow["buckets"]] == [2]  # 08:10 and 08:15


def test_aggregate_rejects_bad_requests(client: TestClient, world: World) -> None:
    ds = world.streams["AQ-1:pm25"]
    url = f"{STA}/Datastreams({ds})/Observations/aggregate"
    assert client.get(url, params={"interval": "1 fortnight"}).status_code == 400
    assert client.get(url, params={"func": "median"}).status_code == 400
    assert client.get(url, params={"interval": "1s", "from": "2020-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}).status_code == 400
    assert client.get(url, params={"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}).status_code == 400
    assert client.get(url, params={"from": "last tuesday"}).status_code == 400
    assert client.get(f"{STA}/Datastreams(abc)/Observations/aggregate").status_code == 400
    assert client.get(f"{STA}/Datastreams(99999999)/Observations/aggregate").status_code == 404
    assert client.get(f"{STA}/Datastreams({world.streams['CAM-9:online']})/Observations/aggregate", headers=world.headers["park_viewer"]).status_code == 404


def test_latest_by_things_building_and_bbox(client: TestClient, world: World) -> None:
    aq = client.get(f"{STA}/Latest?things={world.things['AQ-1']}").json()["value"]
    by_key = {row["name"]: row for row in aq}
    assert len(aq) == 4
    assert by_key["AQ-1 PM2.5 concentration"]["result"] == PM25[-1]
    assert by_key["AQ-1 PM2.5 concentration"]["phenomenonTime"] == "2026-03-01T08:55:00Z"
    assert by_key["AQ-1 Air temperature"]["result"] == 21.5
    assert by_key["AQ-1 PM10 concentration"]["result"] is None
    assert by_key["AQ-1 PM2.5 concentration"]["Thing"]["code"] == "AQ-1"
    scoped = world.headers["park_viewer"]  # other suites may load parks with a B01 and devices nearby
    in_building = client.get(f"{STA}/Latest?building=B01", headers=scoped).json()["value"]
    assert {row["Thing"]["code"] for row in in_building} == {"AQ-1"}
    boxed = client.get(f"{STA}/Latest?bbox=104.0599,30.5399,104.0601,30.5401", headers=scoped).json()["value"]
    assert [(row["Thing"]["code"], row["result"]) for row in boxed] == [("CAM-1", 1)]
    assert client.get(f"{STA}/Latest?building=NOPE").status_code == 404
    assert client.get(f"{STA}/Latest?bbox=1,2,3").status_code == 400
    assert client.get(f"{STA}/Latest?things=abc").status_code == 400


def test_seed_is_idempotent(db: Session, world: World) -> None:
    again = seed_demo_datastreams(db, world.park)
    assert (again.locations, again.sensors, again.observed_properties, again.datastreams) == (0, 0, 0, 0)
    # CAM-1: online; AQ-1: 4; MTR-1 (electricity): energy + power; LAMP-1: on/off + power.
    assert len([key for key in world.streams if not key.startswith("CAM-9")]) == 1 + 4 + 2 + 2
