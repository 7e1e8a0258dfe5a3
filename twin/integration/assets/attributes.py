"""Kind-specific asset attributes as pydantic v2 models, one per kind, joined in a union on `kind`.

Every attribute is optional (imports often carry only some), but a value that is present must be
valid. Unknown extra attributes are kept as they are (extra="allow") and stored in the JSONB
properties. Names follow FIWARE Smart Data Models where one fits; units are in the names.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


class KindAttributes(BaseModel):
    """Base of every kind's attributes: extra attributes are kept, known ones validated."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)


Bool = bool | None
Radius = Annotated[float | None, Field(None, gt=0, description="coverage radius, m")]


class CameraAttributes(KindAttributes):
    kind: Literal["camera"] = "camera"
    heading_deg: float | None = Field(None, ge=0, le=360, description="view direction, degrees clockwise from north")
    fov_deg: float | None = Field(None, ge=1, le=360, description="horizontal field of view, degrees")
    range_m: float | None = Field(None, gt=0, description="useful viewing distance, m")
    resolution: Literal["D1", "720p", "960p", "1080p", "2K", "3MP", "4MP", "5MP", "4K", "8MP", "12MP"] | None = None
    hd: Bool = Field(None, description="high definition (≥ 720p)")
    ptz: Bool = Field(None, description="pan-tilt-zoom")
    retention_days: int | None = Field(None, ge=1, le=3650, description="video retention, days")
    mount_height_m: float | None = Field(None, ge=0, le=200, description="mounting height above the floor, m")


class AlarmButtonAttributes(KindAttributes):
    kind: Literal["alarm_button"] = "alarm_button"
    linked_camera: str | None = Field(None, description="code of the camera shown when the button is pressed")


class IntrusionDetectorAttributes(KindAttributes):
    kind: Literal["intrusion_detector"] = "intrusion_detector"
    detector_type: Literal["infrared_beam", "microwave", "pir", "vibration_cable", "electronic_fence", "video_analytics"] | None = None
    segment_length_m: float | None = Field(None, gt=0, description="guarded perimeter length, m")


class AccessGateAttributes(KindAttributes):
    kind: Literal["access_gate"] = "access_gate"
    gate_type: Literal["pedestrian", "vehicle", "door", "turnstile"] | None = None
    face_recognition: Bool = None
    plate_recognition: Bool = None


class ParkingBarrierAttributes(KindAttributes):
    kind: Literal["parking_barrier"] = "parking_barrier"
    direction: Literal["in", "out", "in_out"] | None = None
    plate_recognition: Bool = None


class FireEquipmentAttributes(KindAttributes):
    kind: Literal["fire_equipment"] = "fire_equipment"
    subtype: Literal[
        "extinguisher", "hydrant", "smoke_detector", "heat_detector", "sprinkler_valve", "fire_panel",
        "manual_call_point", "fire_door", "fire_pump",
    ] | None = None
    monitored: Bool = Field(None, description="connected to the fire monitoring system")


class ElevatorAttributes(KindAttributes):
    kind: Literal["elevator"] = "elevator"
    monitored: Bool = Field(None, description="connected to elevator safety monitoring")
    capacity_kg: float | None = Field(None, gt=0)


class MeterAttributes(KindAttributes):
    kind: Literal["meter"] = "meter"
    meter_type: Literal["electricity", "water", "gas", "heat"] | None = None
    smart: Bool = Field(None, description="remote reading")


class StreetLampAttributes(KindAttributes):
    kind: Literal["street_lamp"] = "street_lamp"
    smart: Bool = Field(None, description="remotely switched and dimmed")
    power_w: float | None = Field(None, gt=0)
    lamp_type: str | None = Field(None, description="LED, sodium...")


SmartPoleFunction = Literal["lighting", "broadcast", "base_station", "emergency_alarm", "data_collection", "display", "camera", "ev_charging"]


class SmartPoleAttributes(KindAttributes):
    kind: Literal["smart_pole"] = "smart_pole"
    functions: list[SmartPoleFunction] | None = Field(None, description="what the pole carries")
    power_w: float | None = Field(None, gt=0)
    height_m: float | None = Field(None, gt=0)


class EvChargerAttributes(KindAttributes):
    kind: Literal["ev_charger"] = "ev_charger"
    power_kw: float | None = Field(None, gt=0, le=1000)
    connector: Literal["GB/T AC", "GB/T DC", "Type 2", "CCS2", "CHAdeMO"] | None = None
    parking_space: str | None = Field(None, description="code of the parking space it serves")


