"""The simulator: plausible values per datastream kind, and its readings stored end to end over MQTT."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.twin.ingest.conftest import Broker
from tests.twin.ingest.factory import SensingPark
from twin.db.models import Observation
from twin.integration import simulator
from twin.integration.mqtt.consumer import ObservationConsumer
from twin.integration.simulator import PARK_TZ, Simulator, Stream, load_streams

WEEKDAY = datetime(2025, 3, 4, tzinfo=PARK_TZ)  # a Tuesday in Chengdu
SATURDAY = datetime(2025, 3, 8, tzinfo=PARK_TZ)


def stream(key: str | None, kind: str, words: str = "", observation_type: str = "OM_Measurement", **props: Any) -> Stream:
    return Stream(id=1, park="p", asset="A-1", kind=kind, property=key or words, words=words, key=key,
                  observation_type=observation_type, asset_properties=props)


class Recorder:
    """Stands in for the Simulator where behaviours only report device alarms."""

    def __init__(self) -> None:
        self.alarms: list[tuple[str, bool]] = []

    def raise_device_alarm(self, s: Stream, severity: str, zh: str, en: str, *, cleared: bool = False) -> None:
        self.alarms.append((en, cleared))


def run(s: Stream, start: datetime, minutes: int, step_s: float = 60.0) -> list[Any]:
    behaviour, sim = simulator.behaviour_for(s), Recorder()
    return [behaviour(sim, s, start + timedelta(seconds=i * step_s), step_s) for i in range(minutes)]  # type: ignore[arg-type]


def test_the_working_day_curve_peaks_in_office_hours() -> None:
    assert simulator.working_day_load(10.5, 1) > 0.8 > 0.3 > simulator.working_day_load(3.0, 1)
    assert simulator.working_day_load(10.5, 5) < 0.4  # Saturday
    assert simulator.occupancy_share(11, 1) > 0.7 and simulator.occupancy_share(2, 1) < 0.15


def test_cumulative_meters_never_go_back_and_follow_the_load() -> None:
    energy = stream("energy", "meter")
    readings = run(energy, WEEKDAY, 24 * 60)
    assert all(b >= a for a, b in zip(readings, readings[1:]))
    night = readings[4 * 60] - readings[3 * 60]
    morning = readings[11 * 60] - readings[10 * 60]
    assert morning > 3 * night > 0
    restarted = stream("energy", "meter")
    restarted.last = readings[-1]  # after a restart it continues from the stored value
    assert run(restarted, WEEKDAY + timedelta(days=1), 1)[0] >= readings[-1]


def test_gate_counters_start_at_midnight_grow_all_day_and_peak_at_the_commute() -> None:
    people = run(stream("people_today", "access_gate", observation_type="OM_CountObservation"), WEEKDAY, 24 * 60 + 2)
    assert people[0] == 0 and all(isinstance(v, int) for v in people)
    assert all(b >= a for a, b in zip(people[:24 * 60], people[1:24 * 60]))  # within the day it never goes back
    assert people[24 * 60] < people[24 * 60 - 1]  # the next day starts again from 0
    rush = people[9 * 60] - people[8 * 60]
    night = people[4 * 60] - people[3 * 60]
    assert rush > 20 * max(night, 1)
    assert 500 < people[24 * 60 - 1] < 5000  # one gate's day: thousands, not millions
    cars = run(stream("vehicles_today", "access_gate", observation_type="OM_CountObservation"), WEEKDAY, 24 * 60)
    weekend = run(stream("people_today", "access_gate", observation_type="OM_CountObservation"), SATURDAY, 24 * 60)
    assert cars[-1] < people[24 * 60 - 1] and weekend[-1] < people[24 * 60 - 1] / 2
    restarted = stream("people_today", "access_gate")  # a restart mid-day goes on from where the counter was
    assert run(restarted, WEEKDAY + timedelta(hours=15), 1)[0] == people[15 * 60]


def test_states_use_the_seed_codings() -> None:
    lamps = run(stream("on_off", "street_lamp", observation_type="OM_CategoryObservation"), WEEKDAY, 24 * 60)
    assert lamps[23 * 60] == 1 and lamps[12 * 60] == 0
    spaces = run(stream("occupancy", "parking_sensor", observation_type="OM_CountObservation"), WEEKDAY, 24 * 60)
    assert set(spaces) <= {0, 1}
    assert set(run(stream("elevator_state", "elevator"), WEEKDAY, 600)) <= {0, 1}
    assert set(run(stream("charger_status", "ev_charger"), WEEKDAY, 600)) <= {0, 1, 2}
    pm25 = run(stream("pm25", "air_quality_sensor"), WEEKDAY, 24 * 60)
    assert all(0 < v < 400 for v in pm25)
    noise = run(stream("laeq", "noise_sensor"), SATURDAY, 24 * 60)
    assert sum(noise[10 * 60:16 * 60]) / 360 > sum(noise[1 * 60:5 * 60]) / 240


def test_an_elevator_fault_raises_then_clears_a_device_alarm(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    elevator, sim = stream("elevator_state", "elevator"), Recorder()
    behaviour = simulator.behaviour_for(elevator)
    monkeypatch.setattr(simulator.random, "random", lambda: 0.0)  # the fault happens now
    assert behaviour(sim, elevator, WEEKDAY, 60) == 1  # type: ignore[arg-type]
    monkeypatch.setattr(simulator.random, "random", lambda: 0.99)
    elevator.state["fault_until"] = 0.0  # repaired
    assert behaviour(sim, elevator, WEEKDAY, 60) == 0  # type: ignore[arg-type]
    assert sim.alarms == [("Elevator fault: out of service", False), ("Elevator back in service", True)]


def test_keywords_choose_a_behaviour_for_datastreams_without_a_seed_key() -> None:
    assert simulator.behaviour_for(stream(None, "meter", "power kw")) is simulator._power
    assert simulator.behaviour_for(stream(None, "air_quality_sensor", "pm2.5 µg/m³")) is simulator._pm25
    assert simulator.behaviour_for(stream(None, "thing", "something else")) is simulator._random_walk


def test_simulated_readings_are_stored_through_mqtt(broker: Broker, committed_factory: sessionmaker[Session], sensing_park: SensingPark) -> None:
    ids = list(sensing_park.datastreams.values())
    with committed_factory() as session, session.begin():
        session.execute(delete(Observation).where(Observation.datastream_id.in_(ids)))
    with committed_factory() as session:
        streams = load_streams(session, sensing_park.slug)
    assert sorted(s.id for s in streams) == sorted(ids)
    consumer = ObservationConsumer(host="127.0.0.1", port=broker.port, session_factory=committed_factory,
                                   client_id=f"test-sim-{uuid.uuid4().hex[:8]}").start()
    try:
        assert consumer.subscribed.wait(10)
        time.sleep(0.1)
        sim = Simulator(streams, host="127.0.0.1", port=broker.port, rate=60)
        sim.run(duration_s=1.2)
        assert sim.published >= 60

        def stored() -> int:
            with committed_factory() as session:
                return session.scalar(select(func.count()).where(Observation.datastream_id.in_(ids))) or 0

        deadline = time.monotonic() + 10
        while stored() < sim.published and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stored() == sim.published
        with committed_factory() as session:
            newest = session.scalar(select(func.max(Observation.phenomenon_time)).where(Observation.datastream_id.in_(ids)))
        assert newest is not None and abs((datetime.now(UTC) - newest).total_seconds()) < 30
    finally:
        consumer.stop()
