"""$filter: every operator and function family, navigation paths, JSON properties and geo functions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.twin.sta.conftest import PM25, STA, World


def _results(client: TestClient, world: World, expression: str) -> list[float]:
    ds = world.streams["AQ-1:pm25"]
    response = client.get(f"{STA}/Datastreams({ds})/Observations", params={"$filter": expression, "$select": "result", "$top": "100"})
    assert response.status_code == 200, response.text
    return [o["result"] for o in response.json()["value"]]


def _names(client: TestClient, entity_set: str, expression: str, world: World | None = None) -> set[str]:
    """Names matching in the test park, plus CAM-9 of the other park (read with a global token)."""
    assert world is not None
    response = client.get(f"{STA}/{entity_set}", params={"$filter": expression, "$top": "1000"}, headers=world.headers["park_viewer"])
    assert response.status_code == 200, response.text
    names = {e["name"] for e in response.json()["value"]}
    # The other park's camera is checked by id with a global token (other suites may load more parks).
    other = client.get(f"{STA}/{entity_set}", params={"$filter": f"({expression}) and {_own_id(entity_set, world)}", "$top": "10"})
    assert other.status_code == 200, other.text
    return names | {e["name"] for e in other.json()["value"]}


def _own_id(entity_set: str, world: World) -> str:
    thing = world.things["CAM-9"]
    return {"Things": f"id eq {thing}", "Locations": f"Things/id eq {thing}", "Datastreams": f"Thing/id eq {thing}",
            "FeaturesOfInterest": "id eq 0"}[entity_set]


def test_comparison_and_logical_operators(client: TestClient, world: World) -> None:
    assert _results(client, world, "result gt 20") == [v for v in PM25 if v > 20]
    assert _results(client, world, "result ge 21 and result le 27.5") == [v for v in PM25 if 21 <= v <= 27.5]
    assert _results(client, world, "result lt 10 or result eq 30") == [v for v in PM25 if v < 10 or v == 30]
    assert _results(client, world, "not (result ne 15.5)") == [15.5]
    assert _results(client, world, "result in (9.5, 11)") == [9.5, 11.0]


def test_arithmetic_operators(client: TestClient, world: World) -> None:
    assert _results(client, world, "result add 5 gt 30") == [v for v in PM25 if v + 5 > 30]
    assert _results(client, world, "result sub 5 lt 8") == [v for v in PM25 if v - 5 < 8]
    assert _results(client, world, "result mul 2 eq 60") == [30.0]
    assert _results(client, world, "result div 2 eq 7") == [14.0]
    assert _results(client, world, "result mod 2 eq 1.5") == [v for v in PM25 if v % 2 == 1.5]
    assert _results(client, world, "(result sub 5) gt 20") == [v for v in PM25 if v - 5 > 20]
    assert _results(client, world, "result div 0 eq 1") == []  # division by zero matches nothing


def test_time_comparisons_and_date_functions(client: TestClient, world: World) -> None:
    assert _results(client, world, "phenomenonTime ge 2026-03-01T08:50:00Z") == PM25[10:]
    assert _results(client, world, "phenomenonTime lt 2026-03-01T16:10:00+08:00") == PM25[:2]
    assert _results(client, world, "minute(phenomenonTime) eq 15") == [PM25[3]]
    assert len(_results(client, world, "year(phenomenonTime) eq 2026 and month(phenomenonTime) eq 3 and day(phenomenonTime) eq 1")) == 12
    assert len(_results(client, world, "hour(phenomenonTime) eq 8 and second(phenomenonTime) eq 0 and fractionalseconds(phenomenonTime) eq 0")) == 12
    assert len(_results(client, world, "date(phenomenonTime) eq 2026-03-01")) == 12
    assert _results(client, world, "time(phenomenonTime) eq 08:05:00") == [PM25[1]]
    assert len(_results(client, world, "totaloffsetminutes(phenomenonTime) eq 0")) == 12
    assert len(_results(client, world, "phenomenonTime lt now() and phenomenonTime gt mindatetime() and phenomenonTime lt maxdatetime()")) == 12
    assert _results(client, world, "phenomenonTime gt 2026-03-01T08:00:00Z add duration'PT50M'") == PM25[11:]


def test_math_functions(client: TestClient, world: World) -> None:
    assert _results(client, world, "round(result) eq 16") == [15.5, 16.0]
    assert _results(client, world, "floor(result) eq 27") == [27.5]
    assert _results(client, world, "ceiling(result) eq 10") == [9.5]


def test_string_functions(client: TestClient, world: World) -> None:
    assert _names(client, "Things", "substringof('AQ', name)", world) == {"AQ-1设备"}
    assert _names(client, "Things", "startswith(name, 'CAM')", world) == {"CAM-1设备", "CAM-9设备"}
    assert _names(client, "Things", "endswith(name, '-1设备')", world) == {"CAM-1设备", "AQ-1设备", "MTR-1设备", "LAMP-1设备"}
    assert _names(client, "Things", "length(name) eq 7", world) == {"CAM-1设备", "MTR-1设备", "CAM-9设备"}
    assert _names(client, "Things", "indexof(name, '-') eq 4", world) == {"LAMP-1设备"}
    assert _names(client, "Things", "substring(name, 1, 2) eq 'TR'", world) == {"MTR-1设备"}
    assert _names(client, "Things", "substring(name, 5) eq '1设备'", world) == {"LAMP-1设备"}
    assert _names(client, "Things", "tolower(name) eq 'aq-1设备'", world) == {"AQ-1设备"}
    assert _names(client, "Things", "toupper(description) eq 'AQ-1 DEVICE'", world) == {"AQ-1设备"}
    assert _names(client, "Things", "trim(concat(' ', name)) eq 'AQ-1设备'", world) == {"AQ-1设备"}
    assert _names(client, "Things", "contains(name, 'MP')", world) == {"LAMP-1设备"}
    assert _names(client, "Things", "name eq 'it''s'", world) == set()


def test_navigation_paths_and_json_properties(client: TestClient, world: World) -> None:
    ds = world.streams["AQ-1:pm25"]
    deep = client.get(f"{STA}/Observations", params={"$filter": "Datastream/Thing/name eq 'AQ-1设备' and Datastream/ObservedProperty/name eq 'PM2.5 concentration'", "$top": "100"}).json()
    assert len(deep["value"]) == len(PM25)
    assert _names(client, "Things", "properties/kind eq 'camera'", world) == {"CAM-1设备", "CAM-9设备"}
    assert _names(client, "Things", "properties/meter_type eq 'electricity' and properties/smart eq true", world) == {"MTR-1设备"}
    assert _names(client, "Things", "Datastreams/ObservedProperty/name eq 'Lamp power'", world) == {"LAMP-1设备"}
    assert _names(client, "Things", "Datastreams/any(d: d/properties/key eq 'humidity')", world) == {"AQ-1设备"}
    assert _names(client, "Things", "Datastreams/all(d: d/properties/key eq 'online')", world) == {"CAM-1设备", "CAM-9设备"}
    assert _names(client, "Datastreams", f"Thing/id eq {world.things['AQ-1']} and unitOfMeasurement/symbol eq '°C'", world) == {"AQ-1 Air temperature"}
    with_data = _names(client, "Datastreams", "phenomenonTime ge 2026-03-01T08:00:00Z", world)  # derived from the Observations
    assert with_data == {"AQ-1 PM2.5 concentration", "AQ-1 Air temperature", "CAM-1 Online (1) or offline (0)", "CAM-9 Online (1) or offline (0)"}
    observed = client.get(f"{STA}/Observations", params={"$filter": "parameters/calibrated eq true"}).json()["value"]
    assert [o["result"] for o in observed] == [21.5]
    assert _results(client, world, f"Datastream/id eq {ds} and result gt 29") == [30.0]


def test_geo_functions(client: TestClient, world: World) -> None:
    around_building = "POLYGON((104.0595 30.5395, 104.0625 30.5395, 104.0625 30.5425, 104.0595 30.5425, 104.0595 30.5395))"
    within = _names(client, "Things", f"st_within(Locations/location, geography'{around_building}')", world)
    assert within == {"CAM-1设备", "AQ-1设备"}
    assert _names(client, "Locations", f"st_within(location, geometry'{around_building}')", world) == {"CAM-1设备", "AQ-1设备"}
    assert _names(client, "Locations", f"st_intersects(location, geography'{around_building}')", world) == {"CAM-1设备", "AQ-1设备"}
    assert _names(client, "Locations", f"geo.intersects(location, geography'{around_building}')", world) == {"CAM-1设备", "AQ-1设备"}
    assert _names(client, "Locations", f"st_disjoint(location, geography'{around_building}')", world) == {"MTR-1设备", "LAMP-1设备", "CAM-9设备"}
    assert _names(client, "Locations", f"st_contains(geography'{around_building}', location)", world) == {"CAM-1设备", "AQ-1设备"}
    assert _names(client, "Locations", "st_equals(location, geography'POINT(104.06 30.54)')", world) == {"CAM-1设备"}
    assert _names(client, "Locations", f"st_relate(location, geography'{around_building}', 'T*F**F***')", world) == {"CAM-1设备", "AQ-1设备"}
    assert _names(client, "Locations", "st_touches(location, geography'LINESTRING(104.06 30.54, 104.07 30.54)')", world) == {"CAM-1设备"}
    assert _names(client, "Locations", "st_crosses(geography'LINESTRING(104.0595 30.54, 104.0605 30.54)', location)", world) == set()
    assert _names(client, "Locations", "st_overlaps(location, geography'POINT(104.06 30.54)')", world) == set()
    # CAM-1 and AQ-1 are 0.001° apart in both axes: about 145 m in Chengdu.
    near = _names(client, "Locations", "geo.distance(location, geography'POINT(104.06 30.54)') lt 150", world)
    assert near == {"CAM-1设备", "AQ-1设备"}
    assert _names(client, "Locations", "geo.distance(location, geography'POINT(104.06 30.54)') lt 140", world) == {"CAM-1设备"}
    assert _names(client, "FeaturesOfInterest", "geo.length(geography'LINESTRING(104.06 30.54, 104.07 30.54)') gt 900", world) != set()


def test_orderby_geo_distance(client: TestClient, world: World) -> None:
    params = {"$orderby": "geo.distance(location, geography'POINT(104.08 30.56)')", "$top": "3"}
    body = client.get(f"{STA}/Locations", params=params, headers=world.headers["park_viewer"]).json()
    assert [loc["name"] for loc in body["value"]] == ["LAMP-1设备", "MTR-1设备", "AQ-1设备"]


def test_malformed_filters_are_400_naming_the_problem(client: TestClient, world: World) -> None:
    cases = {
        "result gt": "ends too early",
        "result gt 'a' and": "ends too early",
        "st_relate(location, location, 'XYZ')": "DE-9IM",
        "geo.distance(name, geography'POINT(1 2)') lt 1": "geometr",
        "Things eq 1": "navigation property",
        "startswith(name)": "argument",
        "name eq 2026-13-45T00:00:00Z": "",
        "substringof(name, 5)": "mismatch",
    }
    for expression, words in cases.items():
        response = client.get(f"{STA}/Locations", params={"$filter": expression})
        assert response.status_code == 400, (expression, response.text)
        assert words in response.json()["error"]["message"], (expression, response.json())
