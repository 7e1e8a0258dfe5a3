"""Create-Update-Delete: round trips, deep insert (and its rollback), linking, PATCH/PUT/DELETE, $ref, dataArray."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.twin.sta.conftest import PM25, STA, World, observation_count
from twin.db.models import Asset, DatastreamLatest, FeatureOfInterest, HistoricalLocation, Location, Observation, Sensor

POINT = {"type": "Point", "coordinates": [104.0650, 30.5450, 3.0]}
UNIT = {"name": "degree Celsius", "symbol": "°C", "definition": "http://qudt.org/vocab/unit/DEG_C"}
MEASUREMENT = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def _thing(**extra: Any) -> dict[str, Any]:
    return {
        "name": "会议室温湿度计",
        "description": "Meeting room thermometer",
        "properties": {"park": "sta-park", "kind": "air_quality_sensor", "code": "TH-7", "floor": 3},
        "Locations": [{"name": "三楼会议室", "description": "Meeting room, 3F", "encodingType": "application/geo+json", "location": POINT}],
        "Datastreams": [{
            "name": "TH-7 temperature", "description": "room temperature", "observationType": MEASUREMENT, "unitOfMeasurement": UNIT,
            "Sensor": {"name": "DHT22", "description": "thermo-hygrometer", "encodingType": "application/pdf", "metadata": "https://example.invalid/dht22.pdf"},
            "ObservedProperty": {"name": "Temperature", "definition": "http://qudt.org/vocab/quantitykind/Temperature", "description": "air temperature"},
            "Observations": [{"phenomenonTime": "2026-03-01T08:00:00Z", "result": 22.5}],
        }],
        **extra,
    }


def test_deep_insert_creates_everything_in_one_request(client: TestClient, world: World, db: Session) -> None:
    response = client.post(f"{STA}/Things", json=_thing(), headers=world.headers["integrator"])
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == created["@iot.selfLink"]
    thing_id = created["@iot.id"]
    asset = db.get(Asset, thing_id)
    assert asset is not None and asset.code == "TH-7" and asset.kind == "air_quality_sensor" and asset.height == 3.0
    assert asset.properties["floor"] == 3 and asset.properties["description"] == "Meeting room thermometer"
    assert created["properties"]["floor"] == 3 and created["description"] == "Meeting room thermometer"
    expanded = client.get(f"{STA}/Things({thing_id})?$expand=Locations,HistoricalLocations,Datastreams($expand=Sensor,ObservedProperty,Observations($expand=FeatureOfInterest))").json()
    assert expanded["Locations"][0]["location"] == POINT
    assert len(expanded["HistoricalLocations"]) == 1
    [datastream] = expanded["Datastreams"]
    assert datastream["Sensor"]["name"] == "DHT22" and datastream["ObservedProperty"]["name"] == "Temperature"
    [observation] = datastream["Observations"]
    assert observation["result"] == 22.5
    assert observation["FeatureOfInterest"]["feature"]["coordinates"] == POINT["coordinates"][:2]


def test_deep_insert_is_all_or_nothing(client: TestClient, world: World, db: Session) -> None:
    broken = _thing()
    broken["Datastreams"][0]["ObservedProperty"].pop("definition")
    sensors_before = len(db.scalars(select(Sensor.id)).all())
    response = client.post(f"{STA}/Things", json=broken, headers=world.headers["integrator"])
    assert response.status_code == 400 and "definition" in response.json()["error"]["message"]
    assert db.scalar(select(Asset.id).where(Asset.code == "TH-7")) is None
    assert db.scalar(select(Location.id).where(Location.name == "三楼会议室")) is None
    assert len(db.scalars(select(Sensor.id)).all()) == sensors_before


def test_post_under_a_navigation_path_and_link_by_id(client: TestClient, world: World) -> None:
    thing_id = world.things["LAMP-1"]
    sensor_id = client.get(f"{STA}/Datastreams({world.streams['LAMP-1:lamp_power']})/Sensor").json()["@iot.id"]
    observed_id = client.get(f"{STA}/Datastreams({world.streams['AQ-1:temperature']})/ObservedProperty").json()["@iot.id"]
    body = {"name": "lamp housing temperature", "description": "inside the lamp head", "observationType": MEASUREMENT,
            "unitOfMeasurement": UNIT, "Sensor": {"@iot.id": sensor_id}, "ObservedProperty": {"@iot.id": observed_id}}
    response = client.post(f"{STA}/Things({thing_id})/Datastreams", json=body, headers=world.headers["integrator"])
    assert response.status_code == 201, response.text
    datastream = response.json()
    assert client.get(f"{STA}/Datastreams({datastream['@iot.id']})/Thing").json()["@iot.id"] == thing_id
    assert client.get(f"{STA}/Datastreams({datastream['@iot.id']})/Sensor").json()["@iot.id"] == sensor_id
    unknown = client.post(f"{STA}/Things({thing_id})/Datastreams", json={**body, "Sensor": {"@iot.id": 99999999}}, headers=world.headers["integrator"])
    assert unknown.status_code == 400 and "99999999" in unknown.json()["error"]["message"]


def test_observation_without_feature_of_interest_reuses_the_things_location(client: TestClient, world: World, db: Session) -> None:
    ds = world.streams["MTR-1:power"]
    first = client.post(f"{STA}/Datastreams({ds})/Observations", json={"phenomenonTime": "2026-03-01T09:00:00Z", "result": 3.25}, headers=world.headers["integrator"])
    second = client.post(f"{STA}/Observations", json={"phenomenonTime": "2026-03-01T09:15:00Z", "result": 3.5, "Datastream": {"@iot.id": ds}}, headers=world.headers["integrator"])
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    foi_a = client.get(f"{STA}/Observations({first.json()['@iot.id']})/FeatureOfInterest").json()
    foi_b = client.get(f"{STA}/Observations({second.json()['@iot.id']})/FeatureOfInterest").json()
    assert foi_a["@iot.id"] == foi_b["@iot.id"]
    assert foi_a["feature"]["coordinates"] == [104.07, 30.55]
    latest = db.get(DatastreamLatest, ds)
    assert latest is not None and latest.result_number == 3.5
    without_time = client.post(f"{STA}/Datastreams({ds})/Observations", json={"result": 4}, headers=world.headers["integrator"])
    assert without_time.status_code == 201 and without_time.json()["phenomenonTime"].endswith("Z")


def test_post_to_every_kind_of_navigation_collection(client: TestClient, world: World, db: Session) -> None:
    headers = world.headers["integrator"]
    location = client.post(f"{STA}/Locations", json={"name": "北门", "description": "north gate", "encodingType": "application/geo+json",
                                                     "location": {"type": "Point", "coordinates": [104.066, 30.546]}}, headers=headers).json()
    thing = client.post(f"{STA}/Locations({location['@iot.id']})/Things", json={"name": "北门闸机", "description": "gate",
                                                                                 "properties": {"park": "sta-park", "kind": "access_gate"}}, headers=headers)
    assert thing.status_code == 201, thing.text
    thing_id = thing.json()["@iot.id"]
    assert [loc["@iot.id"] for loc in client.get(f"{STA}/Things({thing_id})/Locations").json()["value"]] == [location["@iot.id"]]
    history = client.post(f"{STA}/Things({thing_id})/HistoricalLocations", json={"time": "2025-12-31T23:00:00Z"}, headers=headers)
    assert history.status_code == 201, history.text
    extra = client.post(f"{STA}/HistoricalLocations({history.json()['@iot.id']})/Locations", json={
        "name": "旧位置", "description": "old", "encodingType": "application/geo+json", "location": {"type": "Point", "coordinates": [104.067, 30.547]}}, headers=headers)
    assert extra.status_code == 201, extra.text
    remembered = client.get(f"{STA}/HistoricalLocations({history.json()['@iot.id']})?$expand=Locations,Thing($select=id)").json()
    assert [loc["name"] for loc in remembered["Locations"]] == ["旧位置"] and remembered["Thing"]["@iot.id"] == thing_id
    assert client.post(f"{STA}/Datastreams({world.streams['MTR-1:power']})/Thing", json={"name": "x"}, headers=headers).status_code == 400


def test_a_repeated_reading_is_stored_once(client: TestClient, world: World, db: Session) -> None:
    ds = world.streams["MTR-1:power"]
    body = {"phenomenonTime": "2026-03-01T10:00:00+08:00", "result": 7}
    first = client.post(f"{STA}/Datastreams({ds})/Observations", json=body, headers=world.headers["integrator"])
    again = client.post(f"{STA}/Datastreams({ds})/Observations", json=body, headers=world.headers["integrator"])
    assert first.json()["@iot.id"] == again.json()["@iot.id"]
    assert observation_count(db, ds) == 1
    different = client.post(f"{STA}/Datastreams({ds})/Observations", json={**body, "result": 8}, headers=world.headers["integrator"])
    assert different.status_code == 409


def test_patch_put_and_delete_round_trips(client: TestClient, world: World, db: Session) -> None:
    headers = world.headers["integrator"]
    sensor = client.post(f"{STA}/Sensors", json={"name": "s", "description": "d", "encodingType": "text/html", "metadata": "https://x.invalid"}, headers=headers).json()
    url = f"{STA}/Sensors({sensor['@iot.id']})"
    patched = client.patch(url, json={"description": "better", "properties": {"vendor": "海康"}}, headers=headers)
    assert patched.status_code == 200 and patched.json()["description"] == "better" and patched.json()["name"] == "s"
    incomplete = client.put(url, json={"name": "t"}, headers=headers)
    assert incomplete.status_code == 400 and "missing" in incomplete.json()["error"]["message"]
    replaced = client.put(url, json={"name": "t", "description": "e", "encodingType": "application/pdf", "metadata": {"doc": 1}}, headers=headers).json()
    assert replaced["properties"] == {} and replaced["metadata"] == {"doc": 1}
    assert client.delete(url, headers=headers).status_code == 200
    assert client.get(url).status_code == 404
    assert client.patch(url, json={"name": "x"}, headers=headers).status_code == 404


def test_patch_thing_maps_onto_the_asset(client: TestClient, world: World, db: Session) -> None:
    thing_id = world.things["CAM-1"]
    response = client.patch(f"{STA}/Things({thing_id})", json={"name": "东门摄像机", "properties": {"kind": "camera", "fov_deg": 90}}, headers=world.headers["integrator"])
    assert response.status_code == 200, response.text
    asset = db.get(Asset, thing_id)
    assert asset is not None
    db.refresh(asset)
    assert asset.name == "东门摄像机" and asset.properties["fov_deg"] == 90
    bad = client.patch(f"{STA}/Things({thing_id})", json={"properties": {"fov_deg": 999}}, headers=world.headers["integrator"])
    assert bad.status_code == 400 and "fov_deg" in bad.json()["error"]["message"]
    renamed = client.patch(f"{STA}/Things({thing_id})", json={"properties": {"code": "OTHER"}}, headers=world.headers["integrator"])
    assert renamed.status_code == 400


def test_new_location_moves_the_thing_and_records_history(client: TestClient, world: World, db: Session) -> None:
    thing_id = world.things["CAM-1"]
    location = {"name": "新位置", "description": "moved", "encodingType": "application/geo+json", "location": {"type": "Point", "coordinates": [104.0655, 30.5455]}}
    response = client.patch(f"{STA}/Things({thing_id})", json={"Locations": [location]}, headers=world.headers["integrator"])
    assert response.status_code == 200, response.text
    locations = client.get(f"{STA}/Things({thing_id})/Locations").json()["value"]
    assert [loc["name"] for loc in locations] == ["新位置"]
    assert len(db.scalars(select(HistoricalLocation.id).where(HistoricalLocation.thing_id == thing_id)).all()) == 1
    x, y = db.execute(select(Asset.geom.ST_X(), Asset.geom.ST_Y()).where(Asset.id == thing_id)).one()
    assert (round(x, 6), round(y, 6)) == (104.0655, 30.5455)


def test_patch_observation_updates_latest_and_delete_recomputes_it(client: TestClient, world: World, db: Session) -> None:
    ds = world.streams["AQ-1:pm25"]
    newest = client.get(f"{STA}/Datastreams({ds})/Observations?$orderby=phenomenonTime desc&$top=2").json()["value"]
    response = client.patch(f"{STA}/Observations({newest[0]['@iot.id']})", json={"result": 99.5}, headers=world.headers["integrator"])
    assert response.status_code == 200 and response.json()["result"] == 99.5
    db.expire_all()
    assert db.get(DatastreamLatest, ds).result_number == 99.5  # type: ignore[union-attr]
    assert client.delete(f"{STA}/Observations({newest[0]['@iot.id']})", headers=world.headers["integrator"]).status_code == 200
    db.expire_all()
    latest = db.get(DatastreamLatest, ds)
    assert latest is not None and latest.observation_id == newest[1]["@iot.id"] and latest.result_number == PM25[-2]


def test_deleting_a_thing_deletes_its_datastreams_and_observations(client: TestClient, world: World, db: Session) -> None:
    thing_id, ds = world.things["AQ-1"], world.streams["AQ-1:pm25"]
    assert client.delete(f"{STA}/Things({thing_id})", headers=world.headers["integrator"]).status_code == 200
    assert client.get(f"{STA}/Datastreams({ds})").status_code == 404
    assert observation_count(db, ds) == 0
    assert db.get(Asset, thing_id) is None


def test_ref_links(client: TestClient, world: World, db: Session) -> None:
    headers = world.headers["integrator"]
    thing_id = world.things["MTR-1"]
    extra = client.post(f"{STA}/Locations", json={"name": "配电房", "description": "switch room", "encodingType": "application/geo+json",
                                                  "location": {"type": "Point", "coordinates": [104.0701, 30.5501]}}, headers=headers).json()
    assert client.post(f"{STA}/Things({thing_id})/Locations/$ref", json={"@iot.id": extra["@iot.id"]}, headers=headers).status_code == 204
    linked = {loc["@iot.id"] for loc in client.get(f"{STA}/Things({thing_id})/Locations").json()["value"]}
    assert extra["@iot.id"] in linked and len(linked) == 2
    assert client.delete(f"{STA}/Things({thing_id})/Locations({extra['@iot.id']})/$ref", headers=headers).status_code == 200
    assert {loc["@iot.id"] for loc in client.get(f"{STA}/Things({thing_id})/Locations").json()["value"]} == linked - {extra["@iot.id"]}
    ds = world.streams["MTR-1:power"]
    new_sensor = client.post(f"{STA}/Sensors", json={"name": "CT clamp", "description": "d", "encodingType": "text/html", "metadata": "m"}, headers=headers).json()
    assert client.put(f"{STA}/Datastreams({ds})/Sensor/$ref", json={"@iot.id": new_sensor["@iot.id"]}, headers=headers).status_code == 204
    assert client.get(f"{STA}/Datastreams({ds})/Sensor").json()["name"] == "CT clamp"
    assert client.delete(f"{STA}/Datastreams({ds})/Sensor({new_sensor['@iot.id']})/$ref", headers=headers).status_code == 400


def test_validation_errors_are_400(client: TestClient, world: World) -> None:
    headers = world.headers["integrator"]
    cases = [
        ("Things", {"name": "x"}, "description"),
        ("Things", {**_thing(), "colour": "red"}, "colour"),
        ("Things", {**_thing(), "properties": {"park": "sta-park", "kind": "toaster"}}, "toaster"),
        ("Locations", {"name": "x", "description": "y", "encodingType": "application/geo+json", "location": {"type": "Point", "coordinates": [500, 0]}}, "WGS84"),
        ("Locations", {"name": "x", "description": "y", "encodingType": "text/plain", "location": POINT}, "encodingType"),
        ("Observations", {"result": 1, "phenomenonTime": "yesterday", "Datastream": {"@iot.id": world.streams["MTR-1:power"]}}, "phenomenonTime"),
        ("Observations", {"result": 1, "phenomenonTime": "2026-03-01T08:00:00"}, "Datastream"),
        ("Datastreams", {"name": "d", "description": "d", "observationType": MEASUREMENT, "unitOfMeasurement": "°C", "Thing": {"@iot.id": world.things["MTR-1"]}}, "unitOfMeasurement"),
        ("Things(1)", {"name": "x", "description": "y"}, "collection"),
    ]
    for path, body, words in cases:
        response = client.post(f"{STA}/{path}", json=body, headers=headers)
        assert response.status_code == 400, (path, body, response.text)
        assert words in response.json()["error"]["message"], (words, response.json())
    not_json = client.post(f"{STA}/Things", content=b"{not json", headers={**headers, "content-type": "application/json"})
    assert not_json.status_code == 400


def test_create_observations_data_array(client: TestClient, world: World, db: Session) -> None:
    ds_power, ds_lamp = world.streams["MTR-1:power"], world.streams["LAMP-1:lamp_power"]
    foi = db.scalar(select(FeatureOfInterest.id).limit(1))
    body = [
        {"Datastream": {"@iot.id": ds_power}, "components": ["phenomenonTime", "result", "FeatureOfInterest/id"], "dataArray@iot.count": 3,
         "dataArray": [["2026-03-01T08:00:00Z", 1.5, foi], ["2026-03-01T08:15:00Z", 2.5, foi], ["2026-03-01T08:30:00Z", 3.5, 99999999]]},
        {"Datastream": {"@iot.id": ds_lamp}, "components": ["phenomenonTime", "result", "resultTime"],
         "dataArray": [["2026-03-01T08:00:00Z", 120, "2026-03-01T08:00:05Z"], ["2026-03-01T08:00:00Z", 120, "2026-03-01T08:00:05Z"], ["bad"]]},
    ]
    response = client.post(f"{STA}/CreateObservations", json=body, headers=world.headers["integrator"])
    assert response.status_code == 201, response.text
    links = response.json()
    assert len(links) == 6
    assert links[0].startswith("http://testserver/sta/v1.1/Observations(") and links[1] != links[0]
    assert links[2] == "error" and links[5] == "error"
    assert links[3] == links[4]  # the repeated reading is stored once
    assert observation_count(db, ds_power) == 2 and observation_count(db, ds_lamp) == 1
    lamp = db.scalars(select(Observation).where(Observation.datastream_id == ds_lamp)).one()
    assert lamp.feature_of_interest_id is not None and lamp.result_time is not None
    bad = client.post(f"{STA}/CreateObservations", json=[{"Datastream": {"@iot.id": ds_power}, "components": ["colour"], "dataArray": []}], headers=world.headers["integrator"])
    assert bad.status_code == 400
