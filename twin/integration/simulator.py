"""`twin simulate`: realistic live readings for a park's datastreams, published over MQTT (STA topics).

It reads the park's datastreams from the database and picks a behaviour for each from its asset
kind, observed property and unit (keywords, so any seed naming works): electricity meters follow a
working-day load curve (kW, and cumulative kWh that never goes back), water/gas meters count up,
parking spaces turn free/occupied with the hour, air quality (PM2.5 with morning/evening peaks,
temperature, humidity), noise, water quality, elevators (occasional faults), EV chargers, street
lamps that are on at night, and gates counting the day's passages (0 at midnight, commuting peaks). Times are the park's local time (Asia/Shanghai) for the profiles; each
observation carries its phenomenonTime in UTC, so a redelivered message is stored once.

Device alarms (an elevator fault, a charger fault, loud noise, PM2.5 over the limit) go through
`Simulator.raise_device_alarm`, which publishes to DEVICE_ALARM_TOPIC — the hook the alarms engine
consumes (or replaces by assigning `device_alarm_sinks`).
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import paho.mqtt.client as mqtt
from sqlalchemy import text
from sqlalchemy.orm import Session

log = logging.getLogger("twin.simulate")

PARK_TZ = ZoneInfo("Asia/Shanghai")
DEVICE_ALARM_TOPIC = "parktwin/v1/parks/{park}/device-alarms"
# Callables(event) that receive device alarms besides the MQTT topic (the alarms engine may add one).
device_alarm_sinks: list[Callable[[dict[str, Any]], None]] = []

_STREAMS_SQL = text("""
SELECT d.id, p.slug AS park, a.code AS asset, a.kind, a.properties AS asset_properties, op.name AS property,
       coalesce(d.properties->>'key', op.properties->>'key') AS key,
       op.definition, d.unit_of_measurement->>'symbol' AS unit, d.observation_type,
       l.result_number, l.result_json
FROM datastreams d JOIN assets a ON a.id = d.thing_id JOIN parks p ON p.id = a.park_id
JOIN observed_properties op ON op.id = d.observed_property_id
LEFT JOIN datastream_latest l ON l.datastream_id = d.id
WHERE p.slug = :park ORDER BY d.id
""")


@dataclass
class Stream:
    """One datastream to simulate and the state its behaviour keeps between readings."""

    id: int
    park: str
    asset: str
    kind: str
    property: str
    words: str  # property name, definition and unit, lower case: what the behaviour is chosen by
    key: str | None  # the seed's quantity key (twin.integration.sta.seed), when the datastream has one
    observation_type: str
    asset_properties: dict[str, Any]
    last: Any = None  # the newest stored result (continues cumulative meters after a restart)
    scale: float = 1.0
    state: dict[str, Any] = field(default_factory=dict)


def load_streams(session: Session, park: str) -> list[Stream]:
    """The park's datastreams, with their newest stored result."""
    streams = []
    for row in session.execute(_STREAMS_SQL, {"park": park}):
        words = " ".join(filter(None, (row.property, row.definition, row.unit))).lower()
        last = row.result_number if row.result_number is not None else row.result_json
        streams.append(Stream(row.id, row.park, row.asset, row.kind, row.property, words, row.key, row.observation_type or "",
                              row.asset_properties or {}, last, scale=random.Random(row.id).uniform(0.6, 1.6)))
    return streams


# --- daily profiles (local hour, 0–24) ---------------------------------------------------------

def working_day_load(hour: float, weekday: int) -> float:
    """Share of peak electrical load (0–1) of an office/factory building at this local hour."""
    if weekday >= 5:
        return 0.25 + 0.05 * math.sin(math.pi * hour / 24)
    ramp_up = 1 / (1 + math.exp(-(hour - 8.3) * 3))
    ramp_down = 1 / (1 + math.exp((hour - 18.5) * 2))
    lunch = 0.15 * math.exp(-((hour - 12.5) ** 2) / 0.3)
    return 0.18 + 0.82 * ramp_up * ramp_down - lunch


def occupancy_share(hour: float, weekday: int) -> float:
    """Chance a parking space is taken at this local hour."""
    day = 0.85 if weekday < 5 else 0.35
    return 0.08 + (day - 0.08) * (1 / (1 + math.exp(-(hour - 8.5) * 2.5))) * (1 / (1 + math.exp((hour - 18.5) * 1.5)))


def is_night(hour: float) -> bool:
    return hour >= 18.75 or hour < 6.5


