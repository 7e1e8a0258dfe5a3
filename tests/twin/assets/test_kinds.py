"""Asset kinds: labels, FIWARE types, attribute schemas and validation against the demo data."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_DIR
from twin.errors import InvalidInput
from twin.integration.assets import kinds

DEMO_KINDS = {
    "camera", "alarm_button", "intrusion_detector", "access_gate", "parking_barrier", "fire_equipment", "elevator",
    "meter", "street_lamp", "smart_pole", "ev_charger", "parking_sensor", "air_quality_sensor", "water_quality_sensor",
    "noise_sensor", "display_screen", "broadcast_speaker", "wifi_ap", "cell_5g", "iot_gateway", "smart_locker",
    "unmanned_retail", "robot",
}


def test_asset_kinds_endpoint_serves_labels_fiware_types_and_schemas(client: TestClient) -> None:
    body = client.get("/api/v1/asset-kinds").json()
    by_kind = {k["kind"]: k for k in body}
    assert set(by_kind) == DEMO_KINDS
    assert all(k["labels"]["zh"] and k["labels"]["en"] for k in body)
    assert by_kind["street_lamp"]["fiware_type"] == "Streetlight"
    assert by_kind["ev_charger"]["fiware_type"] == "EVChargingStation"
    assert by_kind["parking_sensor"]["fiware_type"] == "ParkingSpot"
    fov = by_kind["camera"]["attributes_schema"]["properties"]["fov_deg"]["anyOf"][0]
    assert (fov["minimum"], fov["maximum"]) == (1, 360)
    assert "kind" not in by_kind["camera"]["attributes_schema"]["properties"]
    status = by_kind["parking_sensor"]["attributes_schema"]["properties"]["status"]["anyOf"][0]
    assert set(status["enum"]) == {"free", "occupied", "closed", "unknown"}


def test_asset_kinds_need_a_token(anon_client: TestClient) -> None:
    assert anon_client.get("/api/v1/asset-kinds").status_code == 401


def test_every_demo_asset_validates() -> None:
    features = json.loads((DEMO_DIR / "assets.geojson").read_text(encoding="utf-8"))["features"]
    own = {"id", "kind", "name", "name_en", "feature"}
    for feature in features:
        props = feature["properties"]
        kinds.validate_attributes(props["kind"], {k: v for k, v in props.items() if k not in own})
    assert {f["properties"]["kind"] for f in features} <= DEMO_KINDS


@pytest.mark.parametrize(
    ("kind", "attributes", "words"),
    [
        ("camera", {"fov_deg": 500}, "camera attribute 'fov_deg' = 500: Input should be less than or equal to 360"),
        ("camera", {"resolution": "potato"}, "'resolution' = 'potato'"),
        ("meter", {"meter_type": "oil"}, "'meter_type' = 'oil'"),
        ("smart_pole", {"functions": ["lighting", "flying"]}, "'functions.1' = 'flying'"),
        ("parking_sensor", {"status": "taken"}, "'status' = 'taken'"),
        ("ev_charger", {"power_kw": -7}, "'power_kw' = -7: Input should be greater than 0"),
        ("teleporter", {}, "unknown asset kind 'teleporter'"),
    ],
)
def test_bad_attributes_say_which_field_and_why(kind: str, attributes: dict, words: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        kinds.validate_attributes(kind, attributes)
    assert words in caught.value.message


def test_known_attributes_are_coerced_and_extras_kept() -> None:
    cleaned = kinds.validate_attributes("camera", {"fov_deg": "90", "ptz": "true", "vendor": "海康威视"})
    assert cleaned == {"fov_deg": 90.0, "ptz": True, "vendor": "海康威视"}
