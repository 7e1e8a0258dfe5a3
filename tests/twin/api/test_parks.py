"""The read API for parks, layers, features and assets, including bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_DIR

pytestmark = pytest.mark.usefixtures("demo_park")
MANIFEST = json.loads((DEMO_DIR / "park.json").read_text(encoding="utf-8"))
PARK = MANIFEST["slug"]


def _layer_file_count(slug: str) -> int:
    spec = next(layer for layer in MANIFEST["layers"] if layer["slug"] == slug)
    return len(json.loads((DEMO_DIR / spec["file"]).read_text(encoding="utf-8"))["features"])


def test_healthz_reports_database_and_postgis(client: TestClient) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["postgis"].startswith("3.")
    assert "0001_foundation" in body["revision"] or body["revision"]


def test_healthz_is_503_when_database_is_unreachable(settings) -> None:  # type: ignore[no-untyped-def]
    from twin.main import create_app

    broken = settings.model_copy(update={"database_url": "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"})
    with TestClient(create_app(broken), raise_server_exceptions=False) as c:
        response = c.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_list_parks_and_detail_counts_match_the_files(client: TestClient) -> None:
    assert PARK in [p["slug"] for p in client.get("/api/v1/parks").json()]
    detail = client.get(f"/api/v1/parks/{PARK}").json()
    buildings = sum(
        1 for f in json.loads((DEMO_DIR / "layers" / "buildings.geojson").read_text(encoding="utf-8"))["features"]
        if f["properties"]["kind"] == "building"
    )
    assert detail["features_by_kind"]["building"] == buildings
    assets = json.loads((DEMO_DIR / MANIFEST["assets"]).read_text(encoding="utf-8"))["features"]
    assert sum(detail["assets_by_kind"].values()) == len(assets)
    lon, lat = MANIFEST["center"]
    min_x, min_y, max_x, max_y = detail["bbox"]
    assert min_x < lon < max_x and min_y < lat < max_y


def test_layers_list_counts_and_source_crs(client: TestClient) -> None:
    layers = {layer["slug"]: layer for layer in client.get(f"/api/v1/parks/{PARK}/layers").json()}
    assert set(layers) == {layer["slug"] for layer in MANIFEST["layers"]}
    for slug, layer in layers.items():
        assert layer["feature_count"] == _layer_file_count(slug)
        assert layer["source_crs"] == MANIFEST.get("source_crs", "EPSG:4326")


def test_layer_features_are_rfc7946_geojson(client: TestClient) -> None:
    response = client.get(f"/api/v1/parks/{PARK}/layers/buildings/features")
    assert response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == len(body["features"]) == _layer_file_count("buildings")
    for feature in body["features"]:
        assert feature["type"] == "Feature" and feature["id"] == feature["properties"]["code"]
        ring = feature["geometry"]["coordinates"][0] if feature["geometry"]["type"] == "Polygon" else feature["geometry"]["coordinates"][0][0]
        assert ring[0] == ring[-1]
        assert all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in ring)
        assert feature["properties"]["top_height"] > 0
        assert feature["properties"]["height_source"] in {"attribute:height", "storeys", "default"}


def test_paging_follows_next_links_without_gaps_or_repeats(client: TestClient) -> None:
    total = client.get(f"/api/v1/parks/{PARK}/features", params={"limit": 1}).json()["numberMatched"]
    seen: list[str] = []
    url: str | None = f"/api/v1/parks/{PARK}/features?limit=250"
    while url:
        body = client.get(url).json()
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == total


def test_filters_by_kind_parent_and_bbox(client: TestClient) -> None:
    storeys = client.get(f"/api/v1/parks/{PARK}/features", params={"kind": "storey"}).json()["features"]
    assert storeys, "the demo park has storeys"
    building = storeys[0]["properties"]["parent"]
    children = client.get(f"/api/v1/parks/{PARK}/features", params={"parent": building, "kind": "storey"}).json()
    assert children["numberMatched"] == sum(1 for s in storeys if s["properties"]["parent"] == building)
    lon, lat = MANIFEST["center"]
    small = client.get(f"/api/v1/parks/{PARK}/features", params={"bbox": f"{lon-0.001},{lat-0.001},{lon+0.001},{lat+0.001}"}).json()
    everything = client.get(f"/api/v1/parks/{PARK}/features", params={"limit": 1}).json()
    assert 0 < small["numberMatched"] < everything["numberMatched"]


def test_feature_detail_has_ancestors(client: TestClient) -> None:
    space = client.get(f"/api/v1/parks/{PARK}/features", params={"kind": "space", "limit": 1}).json()["features"][0]
    detail = client.get(f"/api/v1/parks/{PARK}/features/{space['id']}").json()
    kinds = [a["kind"] for a in detail["properties"]["ancestors"]]
    assert kinds[:2] == ["storey", "building"]


def test_assets_geojson_has_height_and_binding(client: TestClient) -> None:
    body = client.get(f"/api/v1/parks/{PARK}/assets/geojson", params={"kind": "camera"}).json()
    assert body["numberMatched"] > 0
    camera = body["features"][0]
    assert len(camera["geometry"]["coordinates"]) == 3
    assert {"heading_deg", "fov_deg", "range_m"} <= set(camera["properties"])


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/v1/parks/nope", 404, "park 'nope' not found"),
        (f"/api/v1/parks/{PARK}/features/NOPE-1", 404, "feature 'NOPE-1' not found"),
        (f"/api/v1/parks/{PARK}/layers/nope/features", 404, "layer 'nope' not found"),
        (f"/api/v1/parks/{PARK}/features?bbox=1,2,3", 400, "bbox must be"),
        (f"/api/v1/parks/{PARK}/features?bbox=a,b,c,d", 400, "not a number"),
        (f"/api/v1/parks/{PARK}/features?bbox=0,95,1,96", 400, "outside WGS84"),
        (f"/api/v1/parks/{PARK}/features?bbox=nan,0,1,1", 400, "finite"),
        (f"/api/v1/parks/{PARK}/features?limit=0", 422, "limit"),
        (f"/api/v1/parks/{PARK}/features?limit=abc", 422, "limit"),
        (f"/api/v1/parks/{PARK}/features?offset=-1", 422, "offset"),
    ],
)
def test_bad_input_gets_a_clear_json_error(client: TestClient, path: str, status: int, words: str) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert words in response.json()["error"]["message"]


def test_huge_limit_is_capped(client: TestClient, settings) -> None:  # type: ignore[no-untyped-def]
    body = client.get(f"/api/v1/parks/{PARK}/features", params={"limit": 10**9}).json()
    assert body["numberReturned"] <= settings.max_page_size


def test_openapi_documents_the_read_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/parks", "/api/v1/parks/{park}/features", "/healthz"} <= set(paths)
