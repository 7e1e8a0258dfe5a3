"""MQTT side of the alarms: device alarms in, emergency broadcasts out.

- In: `parktwin/v1/parks/<park>/device-alarms` (the topic `twin simulate` publishes to; integrators
  publish the same JSON as `POST /api/v1/parks/<park>/alarms`), through a shared subscription so each
  message reaches one service worker. Each message is stored in its own transaction and acknowledged
  after its commit; while the database is unreachable the bridge retries and does not acknowledge (the
  broker redelivers it if we stop meanwhile). One that cannot be stored (bad JSON, unknown park or asset)
  is logged, acknowledged and dropped.
- Out: each committed broadcast is published (QoS 1) to `parktwin/v1/parks/<park>/broadcasts`.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from twin.db.queries import parks as park_queries
from twin.db.session import transaction
from twin.errors import TwinError
from twin.integration.alarms import broadcasts, device, lifecycle
from twin.integration.simulator import DEVICE_ALARM_TOPIC

log = logging.getLogger("twin.alarms.mqtt")

BROADCAST_TOPIC = "parktwin/v1/parks/{park}/broadcasts"
_DEVICE_TOPIC = re.compile("^" + re.escape(DEVICE_ALARM_TOPIC).replace(re.escape("{park}"), "([^/]+)") + "$")


def park_of_topic(topic: str) -> str | None:
    """The park slug of a device-alarm topic, or None for another topic."""
    match = _DEVICE_TOPIC.match(topic)
    return match.group(1) if match else None


def store_message(session_factory: sessionmaker[Session], topic: str, payload: bytes, *,
                  config: lifecycle.AlarmConfig = lifecycle.AlarmConfig()) -> dict[str, Any] | None:
    """Store one device-alarm message (its own transaction); the alarm record, or None if nothing changed."""
    slug = park_of_topic(topic)
    if slug is None:
        raise TwinError(f"'{topic[:120]}' is not a device-alarm topic")
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise TwinError(f"payload is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise TwinError("a device alarm must be a JSON object")
    alarm = device.parse(body)
    source = "simulator" if body.get("source") == "simulator" else "mqtt"
    with transaction(session_factory) as session:
        park = park_queries.get_by_slug(session, slug=slug)
        record, _ = device.report(session, park=park, alarm=alarm, source=source, actor=f"mqtt:{source}", config=config)
        return record


class AlarmBridge:
    """A background MQTT 5 connection that stores device alarms and publishes broadcasts (reconnects by itself)."""

    def __init__(self, *, host: str, port: int, session_factory: sessionmaker[Session], client_id: str,
                 share_group: str | None, config: lifecycle.AlarmConfig, session_expiry_s: int = 3_600) -> None:
        self.host, self.port = host, port
        self.session_factory = session_factory
        self.config = config
        self.stored = 0
        self.rejected = 0
        topic = DEVICE_ALARM_TOPIC.format(park="+")
        self.filter = f"$share/{share_group}/{topic}" if share_group else topic
        self._stopping = threading.Event()
        # Acknowledge only what is stored: paho would acknowledge every message once on_message returns.
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, manual_ack=True)
        self._client.reconnect_delay_set(1, 5)  # short, as the observation consumer's (see MAX_RECONNECT_DELAY_S there)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._connect_properties = Properties(PacketTypes.CONNECT)
        self._connect_properties.SessionExpiryInterval = session_expiry_s  # alarms sent while we restart are kept

    def start(self) -> AlarmBridge:
        self._client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=self._connect_properties)
        self._client.loop_start()
        broadcasts.broadcast_sinks.append(self.publish_broadcast)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self.publish_broadcast in broadcasts.broadcast_sinks:
            broadcasts.broadcast_sinks.remove(self.publish_broadcast)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            log.warning("MQTT broker %s:%s refused the alarm bridge: %s", self.host, self.port, reason)
            return
        client.subscribe(self.filter, qos=1)
        log.info("alarm bridge subscribed to %s on %s:%s", self.filter, self.host, self.port)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        delay = 0.5
        while True:
            try:
                store_message(self.session_factory, message.topic, message.payload, config=self.config)
                self.stored += 1
            except (OperationalError, InterfaceError) as exc:  # the database is away: hold the message, retry
                log.warning("database unavailable, device alarm on %s held unacknowledged: %s", message.topic, exc.orig)
                if self._stopping.wait(delay):
                    return  # not acknowledged: the broker redelivers it to our persistent session
                delay = min(delay * 2, 2.0)
                continue
            except TwinError as exc:
                self.rejected += 1
                log.warning("device alarm on %s not stored: %s", message.topic, exc.message)
            except Exception:  # noqa: BLE001 — the network thread must survive a bad message
                self.rejected += 1
                log.exception("device alarm on %s not stored", message.topic)
            break
        client.ack(message.mid, message.qos)

    def publish_broadcast(self, message: dict[str, Any]) -> None:
        """Broadcast sink: publish a committed broadcast to its park's topic (dropped while disconnected)."""
        if self._client.is_connected():
            self._client.publish(BROADCAST_TOPIC.format(park=message["park"]), orjson.dumps(message, default=str), qos=1)
