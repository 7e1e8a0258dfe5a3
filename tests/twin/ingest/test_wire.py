"""The hand-written MQTT 5 codec against the real broker, with paho as the independent other end."""

from __future__ import annotations

import struct
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from tests.twin.ingest.conftest import Broker
from twin.integration.mqtt import wire


@pytest.mark.parametrize("value", [0, 1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455])
def test_variable_byte_integers_round_trip(value: int) -> None:
    encoded = wire.varint(value)
    assert len(encoded) == 1 + (value >= 128) + (value >= 16_384) + (value >= 2_097_152)
    assert wire._read_varint(b"\x00" + encoded, 1) == (value, 1 + len(encoded))
    assert wire._read_varint(b"\x00" + encoded[:-1], 1) is None  # not all there yet


def test_connack_properties_are_walked() -> None:
    data = (bytes([0x21]) + struct.pack("!H", 20) + bytes([0x26]) + wire.utf8("a") + wire.utf8("b")
            + bytes([0x13]) + struct.pack("!H", 60) + bytes([0x12]) + wire.utf8("auto-id"))
    assert wire.parse_properties(data) == {0x21: 20, 0x13: 60, 0x12: b"auto-id"}


def test_receives_what_paho_publishes_big_and_many_and_skips_marked_qos0(broker: Broker) -> None:
    link = wire.Connection("127.0.0.1", broker.port, f"test-wire-{uuid.uuid4().hex[:8]}", clean_start=True).open()
    link.subscribe(["wire-test/#"], qos=1)
    device = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-dev-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5)
    device.connect("127.0.0.1", broker.port)
    device.loop_start()
    marked = Properties(PacketTypes.PUBLISH)
    marked.UserProperty = [("origin", "parktwin")]
    try:
        big = bytes(range(256)) * 1200  # 300 KB: arrives over several socket reads
        infos = [device.publish("wire-test/big", big, qos=1)]
        infos += [device.publish(f"wire-test/small/{i}", str(i).encode(), qos=1) for i in range(500)]
        infos.append(device.publish("wire-test/echo", b"own", qos=0, properties=marked))
        infos.append(device.publish("wire-test/echo-qos1", b"own1", qos=1, properties=marked))
        for info in infos:
            info.wait_for_publish(5)
        received: list[wire.Message] = []
        deadline = time.monotonic() + 10
        while len(received) < 502 and time.monotonic() < deadline:
            for message in link.receive(skip_qos0_with=wire.user_property("origin", "parktwin")):
                received.append(message)
                if message.qos:
                    link.puback(message.packet_id)
        assert received[0].topic == "wire-test/big" and received[0].payload == big and received[0].qos == 1
        assert [m.payload for m in received[1:501]] == [str(i).encode() for i in range(500)]
        assert received[501].topic == "wire-test/echo-qos1"  # QoS 1 still arrives (to be acknowledged in order)
        assert link.skipped == 1 and len(received) == 502
    finally:
        device.disconnect()
        device.loop_stop()
        link.close()


def test_refused_connections_say_why(broker: Broker) -> None:
    with pytest.raises(OSError):
        wire.Connection("127.0.0.1", 1, "nobody", clean_start=True, timeout_s=1).open()
    link = wire.Connection("127.0.0.1", broker.port, f"test-bad-{uuid.uuid4().hex[:8]}", clean_start=True).open()
    try:
        # '#' must come last: Mosquitto drops the connection (other brokers answer with a refusal code).
        with pytest.raises(wire.MqttError, match="refused the subscription|closed the connection"):
            link.subscribe(["bad/#/filter"], qos=1)
    finally:
        link.close()
