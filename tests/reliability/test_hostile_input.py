"""Hostile input gets a 4xx with a message — never a 5xx, a hang, or data it should not reach."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from tests.conftest import FIXTURES
from tests.reliability import hostile
from tests.reliability.conftest import PARK, Harness, app_on_test_sessions, fill_path
from twin.db.models import Asset, Feature, Park

pytestmark = pytest.mark.usefixtures("demo_park")


def _assert_client_error(response: Any, *statuses: int) -> dict[str, Any]:
    """A 4xx (one of `statuses` when given) with the service's JSON error body and a non-empty message."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    if statuses:
        assert response.status_code in statuses, (response.status_code, response.text[:500])
    error = response.json()["error"]
    assert error["status"] == response.status_code and len(error["message"]) > 10
    return error


def _upload(api: TestClient, headers: dict[str, str], route: str, name: str, content: bytes, **form: str) -> Any:
    return api.post(f"/api/v1/parks/{PARK}/{route}", files={"file": (name, content)}, data=form, headers=headers)


# ---------------------------------------------------------------- broken and odd files

@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "ifc_bad").glob("*")) if (FIXTURES / "ifc_bad").is_dir() else [])
def test_every_broken_ifc_fixture_is_refused_with_a_message(api: TestClient, role_headers, name: str, db: Session) -> None:  # type: ignore[no-untyped-def]
    content = (FIXTURES / "ifc_bad" / name).read_bytes()
    error = _assert_client_error(_upload(api, role_headers["planner"], "models", name, content), 400)
    assert any(word in error["message"].lower() for word in ("schema", "truncated", "lfs", "end-iso", "ifc")), error


def test_mislabelled_crs_file_is_refused_naming_the_crs_option(api: TestClient, role_headers, fixtures_dir: Path) -> None:  # type: ignore[no-untyped-def]
    path = fixtures_dir / "gis" / "capetown_universityestate_osm_levels_heights_utm34s_nocrs.geojson"
    error = _assert_client_error(_upload(api, role_headers["planner"], "imports/gis", path.name, path.read_bytes(), layer="capetown"), 400)
    assert "crs" in error["message"].lower()


def test_mixed_export_accounts_for_every_row(api: TestClient, role_headers, fixtures_dir: Path) -> None:  # type: ignore[no-untyped-def]
    path = fixtures_dir / "gis" / "changan_university_xian_osm_export_mixed.geojson"
    response = _upload(api, role_headers["planner"], "imports/gis", path.name, path.read_bytes(), layer="xian", build_tiles="false")
    assert response.status_code == 201, response.text[:500]
    body = response.json()
    rows = len(json.loads(path.read_bytes())["features"])
    assert body["report"]["rows_read"] == rows
    assert sum(body["layers"].values()) + body["report"]["dropped"] == rows
    assert len(body["layers"]) == 3 and "xian" in body["layers"]  # the main family, plus one layer per other family


def _xian_polygon_bytes(fixtures_dir: Path) -> bytes:
    return (fixtures_dir / "gis" / "changan_university_xian_osm_buildings.geojson").read_bytes()


GIS_GARBAGE = {
    "truncated.geojson": lambda fx: hostile.truncated_geojson(_xian_polygon_bytes(fx)),
    "string-coordinates.geojson": lambda fx: hostile.polygon_file([[["108.9", "34.2"], ["108.91", "34.2"], ["108.91", "34.21"], ["108.9", "34.2"]]]),
    "nan.geojson": lambda fx: hostile.polygon_file([[[0, 0], [1, 0], [1, 1], ["__RAW__", 0]]], extra="NaN"),
    "infinity.geojson": lambda fx: hostile.polygon_file([[[108.9, 34.2], [108.91, 34.2], ["__RAW__", 34.21], [108.9, 34.2]]], extra="Infinity"),
    "huge-coordinates.geojson": lambda fx: hostile.polygon_file([[[1e9, 1e9], [1e9 + 10, 1e9], [1e9 + 10, 1e9 + 10], [1e9, 1e9]]]),
    "not-json.geojson": lambda fx: b"\xff\xfe\x00garbage",
    "empty-collection.geojson": lambda fx: b'{"type": "FeatureCollection", "features": []}',
    "shapefile.zip": lambda fx: b"PK\x03\x04 not really a zip",
}