def _noise(sigma: float) -> float:
    return random.gauss(0.0, sigma)


def _has(words: str, *needles: str) -> bool:
    return any(re.search(rf"(^|[^a-z]){n}", words) for n in needles)


# --- behaviours --------------------------------------------------------------------------------

Behaviour = Callable[["Simulator", Stream, datetime, float], Any]


def behaviour_for(stream: Stream) -> Behaviour:
    """The behaviour that fits a datastream: by the seed's quantity key, else by kind and keywords."""
    if stream.key in BY_KEY:
        return BY_KEY[stream.key](stream)
    w, kind = stream.words, stream.kind
    if kind == "parking_sensor" or _has(w, "occupan", "parking"):
        return _parking
    if kind == "elevator" and not _has(w, "power", "energy"):
        return _elevator
    if kind == "ev_charger" and not _has(w, "energy"):
        return _charger_power if _has(w, "power", "kw") else _charger_status
    if kind == "street_lamp" or kind == "smart_pole":
        return _lamp_power if _has(w, "power", "w") else _lamp_status
    if _has(w, "pm2", "pm25", "pm 2"):
        return _pm25
    if _has(w, "pm10"):
        return lambda sim, s, now, dt: round(max(5.0, 1.6 * _pm25(sim, s, now, dt) + _noise(4)), 1)
    if _has(w, "ph"):
        return lambda sim, s, now, dt: round(7.3 + 0.15 * math.sin(now.hour / 24 * 2 * math.pi) + _noise(0.05), 2)
    if _has(w, "dissolved", "oxygen"):
        return lambda sim, s, now, dt: round(7.5 + 1.2 * math.sin((_hour(now) - 9) / 24 * 2 * math.pi) + _noise(0.2), 2)
    if _has(w, "turbidity", "ntu"):
        return lambda sim, s, now, dt: round(max(0.5, 3 + _noise(0.6)), 2)
    if _has(w, "conductiv"):
        return lambda sim, s, now, dt: round(420 + _noise(15), 1)
    if _has(w, "temperature", "°c", "degc"):
        return _water_temperature if kind == "water_quality_sensor" else _air_temperature
    if _has(w, "humidity", "relative"):
        return _humidity
    if _has(w, "noise", "sound", "db"):
        return _noise_level
    if _has(w, "no2"):
        return lambda sim, s, now, dt: round(max(5, 25 + 20 * _rush(now) + _noise(4)), 1)
    if _has(w, "o3", "ozone"):
        return lambda sim, s, now, dt: round(max(5, 30 + 70 * max(0, math.sin((_hour(now) - 8) / 12 * math.pi)) + _noise(6)), 1)
    if _has(w, "energy", "kwh"):
        return _energy_total
    if _has(w, "water", "gas", "volume", "m3", "m³"):
        return _volume_total
    if _has(w, "power", "kw", "load"):
        return _power
    if "truth" in stream.observation_type.lower():
        return lambda sim, s, now, dt: random.random() < 0.5
    return _random_walk


def _hour(now: datetime) -> float:
    local = now.astimezone(PARK_TZ)
    return local.hour + local.minute / 60 + local.second / 3600


def _weekday(now: datetime) -> int:
    return now.astimezone(PARK_TZ).weekday()


def _rush(now: datetime) -> float:
    hour = _hour(now)
    return math.exp(-((hour - 8.5) ** 2) / 1.5) + math.exp(-((hour - 18.5) ** 2) / 2)


def _peak_kw(stream: Stream) -> float:
    return 120.0 * stream.scale


