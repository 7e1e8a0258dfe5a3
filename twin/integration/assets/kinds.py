"""The asset kinds the twin knows: labels (zh/en), FIWARE Smart Data Models type, attribute model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from twin.errors import InvalidInput
from twin.integration.assets.attributes import ATTRIBUTE_MODELS, ATTRIBUTES_ADAPTER, KindAttributes, attribute_schema, kind_of


@dataclass(frozen=True, slots=True)
class AssetKind:
    """One kind of device: its code, names, FIWARE type (None where no model fits) and attributes."""

    code: str
    zh: str
    en: str
    fiware_type: str | None
    # FIWARE Device `category` values, for kinds served as generic Device entities.
    fiware_category: tuple[str, ...] = ()

    @property
    def attributes(self) -> type[KindAttributes]:
        return _MODELS[self.code]

    def public(self) -> dict[str, Any]:
        """The kind as served by GET /api/v1/asset-kinds."""
        return {
            "kind": self.code,
            "labels": {"zh": self.zh, "en": self.en},
            "fiware_type": self.fiware_type,
            "fiware_category": list(self.fiware_category),
            "attributes_schema": attribute_schema(self.attributes),
        }


KINDS: tuple[AssetKind, ...] = (
    AssetKind("camera", "视频监控摄像机", "Camera", "Device", ("sensor", "multimedia")),
    AssetKind("alarm_button", "一键报警按钮", "Emergency alarm button", "Device", ("sensor",)),
    AssetKind("intrusion_detector", "周界入侵探测器", "Intrusion detector", "Device", ("sensor",)),
    AssetKind("access_gate", "门禁闸机", "Access gate", "Device", ("actuator",)),
    AssetKind("parking_barrier", "停车道闸", "Parking barrier", "Device", ("actuator",)),
    AssetKind("fire_equipment", "消防设施", "Fire equipment", None),
    AssetKind("elevator", "电梯", "Elevator", "Device", ("sensor",)),
    AssetKind("meter", "计量表", "Meter", "Device", ("meter",)),
    AssetKind("street_lamp", "路灯", "Street lamp", "Streetlight"),
    AssetKind("smart_pole", "智慧灯杆", "Smart pole", "Device", ("actuator", "network")),
    AssetKind("ev_charger", "充电桩", "EV charger", "EVChargingStation"),
    AssetKind("parking_sensor", "车位检测器", "Parking sensor", "ParkingSpot"),
    AssetKind("air_quality_sensor", "空气质量监测站", "Air quality sensor", "AirQualityObserved"),
    AssetKind("water_quality_sensor", "水质监测站", "Water quality sensor", "WaterQualityObserved"),
    AssetKind("noise_sensor", "噪声监测仪", "Noise sensor", "NoiseLevelObserved"),
    AssetKind("display_screen", "信息发布屏", "Display screen", "Device", ("multimedia",)),
    AssetKind("broadcast_speaker", "广播音柱", "Broadcast speaker", "Device", ("multimedia",)),
    AssetKind("wifi_ap", "无线AP", "Wi-Fi access point", "Device", ("network",)),
    AssetKind("cell_5g", "5G基站", "5G cell", "Device", ("network",)),
    AssetKind("iot_gateway", "物联网网关", "IoT gateway", "Device", ("network",)),
    AssetKind("smart_locker", "智能快递柜", "Smart locker", "Device", ("actuator",)),
    AssetKind("unmanned_retail", "无人零售终端", "Unmanned retail", None),
    AssetKind("robot", "机器人", "Robot", "Robot"),  # dataModel.AutonomousMobileRobot
)
KINDS_BY_CODE: dict[str, AssetKind] = {k.code: k for k in KINDS}
_MODELS: dict[str, type[KindAttributes]] = {kind_of(m): m for m in ATTRIBUTE_MODELS}
assert set(_MODELS) == set(KINDS_BY_CODE), "every kind needs exactly one attribute model"


def get(code: str) -> AssetKind:
    """The kind with this code, or InvalidInput listing the known kinds."""
    try:
        return KINDS_BY_CODE[code]
    except KeyError:
        raise InvalidInput(f"unknown asset kind '{code}'; known kinds: {', '.join(KINDS_BY_CODE)}") from None


def validate_attributes(kind: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """Validate a kind's attributes; the cleaned dict (None dropped, extras kept) or InvalidInput."""
    get(kind)
    try:
        model = ATTRIBUTES_ADAPTER.validate_python({**attributes, "kind": kind})
    except ValidationError as exc:
        problems = [_problem(kind, e) for e in exc.errors(include_url=False)]
        raise InvalidInput("; ".join(p["message"] for p in problems), detail=problems) from None
    cleaned = model.model_dump(mode="json", exclude_none=True)
    cleaned.pop("kind", None)
    return cleaned


def _problem(kind: str, error: Any) -> dict[str, Any]:
    """A pydantic error as {field, message}: which attribute of which kind, its value and why."""
    location = [str(p) for p in error.get("loc", ())]
    if location and location[0] == kind:  # the union's tag comes first in the location
        location = location[1:]
    field = ".".join(location) or "attributes"
    value = error.get("input")
    shown = f" = {value!r}" if not isinstance(value, dict) else ""
    return {"field": field, "message": f"{kind} attribute '{field}'{shown}: {error.get('msg', 'invalid')}"}