@pytest.mark.parametrize("name", sorted(GIS_GARBAGE))
def test_broken_gis_files_are_refused_with_a_message(api: TestClient, role_headers, fixtures_dir: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    content = GIS_GARBAGE[name](fixtures_dir)
    _assert_client_error(_upload(api, role_headers["planner"], "imports/gis", name, content, layer="junk"), 400)


def test_self_intersecting_ring_is_repaired_and_reported(api: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    bowtie = hostile.polygon_file([[[108.90, 34.20], [108.91, 34.21], [108.91, 34.20], [108.90, 34.21], [108.90, 34.20]]])
    response = _upload(api, role_headers["planner"], "imports/gis", "bowtie.geojson", bowtie, layer="bowtie", build_tiles="false")
    assert response.status_code == 201, response.text[:500]
    report = response.json()["report"]
    assert report["repaired"] + report["dropped"] == 1


@pytest.mark.parametrize("kind", ["geojson", "shapefile"])
def test_gis_zip_bomb_is_refused_before_it_is_read(api: TestClient, role_headers, kind: str) -> None:  # type: ignore[no-untyped-def]
    # Before the fix the GeoJSON bomb (0.7 MB) was read: 2,000,001 features, 26 s, 1.9 GB of memory.
    bomb = hostile.geojson_zip_bomb(2_000_000) if kind == "geojson" else hostile.shapefile_zip_bomb(300 << 20)
    assert len(bomb) < 2 << 20
    started = time.perf_counter()
    error = _assert_client_error(_upload(api, role_headers["planner"], "imports/gis", "bomb.zip", bomb, layer="bomb"), 400)
    assert "zip bomb" in error["message"] and time.perf_counter() - started < 5


def test_ifczip_bomb_is_refused(api: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    bomb = hostile.ifczip_bomb(300 << 20)
    error = _assert_client_error(_upload(api, role_headers["planner"], "models", "bomb.ifczip", bomb), 400)
    assert "zip" in error["message"].lower()


# ---------------------------------------------------------------- sizes

@pytest.fixture(scope="module")
def small_limits(rely_settings, demo_park: str):  # type: ignore[no-untyped-def]
    """An app with a 1 MB upload limit and a 256 KB body limit, on the session the test points it at."""
    app, current = app_on_test_sessions(rely_settings.model_copy(update={"max_upload_bytes": 1 << 20, "max_body_bytes": 256 << 10}))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, current


@pytest.fixture()
def limited(small_limits, db: Session) -> TestClient:  # type: ignore[no-untyped-def]
    client, current = small_limits
    current["db"] = db
    return client


@pytest.mark.parametrize(("route", "name"), [("imports/gis", "big.geojson"), ("models", "big.ifc"), ("assets/import", "big.csv")])
def test_oversized_uploads_are_413(limited: TestClient, role_headers, route: str, name: str) -> None:  # type: ignore[no-untyped-def]
    headers = role_headers["admin"]
    _assert_client_error(_upload(limited, headers, route, name, b"x" * (3 << 20), layer="big"), 413)
    # Just over the file limit but under the multipart allowance: the upload code's own exact check answers.
    _assert_client_error(_upload(limited, headers, route, name, b"x" * ((1 << 20) + 10), layer="big"), 413)


def test_a_50_mb_json_body_is_413_without_being_read(api: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    body = b'{"name": "' + b"x" * (50 << 20) + b'"}'
    for path in (f"/api/v1/parks/{PARK}/assets", f"/api/v1/parks/{PARK}/observations", "/sta/v1.1/Things", "/api/v1/parks"):
        response = api.post(path, content=body, headers={**role_headers["admin"], "content-type": "application/json"})
        _assert_client_error(response, 413)


def test_a_chunked_body_over_the_limit_is_413(limited: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    def chunks():  # no Content-Length: the middleware counts what the handler reads
        yield b"["
        for _ in range(100):
            yield b'{"datastream": 1, "time": "2026-03-01T08:00:00Z", "value": 1.0},' * 100
        yield b"{}]"

    for path in (f"/api/v1/parks/{PARK}/observations", "/sta/v1.1/Things", f"/api/v1/parks/{PARK}/assets"):
        response = limited.post(path, content=chunks(), headers={**role_headers["admin"], "content-type": "application/json"})
        _assert_client_error(response, 413)


# ---------------------------------------------------------------- path traversal

SECRET_MARKERS = (b"BaseSettings", b"database_url", b"root:x:0:0", b"[project]", b"def create_app")
TRAVERSALS = [
    b"/api/v1/parks/x/tilesets/../../etc/passwd",
    b"/api/v1/parks/tianfu-demo/tilesets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    b"/api/v1/parks/tianfu-demo/tilesets/buildings/content/..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    b"/api/v1/parks/tianfu-demo/tilesets/buildings/content/%2e%2e%2f%2e%2e%2ftwin%2fsettings.py",
    b"/api/v1/parks/tianfu-demo/tilesets/buildings/v1/content/....%2f%2f....%2f%2fpyproject.toml",
    b"/api/v1/parks/tianfu-demo/tilesets/..%2f..%2fpyproject.toml/tileset.json",
    b"/node_modules/../../twin/settings.py",
    b"/node_modules/%2e%2e/%2e%2e/twin/settings.py",
    b"/..%2ftwin%2fsettings.py",
    b"/%2e%2e/pyproject.toml",
    b"/css/../../pyproject.toml",
    b"/js/..%5c..%5cpyproject.toml",
    b"//etc/passwd",
    b"/%2fetc%2fpasswd",
    b"/api/v1/parks/tianfu-demo/score/evidence/..%2f..%2f..%2fetc/attachments/1",
    b"/api/v1/parks/tianfu-demo/models/1/versions/1/file/..%2f..%2f..%2fetc%2fpasswd",
]


@pytest.mark.parametrize("path", TRAVERSALS, ids=[p.decode() for p in TRAVERSALS])
def test_path_traversal_serves_nothing_outside_web_or_the_park(harness: Harness, api: TestClient, role_headers, path: bytes) -> None:  # type: ignore[no-untyped-def]
    token = role_headers["admin"]["Authorization"].encode()
    status, body = hostile.raw_request(harness.app, "GET", path, headers=[(b"authorization", token)])
    assert 400 <= status < 500, (status, body[:300])
    assert not any(marker in body for marker in SECRET_MARKERS), body[:300]


def test_static_files_still_serve_the_page_and_cesium(harness: Harness) -> None:
    status, body = hostile.raw_request(harness.app, "GET", b"/")
    assert status == 200 and b"<html" in body.lower()
    status, _ = hostile.raw_request(harness.app, "GET", b"/node_modules/cesium/package.json")
    assert status == 200


# ---------------------------------------------------------------- injection through filters and strings

def _table_counts(db: Session) -> tuple[int, int]:
    return db.scalar(select(func.count()).select_from(Feature)) or 0, db.scalar(select(func.count()).select_from(Asset)) or 0


@pytest.mark.parametrize("injection", hostile.INJECTIONS)
def test_sql_injection_through_filters_changes_and_reveals_nothing(api: TestClient, role_headers, db: Session, injection: str) -> None:  # type: ignore[no-untyped-def]
    headers = role_headers["viewer"]
    before = _table_counts(db)
    quoted = injection.replace("'", "''")
    requests = [
        ("/sta/v1.1/Things", {"$filter": f"name eq '{quoted}'"}),
        ("/sta/v1.1/Things", {"$filter": injection}),
        ("/sta/v1.1/Datastreams", {"$filter": f"substringof('{quoted}', name)", "$orderby": injection}),
        ("/sta/v1.1/Observations", {"$select": injection, "$expand": injection}),
        (f"/ogc/collections/{PARK}-buildings/items", {"filter": f"name = '{quoted}'"}),
        (f"/ogc/collections/{PARK}-buildings/items", {"filter": injection}),
        (f"/ogc/collections/{PARK}-buildings/items", {"name": injection, "kind": injection}),
        (f"/api/v1/parks/{PARK}/features", {"kind": injection, "parent": injection}),
        (f"/api/v1/parks/{PARK}/assets", {"q": injection, "feature": injection, "kind": injection}),
        (f"/api/v1/parks/{PARK}/assets/geojson", {"q": injection}),
        (f"/api/v1/parks/{PARK}/alarms", {"state": injection, "building": injection, "asset": injection}),
    ]
    for path, params in requests:
        response = api.get(path, params=params, headers=headers)
        assert response.status_code < 500, (path, params, response.status_code, response.text[:300])
        if response.status_code == 200:
            body = response.json()
            returned = body.get("value", body.get("features", body.get("items", [])))
            assert returned == [], (path, params, "an injected condition matched rows")
        else:
            _assert_client_error(response)
    assert _table_counts(db) == before
    assert db.scalar(text("SELECT to_regclass('features') IS NOT NULL"))


def test_every_string_query_parameter_survives_injection(api: TestClient, harness: Harness, role_headers, db: Session) -> None:  # type: ignore[no-untyped-def]
    """Generated from the OpenAPI document: each GET's string query parameters get each injection string."""
    schema = harness.app.openapi()
    before = _table_counts(db)
    sent = 0
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None or path.endswith(("/live", "/events")):
            continue
        url = fill_path(path)
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query" or not _is_string(parameter.get("schema", {})):
                continue
            for injection in hostile.INJECTIONS:
                response = api.get(url, params={parameter["name"]: injection}, headers=role_headers["admin"])
                sent += 1
                assert response.status_code < 500, (url, parameter["name"], injection, response.status_code, response.text[:300])
    assert sent > 100
    assert _table_counts(db) == before


def _is_string(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [schema])
    return any(option.get("type") == "string" for option in options)


# ---------------------------------------------------------------- absurd paging, deep $expand

@pytest.mark.parametrize("value", ["1000000000000", "-1", "abc", "1e3", "99999999999999999999999", ""])
def test_absurd_page_sizes_and_offsets_are_capped_or_refused(api: TestClient, role_headers, settings, value: str) -> None:  # type: ignore[no-untyped-def]
    headers = role_headers["viewer"]
    cases = [
        (f"/api/v1/parks/{PARK}/features", "limit"), (f"/api/v1/parks/{PARK}/features", "offset"),
        (f"/api/v1/parks/{PARK}/assets", "limit"), (f"/api/v1/parks/{PARK}/alarms", "offset"),
        (f"/ogc/collections/{PARK}-buildings/items", "limit"), (f"/ogc/collections/{PARK}-buildings/items", "offset"),
        ("/sta/v1.1/Things", "$top"), ("/sta/v1.1/Observations", "$skip"), ("/sta/v1.1/Datastreams", "$top"),
        (f"/api/v1/parks/{PARK}/broadcasts", "limit"), (f"/api/v1/parks/{PARK}/score/snapshots", "limit"),
    ]
    for path, name in cases:
        response = api.get(path, params={name: value}, headers=headers)
        assert response.status_code < 500, (path, name, value, response.status_code, response.text[:300])
        if response.status_code == 200:
            body = response.json()
            returned = body.get("value", body.get("features", body.get("items", body if isinstance(body, list) else [])))
            assert len(returned) <= settings.max_page_size
        else:
            _assert_client_error(response)


def test_deeply_nested_expand_is_refused(api: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    expand = "/".join(["Datastreams", "Thing"] * 25)
    nested = "Datastreams($expand=" * 50 + "Thing" + ")" * 50
    for value in (expand, nested):
        response = api.get("/sta/v1.1/Things", params={"$expand": value}, headers=role_headers["viewer"])
        _assert_client_error(response, 400)


# ---------------------------------------------------------------- encodings, nesting, content types

def test_non_utf8_bodies_and_query_strings(harness: Harness, api: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    token = role_headers["admin"]["Authorization"].encode()
    json_headers = [(b"authorization", token), (b"content-type", b"application/json")]
    for method, path, body in [
        ("POST", b"/api/v1/parks", b'{"slug": "x\xff\xfe", "name": "\xc3\x28"}'),
        ("POST", f"/api/v1/parks/{PARK}/assets".encode(), b'{"code": "\xff", "kind": "camera"}'),
        ("POST", f"/api/v1/parks/{PARK}/observations".encode(), b'[{"datastream": 1, "time": "\xff"}]'),
        ("POST", b"/sta/v1.1/Things", b'{"name": "\xff\xfe"}'),
        ("PATCH", f"/api/v1/parks/{PARK}/assets/CAM-001".encode(), b'{"name": "\x80\x81"}'),
        ("POST", b"/api/v1/auth/login", b'{"username": "\xff", "password": "\xfe"}'),
    ]:
        status, answer = hostile.raw_request(harness.app, method, path, headers=json_headers, body=body)
        assert 400 <= status < 500, (path, status, answer[:300])
    for query in (b"kind=%ff%fe", b"bbox=%c3%28", b"q=\xff\xfe", b"kind=\xed\xa0\x80"):
        for path in (f"/api/v1/parks/{PARK}/features", f"/api/v1/parks/{PARK}/assets", "/sta/v1.1/Things", f"/ogc/collections/{PARK}-buildings/items"):
            status, answer = hostile.raw_request(harness.app, "GET", path.encode() + b"?" + query, headers=[(b"authorization", token)])
            assert status < 500, (path, query, status, answer[:300])
    status, answer = hostile.raw_request(harness.app, "GET", b"/sta/v1.1/Things?$filter=name%20eq%20%27%ff%27", headers=[(b"authorization", token)])
    assert status < 500, answer[:300]


def test_deeply_nested_json_is_refused(api: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    headers = {**role_headers["admin"], "content-type": "application/json"}
    deep = hostile.nested_array(10_000)
    for path in (f"/api/v1/parks/{PARK}/assets", f"/api/v1/parks/{PARK}/observations", "/sta/v1.1/Things", "/sta/v1.1/CreateObservations",
                 f"/api/v1/parks/{PARK}/alarm-rules", "/api/v1/parks"):
        _assert_client_error(api.post(path, content=deep, headers=headers))


@pytest.mark.parametrize("depth", [200, 300, 900])
def test_nested_attributes_are_stored_and_served_or_refused(api: TestClient, role_headers, depth: int) -> None:  # type: ignore[no-untyped-def]
    headers = role_headers["admin"]
    asset = {"code": f"DEEP-{depth}", "kind": "meter", "name": "深", "lon": 104.0655, "lat": 30.539, "attributes": {"deep": hostile.nested_object(depth)}}
    response = api.post(f"/api/v1/parks/{PARK}/assets", json=asset, headers=headers)
    if response.status_code == 201:
        for path in (f"/api/v1/parks/{PARK}/assets/DEEP-{depth}", f"/api/v1/parks/{PARK}/assets?q=DEEP", f"/api/v1/parks/{PARK}/assets/geojson?q=DEEP"):
            assert api.get(path, headers=headers).status_code == 200, path
    else:
        _assert_client_error(response, 400, 422)
    thing = {"name": "深", "description": "", "properties": hostile.nested_object(depth)}
    response = api.post("/sta/v1.1/Things", json=thing, headers=headers)
    assert response.status_code < 500, response.text[:300]


def test_duplicate_keys_take_one_value(api: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    body = b'{"slug": "dup-a", "slug": "dup-b", "name": "x", "name": "y"}'
    response = api.post("/api/v1/parks", content=body, headers={**role_headers["admin"], "content-type": "application/json"})
    assert response.status_code == 201, response.text
    assert response.json()["slug"] in ("dup-a", "dup-b")


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded", ""])
def test_wrong_content_types_are_4xx(api: TestClient, role_headers, content_type: str) -> None:  # type: ignore[no-untyped-def]
    headers = {**role_headers["admin"], "content-type": content_type}
    payload = b'{"slug": "ct-park", "name": "x"}'
    for path in ("/api/v1/parks", f"/api/v1/parks/{PARK}/imports/gis", f"/api/v1/parks/{PARK}/models", f"/api/v1/parks/{PARK}/alarm-rules",
                 f"/api/v1/parks/{PARK}/observations", "/sta/v1.1/Things"):
        response = api.post(path, content=payload, headers=headers)
        assert response.status_code < 500, (path, content_type, response.status_code, response.text[:300])
        if path != "/api/v1/parks" or content_type not in ("text/plain", ""):
            assert response.status_code >= 400, (path, content_type, response.status_code)


def test_model_file_download_serves_only_stored_files(api: TestClient, db: Session, role_headers, rely_settings) -> None:  # type: ignore[no-untyped-def]
    """A version whose file is gone (or whose recorded path leaves the data folder) is a 404, never a 500 or /etc/passwd."""
    from twin.db.models import BimModel, BimModelVersion

    demo = db.scalar(select(Park).where(Park.slug == PARK))
    model = BimModel(park_id=demo.id, name="files-test")
    db.add(model)
    db.flush()
    stored = rely_settings.data_dir / "models" / PARK / "abc.ifc"
    stored.parent.mkdir(parents=True, exist_ok=True)
    stored.write_bytes(b"ISO-10303-21;\nEND-ISO-10303-21;\n")
    for number, path in enumerate([stored, rely_settings.data_dir / "models" / PARK / "gone.ifc", Path("/etc/passwd"),
                                   rely_settings.data_dir / "models" / PARK], start=1):
        db.add(BimModelVersion(model_id=model.id, version=number, file_name="a.ifc", file_path=str(path), file_sha256="0" * 64, file_size=1))
    db.flush()
    url = f"/api/v1/parks/{PARK}/models/{model.id}/versions/{{}}/file"
    assert api.get(url.format(1), headers=role_headers["viewer"]).content.startswith(b"ISO-10303-21")
    for number in (2, 3, 4):
        response = api.get(url.format(number), headers=role_headers["viewer"])
        _assert_client_error(response, 404)
        assert b"root:" not in response.content


def test_nul_characters_in_strings_are_400(api: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL text cannot hold NUL: psycopg refuses it before sending (was a 500 on every string that reached a query)."""
    viewer, admin = role_headers["viewer"], role_headers["admin"]
    for response in (
        api.post("/api/v1/auth/login", json={"username": "a\u0000b", "password": "x"}),
        api.get(f"/api/v1/parks/{PARK}/assets", params={"q": "a\x00b"}, headers=viewer),
        api.get(f"/api/v1/parks/{PARK}/features", params={"parent": "B01\x00"}, headers=viewer),
        api.post("/api/v1/parks", json={"slug": "nul-park", "name": "a\u0000b"}, headers=admin),
        api.post("/sta/v1.1/Things", json={"name": "a\u0000b", "description": "x"}, headers=admin),
    ):
        _assert_client_error(response, 400, 422)
    assert api.get("/api/v1/parks", headers=viewer).status_code == 200
