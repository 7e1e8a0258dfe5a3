"""Store the observations devices publish over MQTT; acknowledge each message only after its commit.

A network thread reads messages (wire.py: MQTT 5, acknowledgements under our control) into a queue;
a writer thread takes what has arrived (up to `max_batch`, no waiting — batches grow by themselves
under load), stores it with one `insert_observations` call in one transaction, and only then sends
the PUBACKs, in order.
- Database down: the batch is retried with backoff and not acknowledged; the broker stops sending
  once `receive_maximum` messages are unacknowledged, and redelivers them after a reconnect. The
  unique (datastream, phenomenonTime) key stores a redelivered observation once.
- Broker down: the network thread reconnects with backoff (1–5 s) to the same persistent session
  (clean_start False, session expiry `session_expiry_s`), so messages published meanwhile arrive after.
  Acknowledgements belonging to a previous connection are never sent on a new one.
- Several workers: a shared subscription `$share/<group>/...` gives each message to one of them. A lone
  worker subscribes plainly (`share_group=None`): Mosquitto keeps only plain subscriptions across its restart.
- Messages with the user property origin=parktwin (the service's own re-publications) are skipped.
- A message that cannot be stored (bad JSON, unknown datastream...) is logged and acknowledged.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from twin.db.session import transaction
from twin.integration.ingest import fill_default_features, insert_observations
from twin.integration.mqtt.publisher import ORIGIN_PROPERTY
from twin.integration.mqtt.topics import SUBSCRIBE_FILTERS, MessageError, observation_rows
from twin.integration.mqtt.wire import Connection, MqttError

log = logging.getLogger("twin.mqtt.consumer")
# Short: Mosquitto (2.0) does not restore shared subscriptions after its own restart, so with `$share/...` the
# messages published between the broker's return and our reconnect are dropped; keep that window small.
MAX_RECONNECT_DELAY_S = 5.0


@dataclass(slots=True)
class _Message:
    connection: int  # which connection it came on: acks go back on that connection only
    mid: int
    qos: int
    topic: str
    payload: bytes
    own: bool


@dataclass
class ConsumerStats:
    """Counters since start (read by tests, the CLI and benchmarks)."""

    messages: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped_own: int = 0  # the service's own QoS 0 re-publications, dropped by the reader unparsed
    skipped_own_acked: int = 0  # QoS 1 messages carrying the service's origin: acknowledged, not stored
    batches: int = 0
    db_retries: int = 0
    connects: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class ObservationConsumer:
    """Subscribe to the STA observation topics and store what arrives (see the module docstring)."""

    def __init__(self, *, host: str, port: int, session_factory: sessionmaker[Session], client_id: str,
                 share_group: str | None = None, max_batch: int = 1_000, receive_maximum: int = 2_000,
                 session_expiry_s: int = 86_400) -> None:
        self.host, self.port = host, port
        self.session_factory = session_factory
        self.client_id = client_id
        self.filters = [f"$share/{share_group}/{f}" if share_group else f for f in SUBSCRIBE_FILTERS]
        self.max_batch = max_batch
        # How many unacknowledged QoS 1 messages the broker may send us (Mosquitto honours it for MQTT 5).
        self.receive_maximum = receive_maximum
        self.session_expiry_s = session_expiry_s
        self.stats = ConsumerStats()
        self.subscribed = threading.Event()
        self._queue: queue.Queue[list[_Message]] = queue.Queue()
        self._stopping = threading.Event()
        self._link: Connection | None = None
        self._connection = 0  # incremented on every connect and disconnect: acks never cross connections
        self._busy = False
        self._network = threading.Thread(target=self._network_loop, name=f"mqtt-reader-{client_id}", daemon=True)
        self._writer = threading.Thread(target=self._write_loop, name=f"mqtt-writer-{client_id}", daemon=True)

    # --- lifecycle ---
    def start(self) -> ObservationConsumer:
        """Connect in the background (retrying until the broker answers) and start storing."""
        self._network.start()
        self._writer.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Finish the batch in hand, disconnect (the session keeps anything unacknowledged)."""
        self._stopping.set()
        self._writer.join(timeout)
        link = self._link
        if link is not None:
            link.close()
        self._network.join(timeout)

    # --- network thread ---
    def _network_loop(self) -> None:
        delay = 1.0
        while not self._stopping.is_set():
            link = Connection(self.host, self.port, self.client_id, clean_start=False, keepalive_s=30,
                              session_expiry_s=self.session_expiry_s, receive_maximum=self.receive_maximum)
            try:
                link.open()
                link.subscribe(self.filters, qos=1)
                self._connection += 1
                connection = self._connection
                skipped_before = self.stats.skipped_own
                self._link, delay = link, 1.0
                self.stats.connects += 1
                self.subscribed.set()
                log.info("MQTT consumer %s connected to %s:%s (session present: %s), subscribed to %s",
                         self.client_id, self.host, self.port, link.session_present, ", ".join(self.filters))
                while True:  # one queue entry per socket read: the queue's locking is per read, not per message
                    # The service's own re-publications (QoS 0, origin property) are dropped unparsed; a QoS 1
                    # message claiming that origin still comes through, to be acknowledged in order and skipped.
                    received = link.receive(skip_qos0_with=ORIGIN_PROPERTY)
                    self.stats.skipped_own = skipped_before + link.skipped
                    if received:
                        self._queue.put([_Message(connection, m.packet_id, m.qos, m.topic, m.payload,
                                                  ORIGIN_PROPERTY in m.properties) for m in received])
            except (MqttError, OSError) as exc:
                if not self._stopping.is_set():
                    log.warning("MQTT consumer %s: connection to %s:%s lost (%s); retrying in %.0f s",
                                self.client_id, self.host, self.port, exc, delay)
            finally:
                self._connection += 1  # whatever is in hand can no longer be acknowledged
                self._link = None
                link.close(send_disconnect=False)
            self._stopping.wait(delay)
            delay = min(delay * 2, MAX_RECONNECT_DELAY_S)

    # --- writer thread ---
    def _write_loop(self) -> None:
        while not self._stopping.is_set():
            batch = self._take()
            if batch:
                self._busy = True
                try:
                    self._store(batch)
                except Exception:  # noqa: BLE001 — never let one bad batch kill the writer; it is redelivered
                    log.exception("MQTT batch of %d messages failed; left unacknowledged", len(batch))
                finally:
                    self._busy = False

    def _take(self) -> list[_Message]:
        try:
            batch = self._queue.get(timeout=0.2)
        except queue.Empty:
            return []
        while len(batch) < self.max_batch:
            try:
                batch.extend(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _store(self, batch: list[_Message]) -> None:
        rows: list[dict[str, Any]] = []
        for message in batch:
            self.stats.messages += 1
            if message.own:
                self.stats.skipped_own_acked += 1
                continue
            try:
                rows.extend(observation_rows(message.topic, message.payload))
            except MessageError as exc:
                self.stats.rejected += 1
                log.warning("MQTT message on %s not stored: %s", message.topic, exc)
        if rows and not self._commit(rows, batch):
            return  # stopping while the database is down: leave the batch unacknowledged
        self.stats.batches += 1
        link = self._link
        try:
            for message in batch:
                if message.qos > 0 and message.connection == self._connection and link is not None:
                    link.puback(message.mid)
        except (MqttError, OSError) as exc:  # the broker redelivers what was not acknowledged
            log.warning("MQTT acknowledgements not sent: %s", exc)

    def _commit(self, rows: list[dict[str, Any]], batch: list[_Message]) -> bool:
        """Store rows in one transaction, retrying while the database is unreachable; False if stopped."""
        delay = 0.5
        while True:
            try:
                with transaction(self.session_factory) as session:
                    fill_default_features(session, rows)
                    result = insert_observations(session, rows)
            except (OperationalError, InterfaceError) as exc:
                self.stats.db_retries += 1
                log.warning("database unavailable, %d MQTT messages held unacknowledged: %s", len(batch), exc.orig)
                if self._stopping.wait(delay):
                    return False
                delay = min(delay * 2, 2.0)  # a connection attempt is cheap; a longer wait only delays recovery
                continue
            except DBAPIError as exc:  # the data broke a constraint: store row by row, drop the bad ones
                log.warning("batch of %d observations refused (%s); storing one by one", len(rows), exc.orig)
                return self._commit_one_by_one(rows)
            self._count(result)
            return True

    def _commit_one_by_one(self, rows: list[dict[str, Any]]) -> bool:
        for row in rows:
            try:
                with transaction(self.session_factory) as session:
                    fill_default_features(session, [row])
                    self._count(insert_observations(session, [row]))
            except (OperationalError, InterfaceError):
                return self._commit([row], [])
            except DBAPIError as exc:
                self.stats.rejected += 1
                log.warning("observation for datastream %s not stored: %s", row.get("datastream_id"), exc.orig)
        return True

    def _count(self, result: Any) -> None:
        self.stats.stored += len(result.accepted)
        self.stats.duplicates += len(result.duplicates)
        self.stats.rejected += len(result.rejected)
        if result.rejected:
            index, message = result.rejected[0]
            log.warning("%d MQTT observations rejected (first: %s)", len(result.rejected), message)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is queued (tests and benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.empty() and not self._busy:
                return True
            time.sleep(0.02)
        return False
