"""Re-publish every committed new observation on its STA topic (OGC 18-088 §14.2, entity-set topics).

Each observation goes to `v1.1/Datastreams(<id>)/Observations` with QoS 0 (a notification stream:
the database and the STA REST API hold the durable copy) and the MQTT 5 user property
`origin=parktwin`, which the consumer skips so the service never ingests its own messages.
A batch of observations is written to the broker in one send (see wire.py for why not paho).
One publisher per process; `install()` makes it the one `publish_committed` (an ingest hook) uses.
"""

from __future__ import annotations

import logging
import threading
import uuid
from typing import TYPE_CHECKING

from twin.integration.mqtt.topics import PUBLISH_TEMPLATE, observation_payload
from twin.integration.mqtt.wire import Connection, MqttError, user_property, utf8, varint

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from twin.integration.ingest import AcceptedObservation

log = logging.getLogger("twin.mqtt.publisher")

ORIGIN = ("origin", "parktwin")
ORIGIN_PROPERTY = user_property(*ORIGIN)  # the encoded MQTT 5 user property the consumer looks for


_PROPERTIES_BLOCK = varint(len(ORIGIN_PROPERTY)) + ORIGIN_PROPERTY
_topic_bytes: dict[int, bytes] = {}


def _publish_packet(datastream_id: int, payload: bytes) -> bytes:
    """publish_packet() for the hot path: the encoded topic per datastream and the properties are reused."""
    topic = _topic_bytes.get(datastream_id)
    if topic is None:
        topic = _topic_bytes[datastream_id] = utf8(PUBLISH_TEMPLATE.format(datastream=datastream_id))
    return b"\x30" + varint(len(topic) + len(_PROPERTIES_BLOCK) + len(payload)) + topic + _PROPERTIES_BLOCK + payload


class ObservationPublisher:
    """A background MQTT 5 connection that publishes committed observations (reconnects by itself)."""

    def __init__(self, host: str, port: int, *, client_id: str | None = None) -> None:
        self.host, self.port = host, port
        self.client_id = client_id or f"parktwin-pub-{uuid.uuid4().hex[:12]}"
        self.published = 0
        self._connection: Connection | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)

    def start(self) -> ObservationPublisher:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._connection is not None:
            self._connection.close()
        self._thread.join(5)

    def is_connected(self) -> bool:
        return self._connection is not None

    def _run(self) -> None:
        delay = 1.0
        while not self._stop.is_set():
            connection = Connection(self.host, self.port, self.client_id, clean_start=True)
            try:
                connection.open()
                self._connection, delay = connection, 1.0
                log.info("publisher connected to %s:%s", self.host, self.port)
                while True:  # nothing is subscribed: this keeps the keepalive and notices a drop
                    connection.receive()
            except (MqttError, OSError) as exc:
                if not self._stop.is_set():
                    log.warning("publisher connection to %s:%s lost (%s); retrying in %.0f s", self.host, self.port, exc, delay)
            finally:
                self._connection = None
                connection.close(send_disconnect=False)
            self._stop.wait(delay)
            delay = min(delay * 2, 30.0)

    def publish(self, accepted: list[AcceptedObservation]) -> None:
        """Publish each observation in one write (dropped while the broker is unreachable)."""
        connection = self._connection
        if connection is None:
            return
        packets = [_publish_packet(o.datastream_id, observation_payload(o)) for o in accepted]
        try:
            connection.publish_many(packets)
        except (MqttError, OSError) as exc:
            log.warning("%d observations not re-published: %s", len(packets), exc)
            return
        self.published += len(packets)


_current: ObservationPublisher | None = None


def install(publisher: ObservationPublisher | None) -> None:
    """Make `publisher` the one this process re-publishes committed observations with (None: stop)."""
    global _current
    _current = publisher


def publish_committed(session_factory: sessionmaker[Session], accepted: list[AcceptedObservation]) -> None:
    """Ingest hook: re-publish committed observations when this process runs a publisher."""
    if _current is not None:
        _current.publish(accepted)