def _power(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    return round(_peak_kw(stream) * working_day_load(_hour(now), _weekday(now)) * (1 + _noise(0.04)), 2)


def _energy_total(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    total = stream.state.get("total")
    if total is None:
        total = float(stream.last) if isinstance(stream.last, (int, float)) else 10_000 * stream.scale
    kw = _peak_kw(stream) * working_day_load(_hour(now), _weekday(now))
    stream.state["total"] = total + kw * dt / 3600
    return round(stream.state["total"], 3)


def _volume_total(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    total = stream.state.get("total")
    if total is None:
        total = float(stream.last) if isinstance(stream.last, (int, float)) else 500 * stream.scale
    flow_m3_h = 2.0 * stream.scale * working_day_load(_hour(now), _weekday(now))
    stream.state["total"] = total + flow_m3_h * dt / 3600
    return round(stream.state["total"], 4)


def _category(stream: Stream) -> str:
    """'bool', 'number' or 'text': how a two-state reading is written for this datastream."""
    kind = stream.observation_type.lower()
    if "truth" in kind:
        return "bool"
    if "measurement" in kind or "count" in kind:
        return "number"
    return "text"


def _parking(sim: Simulator, stream: Stream, now: datetime, dt: float) -> Any:
    occupied = stream.state.get("occupied")
    if occupied is None:
        occupied = stream.last in (True, 1, 1.0, "occupied") if stream.last is not None else random.random() < 0.5
    target = occupancy_share(_hour(now), _weekday(now))
    # A two-state chain whose stationary share is `target`; one change every ~20 min per space.
    flip = dt / 1200
    if random.random() < (flip * (1 - target) if occupied else flip * target) * 2:
        occupied = not occupied
    stream.state["occupied"] = occupied
    return {"bool": occupied, "number": int(occupied), "text": "occupied" if occupied else "free"}[_category(stream)]


def _elevator(sim: Simulator, stream: Stream, now: datetime, dt: float) -> Any:
    if _elevator_state(sim, stream, now, dt):
        status = "fault"
    else:
        status = "running" if random.random() < working_day_load(_hour(now), _weekday(now)) else "idle"
    return {"bool": status != "fault", "number": {"idle": 0, "running": 1, "fault": 9}[status], "text": status}[_category(stream)]


def _charger_state(sim: Simulator, stream: Stream, now: datetime, dt: float) -> str:
    """free, charging or outOfService (FIWARE EVChargingStation status words)."""
    if stream.state.get("fault"):
        stream.state["fault"] = random.random() > 0.02
        if not stream.state["fault"]:
            sim.raise_device_alarm(stream, "minor", "充电桩恢复", "EV charger back in service", cleared=True)
        return "outOfService" if stream.state["fault"] else "free"
    if random.random() < 3e-5 * dt:  # about one fault per charger every 9 h
        stream.state["fault"] = True
        sim.raise_device_alarm(stream, "minor", "充电桩故障", "EV charger fault")
        return "outOfService"
    return "charging" if random.random() < occupancy_share(_hour(now), _weekday(now)) * 0.6 else "free"


def _charger_status(sim: Simulator, stream: Stream, now: datetime, dt: float) -> Any:
    status = _charger_state(sim, stream, now, dt)
    return {"bool": status == "charging", "number": {"free": 0, "charging": 1, "outOfService": 9}[status], "text": status}[_category(stream)]


def _charger_power(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    rated = float(stream.asset_properties.get("power_kw") or 60)
    charging = random.random() < occupancy_share(_hour(now), _weekday(now)) * 0.6
    return round(rated * random.uniform(0.5, 0.95), 1) if charging else 0.0


def _lamp_status(sim: Simulator, stream: Stream, now: datetime, dt: float) -> Any:
    on = is_night(_hour(now))
    return {"bool": on, "number": int(on), "text": "on" if on else "off"}[_category(stream)]


def _lamp_power(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    rated = float(stream.asset_properties.get("power_w") or 120)
    watts = rated * (1 + _noise(0.02)) if is_night(_hour(now)) else 0.0
    return round(watts / 1000, 3) if "kw" in stream.words else round(watts, 1)


def _pm25(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    winter = 1.6 if now.astimezone(PARK_TZ).month in (11, 12, 1, 2) else 1.0
    base = stream.state.setdefault("base", random.uniform(25, 45))
    value = max(3.0, base * winter * (0.8 + 0.6 * _rush(now)) + _noise(4))
    if value > 150 and not stream.state.get("alarmed"):
        sim.raise_device_alarm(stream, "minor", "PM2.5 超标", "PM2.5 above the limit")
    stream.state["alarmed"] = value > 150
    return round(value, 1)


def _air_temperature(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    month = now.astimezone(PARK_TZ).month
    mean = 16.5 - 10.5 * math.cos((month - 1) / 12 * 2 * math.pi)  # Chengdu: ~6 °C in January, ~26 °C in July
    return round(mean + 4 * math.sin((_hour(now) - 9) / 24 * 2 * math.pi) + _noise(0.3), 1)


def _humidity(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    return round(min(98, max(30, 92 - 2.2 * (_air_temperature(sim, stream, now, dt) - 8) + _noise(2))), 1)


def _water_temperature(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    return round(0.8 * _air_temperature(sim, stream, now, dt) + 3 + _noise(0.1), 1)


def _noise_level(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    hour = _hour(now)
    level = (44 if is_night(hour) else 58) + 6 * _rush(now) + _noise(2.5)
    if random.random() < 0.001:
        level += random.uniform(15, 25)  # a truck, a horn
    if level > 80:
        sim.raise_device_alarm(stream, "warning", "噪声超标", "Noise above the limit")
    return round(level, 1)


def _random_walk(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    value = stream.state.get("value")
    if value is None:
        value = float(stream.last) if isinstance(stream.last, (int, float)) else 50.0 * stream.scale
    stream.state["value"] = value = value + _noise(0.5)
    return round(value, 2)


def _elevator_state(sim: Simulator, stream: Stream, now: datetime, dt: float) -> int:
    """0 normal, 1 fault (the seed's coding); a fault raises a device alarm and its end clears it."""
    faulty = time.time() < stream.state.get("fault_until", 0.0)
    if stream.state.get("faulty") and not faulty:
        sim.raise_device_alarm(stream, "major", "电梯恢复运行", "Elevator back in service", cleared=True)
    elif not faulty and random.random() < 2.5e-5 * dt:  # about one fault per elevator every 11 h
        stream.state["fault_until"] = time.time() + random.uniform(60, 300)
        faulty = True
        sim.raise_device_alarm(stream, "major", "电梯故障停梯", "Elevator fault: out of service")
    stream.state["faulty"] = faulty
    return int(faulty)


def _elevator_floor(sim: Simulator, stream: Stream, now: datetime, dt: float) -> int:
    top = int(stream.asset_properties.get("floors") or stream.state.setdefault("top", random.randint(5, 20)))
    floor = int(stream.state.get("floor", 1))
    if random.random() < working_day_load(_hour(now), _weekday(now)):
        floor = random.randint(1, top)
    stream.state["floor"] = floor
    return floor


def _charger_code(sim: Simulator, stream: Stream, now: datetime, dt: float) -> int:
    """0 free, 1 charging, 2 fault (the seed's coding)."""
    return {"free": 0, "charging": 1, "outOfService": 2}[_charger_state(sim, stream, now, dt)]


def _online(sim: Simulator, stream: Stream, now: datetime, dt: float) -> int:
    down_until = stream.state.get("down_until", 0.0)
    if time.time() >= down_until and random.random() < 1e-5 * dt:  # a camera drops out now and then
        stream.state["down_until"] = down_until = time.time() + random.uniform(60, 600)
    return int(time.time() >= down_until)


def passage_rate(hour: float, weekday: int, *, vehicles: bool) -> float:
    """Passages per hour through one park gate at this local hour: commuting peaks, lunch, a quiet night."""
    commute = math.exp(-((hour - 8.5) ** 2) / 0.8) + 0.9 * math.exp(-((hour - 18.0) ** 2) / 1.0)
    lunch = 0.35 * math.exp(-((hour - 12.3) ** 2) / 0.5)
    daytime = 1 / (1 + math.exp(-(hour - 7.5) * 3)) / (1 + math.exp((hour - 20.0) * 2))
    rate = 4 + 40 * daytime + 260 * (commute + lunch)
    return rate * (0.2 if weekday >= 5 else 1.0) * (0.35 if vehicles else 1.0)


def _passages_today(sim: Simulator, stream: Stream, now: datetime, dt: float) -> int:
    """The day's passages so far: the rate integrated from local midnight in 5-minute steps. A function of the
    time alone, so the counter only grows during a day, is 0 after midnight and goes on where it was after a restart."""
    hour, weekday, vehicles = _hour(now), _weekday(now), stream.key == "vehicles_today"
    steps = int(hour * 12)
    total = sum(passage_rate((k + 0.5) / 12, weekday, vehicles=vehicles) for k in range(steps)) / 12
    total += passage_rate(hour, weekday, vehicles=vehicles) * (hour - steps / 12)
    return int(total * stream.scale)


def _gas_total(sim: Simulator, stream: Stream, now: datetime, dt: float) -> float:
    stream.scale = min(stream.scale, 0.3)  # canteen gas: a fraction of a water meter's flow
    return _volume_total(sim, stream, now, dt)


BY_KEY: dict[str, Callable[[Stream], Behaviour]] = {
    "energy": lambda s: _energy_total,
    "power": lambda s: _charger_power if s.kind == "ev_charger" else _power,
    "water_volume": lambda s: _volume_total,
    "gas_volume": lambda s: _gas_total,
    "pm25": lambda s: _pm25,
    "pm10": lambda s: lambda sim, st, now, dt: round(max(5.0, 1.6 * _pm25(sim, st, now, dt) + _noise(4)), 1),
    "temperature": lambda s: _water_temperature if s.kind == "water_quality_sensor" else _air_temperature,
    "humidity": lambda s: _humidity,
    "laeq": lambda s: _noise_level,
    "ph": lambda s: lambda sim, st, now, dt: round(7.3 + 0.15 * math.sin(now.hour / 24 * 2 * math.pi) + _noise(0.05), 2),
    "dissolved_oxygen": lambda s: lambda sim, st, now, dt: round(7.5 + 1.2 * math.sin((_hour(now) - 9) / 24 * 2 * math.pi) + _noise(0.2), 2),
    "turbidity": lambda s: lambda sim, st, now, dt: round(max(0.5, 3 + _noise(0.6)), 2),
    "occupancy": lambda s: _parking,
    "elevator_state": lambda s: _elevator_state,
    "floor": lambda s: _elevator_floor,
    "charger_status": lambda s: _charger_code,
    "lamp_power": lambda s: _lamp_power,
    "on_off": lambda s: lambda sim, st, now, dt: int(is_night(_hour(now))),
    "online": lambda s: _online,
    "people_today": lambda s: _passages_today,
    "vehicles_today": lambda s: _passages_today,
}


# --- the publisher loop ------------------------------------------------------------------------

class Simulator:
    """Publishes readings for the given streams at `rate` messages per second in total."""

    def __init__(self, streams: list[Stream], *, host: str, port: int, rate: float = 50.0) -> None:
        self.streams = streams
        self.behaviours = {s.id: behaviour_for(s) for s in streams}
        self.rate = rate
        self.published = 0
        self.alarms = 0
        self._last_sent: dict[int, float] = {}
        self._stop = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"parktwin-simulator-{random.getrandbits(32):08x}",
                                   protocol=mqtt.MQTTv5)
        self._client.max_queued_messages_set(10_000)  # beyond this, drop rather than grow while the broker is away
        self._client.reconnect_delay_set(1, 10)
        self._client.connect_async(host, port, keepalive=30)

    def reading(self, stream: Stream, now: datetime) -> Any:
        """The next result of one stream at `now`."""
        previous = self._last_sent.get(stream.id)
        dt = (now.timestamp() - previous) if previous else 60.0
        self._last_sent[stream.id] = now.timestamp()
        return self.behaviours[stream.id](self, stream, now, dt)

    def publish_one(self, stream: Stream, now: datetime) -> None:
        previous = self._last_sent.get(stream.id)
        if previous is not None and now.timestamp() <= previous:  # two readings of a stream never share a time
            now = datetime.fromtimestamp(previous + 0.001, UTC)
        payload = {"phenomenonTime": now.isoformat().replace("+00:00", "Z"), "result": self.reading(stream, now)}
        self._client.publish(f"v1.1/Datastreams({stream.id})/Observations", orjson.dumps(payload), qos=1)
        self.published += 1

    def raise_device_alarm(self, stream: Stream, severity: str, message_zh: str, message_en: str, *, cleared: bool = False) -> None:
        """Hook for device alarms: publish the alarms API's device-alarm JSON (cleared=True ends the alarm)."""
        event = {"park": stream.park, "asset": stream.asset, "asset_kind": stream.kind, "datastream": stream.id,
                 "severity": severity, "title": message_zh, "title_en": message_en, "message": {"zh": message_zh, "en": message_en},
                 "time": datetime.now(UTC).isoformat().replace("+00:00", "Z"), "cleared": cleared, "source": "simulator"}
        self._client.publish(DEVICE_ALARM_TOPIC.format(park=stream.park), orjson.dumps(event), qos=1)
        for sink in device_alarm_sinks:
            sink(event)
        self.alarms += 1

    def run(self, duration_s: float | None = None) -> None:
        """Publish round-robin over the streams until `duration_s` passes or stop() is called."""
        self._client.loop_start()
        started = time.monotonic()
        credit, index, tick = 0.0, 0, 0.1
        try:
            while not self._stop.is_set() and (duration_s is None or time.monotonic() - started < duration_s):
                credit += self.rate * tick
                now = datetime.now(UTC)
                while credit >= 1 and self.streams:
                    self.publish_one(self.streams[index % len(self.streams)], now)
                    index += 1
                    credit -= 1
                self._stop.wait(tick)
        finally:
            self._client.disconnect()
            self._client.loop_stop()

    def stop(self) -> None:
        self._stop.set()
