"""The live stream: NOTIFY payload packing, filters, SSE across two service processes, asset states."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import bearer
from tests.support.sse import SseReader
from tests.twin.ingest.conftest import start_server
from tests.twin.ingest.factory import SensingPark
from twin.integration import asset_states, live
from twin.integration.ingest import insert_observations


def test_payloads_stay_under_the_notify_limit_and_keep_every_event() -> None:
    events = [{"type": "reading", "park": "p", "asset": f"A-{i}", "value": i, "note": "x" * (i % 300)} for i in range(2_000)]
    events.append({"type": "reading", "park": "p", "asset": "BIG", "value": "y" * 20_000})
    chunks = live.payloads(events)
    assert len(chunks) > 1 and all(len(c.encode()) < 8_000 for c in chunks)
    unpacked = [event for chunk in chunks for event in orjson.loads(chunk)]
    assert [e["asset"] for e in unpacked] == [e["asset"] for e in events]
    assert unpacked[-1]["value"] is None and unpacked[-1]["truncated"] is True


def test_filters_by_kind_bbox_and_type() -> None:
    reading = {"type": "reading", "park": "p", "asset_kind": "meter", "lon": 104.06, "lat": 30.54}
    assert live.LiveFilter(park="p").matches(reading)
    assert live.LiveFilter(park="p", kinds=frozenset({"meter"})).matches(reading)
    assert not live.LiveFilter(park="p", kinds=frozenset({"camera"})).matches(reading)
    assert live.LiveFilter(park="p", bbox=(104.0, 30.5, 104.1, 30.6)).matches(reading)
    assert not live.LiveFilter(park="p", bbox=(104.07, 30.5, 104.1, 30.6)).matches(reading)
    assert not live.LiveFilter(park="p", bbox=(104.0, 30.5, 104.1, 30.6)).matches({**reading, "lon": None})
    assert not live.LiveFilter(park="p", types=frozenset({"alarm"})).matches(reading)


@pytest.fixture(scope="module")
def two_servers(database_url: str, tokens: dict[str, str]) -> Iterator[tuple[str, str]]:
    """Two service processes on free ports sharing the test database (as two workers would)."""
    started = [start_server(database_url) for _ in range(2)]
    urls = [f"http://127.0.0.1:{port}" for _, port in started]
    try:
        deadline = time.monotonic() + 30
        for url in urls:
            while True:
                try:
                    if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the servers did not start"
                time.sleep(0.1)
        yield urls[0], urls[1]
    finally:
        for process, _ in started:
            process.terminate()
        for process, _ in started:
            process.wait(10)


def test_a_reading_ingested_on_one_worker_reaches_live_clients_of_another_within_2s(
    two_servers: tuple[str, str], tokens: dict[str, str], sensing_park: SensingPark, committed_factory: sessionmaker[Session]
) -> None:
    listener_url, writer_url = two_servers
    slug, viewer = sensing_park.slug, tokens["viewer"]
    everything = SseReader(f"{listener_url}/api/v1/parks/{slug}/live?access_token={viewer}")
    air_only = SseReader(f"{listener_url}/api/v1/parks/{slug}/live?access_token={viewer}&kinds=air_quality_sensor")
    alarms_only = SseReader(f"{listener_url}/api/v1/parks/{slug}/live?access_token={viewer}&types=alarm")
    try:
        for reader in (everything, air_only, alarms_only):
            assert reader.connected.wait(10), "the SSE stream did not open"
            assert reader.status == 200 and reader.content_type.startswith("text/event-stream")
        codes = list(sensing_park.datastreams)
        meter = next(c for c in codes if sensing_park.asset_kinds[c] == "meter")
        air = next(c for c in codes if sensing_park.asset_kinds[c] == "air_quality_sensor")
        moment = datetime.now(UTC).replace(microsecond=0)
        body = [{"datastream": sensing_park.datastreams[meter], "time": moment.isoformat(), "value": 42.5},
                {"datastream": sensing_park.datastreams[air], "time": moment.isoformat(), "value": 35.0}]
        sent = time.monotonic()
        answer = httpx.post(f"{writer_url}/api/v1/parks/{slug}/observations", content=orjson.dumps(body),
                            headers=bearer(tokens["integrator"]), timeout=10)
        assert answer.status_code == 200 and answer.json()["accepted"] == 2
        reading = everything.wait(lambda e: e.get("asset") == meter and e.get("value") == 42.5, timeout=2.0)
        assert reading is not None, "no reading within 2 s on the other worker"
        assert time.monotonic() - sent < 2.0
        assert reading["type"] == "reading" and reading["park"] == slug and reading["asset_kind"] == "meter"
        assert reading["datastream"] == sensing_park.datastreams[meter] and reading["unit"] == "kW" and reading["property"] == "power"
        assert reading["time"] == moment.isoformat().replace("+00:00", "Z")
        assert 104 < reading["lon"] < 104.1 and 30.5 < reading["lat"] < 30.6
        assert air_only.wait(lambda e: e.get("asset") == air, timeout=2.0) is not None
        # An alarm published in a transaction of a third process reaches the alarm-only client on commit.
        with committed_factory() as session, session.begin():
            live.publish(session, [{"type": "alarm", "park": slug, "asset": air, "asset_kind": "air_quality_sensor",
                                    "severity": "minor", "message": "PM2.5"}])
        assert alarms_only.wait(lambda e: e["type"] == "alarm", timeout=2.0) is not None
        time.sleep(0.2)
        assert all(e["asset_kind"] == "air_quality_sensor" for e in air_only.events if e["type"] == "reading")
        assert all(e["type"] == "alarm" for e in alarms_only.events)
    finally:
        for reader in (everything, air_only, alarms_only):
            reader.close()


def test_live_needs_a_valid_token_and_known_types(two_servers: tuple[str, str], tokens: dict[str, str], sensing_park: SensingPark) -> None:
    url, _ = two_servers
    assert httpx.get(f"{url}/api/v1/parks/{sensing_park.slug}/live", timeout=5).status_code == 401
    bad = httpx.get(f"{url}/api/v1/parks/{sensing_park.slug}/live?access_token={tokens['viewer']}&types=gossip", timeout=5)
    assert bad.status_code == 400 and "gossip" in bad.json()["error"]["message"]


def test_asset_states_follow_reading_age_and_alarm_sources(
    client: TestClient, db: Session, sensing_park: SensingPark, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = list(sensing_park.datastreams)
    fresh, stale, alarming = codes[0], codes[1], codes[2]
    now = datetime.now(UTC)
    db.execute(text("DELETE FROM datastream_latest WHERE datastream_id = ANY(:ids)"), {"ids": list(sensing_park.datastreams.values())})
    insert_observations(db, [
        {"datastream_id": sensing_park.datastreams[fresh], "phenomenon_time": now - timedelta(minutes=1), "result": 1.0},
        {"datastream_id": sensing_park.datastreams[stale], "phenomenon_time": now - timedelta(days=2), "result": 1.0},
        {"datastream_id": sensing_park.datastreams[alarming], "phenomenon_time": now, "result": 1.0},
    ])
    alarming_id = db.execute(text("SELECT thing_id FROM datastreams WHERE id = :d"), {"d": sensing_park.datastreams[alarming]}).scalar()
    monkeypatch.setattr(asset_states, "asset_state_sources", [lambda session, park_id: {alarming_id: "alarm"}])
    body = client.get(f"/api/v1/parks/{sensing_park.slug}/assets/state").json()
    states = {a["asset"]: a["state"] for a in body["assets"]}
    assert states[fresh] == "normal" and states[stale] == "offline" and states[alarming] == "alarm"
    assert body["counts"]["alarm"] == 1 and sum(body["counts"].values()) == len(codes)
    assert client.get("/api/v1/parks/no-such-park/assets/state").status_code == 404


def test_the_watcher_announces_state_changes_once(committed_factory: sessionmaker[Session], sensing_park: SensingPark) -> None:
    from twin.integration.asset_states import AssetStateWatcher

    code = list(sensing_park.datastreams)[4]
    ds = sensing_park.datastreams[code]
    with committed_factory() as session, session.begin():
        session.execute(text("DELETE FROM datastream_latest WHERE datastream_id = :d"), {"d": ds})
    watcher = AssetStateWatcher(live.conninfo(committed_factory.kw["bind"]), committed_factory, offline_after_s=900)
    assert watcher.check() == []  # the first look only records the states
    with committed_factory() as session, session.begin():
        insert_observations(session, [{"datastream_id": ds, "phenomenon_time": datetime.now(UTC), "result": 3.0}])
    changes = [e for e in watcher.check() if e["park"] == sensing_park.slug]
    assert changes == [{"type": "asset_state", "park": sensing_park.slug, "asset": code, "asset_kind": sensing_park.asset_kinds[code],
                        "state": "normal", "previous": "offline", "lon": changes[0]["lon"], "lat": changes[0]["lat"]}]
    assert [e for e in watcher.check() if e["park"] == sensing_park.slug] == []  # announced once
