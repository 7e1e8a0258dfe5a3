"""PostgreSQL crashes and restarts in the middle of a 10,000-observation ingest: every acknowledged observation
is stored exactly once (HTTP batches retried by the integrator; MQTT QoS 1 redelivered by the broker)."""

from __future__ import annotations

import threading
import time

import httpx
import orjson
import pytest

from tests.faults.integrator import Integrator
from tests.faults.world import CountMonitor, Device, FaultWorld, Reading, readings, stored_problems, wait_for
from tests.support.broker import Broker
from tests.support.postgres import PrivatePostgres
from tests.support.sse import SseReader
from twin.integration.simulator import DEVICE_ALARM_TOPIC

TOTAL = 10_000
BATCH = 100
pytestmark = pytest.mark.slow


def _restart_when(condition, private_pg: PrivatePostgres, timings: dict[str, float], down_for: float = 1.5) -> threading.Thread:  # type: ignore[no-untyped-def]
    """A thread that crashes and restarts the database once `condition()` holds; timings: crashed, up."""

    def run() -> None:
        wait_for(condition, timeout=60, what="the ingest to be under way", interval=0.02)
        timings["crashed"] = time.monotonic()
        private_pg.crash()
        time.sleep(down_for)
        private_pg.start()
        timings["up"] = time.monotonic()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_http_batches_acknowledged_across_a_database_restart_are_stored_exactly_once(
    clean_world: FaultWorld, private_pg: PrivatePostgres, service_factory
) -> None:  # type: ignore[no-untyped-def]
    world = clean_world
    service = service_factory(workers=2).start()
    plan = readings(world, TOTAL)
    bodies = [orjson.dumps([r.compact() for r in plan[i:i + BATCH]]) for i in range(0, TOTAL, BATCH)]
    integrator = Integrator(f"{service.url}/api/v1/parks/{world.park.slug}/observations", world.tokens["integrator"], bodies,
                            senders=4, pace_s=0.03)
    live = SseReader(f"{service.url}/api/v1/parks/{world.park.slug}/live?access_token={world.tokens['viewer']}&types=reading")
    assert live.connected.wait(10), "the live stream did not open"
    timings: dict[str, float] = {}
    restarter = _restart_when(lambda: integrator.acknowledged() >= 30, private_pg, timings)
    try:
        integrator.run(timeout_s=120)
        restarter.join(30)
        # The live stream stays open through the outage and carries readings again once the database is back.
        wait_for(lambda: any(at > timings["up"] for at in live.arrivals), timeout=20, what="live readings after the restart")
    finally:
        live.close()

    assert "up" in timings, "the database was never restarted"
    refused = [(b.index, b.attempts[-1].outcome) for b in integrator.batches if not b.acknowledged]
    assert not refused, f"batches never acknowledged (index, last outcome): {refused[:5]}"
    attempts = integrator.attempts()
    failures = [a for a in attempts if a.outcome != "200"]
    assert failures, "no request failed: the restart did not hit the ingest"
    assert {a.outcome for a in failures} == {"503"}, \
        f"during the restart the service answered something else than 503: {sorted({a.outcome for a in failures})}"
    # Acknowledged = stored: the answers add up to every reading once, and the database holds exactly those.
    answers = [b.answer for b in integrator.batches if b.answer]
    assert sum(a["accepted"] + a["duplicates"] for a in answers) == TOTAL and not any(a["rejected"] for a in answers)
    assert stored_problems(world, plan) == []
    assert world.count() == TOTAL
    first_success_after = next(a.ended for a in attempts if a.started > timings["up"] - 0.05 and a.outcome == "200")
    first_live_after = next(at for at in live.arrivals if at > timings["up"])
    print(f"\nHTTP: {TOTAL} readings in {len(bodies)} batches, {len(attempts)} requests, {len(failures)} failed "
          f"({', '.join(sorted({a.outcome for a in failures}))}); acknowledged {sum(a['accepted'] for a in answers)} new + "
          f"{sum(a['duplicates'] for a in answers)} already stored; stored {world.count()}; database down "
          f"{timings['up'] - timings['crashed']:.1f} s, first 2xx {first_success_after - timings['up']:.2f} s and first live reading "
          f"{first_live_after - timings['up']:.2f} s after it was back")


