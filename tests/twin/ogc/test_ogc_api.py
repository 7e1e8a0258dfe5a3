"""OGC API – Features through the app: documents, paging, filters (incl. CQL2), errors and access."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Polygon, shape
from sqlalchemy.orm import Session

from tests.conftest import DEMO_DIR, bearer
from twin.access.tokens import create_token
from twin.db.models import BimElement, BimModel, BimModelVersion, Feature, Layer, Park

pytestmark = pytest.mark.usefixtures("demo_park")
PARK = json.loads((DEMO_DIR / "park.json").read_text(encoding="utf-8"))["slug"]
ASSETS = json.loads((DEMO_DIR / "assets.geojson").read_text(encoding="utf-8"))["features"]
FEATURE_SUFFIXES = ("buildings", "storeys", "spaces", "roads", "parking", "key-locations", "zones", "bim-elements")


def _items(client: TestClient, collection: str, **params: Any) -> dict[str, Any]:
    response = client.get(f"/ogc/collections/{collection}/items", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/geo+json")
    return response.json()


def _all_features(client: TestClient, kind: str) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/parks/{PARK}/features", params={"kind": kind, "limit": 10_000}).json()["features"]


def test_landing_page_and_conformance(client: TestClient) -> None:
    links = {link["rel"]: link for link in client.get("/ogc").json()["links"]}
    assert {"self", "service-desc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["href"].endswith("/openapi.json")
    assert client.get(links["service-desc"]["href"]).status_code == 200
    assert links["data"]["href"].endswith("/ogc/collections")
    classes = client.get("/ogc/conformance").json()["conformsTo"]
    for required in ("core", "geojson", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{required}" in classes
    assert "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text" in classes


def test_collections_are_the_park_layers_and_one_per_asset_kind_present(client: TestClient) -> None:
    body = client.get("/ogc/collections").json()
    ids = {c["id"] for c in body["collections"] if c["park"] == PARK}
    kinds = {f["properties"]["kind"] for f in ASSETS}
    assert ids == {f"{PARK}-{s}" for s in FEATURE_SUFFIXES} | {f"{PARK}-assets-{k}" for k in kinds}
    buildings = client.get(f"/ogc/collections/{PARK}-buildings").json()
    footprints = [shape(f["geometry"]) for f in _all_features(client, "building")]
    min_x, min_y, max_x, max_y = buildings["extent"]["spatial"]["bbox"][0]
    assert min_x == pytest.approx(min(g.bounds[0] for g in footprints)) and max_y == pytest.approx(max(g.bounds[3] for g in footprints))
    assert {link["rel"] for link in buildings["links"]} >= {"self", "items"}
    assert buildings["titles"]["zh"] and buildings["titles"]["en"]


def test_items_carry_heights_names_parent_and_counts(client: TestClient) -> None:
    storeys = _items(client, f"{PARK}-storeys", limit=10_000)
    expected = _all_features(client, "storey")
    assert storeys["numberMatched"] == storeys["numberReturned"] == len(expected)
    assert storeys["timeStamp"].endswith("Z")
    first = storeys["features"][0]
    assert first["id"] == first["properties"]["code"]
    assert {"base_height", "top_height", "name", "name_en", "kind", "parent"} <= set(first["properties"])
    assert first["properties"]["parent"] is not None
    camera = _items(client, f"{PARK}-assets-camera", limit=1)["features"][0]
    assert len(camera["geometry"]["coordinates"]) == 3 and "fov_deg" in camera["properties"]


def test_paging_follows_next_links_without_gaps_and_limits_are_bounded(client: TestClient) -> None:
    first = _items(client, f"{PARK}-spaces")
    assert first["numberReturned"] == min(100, first["numberMatched"]), "default limit is 100"
    seen: list[str] = []
    url: str | None = f"/ogc/collections/{PARK}-spaces/items?limit=37"
    while url:
        page = client.get(url).json()
        seen += [f["id"] for f in page["features"]]
        url = next((link["href"] for link in page["links"] if link["rel"] == "next"), None)
    assert len(seen) == len(set(seen)) == first["numberMatched"]
    assert _items(client, f"{PARK}-spaces", limit=50_000)["numberReturned"] == first["numberMatched"], "limit above 10,000 is capped, not refused"
    for bad in ("0", "abc", "-3"):
        response = client.get(f"/ogc/collections/{PARK}-spaces/items", params={"limit": bad})
        assert response.status_code == 400 and "limit" in response.json()["error"]["message"]


def test_bbox_and_property_equality_filters(client: TestClient) -> None:
    buildings = _all_features(client, "building")
    target = buildings[0]
    min_x, min_y, max_x, max_y = shape(target["geometry"]).bounds
    box = _items(client, f"{PARK}-buildings", bbox=f"{min_x},{min_y},{max_x},{max_y}")
    assert target["id"] in {f["id"] for f in box["features"]}
    assert box["numberMatched"] == sum(1 for b in buildings if shape(b["geometry"]).intersects(Polygon.from_bounds(min_x, min_y, max_x, max_y)))
    by_name = _items(client, f"{PARK}-buildings", name=target["properties"]["name"])
    assert [f["id"] for f in by_name["features"]] == [target["id"]]
    cameras = [a for a in ASSETS if a["properties"]["kind"] == "camera"]
    fov = cameras[0]["properties"]["fov_deg"]
    by_fov = _items(client, f"{PARK}-assets-camera", fov_deg=str(fov), limit=10_000)
    assert by_fov["numberMatched"] == sum(1 for c in cameras if c["properties"]["fov_deg"] == fov)
    by_ptz = _items(client, f"{PARK}-assets-camera", ptz="true", limit=10_000)
    assert by_ptz["numberMatched"] == sum(1 for c in cameras if c["properties"]["ptz"])
    assert _items(client, f"{PARK}-buildings", datetime="2000-01-01T00:00:00Z/..")["numberMatched"] == len(buildings)
    assert _items(client, f"{PARK}-buildings", datetime="../2000-01-01T00:00:00Z")["numberMatched"] == 0


@pytest.mark.parametrize(
    ("cql", "predicate"),
    [
        ("fov_deg > 60 AND hd = true", lambda p: p["fov_deg"] > 60 and p["hd"]),
        ("resolution IN ('4K', '720p')", lambda p: p["resolution"] in ("4K", "720p")),
        ("range_m BETWEEN 30 AND 60", lambda p: 30 <= p["range_m"] <= 60),
        ("name LIKE '%门%' OR NOT ptz = false", lambda p: "门" in p["name"] or p["ptz"]),
        ("CASEI(resolution) = CASEI('4k')", lambda p: p["resolution"].lower() == "4k"),
        ("height + 1 > 5", lambda p: None),
    ],
)
def test_cql2_text_filters_match_the_data(client: TestClient, cql: str, predicate: Any) -> None:
    cameras = [dict(a["properties"], height=a["geometry"]["coordinates"][2]) for a in ASSETS if a["properties"]["kind"] == "camera"]
    body = _items(client, f"{PARK}-assets-camera", filter=cql, limit=10_000)
    expected = sum(1 for p in cameras if (p["height"] + 1 > 5 if "height" in cql else predicate(p)))
    assert body["numberMatched"] == expected


def test_cql2_spatial_and_json_filters(client: TestClient) -> None:
    spaces = _all_features(client, "space")
    probe = shape(spaces[0]["geometry"]).buffer(0.0003).envelope
    wkt = probe.wkt.replace("POLYGON ((", "POLYGON((")
    body = _items(client, f"{PARK}-spaces", filter=f"S_INTERSECTS(geometry, {wkt})", limit=10_000)
    expected = {s["id"] for s in spaces if shape(s["geometry"]).intersects(probe)}
    assert {f["id"] for f in body["features"]} == expected and 0 < len(expected) < len(spaces)
    as_json = json.dumps({"op": "=", "args": [{"property": "parent"}, spaces[0]["properties"]["parent"]]})
    same_storey = _items(client, f"{PARK}-spaces", filter=as_json, **{"filter-lang": "cql2-json", "limit": 10_000})
    assert same_storey["numberMatched"] == sum(1 for s in spaces if s["properties"]["parent"] == spaces[0]["properties"]["parent"])


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"filter": "name LIKE"}, "invalid cql2-text filter"),
        ({"filter": "colour = 'red'"}, "'colour' is not a queryable"),
        ({"filter": "x", "filter-lang": "sql"}, "filter-lang 'sql' is not supported"),
        ({"filter": "{not json", "filter-lang": "cql2-json"}, "invalid cql2-json filter"),
        ({"colour": "red"}, "unknown query parameter(s): colour"),
        ({"top_height": "tall"}, "'top_height' must be a number"),
        ({"bbox": "1,2,3"}, "bbox must be"),
        ({"bbox-crs": "EPSG:3857"}, "bbox-crs 'EPSG:3857' is not supported"),
        ({"datetime": "yesterday"}, "datetime 'yesterday'"),
        ({"f": "html"}, "f=html is not offered"),
    ],
)
def test_bad_items_requests_are_400_with_a_reason(client: TestClient, params: dict[str, str], words: str) -> None:
    response = client.get(f"/ogc/collections/{PARK}-buildings/items", params=params)
    assert response.status_code == 400, response.text
    assert words in response.json()["error"]["message"]


def test_one_item_by_id_and_unknowns_are_404(client: TestClient) -> None:
    building = _all_features(client, "building")[0]
    item = client.get(f"/ogc/collections/{PARK}-buildings/items/{building['id']}")
    assert item.status_code == 200 and item.headers["content-type"].startswith("application/geo+json")
    assert item.json()["properties"]["name"] == building["properties"]["name"]
    assert client.get(f"/ogc/collections/{PARK}-buildings/items/NOPE").status_code == 404
    assert client.get("/ogc/collections/nope-buildings/items").status_code == 404
    assert client.get(f"/ogc/collections/{PARK}-assets-teleporter").status_code == 404


def test_queryables_list_kind_attributes(client: TestClient) -> None:
    schema = client.get(f"/ogc/collections/{PARK}-assets-camera/queryables").json()
    assert schema["properties"]["fov_deg"]["type"] == "number"
    assert schema["properties"]["ptz"]["type"] == "boolean"
    assert schema["properties"]["geometry"]["format"] == "geometry-any"


def test_reads_need_a_token_and_a_park_token_sees_only_its_park(client: TestClient, anon_client: TestClient, db: Session) -> None:
    for path in ("/ogc", "/ogc/collections", f"/ogc/collections/{PARK}-buildings/items"):
        assert anon_client.get(path, headers={"Authorization": ""}).status_code == 401
    other = Park(slug="ogc-scope", name="范围测试园区", name_en="Scope park")
    db.add(other)
    db.flush()
    layer = Layer(park_id=other.id, slug="buildings", name="建筑", category="buildings")
    db.add(layer)
    db.flush()
    db.add(Feature(park_id=other.id, layer_id=layer.id, code="S1", kind="building", name="一号楼", geom="SRID=4326;POINT(104 30)", top_height=9.0))
    db.flush()
    _, secret = create_token(db, name="scoped viewer", role="viewer", park_id=other.id)
    scoped = {c["park"] for c in client.get("/ogc/collections", headers=bearer(secret)).json()["collections"]}
    assert scoped == {"ogc-scope"}
    everyone = {c["park"] for c in client.get("/ogc/collections").json()["collections"]}
    assert {"ogc-scope", PARK} <= everyone
    assert client.get(f"/ogc/collections/{PARK}-buildings/items", headers=bearer(secret)).status_code == 404
    assert _items(client, "ogc-scope-buildings")["features"][0]["properties"]["top_height"] == 9.0


def test_published_bim_elements_are_a_collection(client: TestClient, db: Session) -> None:
    park = db.query(Park).filter_by(slug=PARK).one()
    model = BimModel(park_id=park.id, name="测试模型")
    db.add(model)
    db.flush()
    versions = [BimModelVersion(model_id=model.id, version=n, state=state, file_name="m.ifc", file_path="/tmp/m.ifc", file_sha256="0" * 64, file_size=1)
                for n, state in ((1, "superseded"), (2, "published"))]
    db.add_all(versions)
    db.flush()
    square = "SRID=4326;POLYGON((104.0650 30.5390,104.0651 30.5390,104.0651 30.5391,104.0650 30.5390))"
    db.add_all([
        BimElement(version_id=versions[0].id, global_id="OLD", ifc_class="IfcWall", footprint=square, psets={}),
        BimElement(version_id=versions[1].id, global_id="2O2Fr$t4X7Zf8NOew3FLOH", ifc_class="IfcWall", name="外墙", storey="1F",
                   footprint=square, z_min=0.0, z_max=3.2, psets={"Pset_WallCommon": {"IsExternal": True}}),
        BimElement(version_id=versions[1].id, global_id="NOGEOM", ifc_class="IfcSpace", footprint=None, psets={}),
    ])
    db.flush()
    body = _items(client, f"{PARK}-bim-elements", limit=10_000)
    assert [f["id"] for f in body["features"]] == ["2O2Fr$t4X7Zf8NOew3FLOH"], "only the published version's elements with a footprint"
    props = body["features"][0]["properties"]
    assert (props["ifc_class"], props["storey"], props["z_max"], props["model"]) == ("IfcWall", "1F", 3.2, "测试模型")
    assert _items(client, f"{PARK}-bim-elements", filter="ifc_class = 'IfcSlab'")["numberMatched"] == 0