class ParkingSensorAttributes(KindAttributes):
    kind: Literal["parking_sensor"] = "parking_sensor"
    status: Literal["free", "occupied", "closed", "unknown"] | None = Field(None, description="FIWARE ParkingSpot status")
    parking_space: str | None = Field(None, description="code of the parking space it watches")
    sensor_type: Literal["geomagnetic", "ultrasonic", "video", "radar", "infrared"] | None = None


class EnvironmentSensorAttributes(KindAttributes):
    measures: list[str] | None = Field(None, description="quantities measured (pm25, no2, ph, turbidity...)")


class AirQualitySensorAttributes(EnvironmentSensorAttributes):
    kind: Literal["air_quality_sensor"] = "air_quality_sensor"


class WaterQualitySensorAttributes(EnvironmentSensorAttributes):
    kind: Literal["water_quality_sensor"] = "water_quality_sensor"


class NoiseSensorAttributes(EnvironmentSensorAttributes):
    kind: Literal["noise_sensor"] = "noise_sensor"


class DisplayScreenAttributes(KindAttributes):
    kind: Literal["display_screen"] = "display_screen"
    publishing: Literal["sync", "async"] | None = Field(None, description="synchronous (live) or asynchronous (scheduled) publishing")
    size_in: float | None = Field(None, gt=0, description="diagonal, inches")
    outdoor: Bool = None


class BroadcastSpeakerAttributes(KindAttributes):
    kind: Literal["broadcast_speaker"] = "broadcast_speaker"
    power_w: float | None = Field(None, gt=0)
    emergency: Bool = Field(None, description="part of the emergency broadcast")


class WifiApAttributes(KindAttributes):
    kind: Literal["wifi_ap"] = "wifi_ap"
    radius_m: Radius
    generation: Literal["Wi-Fi 4", "Wi-Fi 5", "Wi-Fi 6", "Wi-Fi 6E", "Wi-Fi 7"] | None = None
    indoor: Bool = None


class Cell5gAttributes(KindAttributes):
    kind: Literal["cell_5g"] = "cell_5g"
    radius_m: Radius
    generation: Literal["4G", "5G", "5G-A"] | None = None
    operator: str | None = None


class IotGatewayAttributes(KindAttributes):
    kind: Literal["iot_gateway"] = "iot_gateway"
    radius_m: Radius
    protocol: Literal["NB-IoT", "LoRa", "LoRaWAN", "Zigbee", "BLE", "Wi-Fi", "4G", "5G"] | None = None
    generation: str | None = None


class SmartLockerAttributes(KindAttributes):
    kind: Literal["smart_locker"] = "smart_locker"
    compartments: int | None = Field(None, ge=1)


class UnmannedRetailAttributes(KindAttributes):
    kind: Literal["unmanned_retail"] = "unmanned_retail"
    payment: list[Literal["face", "qr_code", "card", "cash", "nfc"]] | None = None


class RobotAttributes(KindAttributes):
    kind: Literal["robot"] = "robot"
    robot_type: Literal["patrol", "delivery", "cleaning", "reception", "inspection", "disinfection"] | None = None


ATTRIBUTE_MODELS: tuple[type[KindAttributes], ...] = (
    CameraAttributes, AlarmButtonAttributes, IntrusionDetectorAttributes, AccessGateAttributes,
    ParkingBarrierAttributes, FireEquipmentAttributes, ElevatorAttributes, MeterAttributes,
    StreetLampAttributes, SmartPoleAttributes, EvChargerAttributes, ParkingSensorAttributes,
    AirQualitySensorAttributes, WaterQualitySensorAttributes, NoiseSensorAttributes,
    DisplayScreenAttributes, BroadcastSpeakerAttributes, WifiApAttributes, Cell5gAttributes,
    IotGatewayAttributes, SmartLockerAttributes, UnmannedRetailAttributes, RobotAttributes,
)


def kind_of(model: type[KindAttributes]) -> str:
    """The kind code a model validates (its `kind` literal's default)."""
    return str(model.model_fields["kind"].default)


@cache  # models are static and schema generation costs milliseconds; callers must not mutate it
def attribute_schema(model: type[KindAttributes]) -> dict[str, Any]:
    """JSON Schema of a kind's attributes, without the `kind` discriminator itself."""
    schema = model.model_json_schema()
    schema.get("properties", {}).pop("kind", None)
    schema["additionalProperties"] = True
    return schema


# The discriminated union: pydantic picks the model by `kind` and reports errors against it alone.
AnyKindAttributes = Annotated[Union[ATTRIBUTE_MODELS], Field(discriminator="kind")]  # noqa: UP007
ATTRIBUTES_ADAPTER: TypeAdapter[KindAttributes] = TypeAdapter(AnyKindAttributes)