def test_mqtt_qos1_readings_survive_a_database_restart_and_a_service_kill(
    clean_world: FaultWorld, private_pg: PrivatePostgres, private_broker: Broker, service_factory, mqtt_env: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    world = clean_world
    service = service_factory(**mqtt_env).start()
    plan = readings(world, TOTAL)
    device = Device(private_broker.port)
    monitor = CountMonitor(world)
    timings: dict[str, float] = {}
    try:
        # The consumer subscribes in the background: resend the first reading (stored once) until it is in.
        wait_for(lambda: device.publish(plan[:1]) or world.count() == 1, timeout=30, what="the consumer to subscribe", interval=0.3)
        publishing = threading.Thread(target=_publish_steadily, args=(device, plan[1:]), daemon=True)  # ~1,000 messages/s
        publishing.start()
        # 1. The database crashes while messages keep coming; the consumer holds them unacknowledged.
        wait_for(lambda: device.published >= 3_000, timeout=60, what="3,000 messages published", interval=0.02)
        _restart_when(lambda: True, private_pg, timings).join(60)
        stored_at_up = world.count()
        wait_for(lambda: world.count() > stored_at_up, timeout=30, what="storing to resume after the database restart", interval=0.05)
        # 2. The service dies with messages in hand (received, maybe committed, not acknowledged) and more keep coming.
        wait_for(lambda: device.published >= 7_000, timeout=60, what="7,000 messages published", interval=0.02)
        service.kill9()
        timings["killed"] = time.monotonic()
        published_at_kill, stored_at_kill = device.published, world.count()
        service.start(timeout=60)
        timings["restarted"] = time.monotonic()
        publishing.join(60)
        wait_for(lambda: world.count() >= TOTAL, timeout=120, what=f"{TOTAL} observations stored")
        time.sleep(1.0)  # anything still redelivered would show now
    finally:
        monitor.stop()
        device.close()
    assert published_at_kill < device.published, "the kill did not land during the ingest"
    assert stored_problems(world, plan) == []
    assert world.count() == TOTAL
    resumed_db = monitor.resumed_after(timings["up"])
    resumed_kill = monitor.resumed_after(timings["restarted"])
    print(f"\nMQTT: {TOTAL} QoS 1 messages, stored {world.count()} unique; database down {timings['up'] - timings['crashed']:.1f} s, "
          f"storing resumed {resumed_db:.2f} s after it was back; service killed -9 with {published_at_kill} published and "
          f"{stored_at_kill} stored, back after {timings['restarted'] - timings['killed']:.1f} s, storing resumed {resumed_kill:.2f} s later")


def _publish_steadily(device: Device, plan: list[Reading], per_tick: int = 100, tick_s: float = 0.1) -> None:
    for start in range(0, len(plan), per_tick):
        device.publish(plan[start:start + per_tick])
        time.sleep(tick_s)


def test_device_alarms_published_while_the_database_is_down_are_stored_when_it_returns(
    clean_world: FaultWorld, private_pg: PrivatePostgres, private_broker: Broker, service_factory, mqtt_env: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    world = clean_world
    service = service_factory(**mqtt_env).start()
    slug = world.park.slug
    topic = DEVICE_ALARM_TOPIC.format(park=slug)
    device = Device(private_broker.port)
    viewer = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {world.tokens['viewer']}"}, timeout=10)
    first, second = list(world.park.asset_kinds)[:2]

    def listed(asset: str) -> bool:
        return viewer.get(f"/api/v1/parks/{slug}/alarms", params={"asset": asset, "state": "active"}).json()["numberMatched"] == 1

    try:
        # The bridge subscribes in the background: repeat the first report (counted into one alarm) until it is stored.
        wait_for(lambda: device.publish_raw(topic, {"asset": first, "kind": "fire", "severity": "critical"}) or listed(first),
                 timeout=30, what="the alarm bridge to subscribe", interval=0.5)
        private_pg.crash()
        device.publish_raw(topic, {"asset": second, "kind": "intrusion", "severity": "major", "title": "周界入侵"})
        time.sleep(2.0)  # the service has the message while the database is away
        private_pg.start()
        wait_for(lambda: listed(second), timeout=30, what="the alarm reported during the outage")
    finally:
        viewer.close()
        device.close()
