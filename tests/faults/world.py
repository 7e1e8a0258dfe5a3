"""The fault tests' world (private database, tokens, park), the readings they send, the checks on what is stored."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
import paho.mqtt.client as mqtt
from sqlalchemy import Engine, text

from tests.twin.ingest.factory import SensingPark

T0 = datetime(2026, 4, 1, tzinfo=UTC)


@dataclass
class FaultWorld:
    """The private database: its URL, an engine (no pool: the server is restarted under it), tokens, a park."""

    url: str
    engine: Engine
    tokens: dict[str, str]
    park: SensingPark

    def count(self) -> int:
        """Observations stored in the test park (raises while the database is down)."""
        with self.engine.connect() as connection:
            return connection.scalar(text("SELECT count(*) FROM observations WHERE datastream_id = ANY(:ids)"),
                                     {"ids": list(self.park.datastreams.values())}) or 0


@dataclass(frozen=True, slots=True)
class Reading:
    """One observation with a unique (datastream, time) key; `value` = its number, to check what was stored."""

    number: int
    datastream: int
    time: datetime

    @property
    def value(self) -> float:
        return float(self.number)

    def compact(self) -> dict[str, object]:
        """The compact batch row (`POST /api/v1/parks/{park}/observations`)."""
        return {"datastream": self.datastream, "time": self.time.isoformat(), "value": self.value}

    def sta(self) -> dict[str, object]:
        """The STA Observation body of an MQTT message on `v1.1/Datastreams(<id>)/Observations`."""
        return {"phenomenonTime": self.time.isoformat(), "result": self.value}


def readings(world: FaultWorld, total: int, *, start: datetime = T0) -> list[Reading]:
    """`total` readings spread over the park's datastreams, one a minute per datastream."""
    streams = list(world.park.datastreams.values())
    return [Reading(i, streams[i % len(streams)], start + timedelta(minutes=i // len(streams))) for i in range(total)]


def stored_problems(world: FaultWorld, expected: list[Reading]) -> list[str]:
    """What differs between the database and `expected`: missing, extra, duplicated or wrong rows, stale latest values."""
    streams = list(world.park.datastreams.values())
    with world.engine.connect() as connection:
        rows = connection.execute(text("SELECT datastream_id, phenomenon_time, result_number FROM observations "
                                       "WHERE datastream_id = ANY(:ids)"), {"ids": streams}).all()
        latest = dict(connection.execute(text("SELECT datastream_id, phenomenon_time FROM datastream_latest "
                                              "WHERE datastream_id = ANY(:ids)"), {"ids": streams}).all())
    problems: list[str] = []
    stored: dict[tuple[int, datetime], list[float]] = {}
    for datastream, moment, value in rows:
        stored.setdefault((datastream, moment), []).append(value)
    wanted = {(r.datastream, r.time): r.value for r in expected}
    duplicated = [key for key, values in stored.items() if len(values) > 1]
    missing = [key for key in wanted if key not in stored]
    extra = [key for key in stored if key not in wanted]
    wrong = [key for key, value in wanted.items() if key in stored and stored[key][0] != value]
    for label, keys in (("duplicated", duplicated), ("missing", missing), ("unexpected", extra), ("wrong value", wrong)):
        if keys:
            problems.append(f"{len(keys)} {label}, e.g. {keys[:3]}")
    newest: dict[int, datetime] = {}
    for datastream, moment in wanted:
        newest[datastream] = max(moment, newest.get(datastream, moment))
    stale = [ds for ds, moment in newest.items() if latest.get(ds) != moment]
    if stale:
        problems.append(f"datastream_latest is not the newest reading for {len(stale)} datastreams, e.g. {stale[:3]}")
    return problems


def wait_for(condition: Callable[[], bool], timeout: float, what: str, interval: float = 0.1) -> float:
    """Poll until `condition()` is true (exceptions count as not yet); the seconds it took, or AssertionError."""
    started = time.monotonic()
    while True:
        try:
            if condition():
                return time.monotonic() - started
        except Exception:  # noqa: BLE001 — the database or the service may be down while we wait
            pass
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


class Device:
    """A device (paho, MQTT 5) publishing readings with QoS 1 on `v1.1/Datastreams(<id>)/Observations`."""

    def __init__(self, port: int) -> None:
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"fault-device-{time.monotonic_ns()}", protocol=mqtt.MQTTv5)
        self.client.max_inflight_messages_set(500)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.published = 0

    def publish(self, batch: list[Reading]) -> None:
        """Publish one message per reading and wait for the broker's PUBACKs."""
        infos = [self.client.publish(f"v1.1/Datastreams({r.datastream})/Observations", orjson.dumps(r.sta()), qos=1) for r in batch]
        for info in infos:
            info.wait_for_publish(30)
            assert info.is_published(), "the broker did not acknowledge a publication"
        self.published += len(batch)

    def publish_raw(self, topic: str, body: object) -> None:
        """One QoS 1 message of any JSON body (device alarms), acknowledged by the broker."""
        info = self.client.publish(topic, orjson.dumps(body), qos=1)
        info.wait_for_publish(30)
        assert info.is_published(), "the broker did not acknowledge a publication"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class CountMonitor:
    """Samples the stored count every `interval` s in a thread, to tell when ingestion resumed after a fault."""

    def __init__(self, world: FaultWorld, interval: float = 0.1) -> None:
        self.samples: list[tuple[float, int]] = []  # (time.monotonic(), count); nothing while the database is down
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(world, interval), daemon=True)
        self._thread.start()

    def _run(self, world: FaultWorld, interval: float) -> None:
        while not self._stop.wait(interval):
            try:
                self.samples.append((time.monotonic(), world.count()))
            except Exception:  # noqa: BLE001 — the database is down: no sample
                pass

    def resumed_after(self, moment: float) -> float | None:
        """Seconds from `moment` until the count first grew past what it was at `moment` (None: it never did)."""
        before = max((count for at, count in self.samples if at <= moment), default=0)
        return next((at - moment for at, count in self.samples if at > moment and count > before), None)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
