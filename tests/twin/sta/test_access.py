"""Roles and park scope on the SensorThings API: viewers read, integrators write, scoped tokens see one park."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.twin.sta.conftest import STA, World


def test_reads_need_a_token_and_writes_the_integrator_role(client: TestClient, world: World) -> None:
    assert client.get(f"{STA}/Things", headers={"Authorization": "Bearer pt_unknown"}).status_code == 401
    client.headers.pop("Authorization")
    assert client.get(f"{STA}/Things").status_code == 401
    body = {"name": "s", "description": "d", "encodingType": "text/html", "metadata": "m"}
    assert client.post(f"{STA}/Sensors", json=body, headers=world.headers["viewer"]).status_code == 403
    assert client.delete(f"{STA}/Things({world.things['CAM-1']})", headers=world.headers["viewer"]).status_code == 403
    assert client.post(f"{STA}/Sensors", json=body, headers=world.headers["admin"]).status_code == 201
    assert client.post(f"{STA}/Sensors", json=body, headers=world.headers["integrator"]).status_code == 201


def test_a_park_scoped_token_sees_only_its_park(client: TestClient, world: World) -> None:
    headers = world.headers["park_viewer"]
    names = {t["name"] for t in client.get(f"{STA}/Things", headers=headers).json()["value"]}
    assert names == {"CAM-1设备", "AQ-1设备", "MTR-1设备", "LAMP-1设备"}
    assert client.get(f"{STA}/Things({world.things['CAM-9']})", headers=headers).status_code == 404
    assert client.get(f"{STA}/Datastreams({world.streams['CAM-9:online']})/Observations", headers=headers).status_code == 404
    observations = client.get(f"{STA}/Observations?$top=1000&$expand=Datastream($select=name)", headers=headers).json()["value"]
    assert observations and all(not o["Datastream"]["name"].startswith("CAM-9") for o in observations)
    for entity_set in ("Sensors", "ObservedProperties", "Locations", "FeaturesOfInterest", "Datastreams"):
        visible = client.get(f"{STA}/{entity_set}?$top=1000&$count=true", headers=headers).json()
        everything = client.get(f"{STA}/{entity_set}?$top=1000&$count=true", headers=world.headers["viewer"]).json()
        assert 0 < visible["@iot.count"] < everything["@iot.count"], entity_set
    assert client.get(f"{STA}/Things?$filter=properties/code eq 'CAM-9'", headers=headers).json()["value"] == []
    latest = client.get(f"{STA}/Latest?things={world.things['CAM-9']}", headers=headers).json()
    assert latest["value"] == []
    expanded = client.get(f"{STA}/Sensors?$expand=Datastreams&$top=1000", headers=headers).json()["value"]
    assert all(not d["name"].startswith("CAM-9") for s in expanded for d in s["Datastreams"])


def test_a_park_scoped_integrator_cannot_touch_another_park(client: TestClient, world: World) -> None:
    headers = world.headers["other_integrator"]
    ds = world.streams["AQ-1:pm25"]
    assert client.post(f"{STA}/Datastreams({ds})/Observations", json={"result": 1}, headers=headers).status_code == 404
    posted = client.post(f"{STA}/Observations", json={"result": 1, "Datastream": {"@iot.id": ds}}, headers=headers)
    assert posted.status_code == 400
    assert client.patch(f"{STA}/Things({world.things['AQ-1']})", json={"name": "x"}, headers=headers).status_code == 404
    assert client.delete(f"{STA}/Datastreams({ds})", headers=headers).status_code == 404
    array = [{"Datastream": {"@iot.id": ds}, "components": ["phenomenonTime", "result"], "dataArray": [["2026-03-02T00:00:00Z", 1]]}]
    assert client.post(f"{STA}/CreateObservations", json=array, headers=headers).json() == ["error"]
    own = client.post(f"{STA}/Datastreams({world.streams['CAM-9:online']})/Observations", json={"result": 1, "phenomenonTime": "2026-03-02T00:00:00Z"}, headers=headers)
    assert own.status_code == 201
    thing = {"name": "gate", "description": "d", "properties": {"kind": "access_gate", "park": "sta-park"}}
    assert client.post(f"{STA}/Things", json=thing, headers=headers).status_code == 400
    thing["properties"]["park"] = "sta-other"
    created = client.post(f"{STA}/Things", json=thing, headers=headers)
    assert created.status_code == 201, created.text  # placed at the park centre without a Location
