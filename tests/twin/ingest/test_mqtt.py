"""MQTT against a real (private) Mosquitto: store, re-publish, duplicates, own messages, restarts, DB outages."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from tests.support.broker import Broker
from tests.twin.ingest.factory import SensingPark
from twin.db.models import DatastreamLatest, Observation
from twin.integration.mqtt import publisher as mqtt_publisher
from twin.integration.mqtt.consumer import ObservationConsumer
from twin.integration.mqtt.publisher import ORIGIN, ObservationPublisher

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Client:
    """A test device / subscriber: paho MQTT 5, collecting what arrives on its subscriptions."""

    def __init__(self, broker: Broker, subscribe: list[str] = ()) -> None:  # type: ignore[assignment]
        self.received: list[mqtt.MQTTMessage] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
        self.client.on_message = lambda c, u, m: self.received.append(m)
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()
        if subscribe:
            self.client.subscribe([(topic, 1) for topic in subscribe])
            assert self._subscribed.wait(5)

    def publish(self, topic: str, body: Any, **kwargs: Any) -> None:
        info = self.client.publish(topic, body if isinstance(body, bytes) else orjson.dumps(body), qos=1, **kwargs)
        info.wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def origin_properties() -> Properties:
    """PUBLISH properties carrying the service's origin marker (as paho encodes them)."""
    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = [ORIGIN]
    return properties


def start_consumer(broker: Broker, factory: Any, client_id: str, group: str | None = None) -> ObservationConsumer:
    consumer = ObservationConsumer(host="127.0.0.1", port=broker.port, session_factory=factory, client_id=client_id, share_group=group)
    consumer.start()
    assert consumer.subscribed.wait(10), "consumer did not subscribe"
    time.sleep(0.1)  # SUBACK sent: the subscription is in place before tests publish
    return consumer


@pytest.fixture()
def factory(committed_factory: sessionmaker[Session], sensing_park: SensingPark) -> sessionmaker[Session]:
    ids = list(sensing_park.datastreams.values())
    with committed_factory() as session, session.begin():
        session.execute(delete(Observation).where(Observation.datastream_id.in_(ids)))
        session.execute(delete(DatastreamLatest).where(DatastreamLatest.datastream_id.in_(ids)))
    return committed_factory


@pytest.fixture()
def service(broker: Broker, factory: sessionmaker[Session]) -> Iterator[ObservationConsumer]:
    """The service's MQTT side: a consumer and the installed re-publisher, on the private broker."""
    publisher = ObservationPublisher("127.0.0.1", broker.port).start()
    wait_for(publisher.is_connected, what="publisher connection")
    mqtt_publisher.install(publisher)
    consumer = start_consumer(broker, factory, f"test-consumer-{uuid.uuid4().hex[:8]}", group=f"g{uuid.uuid4().hex[:6]}")
    yield consumer
    mqtt_publisher.install(None)
    consumer.stop()
    publisher.stop()


def count(factory: sessionmaker[Session], datastream_id: int) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).where(Observation.datastream_id == datastream_id)) or 0


def test_published_observation_is_stored_and_republished_once(service, broker, factory, sensing_park) -> None:  # type: ignore[no-untyped-def]
    ds = list(sensing_park.datastreams.values())[0]
    topic = f"v1.1/Datastreams({ds})/Observations"
    watcher = Client(broker, subscribe=[topic])
    device = Client(broker)
    try:
        device.publish(topic, {"phenomenonTime": "2025-05-01T16:00:00+08:00", "result": 21.5, "parameters": {"battery": 88}})
        wait_for(lambda: count(factory, ds) == 1, what="the observation to be stored")
        wait_for(lambda: any(m.properties and ORIGIN in (getattr(m.properties, "UserProperty", None) or [])
                             for m in watcher.received), what="the re-publication")
        republished = next(orjson.loads(m.payload) for m in watcher.received if b"@iot.id" in m.payload)
        assert republished["result"] == 21.5 and republished["phenomenonTime"] == "2025-05-01T08:00:00Z"
        assert republished["parameters"] == {"battery": 88}
        with factory() as session:
            stored = session.scalars(select(Observation).where(Observation.datastream_id == ds)).one()
        assert stored.id == republished["@iot.id"]
        assert stored.feature_of_interest_id is not None  # the Thing's location, as for an STA POST
        wait_for(lambda: service.stats.skipped_own >= 1, what="the consumer to skip the service's own message")
        time.sleep(0.2)
        assert count(factory, ds) == 1  # the re-publication was not ingested again
    finally:
        watcher.close()
        device.close()


