"""Past one machine: two service processes against one database. A reading or an alarm that enters through
worker A reaches the live stream (and the alarm list) of worker B, and an acknowledgement on B reaches A."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.faults.world import FaultWorld
from tests.support.sse import SseReader

pytestmark = pytest.mark.slow
LIVE_WITHIN_S = 2.0


def _arrives(reader: SseReader, predicate, since: float) -> dict:  # type: ignore[no-untyped-def]
    """The first matching event, which must arrive within LIVE_WITHIN_S of `since`."""
    event = reader.wait(predicate, timeout=LIVE_WITHIN_S - (time.monotonic() - since))
    assert event is not None, f"no matching event within {LIVE_WITHIN_S} s on the other worker"
    return event


def test_live_readings_and_alarms_cross_workers(clean_world: FaultWorld, service_factory) -> None:  # type: ignore[no-untyped-def]
    world = clean_world
    worker_a, worker_b = service_factory(), service_factory()
    with ThreadPoolExecutor(2) as pool:  # start both at once: each takes seconds to import the app
        list(pool.map(lambda service: service.start(), (worker_a, worker_b)))
    slug, viewer = world.park.slug, world.tokens["viewer"]
    integrator = {"Authorization": f"Bearer {world.tokens['integrator']}"}
    on_b = SseReader(f"{worker_b.url}/api/v1/parks/{slug}/live?access_token={viewer}")
    alarms_on_a = SseReader(f"{worker_a.url}/api/v1/parks/{slug}/live?access_token={viewer}&types=alarm")
    client_a = httpx.Client(base_url=worker_a.url, headers=integrator, timeout=10)
    client_b = httpx.Client(base_url=worker_b.url, headers=integrator, timeout=10)
    try:
        assert on_b.connected.wait(10) and alarms_on_a.connected.wait(10), "the live streams did not open"
        code = next(c for c, kind in world.park.asset_kinds.items() if kind == "meter")
        datastream = world.park.datastreams[code]
        now = datetime.now(UTC).replace(microsecond=0)

        # 1. A reading ingested through A reaches B's clients.
        sent = time.monotonic()
        answer = client_a.post(f"/api/v1/parks/{slug}/observations", json=[{"datastream": datastream, "time": now.isoformat(), "value": 42.5}])
        assert answer.status_code == 200 and answer.json()["accepted"] == 1, answer.text
        reading = _arrives(on_b, lambda e: e["type"] == "reading" and e["asset"] == code and e["value"] == 42.5, sent)
        assert reading["datastream"] == datastream and reading["time"] == now.isoformat().replace("+00:00", "Z")

        # 2. A threshold rule made on A, a reading above it ingested through A: the alarm shows on B, live and listed.
        rule = client_a.post(f"/api/v1/parks/{slug}/alarm-rules", json={
            "name": "功率过高", "name_en": "Power too high", "kind": "threshold", "severity": "major", "datastream": datastream,
            "params": {"high": 100}})
        assert rule.status_code == 201, rule.text
        sent = time.monotonic()
        later = (now + timedelta(minutes=1)).isoformat()
        assert client_a.post(f"/api/v1/parks/{slug}/observations", json=[{"datastream": datastream, "time": later, "value": 150.0}]).status_code == 200
        raised = _arrives(on_b, lambda e: e["type"] == "alarm" and e["asset"] == code and e["state"] == "active", sent)
        listed = client_b.get(f"/api/v1/parks/{slug}/alarms", params={"state": "active", "asset": code}).json()
        assert raised["id"] in [item["id"] for item in listed["items"]]
        assert next(item for item in listed["items"] if item["id"] == raised["id"])["rule"] == rule.json()["id"]

        # 3. A device alarm reported to A: on B's stream and list.
        other = next(c for c in world.park.asset_kinds if c != code)
        sent = time.monotonic()
        reported = client_a.post(f"/api/v1/parks/{slug}/alarms", json={"asset": other, "severity": "critical", "kind": "fire",
                                                                       "title": "烟感报警", "title_en": "Smoke detected"})
        assert reported.status_code == 201, reported.text
        device_alarm = _arrives(on_b, lambda e: e["type"] == "alarm" and e["id"] == reported.json()["id"], sent)
        assert (device_alarm["severity"], device_alarm["title"], device_alarm["state"]) == ("critical", "烟感报警", "active")
        assert client_b.get(f"/api/v1/parks/{slug}/alarms/{device_alarm['id']}").json()["asset"] == other

        # 4. Acknowledged on B: A's clients see it.
        sent = time.monotonic()
        assert client_b.post(f"/api/v1/parks/{slug}/alarms/{device_alarm['id']}/acknowledge", json={"note": "已派人"}).status_code == 200
        _arrives(alarms_on_a, lambda e: e["id"] == device_alarm["id"] and e["state"] == "acknowledged", sent)
        assert client_a.get(f"/api/v1/parks/{slug}/alarms/{device_alarm['id']}").json()["acknowledged_at"] is not None
    finally:
        for reader in (on_b, alarms_on_a):
            reader.close()
        client_a.close()
        client_b.close()
