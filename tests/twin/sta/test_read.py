"""Reading SensorThings resources: service root, entity sets, navigation, properties, $ref, query options, paging."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from tests.twin.sta.conftest import PM25, STA, T0, World


def test_service_root_lists_entity_sets_and_conformance(client: TestClient, world: World) -> None:
    body = client.get(STA).json()
    names = {e["name"]: e["url"] for e in body["value"]}
    assert set(names) == {"Things", "Locations", "HistoricalLocations", "Datastreams", "Sensors", "ObservedProperties", "Observations", "FeaturesOfInterest"}
    assert names["Things"] == "http://testserver/sta/v1.1/Things"
    conformance = body["serverSettings"]["conformance"]
    for cls in ("datamodel", "request-data", "create-update-delete", "data-array/data-array", "create-observations-via-mqtt/observations-creation"):
        assert f"http://www.opengis.net/spec/iot_sensing/1.1/req/{cls}" in conformance
    mqtt = body["serverSettings"]["http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/observations-creation"]
    assert mqtt["endpoints"][0].startswith("mqtt://")


def test_a_thing_is_an_asset_with_links(client: TestClient, world: World) -> None:
    thing_id = world.things["AQ-1"]
    thing = client.get(f"{STA}/Things({thing_id})").json()
    assert thing["@iot.id"] == thing_id
    assert thing["@iot.selfLink"] == f"http://testserver/sta/v1.1/Things({thing_id})"
    assert thing["name"] == "AQ-1设备"
    assert thing["properties"]["kind"] == "air_quality_sensor" and thing["properties"]["code"] == "AQ-1"
    assert thing["Datastreams@iot.navigationLink"].endswith(f"/Things({thing_id})/Datastreams")
    datastreams = client.get(thing["Datastreams@iot.navigationLink"]).json()["value"]
    assert {d["properties"]["key"] for d in datastreams} == {"pm25", "pm10", "temperature", "humidity"}
    locations = client.get(f"{STA}/Things({thing_id})/Locations").json()["value"]
    assert locations[0]["location"] == {"type": "Point", "coordinates": [104.061, 30.541, 1.5]}


def test_navigation_to_single_entities_and_back(client: TestClient, world: World) -> None:
    ds = world.streams["AQ-1:pm25"]
    thing = client.get(f"{STA}/Datastreams({ds})/Thing").json()
    assert thing["@iot.id"] == world.things["AQ-1"]
    sensor = client.get(f"{STA}/Datastreams({ds})/Sensor").json()
    assert "Air quality monitor" in sensor["name"]
    observed = client.get(f"{STA}/Datastreams({ds})/ObservedProperty").json()
    assert observed["definition"].endswith("pm25") and observed["properties"]["name_zh"] == "PM2.5浓度"
    datastream = client.get(f"{STA}/Datastreams({ds})").json()
    assert datastream["unitOfMeasurement"]["symbol"] == "µg/m³"
    assert datastream["phenomenonTime"] == "2026-03-01T08:00:00Z/2026-03-01T08:55:00Z"
    first = client.get(f"{STA}/Datastreams({ds})/Observations?$top=1").json()["value"][0]
    assert first["phenomenonTime"] == "2026-03-01T08:00:00Z" and first["result"] == PM25[0]
    back = client.get(f"{STA}/Observations({first['@iot.id']})/Datastream/Thing/Locations").json()
    assert len(back["value"]) == 1


def test_property_value_and_ref_paths(client: TestClient, world: World) -> None:
    ds = world.streams["AQ-1:pm25"]
    obs = client.get(f"{STA}/Datastreams({ds})/Observations?$top=1&$orderby=phenomenonTime desc").json()["value"][0]
    assert client.get(f"{STA}/Observations({obs['@iot.id']})/result").json() == {"result": PM25[-1]}
    raw = client.get(f"{STA}/Observations({obs['@iot.id']})/result/$value")
    assert raw.text == "11" and raw.headers["content-type"].startswith("text/plain")
    refs = client.get(f"{STA}/Things({world.things['AQ-1']})/Datastreams/$ref?$count=true").json()
    assert refs["@iot.count"] == 4 and all(set(r) == {"@iot.selfLink"} for r in refs["value"])
    assert client.get(f"{STA}/Datastreams({ds})/Thing/$ref").json() == {"@iot.selfLink": f"http://testserver/sta/v1.1/Things({world.things['AQ-1']})"}


def test_select_and_nested_expand(client: TestClient, world: World) -> None:
    thing_id = world.things["AQ-1"]
    query = "$select=name,id&$expand=Datastreams($select=name;$filter=properties/key eq 'pm25';$expand=Observations($top=2;$orderby=phenomenonTime desc;$count=true),ObservedProperty($select=name))"
    thing = client.get(f"{STA}/Things({thing_id})?{query}").json()
    assert set(thing) == {"@iot.id", "@iot.selfLink", "name", "Datastreams"}
    [datastream] = thing["Datastreams"]
    assert set(datastream) == {"name", "Observations", "Observations@iot.count", "Observations@iot.nextLink", "ObservedProperty"}
    assert datastream["ObservedProperty"] == {"name": "PM2.5 concentration"}
    assert [o["result"] for o in datastream["Observations"]] == [PM25[-1], PM25[-2]]
    assert datastream["Observations@iot.count"] == len(PM25)
    next_link = datastream["Observations@iot.nextLink"]
    assert "$skip=2" in next_link and "$top=2" in next_link
    following = client.get(next_link.replace("http://testserver", "")).json()
    assert [o["result"] for o in following["value"]] == [PM25[-3], PM25[-4]]


def test_expand_with_path_form_and_to_one(client: TestClient, world: World) -> None:
    body = client.get(f"{STA}/Observations?$filter=Datastream/id eq {world.streams['AQ-1:pm25']}&$top=3&$expand=Datastream/Thing($select=name),FeatureOfInterest").json()
    assert len(body["value"]) == 3
    for observation in body["value"]:
        assert observation["Datastream"]["Thing"] == {"name": "AQ-1设备"}
        assert observation["FeatureOfInterest"]["feature"]["type"] == "Point"


def test_orderby_top_skip_count_and_paging_without_gaps(client: TestClient, world: World) -> None:
    ds = world.streams["AQ-1:pm25"]
    ordered = client.get(f"{STA}/Datastreams({ds})/Observations?$orderby=result desc,phenomenonTime&$select=result").json()["value"]
    assert [o["result"] for o in ordered] == sorted(PM25, reverse=True)
    seen: list[int] = []
    link: str | None = f"{STA}/Datastreams({ds})/Observations?$top=5&$count=true&$orderby=result"
    pages = 0
    while link:
        page = client.get(link.replace("http://testserver", "")).json()
        assert page["@iot.count"] == len(PM25)
        seen += [o["@iot.id"] for o in page["value"]]
        link = page.get("@iot.nextLink")
        pages += 1
    assert pages == 3 and len(seen) == len(set(seen)) == len(PM25)
    skipped = client.get(f"{STA}/Datastreams({ds})/Observations?$skip=10").json()["value"]
    assert [o["result"] for o in skipped] == PM25[10:]


def test_top_is_capped_and_defaults_to_100(client: TestClient, world: World, settings: object) -> None:
    body = client.get(f"{STA}/Observations?$top=100000000").json()
    assert len(body["value"]) <= settings.max_page_size  # type: ignore[attr-defined]
    next_link = client.get(f"{STA}/Observations?$top=2").json()["@iot.nextLink"]
    assert parse_qs(urlsplit(next_link).query)["$top"] == ["2"]


def test_result_format_data_array(client: TestClient, world: World) -> None:
    ds = world.streams["AQ-1:pm25"]
    body = client.get(f"{STA}/Datastreams({ds})/Observations?$resultFormat=dataArray&$select=phenomenonTime,result").json()
    [group] = body["value"]
    assert group["components"] == ["id", "phenomenonTime", "result"]
    assert group["dataArray@iot.count"] == len(PM25)
    assert [row[2] for row in group["dataArray"]] == PM25
    assert group["Datastream@iot.navigationLink"].endswith(f"Datastreams({ds})")


def test_errors_are_4xx_with_messages(client: TestClient, world: World) -> None:
    cases = {
        f"{STA}/Things(999999)": 404,
        f"{STA}/Things(999999)/Datastreams": 404,
        f"{STA}/Gadgets": 404,
        f"{STA}/Things(abc)": 400,
        f"{STA}/Things/Datastreams": 400,
        f"{STA}/Things?$filter=name eq": 400,
        f"{STA}/Things?$filter=colour eq 'red'": 400,
        f"{STA}/Things?$filter=name eq 5": 400,
        f"{STA}/Things?$select=colour": 400,
        f"{STA}/Things?$expand=Gadgets": 400,
        f"{STA}/Things?$top=-1": 400,
        f"{STA}/Things?$frobnicate=1": 400,
        f"{STA}/Things?$orderby=Datastreams/name": 400,
        f"{STA}/Locations?$filter=st_within(location, geography'POLYGON((1 1, 2 2')": 400,
        f"{STA}/Things?$filter=unknownfn(name) eq 1": 400,
        f"{STA}/Things?$expand=Datastreams/Thing/Datastreams/Thing/Datastreams/Thing": 400,
        f"{STA}/Things?$expand=Datastreams($expand=Thing($expand=Datastreams($expand=Thing($expand=Datastreams($expand=Thing)))))": 400,
    }
    for url, status in cases.items():
        response = client.get(url)
        assert response.status_code == status, (url, response.text)
        assert response.json()["error"]["message"], url
    message = client.get(f"{STA}/Things?$filter=colour eq 'red'").json()["error"]["message"]
    assert "colour" in message


def test_five_levels_of_expand_are_allowed(client: TestClient, world: World) -> None:
    url = f"{STA}/Things({world.things['AQ-1']})?$expand=Datastreams/Thing/Datastreams/Thing/Locations"
    body = client.get(url)
    assert body.status_code == 200
    assert body.json()["Datastreams"][0]["Thing"]["Datastreams"][0]["Thing"]["Locations"]


def test_expand_does_not_query_per_entity(client: TestClient, world: World, db: Session) -> None:
    """The number of SQL statements does not grow with the number of expanded entities."""
    statements: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = db.get_bind().engine
    url = "{}/Things?$top={}&$expand=Datastreams($expand=Observations($top=3),Sensor,ObservedProperty),Locations"
    client.get(url.format(STA, 1))  # warm up (token bookkeeping happens on first use)
    event.listen(engine, "before_cursor_execute", count)
    try:
        client.get(url.format(STA, 1))
        few = len(statements)
        statements.clear()
        body = client.get(url.format(STA, 4)).json()
        many = len(statements)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(body["value"]) == 4
    assert many == few


def test_datastream_without_observations_has_no_phenomenon_time(client: TestClient, world: World) -> None:
    body = client.get(f"{STA}/Datastreams({world.streams['MTR-1:energy']})").json()
    assert body["phenomenonTime"] is None and body["observationType"].endswith("OM_Measurement")
    assert T0  # the fixture's series starts at T0
