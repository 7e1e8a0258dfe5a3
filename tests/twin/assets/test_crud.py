"""Asset CRUD through the API: round trip, filters, conflicts, bad input and role checks."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from twin.db.models import Park

CAMERA: dict[str, Any] = {
    "code": "T-CAM-1", "kind": "camera", "name": "测试摄像机", "name_en": "Test camera",
    "lon": 104.0655, "lat": 30.539, "height": 4.0, "feature": "B01",
    "attributes": {"heading_deg": 90, "fov_deg": 60, "range_m": 30, "resolution": "1080p", "vendor": "测试"},
}


def _url(park: Park, code: str = "") -> str:
    return f"/api/v1/parks/{park.slug}/assets" + (f"/{code}" if code else "")


def test_crud_round_trip(client: TestClient, park: Park, as_role) -> None:  # type: ignore[no-untyped-def]
    writer = as_role("integrator")
    created = client.post(_url(park), json=CAMERA, headers=writer)
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["feature"], body["feature_kind"], body["height"]) == ("B01", "building", 4.0)
    assert body["attributes"] == {"heading_deg": 90.0, "fov_deg": 60.0, "range_m": 30.0, "resolution": "1080p", "vendor": "测试"}
    assert client.get(_url(park, "T-CAM-1")).json()["name"] == "测试摄像机"

    patched = client.patch(_url(park, "T-CAM-1"), json={"name_en": "Lobby camera", "attributes": {"fov_deg": 75, "vendor": None}}, headers=writer)
    assert patched.status_code == 200, patched.text
    assert patched.json()["name_en"] == "Lobby camera"
    assert patched.json()["attributes"] == {"heading_deg": 90.0, "fov_deg": 75.0, "range_m": 30.0, "resolution": "1080p"}
    assert patched.json()["feature"] == "B01", "a patch that does not move the asset keeps its feature"

    replaced = client.put(_url(park, "T-CAM-1"), json={**CAMERA, "kind": "wifi_ap", "attributes": {"radius_m": 20}}, headers=writer)
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["kind"] == "wifi_ap" and replaced.json()["attributes"] == {"radius_m": 20.0}

    geojson = client.get(f"/api/v1/parks/{park.slug}/assets/geojson", params={"kind": "wifi_ap", "q": "T-CAM"}).json()
    assert [f["id"] for f in geojson["features"]] == ["T-CAM-1"]
    assert geojson["features"][0]["geometry"]["coordinates"] == [104.0655, 30.539, 4.0]

    assert client.delete(_url(park, "T-CAM-1"), headers=writer).status_code == 204
    missing = client.get(_url(park, "T-CAM-1"))
    assert missing.status_code == 404 and "asset 'T-CAM-1' not found" in missing.json()["error"]["message"]


def test_list_filters_by_kind_feature_subtree_text_and_bbox(client: TestClient, park: Park) -> None:
    everything = client.get(_url(park), params={"limit": 10_000}).json()
    assert everything["numberMatched"] == len(everything["items"]) > 0
    cameras = client.get(_url(park), params={"kind": "camera", "limit": 10_000}).json()
    assert cameras["numberMatched"] == sum(1 for a in everything["items"] if a["kind"] == "camera") > 0

    # Everything under building B01 = bound to B01, its storeys or their rooms.
    storeys = client.get(f"/api/v1/parks/{park.slug}/features", params={"parent": "B01", "kind": "storey"}).json()["features"]
    storey_codes = {s["id"] for s in storeys}
    rooms = {f["id"] for code in storey_codes for f in client.get(f"/api/v1/parks/{park.slug}/features", params={"parent": code}).json()["features"]}
    expected = {a["code"] for a in everything["items"] if a["feature"] in {"B01"} | storey_codes | rooms}
    under = client.get(_url(park), params={"feature": "B01", "limit": 10_000}).json()
    assert {a["code"] for a in under["items"]} == expected and expected

    first = cameras["items"][0]
    by_text = client.get(_url(park), params={"q": first["name"][2:6]}).json()
    assert first["code"] in {a["code"] for a in by_text["items"]}
    box = f"{first['lon'] - 1e-6},{first['lat'] - 1e-6},{first['lon'] + 1e-6},{first['lat'] + 1e-6}"
    assert first["code"] in {a["code"] for a in client.get(_url(park), params={"bbox": box}).json()["items"]}

    page = client.get(_url(park), params={"limit": 5}).json()
    assert page["numberReturned"] == 5 and page["links"][0]["rel"] == "next"


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"feature": "NOPE-9"}, 400, "feature 'NOPE-9' not found in park"),
        ({"kind": "teleporter"}, 400, "unknown asset kind 'teleporter'"),
        ({"attributes": {"fov_deg": 500}}, 400, "camera attribute 'fov_deg' = 500"),
        ({"lon": 200}, 422, "lon"),
        ({"code": "a/b"}, 422, "code"),
        ({"code": "import"}, 422, "reserved"),
    ],
)
def test_bad_asset_is_a_clear_4xx(client: TestClient, park: Park, as_role, change: dict, status: int, words: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post(_url(park), json={**CAMERA, **change}, headers=as_role("integrator"))
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]


def test_duplicate_code_is_409(client: TestClient, park: Park, as_role) -> None:  # type: ignore[no-untyped-def]
    existing = client.get(_url(park), params={"limit": 1}).json()["items"][0]["code"]
    response = client.post(_url(park), json={**CAMERA, "code": existing}, headers=as_role("integrator"))
    assert response.status_code == 409
    assert f"asset '{existing}' already exists" in response.json()["error"]["message"]


def test_put_cannot_rename_and_unknown_asset_is_404(client: TestClient, park: Park, as_role) -> None:  # type: ignore[no-untyped-def]
    writer = as_role("integrator")
    existing = client.get(_url(park), params={"kind": "camera", "limit": 1}).json()["items"][0]
    response = client.put(_url(park, existing["code"]), json={**CAMERA, "code": "OTHER"}, headers=writer)
    assert response.status_code == 400 and "cannot be renamed" in response.json()["error"]["message"]
    assert client.patch(_url(park, "NOPE-1"), json={"name": "x"}, headers=writer).status_code == 404
    assert client.delete(_url(park, "NOPE-1"), headers=writer).status_code == 404


def test_roles_viewer_and_other_park_cannot_write(client: TestClient, anon_client: TestClient, park: Park, as_role, other_park_integrator) -> None:  # type: ignore[no-untyped-def]
    existing = client.get(_url(park), params={"limit": 1}).json()["items"][0]["code"]
    attempts = [
        ("post", _url(park), {"json": CAMERA}),
        ("patch", _url(park, existing), {"json": {"name": "x"}}),
        ("put", _url(park, existing), {"json": {**CAMERA, "code": existing}}),
        ("delete", _url(park, existing), {}),
        ("post", _url(park) + "/import", {"files": {"file": ("a.csv", b"id,kind,lon,lat\nX-1,camera,104.06,30.53\n")}}),
    ]
    for method, url, kwargs in attempts:
        as_viewer = getattr(client, method)(url, headers=as_role("viewer"), **kwargs)
        assert as_viewer.status_code == 403 and "integrator" in as_viewer.json()["error"]["message"], (method, url)
        as_planner = getattr(client, method)(url, headers=as_role("planner"), **kwargs)
        assert as_planner.status_code == 403, (method, url)
        as_other_park = getattr(client, method)(url, headers=other_park_integrator, **kwargs)
        assert as_other_park.status_code == 403 and "not valid for this park" in as_other_park.json()["error"]["message"]
        anonymous = getattr(anon_client, method)(url, headers={"Authorization": ""}, **kwargs)
        assert anonymous.status_code == 401
    assert client.get(_url(park, existing)).status_code == 200, "nothing was changed"
    assert client.post(_url(park), json=CAMERA, headers=as_role("admin")).status_code == 201
