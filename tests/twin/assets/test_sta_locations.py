"""The registry and SensorThings agree on where a Thing is: creating or moving an asset updates its Location."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import bearer

pytestmark = pytest.mark.usefixtures("demo_park")
PARK = "tianfu-demo"


def test_created_asset_has_a_location_and_a_move_is_history(client: TestClient, tokens: dict[str, str]) -> None:
    writer = bearer(tokens["integrator"])
    body = {"code": "TEST-NOISE-1", "kind": "noise_sensor", "name": "测试噪声", "lon": 104.0650, "lat": 30.5385, "height": 3.0}
    created = client.post(f"/api/v1/parks/{PARK}/assets", json=body, headers=writer)
    assert created.status_code == 201, created.text
    thing = client.get("/sta/v1.1/Things", params={"$filter": "properties/code eq 'TEST-NOISE-1'", "$expand": "Locations"}).json()["value"][0]
    assert thing["Locations"][0]["location"]["coordinates"][:2] == pytest.approx([104.0650, 30.5385])
    moved = client.patch(f"/api/v1/parks/{PARK}/assets/TEST-NOISE-1", json={"lon": 104.0660, "lat": 30.5390}, headers=writer)
    assert moved.status_code == 200, moved.text
    after = client.get(f"/sta/v1.1/Things({thing['@iot.id']})", params={"$expand": "Locations,HistoricalLocations($expand=Locations)"}).json()
    assert after["Locations"][0]["location"]["coordinates"][:2] == pytest.approx([104.0660, 30.5390])
    assert len(after["HistoricalLocations"]) == 1
    assert after["HistoricalLocations"][0]["Locations"][0]["@iot.id"] == after["Locations"][0]["@iot.id"]
