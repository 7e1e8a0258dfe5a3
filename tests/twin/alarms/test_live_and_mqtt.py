"""Alarm changes reach the live stream (LISTEN on the channel), and device alarms arrive over MQTT."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import orjson
import paho.mqtt.client as mqtt
import psycopg
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tests.twin.alarms.world import World, build_world, remove_world
from tests.support.broker import Broker
from tests.twin.ingest.conftest import broker, mosquitto_bin  # noqa: F401 — a private Mosquitto
from twin.db.models import Alarm, Park
from twin.db.session import transaction
from twin.integration import live
from twin.integration.alarms import device, lifecycle, mqtt_bridge
from twin.integration.simulator import DEVICE_ALARM_TOPIC

SLUG = "alarm-live"


@pytest.fixture(scope="module")
def committed(engine: Engine) -> Iterator[tuple[sessionmaker[Session], World]]:
    """A committed copy of the test world (LISTEN only sees committed NOTIFYs), removed afterwards."""
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    with transaction(factory) as session:
        world = build_world(session, SLUG)
    yield factory, world
    with transaction(factory) as session:
        remove_world(session, SLUG)


def _notifications(connection: psycopg.Connection, wanted: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(events) < wanted and time.monotonic() < deadline:
        for notify in connection.notifies(timeout=0.2, stop_after=1):
            events.extend(e for e in orjson.loads(notify.payload) if e.get("park") == SLUG)
    return events


def test_every_alarm_change_is_published_on_the_live_channel(committed: tuple[sessionmaker[Session], World], engine: Engine) -> None:
    factory, world = committed
    with psycopg.connect(live.conninfo(engine), autocommit=True) as listener:
        listener.execute(f"LISTEN {live.CHANNEL}")
        with transaction(factory) as session:
            park = session.get(Park, world.park.id)
            record, opened = device.report(session, park=park, alarm=device.parse({"asset": "AQ-1", "severity": "major", "kind": "environment",
                                                                                     "title": "空气异常", "title_en": "Air"}), source="api", actor="t")
            assert opened and record is not None
            assert _notifications(listener, 1, timeout=0.5) == []  # nothing before the commit
        raised = _notifications(listener, 2)
        alarm = next(e for e in raised if e["type"] == "alarm")
        assert {k: alarm[k] for k in ("id", "state", "severity", "kind", "title", "title_en", "asset", "building", "storey")} == {
            "id": record["id"], "state": "active", "severity": "major", "kind": "environment", "title": "空气异常", "title_en": "Air",
            "asset": "AQ-1", "building": "B1", "storey": "B1-F1"}
        assert alarm["linked_cameras"] == ["CAM-DEFAULT", "CAM-FACING"] and alarm["lon"] and alarm["lat"] and alarm["time"].endswith("Z")
        state = next(e for e in raised if e["type"] == "asset_state")
        assert (state["asset"], state["asset_kind"], state["state"]) == ("AQ-1", "air_quality_sensor", "alarm")
        with transaction(factory) as session:
            lifecycle.acknowledge(session, park=session.get(Park, world.park.id), alarm_id=record["id"], actor="t")
        assert [e["state"] for e in _notifications(listener, 2) if e["type"] == "alarm"] == ["acknowledged"]
        with transaction(factory) as session:
            lifecycle.clear(session, park=session.get(Park, world.park.id), alarm_id=record["id"], actor="t")
        cleared = _notifications(listener, 2)
        assert [e["state"] for e in cleared if e["type"] == "alarm"] == ["cleared"]
        assert [e["state"] for e in cleared if e["type"] == "asset_state"] == ["normal"]


def test_device_alarms_published_over_mqtt_are_stored_once(committed: tuple[sessionmaker[Session], World], broker: Broker) -> None:  # noqa: F811
    factory, world = committed
    bridge = mqtt_bridge.AlarmBridge(host="127.0.0.1", port=broker.port, session_factory=factory, client_id="alarm-test-bridge",
                                     share_group="alarm-test", config=lifecycle.AlarmConfig()).start()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="alarm-test-device", protocol=mqtt.MQTTv5)
    publisher.connect("127.0.0.1", broker.port)
    publisher.loop_start()
    try:
        deadline = time.monotonic() + 10
        while not bridge._client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the subscription follows the connection
        topic = DEVICE_ALARM_TOPIC.format(park=SLUG)
        # The simulator's shape (message as zh/en, no kind), twice: one alarm with count 2.
        simulated = {"park": SLUG, "asset": "ELV-1", "asset_kind": "elevator", "datastream": world.datastreams["ELV-1/state"],
                     "severity": "major", "message": {"zh": "电梯故障停梯", "en": "Elevator fault: out of service"}, "source": "simulator"}
        for _ in range(2):
            publisher.publish(topic, orjson.dumps(simulated), qos=1).wait_for_publish(5)
        publisher.publish(topic, b"not json", qos=1).wait_for_publish(5)
        publisher.publish(DEVICE_ALARM_TOPIC.format(park="no-such-park"), orjson.dumps({"asset": "X"}), qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 10
        while bridge.stored + bridge.rejected < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (bridge.stored, bridge.rejected) == (2, 2)
        with factory() as session:
            [alarm] = session.scalars(select(Alarm).where(Alarm.park_id == world.park.id, Alarm.kind == "elevator_fault")).all()
        assert (alarm.title, alarm.title_en, alarm.source, alarm.count, alarm.state) == ("电梯故障停梯", "Elevator fault: out of service", "simulator", 2, "active")
        assert alarm.datastream_id == world.datastreams["ELV-1/state"]
        # A broadcast committed by the service goes out on the park's broadcast topic.
        received: list[bytes] = []
        publisher.on_message = lambda c, u, m: received.append(m.payload)
        publisher.subscribe(mqtt_bridge.BROADCAST_TOPIC.format(park=SLUG), qos=1)
        time.sleep(0.3)
        from twin.integration.alarms import broadcasts

        with transaction(factory) as session:
            broadcasts.broadcast(session, park=session.get(Park, world.park.id), message="测试", targets=["SPK-NEAR"], actor="t")
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert received and orjson.loads(received[0])["targets"][0]["code"] == "SPK-NEAR"
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        bridge.stop()
    assert bridge.publish_broadcast not in broadcasts.broadcast_sinks


def test_store_message_rejects_other_topics_and_bad_payloads(committed: tuple[sessionmaker[Session], World]) -> None:
    factory, _ = committed
    from twin.errors import TwinError

    assert mqtt_bridge.park_of_topic(DEVICE_ALARM_TOPIC.format(park="p-1")) == "p-1"
    assert mqtt_bridge.park_of_topic("v1.1/Datastreams(1)/Observations") is None
    for topic, payload in ((DEVICE_ALARM_TOPIC.format(park=SLUG), b"[1]"), ("elsewhere", b"{}"),
                           (DEVICE_ALARM_TOPIC.format(park=SLUG), orjson.dumps({"asset": "AQ-1", "severity": "total"}))):
        with pytest.raises(TwinError):
            mqtt_bridge.store_message(factory, topic, payload)
