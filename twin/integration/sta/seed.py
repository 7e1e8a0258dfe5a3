"""Demo SensorThings metadata: a Sensor, ObservedProperties and Datastreams for every demo device that reports.

Idempotent: Sensors and ObservedProperties are keyed per park by `properties.key`, Datastreams by
(Thing, `properties.key`); a second run adds nothing. Every asset also gets its Location.
Definitions are QUDT quantity kinds or FIWARE Smart Data Models attributes; where neither has a
term (elevator state, device online) a ParkTwin URN is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from twin.db.models import Asset, Datastream, ObservedProperty, Park, Sensor
from twin.integration.sta.observations import default_features_of_interest, ensure_thing_locations

OM = "http://www.opengis.net/def/observationType/OGC-OM/2.0/"
MEASUREMENT, COUNT, CATEGORY = OM + "OM_Measurement", OM + "OM_CountObservation", OM + "OM_CategoryObservation"
QK = "http://qudt.org/vocab/quantitykind/"
UNIT = "http://qudt.org/vocab/unit/"
SDM = "https://smartdatamodels.org/dataModel."


@dataclass(frozen=True, slots=True)
class Quantity:
    """An observed property with its unit and observation type."""

    key: str
    zh: str
    en: str
    definition: str
    unit: tuple[str | None, str | None, str | None]  # name, symbol, definition
    observation_type: str = MEASUREMENT
    cumulative: bool = False


Q = {
    q.key: q
    for q in (
        Quantity("energy", "累计电量", "Electric energy (cumulative)", QK + "Energy", ("kilowatt hour", "kWh", UNIT + "KiloW-HR"), cumulative=True),
        Quantity("power", "功率", "Active power", QK + "ActivePower", ("kilowatt", "kW", UNIT + "KiloW")),
        Quantity("water_volume", "累计用水量", "Water volume (cumulative)", QK + "Volume", ("cubic metre", "m³", UNIT + "M3"), cumulative=True),
        Quantity("gas_volume", "累计用气量", "Gas volume (cumulative)", QK + "Volume", ("cubic metre", "m³", UNIT + "M3"), cumulative=True),
        Quantity("pm25", "PM2.5浓度", "PM2.5 concentration", SDM + "Environment/pm25", ("microgram per cubic metre", "µg/m³", UNIT + "MicroGM-PER-M3")),
        Quantity("pm10", "PM10浓度", "PM10 concentration", SDM + "Environment/pm10", ("microgram per cubic metre", "µg/m³", UNIT + "MicroGM-PER-M3")),
        Quantity("temperature", "温度", "Air temperature", QK + "Temperature", ("degree Celsius", "°C", UNIT + "DEG_C")),
        Quantity("humidity", "相对湿度", "Relative humidity", QK + "RelativeHumidity", ("percent", "%", UNIT + "PERCENT")),
        Quantity("laeq", "等效声级", "Noise level LAeq", SDM + "Environment/LAeq", ("A-weighted decibel", "dB(A)", UNIT + "DeciB")),
        Quantity("ph", "pH值", "pH", SDM + "Environment/pH", ("pH", "pH", UNIT + "PH")),
        Quantity("dissolved_oxygen", "溶解氧", "Dissolved oxygen", SDM + "Environment/O2", ("milligram per litre", "mg/L", UNIT + "MilliGM-PER-L")),
        Quantity("turbidity", "浊度", "Turbidity", SDM + "Environment/turbidity", ("nephelometric turbidity unit", "NTU", UNIT + "NTU")),
        Quantity("occupancy", "车位占用（1占用/0空闲）", "Parking spot occupied (1) or free (0)", SDM + "Parking/ParkingSpot/status", ("occupied", "1", UNIT + "UNITLESS"), COUNT),
        Quantity("elevator_state", "电梯状态（0正常/1故障）", "Elevator state (0 normal, 1 fault)", "urn:parktwin:def:elevator-state", (None, None, None), CATEGORY),
        Quantity("floor", "所在楼层", "Current floor", "urn:parktwin:def:elevator-floor", ("floor", "F", UNIT + "NUM"), COUNT),
        Quantity("charger_status", "充电状态（0空闲/1充电/2故障）", "Charger status (0 free, 1 charging, 2 fault)", SDM + "Transportation/EVChargingStation/status", (None, None, None), CATEGORY),
        Quantity("lamp_power", "灯具功率", "Lamp power", QK + "ActivePower", ("watt", "W", UNIT + "W")),
        Quantity("on_off", "开关状态（1开/0关）", "Switched on (1) or off (0)", SDM + "Streetlighting/Streetlight/powerState", (None, None, None), CATEGORY),
        Quantity("online", "在线状态（1在线/0离线）", "Online (1) or offline (0)", "urn:parktwin:def:online", (None, None, None), CATEGORY),
        # Counters of the local day (0 at midnight): what a gate controller reports and a dashboard sums.
        Quantity("people_today", "今日通行人次", "Pedestrian passages today", "urn:parktwin:def:passages-today", ("count", "人次", UNIT + "NUM"), COUNT),
        Quantity("vehicles_today", "今日通行车次", "Vehicle passages today", "urn:parktwin:def:vehicle-passages-today", ("count", "车次", UNIT + "NUM"), COUNT),
    )
}

# kind (or kind:meter_type) → (sensor name zh, sensor name en, quantities)
DEVICES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "meter:electricity": ("智能电表", "Smart electricity meter", ("energy", "power")),
    "meter:water": ("智能水表", "Smart water meter", ("water_volume",)),
    "meter:gas": ("智能燃气表", "Smart gas meter", ("gas_volume",)),
    "air_quality_sensor": ("空气质量监测仪", "Air quality monitor", ("pm25", "pm10", "temperature", "humidity")),
    "noise_sensor": ("噪声监测仪", "Noise monitor", ("laeq",)),
    "water_quality_sensor": ("水质监测仪", "Water quality monitor", ("ph", "dissolved_oxygen", "turbidity")),
    "parking_sensor": ("地磁车位检测器", "Parking occupancy sensor", ("occupancy",)),
    "elevator": ("电梯物联网监测终端", "Elevator IoT monitor", ("elevator_state", "floor")),
    "ev_charger": ("充电桩控制器", "EV charger controller", ("power", "charger_status")),
    "street_lamp": ("单灯控制器", "Street lamp controller", ("on_off", "lamp_power")),
    "smart_pole": ("智慧灯杆控制器", "Smart pole controller", ("on_off", "lamp_power")),
    "camera": ("视频监控摄像机", "Video camera", ("online",)),
    "access_gate:pedestrian": ("人行闸机控制器", "Turnstile controller", ("people_today",)),
    "access_gate:vehicle": ("车行门禁控制器", "Vehicle gate controller", ("vehicles_today",)),
}
# Kinds whose device depends on a property of the asset: (property, default).
SUBTYPES = {"meter": ("meter_type", "electricity"), "access_gate": ("gate_type", "pedestrian")}


@dataclass
class SeedReport:
    """How many entities one run created."""

    locations: int = 0
    sensors: int = 0
    observed_properties: int = 0
    datastreams: int = 0


def device_key(kind: str, properties: dict[str, Any]) -> str | None:
    """The DEVICES key of an asset (meters by meter_type, gates by gate_type), or None if it reports nothing."""
    subtype = SUBTYPES.get(kind)
    key = f"{kind}:{properties.get(subtype[0], subtype[1])}" if subtype else kind
    return key if key in DEVICES else None


def seed_demo_datastreams(session: Session, park: Park) -> SeedReport:
    """Create the park's demo Sensors, ObservedProperties and Datastreams (and asset Locations), idempotently."""
    report = SeedReport(locations=ensure_thing_locations(session, park_id=park.id))
    kinds = {key.split(":")[0] for key in DEVICES}
    assets = session.execute(
        select(Asset.id, Asset.code, Asset.kind, Asset.properties).where(Asset.park_id == park.id, Asset.kind.in_(kinds)).order_by(Asset.id)
    ).all()
    wanted = [(a, device_key(a.kind, a.properties or {})) for a in assets]
    wanted = [(a, key) for a, key in wanted if key is not None]
    sensors = _ensure(session, Sensor, park, {key for _, key in wanted}, _sensor_row, report, "sensors")
    quantities = {q for _, key in wanted for q in DEVICES[key][2]}
    observed = _ensure(session, ObservedProperty, park, quantities, _observed_row, report, "observed_properties")
    existing = set(
        session.execute(
            select(Datastream.thing_id, Datastream.properties["key"].astext)
            .join(Asset, Asset.id == Datastream.thing_id)
            .where(Asset.park_id == park.id)
        ).all()
    )
    rows = []
    for asset, key in wanted:
        for quantity_key in DEVICES[key][2]:
            if (asset.id, quantity_key) in existing:
                continue
            q = Q[quantity_key]
            name, symbol, definition = q.unit
            rows.append({
                "thing_id": asset.id, "sensor_id": sensors[key], "observed_property_id": observed[quantity_key],
                "name": f"{asset.code} {q.en}", "description": f"{q.zh} / {q.en} — {asset.code}",
                "observation_type": q.observation_type,
                "unit_of_measurement": {"name": name, "symbol": symbol, "definition": definition},
                "properties": {"key": quantity_key, "name_zh": q.zh, "name_en": q.en, "cumulative": q.cumulative},
            })
    if rows:
        created = session.scalars(insert(Datastream).returning(Datastream.id), rows).all()
        # Readings stored without a FeatureOfInterest resolve to this one (the Thing's Location).
        default_features_of_interest(session, created)
    report.datastreams = len(rows)
    session.flush()
    return report