def test_duplicate_messages_are_stored_once_and_bad_ones_acknowledged(service, broker, factory, sensing_park) -> None:  # type: ignore[no-untyped-def]
    ds = list(sensing_park.datastreams.values())
    device = Client(broker)
    try:
        single = {"phenomenonTime": "2025-05-01T08:00:00Z", "result": 1.0}
        device.publish(f"v1.1/Datastreams({ds[1]})/Observations", single)
        device.publish(f"v1.1/Datastreams({ds[1]})/Observations", single)  # a device retrying
        device.publish("v1.1/Observations", [  # the Datastream named in the body; a list of Observations
            {"Datastream": {"@iot.id": ds[2]}, "phenomenonTime": "2025-05-01T08:00:00Z", "result": "on"},
            {"Datastream": {"@iot.id": ds[2]}, "phenomenonTime": "2025-05-01T08:01:00Z", "result": "off"},
        ])
        device.publish(f"v1.1/Datastreams({ds[1]})/Observations", b"{not json")
        device.publish("v1.1/Datastreams(987654321)/Observations", single)
        device.publish(f"v1.1/Datastreams({ds[1]})/Observations", {"phenomenonTime": "2025-05-01T08:05:00Z", "result": 5},
                       properties=origin_properties())  # claims to be the service: skipped
        wait_for(lambda: service.stats.messages >= 6 and service.wait_idle(1), what="all messages handled")
        assert count(factory, ds[1]) == 1 and count(factory, ds[2]) == 2
        assert service.stats.duplicates >= 1 and service.stats.rejected >= 2
    finally:
        device.close()


def test_consumer_survives_a_broker_restart_and_gets_what_was_queued(own_broker, factory, sensing_park) -> None:  # type: ignore[no-untyped-def]
    ds = list(sensing_park.datastreams.values())[3]
    topic = f"v1.1/Datastreams({ds})/Observations"
    client_id = f"test-restart-{uuid.uuid4().hex[:8]}"
    consumer = start_consumer(own_broker, factory, client_id)
    try:
        own_broker.stop()
        time.sleep(0.3)
        own_broker.start()
        device = Client(own_broker)
        device.publish(topic, {"phenomenonTime": T0.isoformat(), "result": 1})
        wait_for(lambda: count(factory, ds) == 1, timeout=15, what="storage after the broker restart")
        assert consumer.stats.connects >= 2
        # A worker restart: messages published while no consumer runs wait in its persistent session.
        consumer.stop()
        for minute in range(1, 6):
            device.publish(topic, {"phenomenonTime": (T0 + timedelta(minutes=minute)).isoformat(), "result": minute})
        device.close()
        consumer = start_consumer(own_broker, factory, client_id)
        wait_for(lambda: count(factory, ds) == 6, timeout=10, what="the queued messages")
    finally:
        consumer.stop()


class FlakyFactory:
    """A session factory whose database is 'down' for the first `failures` transactions."""

    def __init__(self, real: sessionmaker[Session], failures: int) -> None:
        self.real, self.failures, self.kw = real, failures, real.kw

    def __call__(self) -> Session:
        if self.failures > 0:
            self.failures -= 1
            raise OperationalError("BEGIN", {}, ConnectionError("database is down (simulated)"))
        return self.real()


def test_database_outage_holds_the_ack_and_the_broker_redelivers(own_broker, factory, sensing_park) -> None:  # type: ignore[no-untyped-def]
    ds = list(sensing_park.datastreams.values())[4]
    topic = f"v1.1/Datastreams({ds})/Observations"
    client_id = f"test-dbdown-{uuid.uuid4().hex[:8]}"
    device = Client(own_broker)
    # 1. A short outage: the consumer retries and stores the observation once.
    consumer = start_consumer(own_broker, FlakyFactory(factory, failures=2), client_id)
    device.publish(topic, {"phenomenonTime": T0.isoformat(), "result": 1})
    wait_for(lambda: count(factory, ds) == 1, timeout=10, what="storage after the outage")
    assert consumer.stats.db_retries == 2
    consumer.stop()
    # 2. The worker stops while the database is down: nothing was acknowledged, so the broker redelivers.
    consumer = start_consumer(own_broker, FlakyFactory(factory, failures=10**6), client_id)
    device.publish(topic, {"phenomenonTime": (T0 + timedelta(minutes=1)).isoformat(), "result": 2})
    wait_for(lambda: consumer.stats.db_retries >= 1, what="the failed attempt")
    consumer.stop()
    assert count(factory, ds) == 1
    consumer = start_consumer(own_broker, factory, client_id)
    try:
        wait_for(lambda: count(factory, ds) == 2, timeout=10, what="the redelivered message")
    finally:
        consumer.stop()
        device.close()


def test_shared_subscription_gives_each_message_to_one_worker(broker, factory, sensing_park) -> None:  # type: ignore[no-untyped-def]
    ds = list(sensing_park.datastreams.values())[5]
    group = f"g{uuid.uuid4().hex[:6]}"
    workers = [start_consumer(broker, factory, f"test-share-{i}-{uuid.uuid4().hex[:6]}", group=group) for i in range(2)]
    device = Client(broker)
    try:
        for minute in range(200):
            device.client.publish(f"v1.1/Datastreams({ds})/Observations",
                                  orjson.dumps({"phenomenonTime": (T0 + timedelta(minutes=minute)).isoformat(), "result": minute}), qos=1)
        wait_for(lambda: count(factory, ds) == 200, what="all 200 stored")
        wait_for(lambda: sum(w.stats.messages for w in workers) >= 200, what="all handled")
        assert sum(w.stats.messages for w in workers) == 200  # each message went to exactly one worker
        assert all(w.stats.messages > 0 for w in workers) and sum(w.stats.duplicates for w in workers) == 0
    finally:
        device.close()
        for worker in workers:
            worker.stop()
