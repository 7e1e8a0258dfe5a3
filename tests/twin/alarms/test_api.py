"""The alarms API: device reports, acknowledge/clear with roles, linked cameras, roll-up, rules, broadcasts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import bearer
from tests.twin.alarms.world import TARGET, World, offset
from twin.db.models import Event
from twin.integration.alarms import placement

BASE = "/api/v1/parks/alarm-test"


def test_linked_cameras_are_those_whose_view_covers_the_place(db: Session, world: World) -> None:
    seeing = placement.cameras_seeing(db, park_id=world.park.id, lon=TARGET[0], lat=TARGET[1])
    assert seeing == ["CAM-DEFAULT", "CAM-FACING"]  # nearest first; CAM-AWAY faces away, CAM-FAR is out of range
    # 40 m north of the target: only CAM-FACING (range 50 m, 60 m away now? no: 20 + 40 = 60 m) — out of range too.
    north = offset(*TARGET, bearing_deg=0, metres=25)
    assert placement.cameras_seeing(db, park_id=world.park.id, lon=north[0], lat=north[1]) == ["CAM-FACING"]  # 45 m, CAM-DEFAULT 35 m > 30 m
    south = offset(*TARGET, bearing_deg=180, metres=40)  # behind both cameras: only CAM-AWAY looks there
    assert placement.cameras_seeing(db, park_id=world.park.id, lon=south[0], lat=south[1]) == ["CAM-AWAY"]


def test_device_alarm_via_api_then_acknowledge_and_clear(client: TestClient, tokens: dict[str, str], world: World, db: Session) -> None:
    integrator, viewer = bearer(tokens["integrator"]), bearer(tokens["viewer"])
    body = {"asset": "AQ-1", "kind": "environment", "severity": "minor", "title": "空气异常", "title_en": "Air alarm", "message": "传感器自报"}
    assert client.post(f"{BASE}/alarms", json=body, headers=viewer).status_code == 403
    created = client.post(f"{BASE}/alarms", json=body, headers=integrator)
    assert created.status_code == 201, created.text
    alarm = created.json()
    assert (alarm["state"], alarm["severity"], alarm["kind"], alarm["asset"], alarm["source"]) == ("active", "minor", "environment", "AQ-1", "api")
    assert (alarm["building"], alarm["storey"], alarm["feature"]) == ("B1", "B1-F1", "B1-F1")
    assert alarm["linked_cameras"] == ["CAM-DEFAULT", "CAM-FACING"]
    assert abs(alarm["lon"] - TARGET[0]) < 1e-9 and alarm["count"] == 1
    again = client.post(f"{BASE}/alarms", json={**body, "severity": "major"}, headers=integrator)
    assert again.status_code == 200 and again.json()["id"] == alarm["id"]
    assert again.json()["count"] == 2 and again.json()["severity"] == "major"  # dedup, escalated to the worse severity

    url = f"{BASE}/alarms/{alarm['id']}"
    assert client.post(f"{url}/acknowledge", json={"note": "看一下"}, headers=viewer).status_code == 403
    assert client.post(f"{url}/acknowledge", json={}, headers=bearer(tokens["planner"])).status_code == 403
    acked = client.post(f"{url}/acknowledge", json={"note": "已派人"}, headers=integrator).json()
    assert acked["state"] == "acknowledged" and acked["acknowledged_by"] == "test integrator" and acked["note"] == "已派人"
    assert acked["acknowledged_at"] is not None
    assert client.post(f"{url}/clear", headers=viewer).status_code == 403
    cleared = client.post(f"{url}/clear", json={"note": "已处理"}, headers=bearer(tokens["admin"])).json()
    assert cleared["state"] == "cleared" and cleared["cleared_by"] == "test admin" and cleared["note"] == "已处理"
    assert client.post(f"{url}/clear", headers=integrator).status_code == 409
    assert client.post(f"{url}/acknowledge", headers=integrator).status_code == 409

    history = client.get(f"{url}/events").json()
    assert [e["type"] for e in history] == ["raised", "escalated", "acknowledged", "cleared"]
    assert [e["actor"] for e in history][2:] == ["test integrator", "test admin"]
    # After the clear, the same report opens a new alarm.
    assert client.post(f"{BASE}/alarms", json=body, headers=integrator).json()["id"] != alarm["id"]


def test_device_alarm_by_position_and_validation(client: TestClient, tokens: dict[str, str], world: World) -> None:
    integrator = bearer(tokens["integrator"])
    spot = offset(*TARGET, bearing_deg=0, metres=5)
    made = client.post(f"{BASE}/alarms", json={"lon": spot[0], "lat": spot[1], "kind": "intrusion", "severity": "major"}, headers=integrator)
    assert made.status_code == 201
    alarm = made.json()
    assert alarm["asset"] is None and alarm["building"] == "B1" and alarm["title"] == "入侵报警" and alarm["title_en"] == "Intrusion"
    assert "CAM-FACING" in alarm["linked_cameras"]
    for bad, needle in (({"kind": "fire"}, "asset"), ({"asset": "NOPE"}, "NOPE"), ({"asset": "AQ-1", "kind": "meteor"}, "meteor"),
                        ({"asset": "AQ-1", "severity": "apocalyptic"}, "severity"), ({"lon": 500, "lat": 0}, "lon")):
        answer = client.post(f"{BASE}/alarms", json=bad, headers=integrator)
        assert answer.status_code in (404, 422), (bad, answer.text)
        assert needle in answer.text
    # A device's recovery report clears its open alarm.
    client.post(f"{BASE}/alarms", json={"asset": "ELV-1", "severity": "major"}, headers=integrator)
    gone = client.post(f"{BASE}/alarms", json={"asset": "ELV-1", "cleared": True}, headers=integrator)
    assert gone.status_code == 200 and gone.json()["state"] == "cleared" and gone.json()["kind"] == "elevator_fault"


def test_listing_filters_and_roll_up_per_building(client: TestClient, tokens: dict[str, str], world: World) -> None:
    integrator = bearer(tokens["integrator"])
    reports = [({"asset": "AQ-1", "severity": "critical", "kind": "other"}), ({"asset": "ELV-1", "severity": "minor"}),
               ({"asset": "SMOKE-1", "severity": "major", "kind": "fire"}), ({"asset": "MTR-1", "severity": "warning"}),
               ({"asset": "AQ-2", "severity": "major"})]
    ids = [client.post(f"{BASE}/alarms", json=r, headers=integrator).json()["id"] for r in reports]
    client.post(f"{BASE}/alarms/{ids[1]}/acknowledge", headers=integrator)
    client.post(f"{BASE}/alarms/{ids[3]}/clear", headers=integrator)

    summary = client.get(f"{BASE}/alarms/summary").json()
    assert summary["open"] == 4 and summary["by_severity"] == {"critical": 1, "major": 2, "minor": 1, "warning": 0}
    assert summary["by_state"] == {"active": 3, "acknowledged": 1} and summary["map_state"] == "alarm"
    buildings = {b["building"]: b for b in summary["buildings"]}
    assert set(buildings) == {"B1", "B2"}
    assert buildings["B1"]["by_severity"] == {"critical": 1, "major": 1, "minor": 1, "warning": 0} and buildings["B1"]["worst"] == "critical"
    assert {s["storey"]: s["open"] for s in buildings["B1"]["storeys"]} == {"B1-F1": 2, "B1-F2": 1}
    assert buildings["B2"]["open"] == 0 and buildings["B2"]["map_state"] == "normal"  # its only alarm was cleared
    assert summary["outside_buildings"]["open"] == 1 and summary["outside_buildings"]["worst"] == "major"

    page = client.get(f"{BASE}/alarms", params={"state": "active,acknowledged", "building": "B1"}).json()
    assert page["numberMatched"] == 3 and page["can_acknowledge"] is False  # the client's default token is a viewer's
    assert client.get(f"{BASE}/alarms", params={"severity": "critical"}).json()["items"][0]["asset"] == "AQ-1"
    assert client.get(f"{BASE}/alarms", params={"kind": "fire"}).json()["numberMatched"] == 1
    assert client.get(f"{BASE}/alarms", params={"state": "cleared"}).json()["items"][0]["id"] == ids[3]
    assert client.get(f"{BASE}/alarms", params={"since": "2999-01-01T00:00:00Z"}).json()["numberMatched"] == 0
    assert client.get(f"{BASE}/alarms", params={"limit": 2}).json()["links"][0]["rel"] == "next"
    assert client.get(f"{BASE}/alarms", headers=integrator).json()["can_acknowledge"] is True
    for bad in ({"state": "sleeping"}, {"severity": "huge"}, {"since": "2025-01-01T00:00:00"}):
        assert client.get(f"{BASE}/alarms", params=bad).status_code == 400
    assert client.get(f"{BASE}/alarms/999999999").status_code == 404
    assert client.get("/api/v1/parks/no-such-park/alarms").status_code == 404
    # The asset state snapshot (map colouring) follows open alarms.
    states = {a["asset"]: a["state"] for a in client.get(f"{BASE}/assets/state").json()["assets"]}
    assert states["AQ-1"] == "alarm" and states["ELV-1"] == "warning" and states["SMOKE-1"] == "alarm"


def test_broadcast_to_nearby_or_chosen_targets_is_recorded(client: TestClient, tokens: dict[str, str], world: World, db: Session) -> None:
    integrator = bearer(tokens["integrator"])
    body = {"message": "请注意：测试广播", "message_en": "Attention: test", "lon": TARGET[0], "lat": TARGET[1], "radius_m": 150}
    assert client.post(f"{BASE}/broadcasts", json=body, headers=bearer(tokens["viewer"])).status_code == 403
    sent = client.post(f"{BASE}/broadcasts", json=body, headers=integrator)
    assert sent.status_code == 201, sent.text
    result = sent.json()
    assert [t["code"] for t in result["targets"]] == ["SPK-NEAR", "DSP-MID"]  # DSP-FAR is 1 km away
    assert 29 < result["targets"][0]["distance_m"] < 31 and result["actor"] == "test integrator"
    chosen = client.post(f"{BASE}/broadcasts", json={"message": "远端屏", "targets": ["DSP-FAR"]}, headers=bearer(tokens["admin"])).json()
    assert [t["code"] for t in chosen["targets"]] == ["DSP-FAR"] and chosen["radius_m"] is None
    events = db.scalars(select(Event).where(Event.park_id == world.park.id, Event.type == "broadcast").order_by(Event.id)).all()
    assert [e.actor for e in events] == ["test integrator", "test admin"] and events[0].payload["message"] == "请注意：测试广播"
    assert [b["id"] for b in client.get(f"{BASE}/broadcasts").json()] == [chosen["id"], result["id"]]
    for bad in ({"message": "x", "targets": ["CAM-FACING"]}, {"message": "x", "targets": ["NOPE"]}, {"message": "x"},
                {"message": "x", "lon": TARGET[0], "lat": TARGET[1], "radius_m": 1}, {"message": "x", "alarm": 123456789}):
        assert client.post(f"{BASE}/broadcasts", json=bad, headers=integrator).status_code in (400, 404), bad


def test_critical_fire_alarm_broadcasts_automatically(client: TestClient, tokens: dict[str, str], world: World, db: Session) -> None:
    integrator = bearer(tokens["integrator"])
    spot = offset(*TARGET, bearing_deg=45, metres=20)
    fire = client.post(f"{BASE}/alarms", json={"lon": spot[0], "lat": spot[1], "kind": "fire", "severity": "critical", "title": "烟感报警"},
                       headers=integrator).json()
    history = client.get(f"{BASE}/alarms/{fire['id']}/events").json()
    assert [e["type"] for e in history] == ["raised", "broadcast"]
    broadcast = history[1]
    assert broadcast["actor"] == "system" and broadcast["payload"]["automatic"] is True
    assert [t["code"] for t in broadcast["payload"]["targets"]] == ["SPK-NEAR", "DSP-MID"]  # within the 200 m default
    # A major fire, or a critical intrusion, does not.
    for other in ({"kind": "fire", "severity": "major"}, {"kind": "intrusion", "severity": "critical"}):
        made = client.post(f"{BASE}/alarms", json={"asset": "SMOKE-1", **other}, headers=integrator).json()
        assert [e["type"] for e in client.get(f"{BASE}/alarms/{made['id']}/events").json()] == ["raised"]
    # ... until the fire turns critical.
    worse = client.post(f"{BASE}/alarms", json={"asset": "SMOKE-1", "kind": "fire", "severity": "critical"}, headers=integrator).json()
    assert [e["type"] for e in client.get(f"{BASE}/alarms/{worse['id']}/events").json()] == ["raised", "escalated", "broadcast"]


def test_rules_crud_with_validation(client: TestClient, tokens: dict[str, str], world: World, ingest: Callable[..., None]) -> None:
    integrator = bearer(tokens["integrator"])
    url = f"{BASE}/alarm-rules"
    rule = {"name": "PM2.5 超标", "name_en": "PM2.5 high", "kind": "threshold", "severity": "major", "asset_kinds": ["air_quality_sensor"],
            "observed_property": "PM2.5", "params": {"high": 75, "high_clear": 60}}
    assert client.post(url, json=rule).status_code == 403  # viewer
    assert client.get(url).status_code == 403
    made = client.post(url, json=rule, headers=integrator)
    assert made.status_code == 201, made.text
    created = made.json()
    assert created["params"] == {"high": 75, "high_clear": 60} and created["created_by"] == "test integrator" and created["open_alarms"] == 0
    ingest("AQ-1/pm25", [99])
    assert client.get(f"{url}/{created['id']}", headers=integrator).json()["open_alarms"] == 1
    patched = client.patch(f"{url}/{created['id']}", json={"severity": "critical", "params": {"high": 80}}, headers=integrator)
    assert patched.status_code == 200 and patched.json()["severity"] == "critical" and patched.json()["params"] == {"high": 80, "high_clear": 80}
    bad_bodies: list[tuple[dict[str, Any], str]] = [
        ({**rule, "params": {"high": 75, "high_clear": 80}}, "high_clear"),
        ({**rule, "params": {}}, "high"),
        ({**rule, "params": {"high": "lots"}}, "high"),
        ({**rule, "asset_kinds": [], "observed_property": None}, "watches"),
        ({**rule, "asset_kinds": ["toaster"]}, "toaster"),
        ({**rule, "kind": "no_data", "params": {"minutes": -1}}, "minutes"),
        ({**rule, "kind": "geofence", "params": {"mode": "exit"}}, "geofence"),
        ({**rule, "kind": "geofence", "geofence": "B1-NOPE", "params": {}}, "B1-NOPE"),
        ({**rule, "kind": "state", "params": {"values": []}}, "values"),
        ({**rule, "severity": "meh"}, "severity"),
        ({**rule, "datastream": 987654321}, "987654321"),
        ({**rule, "asset_codes": ["GHOST"]}, "GHOST"),
    ]
    for body, needle in bad_bodies:
        answer = client.post(url, json=body, headers=integrator)
        assert answer.status_code in (400, 422), (body, answer.text)
        assert needle in answer.text, (needle, answer.text)
    line = client.post(url, json={**rule, "kind": "geofence", "geofence": "B1", "params": {"mode": "exit"}}, headers=integrator)
    assert line.status_code == 201  # a building footprint is a polygon too
    assert client.post(url, json={**rule, "code": "dup"}, headers=integrator).status_code == 201
    assert client.post(url, json={**rule, "code": "dup"}, headers=integrator).status_code == 409
    assert client.patch(f"{url}/{created['id']}", json={"params": {"high": 1, "high_clear": 5}}, headers=integrator).status_code == 400
    assert client.patch(f"{url}/{created['id']}", json={"kind": "state"}, headers=integrator).status_code == 422  # not patchable
    listed = client.get(url, headers=integrator).json()
    assert [r["id"] for r in listed][0] == created["id"] and len(listed) == 3
    assert client.delete(f"{url}/{created['id']}", headers=integrator).status_code == 204
    assert client.get(f"{url}/{created['id']}", headers=integrator).status_code == 404
    # Its open alarm was cleared, with the reason.
    alarms = client.get(f"{BASE}/alarms").json()["items"]
    assert [(a["state"], a["note"]) for a in alarms] == [("cleared", "rule deleted / 规则已删除")]


def test_vocabulary(client: TestClient) -> None:
    body = client.get("/api/v1/alarm-vocabulary").json()
    assert body["severities"]["critical"] == {"zh": "紧急", "en": "Critical"} and "fire" in body["device_kinds"]