def _ensure(session: Session, model: Any, park: Park, keys: set[str], make: Any, report: SeedReport, counter: str) -> dict[str, int]:
    """Ids of the park's entities keyed by properties.key, creating the missing ones."""
    found = dict(
        session.execute(
            select(model.properties["key"].astext, model.id).where(model.park_id == park.id, model.properties["key"].astext.in_(keys))
        ).all()
    )
    missing = sorted(keys - set(found))
    if missing:
        created = session.execute(insert(model).returning(model.properties["key"].astext, model.id), [make(park, k) for k in missing]).all()
        found.update(dict(created))
        setattr(report, counter, len(missing))
    return found


def _sensor_row(park: Park, key: str) -> dict[str, Any]:
    zh, en, quantities = DEVICES[key]
    return {
        "park_id": park.id, "name": f"{zh} / {en}", "description": f"{zh}（演示）/ {en} (demo)",
        "encoding_type": "application/json",
        "metadata_": {"device": key, "observes": list(quantities)},
        "properties": {"key": key, "name_zh": zh, "name_en": en},
    }


def _observed_row(park: Park, key: str) -> dict[str, Any]:
    q = Q[key]
    return {
        "park_id": park.id, "name": q.en, "definition": q.definition, "description": f"{q.zh} / {q.en}",
        "properties": {"key": key, "name_zh": q.zh, "name_en": q.en},
    }
