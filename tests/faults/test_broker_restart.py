"""The MQTT broker restarts: the service's consumer reconnects by itself, and its persistent session delivers
what devices published while it was away (even across the broker's restart).

One worker subscribes plainly: nothing published after the broker's return is lost, even before the consumer
is back. Several workers share a `$share/...` subscription, which Mosquitto 2.0 does not restore after its own
restart: what devices publish before the consumers reconnect is dropped by the broker (docs/scaling.md), so
with two workers the devices publish once the consumers are back.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.faults.world import Device, FaultWorld, readings, stored_problems, wait_for
from tests.support.broker import Broker

pytestmark = pytest.mark.slow


def _connections(service) -> int:  # type: ignore[no-untyped-def]
    """How many times the service's consumers have connected (each worker logs it)."""
    return len(re.findall(r"MQTT consumer \S+ connected to", service.log_path.read_text()))


@pytest.mark.parametrize("workers", [1, 2])
def test_ingest_resumes_by_itself_after_the_broker_restarts(clean_world: FaultWorld, private_broker: Broker, service_factory,
                                                           mqtt_env: dict[str, str], workers: int) -> None:  # type: ignore[no-untyped-def]
    world = clean_world
    service = service_factory(workers=workers, TWIN_LOG_LEVEL="INFO", **mqtt_env).start()
    plan = readings(world, 600)
    device = Device(private_broker.port)
    wait_for(lambda: device.publish(plan[:1]) or world.count() == 1, timeout=30, what="the consumer to subscribe", interval=0.3)
    device.publish(plan[1:200])
    wait_for(lambda: world.count() == 200, timeout=30, what="the first 200 readings")
    device.close()
    wait_for(lambda: _connections(service) >= workers, timeout=30, what="every worker's consumer to connect")
    connected_before = _connections(service)

    # 1. The broker restarts under the running service; devices publish as soon as it is back.
    private_broker.stop()
    time.sleep(1.0)
    private_broker.start()
    back = time.monotonic()
    if workers > 1:
        wait_for(lambda: _connections(service) >= connected_before + workers, timeout=30, what="every worker's consumer to reconnect")
    device = Device(private_broker.port)
    device.publish(plan[200:400])
    wait_for(lambda: world.count() == 400, timeout=60, what="ingestion after the broker restart")
    resumed_s = time.monotonic() - back

    # 2. (shared subscriptions, the case Mosquitto handles least well) The service is away while devices
    # publish, and the broker restarts meanwhile: the persistent sessions keep the messages.
    summary = f"\nbroker restart, {workers} worker(s): 200 readings published after it came back stored {resumed_s:.1f} s later"
    if workers > 1:
        service.stop()
        device.publish(plan[400:600])
        private_broker.stop()
        private_broker.start()
        service.start()
        restarted = time.monotonic()
        wait_for(lambda: world.count() == 600, timeout=60, what="the readings published while the service was away")
        summary += (f"; 200 published while the service was away (broker restarted meanwhile) stored "
                    f"{time.monotonic() - restarted:.1f} s after the service was up")
    device.close()

    assert stored_problems(world, plan[:600 if workers > 1 else 400]) == []
    log = service.log_path.read_text()
    assert log.count("connection to") >= 1 and "lost" in log, "the consumer never noticed the broker going away"
    assert "session present: True" in log, "the consumer's persistent session was not found again"
    print(summary)
