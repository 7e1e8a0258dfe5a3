"""Who may call what: a role × endpoint matrix generated from the OpenAPI document, park scope, hashed secrets.

MINIMUM_ROLE names every operation's weakest sufficient role. A new route fails
test_every_route_has_a_minimum_role until it is added here, so it cannot ship unchecked.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from tests.conftest import bearer
from tests.reliability.conftest import PARK, ROLES, Harness, fill_path
from twin.access.roles import GRANTS, Role
from twin.access.tokens import create_token, create_user
from twin.db.models import BimModel, BimModelVersion, Job, Park

pytestmark = pytest.mark.usefixtures("demo_park")
PUBLIC = "public"
STREAMS = ("/api/v1/parks/{park}/live", "/api/v1/jobs/{job_id}/events")

V, P, I, A = Role.viewer.value, Role.planner.value, Role.integrator.value, Role.admin.value
MINIMUM_ROLE: dict[str, str] = {
    "GET /healthz": PUBLIC,
    "GET /metrics": PUBLIC,
    "POST /api/v1/auth/login": PUBLIC,
    "GET /api/v1/auth/me": V,
    # parks, layers, features
    "GET /api/v1/parks": V,
    "POST /api/v1/parks": A,
    "GET /api/v1/parks/{park}": V,
    "GET /api/v1/parks/{park}/layers": V,
    "GET /api/v1/parks/{park}/layers/{layer}/features": V,
    "DELETE /api/v1/parks/{park}/layers/{layer}": P,
    "GET /api/v1/parks/{park}/features": V,
    "GET /api/v1/parks/{park}/features/{code}": V,
    "GET /api/v1/parks/{park}/assets/geojson": V,
    # tokens (admin reads and writes)
    "GET /api/v1/tokens": A,
    "POST /api/v1/tokens": A,
    "DELETE /api/v1/tokens/{token_id}": A,
    # tiles and GIS imports
    "GET /api/v1/parks/{park}/tilesets": V,
    "GET /api/v1/parks/{park}/tilesets/{slug}/versions": V,
    "GET /api/v1/parks/{park}/tilesets/{slug}/tileset.json": V,
    "GET /api/v1/parks/{park}/tilesets/{slug}/v{version}/tileset.json": V,
    "GET /api/v1/parks/{park}/tilesets/{slug}/content/{name}": V,
    "GET /api/v1/parks/{park}/tilesets/{slug}/v{version}/content/{name}": V,
    "POST /api/v1/parks/{park}/tilesets/buildings/build": P,
    "POST /api/v1/parks/{park}/imports/gis": P,
    "GET /api/v1/parks/{park}/imports": P,
    # live data and ingest
    "GET /api/v1/parks/{park}/live": V,
    "GET /api/v1/parks/{park}/assets/state": V,
    "POST /api/v1/parks/{park}/observations": I,
    # assets
    "GET /api/v1/asset-kinds": V,
    "GET /api/v1/parks/{park}/assets": V,
    "POST /api/v1/parks/{park}/assets": I,
    "POST /api/v1/parks/{park}/assets/import": I,
    "GET /api/v1/parks/{park}/assets/{code}": V,
    "PUT /api/v1/parks/{park}/assets/{code}": I,
    "PATCH /api/v1/parks/{park}/assets/{code}": I,
    "DELETE /api/v1/parks/{park}/assets/{code}": I,
    # BIM and jobs
    "POST /api/v1/parks/{park}/models": P,
    "GET /api/v1/parks/{park}/models": V,
    "GET /api/v1/parks/{park}/models/{model_id}": V,
    "POST /api/v1/parks/{park}/models/{model_id}/versions/{version}/publish": P,
    "GET /api/v1/parks/{park}/models/{model_id}/versions/{version}/file": V,
    "PUT /api/v1/parks/{park}/models/{model_id}/anchor": P,
    "GET /api/v1/models/{model_id}/elements/{global_id}": V,
    "GET /api/v1/models/{model_id}/elements": V,
    "GET /api/v1/jobs/{job_id}": V,
    "GET /api/v1/parks/{park}/jobs": V,
    "GET /api/v1/jobs/{job_id}/events": V,
    # OGC API – Features
    "GET /ogc": V,
    "GET /ogc/conformance": V,
    "GET /ogc/collections": V,
    "GET /ogc/collections/{collection_id}": V,
    "GET /ogc/collections/{collection_id}/queryables": V,
    "GET /ogc/collections/{collection_id}/items": V,
    "GET /ogc/collections/{collection_id}/items/{feature_id}": V,
    # alarms (rules are the integrator's, reads included)
    "GET /api/v1/alarm-vocabulary": V,
    "GET /api/v1/parks/{park}/alarms": V,
    "POST /api/v1/parks/{park}/alarms": I,
    "GET /api/v1/parks/{park}/alarms/summary": V,
    "GET /api/v1/parks/{park}/alarms/{alarm_id}": V,
    "GET /api/v1/parks/{park}/alarms/{alarm_id}/events": V,
    "POST /api/v1/parks/{park}/alarms/{alarm_id}/acknowledge": I,
    "POST /api/v1/parks/{park}/alarms/{alarm_id}/clear": I,
    "GET /api/v1/parks/{park}/alarm-rules": I,
    "POST /api/v1/parks/{park}/alarm-rules": I,
    "GET /api/v1/parks/{park}/alarm-rules/{rule_id}": I,
    "PATCH /api/v1/parks/{park}/alarm-rules/{rule_id}": I,
    "DELETE /api/v1/parks/{park}/alarm-rules/{rule_id}": I,
    "POST /api/v1/parks/{park}/broadcasts": I,
    "GET /api/v1/parks/{park}/broadcasts": V,
    # score (evidence and snapshots are the admin's)
    "GET /api/v1/parks/{park}/score": V,
    "GET /api/v1/parks/{park}/score/indicators/{indicator_id}": V,
    "GET /api/v1/parks/{park}/score/snapshots": V,
    "POST /api/v1/parks/{park}/score/snapshots": A,
    "GET /api/v1/parks/{park}/score/evidence/{indicator_id}": V,
    "PUT /api/v1/parks/{park}/score/evidence/{indicator_id}": A,
    "DELETE /api/v1/parks/{park}/score/evidence/{indicator_id}": A,
    "POST /api/v1/parks/{park}/score/evidence/{indicator_id}/attachments": A,
    "GET /api/v1/parks/{park}/score/evidence/{indicator_id}/attachments/{attachment_id}": V,
    "DELETE /api/v1/parks/{park}/score/evidence/{indicator_id}/attachments/{attachment_id}": A,
    "GET /api/v1/parks/{park}/score/report.html": V,
    "GET /api/v1/parks/{park}/score/report.xlsx": V,
    "GET /api/v1/score/rubric": V,
    # SensorThings API (reads: viewer, writes: integrator)
    "GET /sta/v1.1": V,
    "GET /sta/v1.1/Latest": V,
    "GET /sta/v1.1/Datastreams({datastream_id})/Observations/aggregate": V,
    "POST /sta/v1.1/CreateObservations": I,
    "GET /sta/v1.1/{path}": V,
    "POST /sta/v1.1/{path}": I,
    "PATCH /sta/v1.1/{path}": I,
    "PUT /sta/v1.1/{path}": I,
    "DELETE /sta/v1.1/{path}": I,
}
# Global writes that a park-scoped credential may not make even with the role (they affect every park).
UNSCOPED_ONLY = {"POST /api/v1/parks"}
# A valid body where the role check comes after body validation (inside the handler).
BODIES = {"POST /api/v1/parks": {"slug": "matrix-park", "name": "矩阵园区"}}


def _operations(app: Any) -> list[tuple[str, str]]:
    """(method, path) of every operation in the app's OpenAPI document."""
    return [(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops]


def _too_weak(minimum: str) -> list[str]:
    return [role for role in ROLES if Role(minimum) not in GRANTS[Role(role)]]


def test_every_route_has_a_minimum_role(harness: Harness) -> None:
    operations = {f"{m} {p}" for m, p in _operations(harness.app)}
    missing = sorted(operations - set(MINIMUM_ROLE))
    assert not missing, f"add these routes to MINIMUM_ROLE with their weakest sufficient role: {missing}"
    assert not sorted(set(MINIMUM_ROLE) - operations), "MINIMUM_ROLE names routes that no longer exist"


def test_the_matrix_refuses_missing_weak_and_other_park_credentials(  # type: ignore[no-untyped-def]
    harness: Harness, api: TestClient, role_headers, other_park_headers
) -> None:
    problems: list[str] = []
    checked = 0
    for method, path in _operations(harness.app):
        key = f"{method} {path}"
        minimum = MINIMUM_ROLE.get(key)
        if minimum is None or minimum == PUBLIC:
            continue
        url = fill_path(path)

        def call(headers: dict[str, str] | None) -> int:
            return api.request(method, url, headers=headers or {}, json=BODIES.get(key)).status_code

        checked += 1
        if (status := call(None)) != 401:
            problems.append(f"{key}: no token → {status}, expected 401")
        if (status := call(bearer("pt_not-a-real-token"))) != 401:
            problems.append(f"{key}: unknown token → {status}, expected 401")
        for role in _too_weak(minimum):
            if (status := call(role_headers[role])) != 403:
                problems.append(f"{key}: {role} → {status}, expected 403")
        if "{park}" in path or key in UNSCOPED_ONLY:
            if (status := call(other_park_headers[A])) != 403:
                problems.append(f"{key}: admin of another park → {status}, expected 403")
        if path not in STREAMS and (status := call(role_headers[minimum])) in (401, 403):
            problems.append(f"{key}: {minimum} → {status}, expected access")
    assert checked > 80
    assert not problems, "\n".join(problems)


def test_resources_reached_by_id_check_their_park(api: TestClient, db: Session, other_park: Park, other_park_headers) -> None:  # type: ignore[no-untyped-def]
    """Routes without the park in the path (jobs, model elements) refuse a token of another park."""
    demo = db.scalar(select(Park).where(Park.slug == PARK))
    job = Job(park_id=demo.id, kind="ifc_convert", state="succeeded")
    model = BimModel(park_id=demo.id, name="access-test")
    db.add_all([job, model])
    db.flush()
    headers = other_park_headers[A]
    for url in (f"/api/v1/jobs/{job.id}", f"/api/v1/jobs/{job.id}/events", f"/api/v1/models/{model.id}/elements",
                f"/api/v1/models/{model.id}/elements/x", f"/api/v1/parks/{PARK}/models/{model.id}"):
        assert api.get(url, headers=headers).status_code == 403, url


def test_an_upload_cannot_add_a_version_to_another_parks_model(api: TestClient, db: Session, other_park: Park, role_headers, fixtures_dir) -> None:  # type: ignore[no-untyped-def]
    theirs = BimModel(park_id=other_park.id, name="their model")
    db.add(theirs)
    db.flush()
    ifc = fixtures_dir / "ifc" / "AC20-FZK-Haus.ifc"
    with ifc.open("rb") as handle:
        response = api.post(f"/api/v1/parks/{PARK}/models", files={"file": (ifc.name, handle)}, data={"model_id": str(theirs.id)},
                            headers=role_headers[A])
    assert response.status_code in (403, 404), response.text
    assert db.scalar(select(BimModelVersion).where(BimModelVersion.model_id == theirs.id)) is None
    for url, method in ((f"/api/v1/parks/{PARK}/models/{theirs.id}/anchor", "PUT"),
                        (f"/api/v1/parks/{PARK}/models/{theirs.id}/versions/1/publish", "POST"),
                        (f"/api/v1/parks/{PARK}/models/{theirs.id}/versions/1/file", "GET")):
        body = {"lon": 104.06, "lat": 30.54, "height": 0, "rotation_deg": 0} if method == "PUT" else None
        assert api.request(method, url, json=body, headers=role_headers[A]).status_code == 404, url


def test_no_secret_is_stored_in_any_table(api: TestClient, db: Session, tokens: dict[str, str], role_headers) -> None:  # type: ignore[no-untyped-def]
    _, issued = create_token(db, name="scan me", role="integrator", park_id=None)
    create_user(db, username="rely-user", password="correct horse battery", role="viewer", park_id=None)
    login = api.post("/api/v1/auth/login", json={"username": "rely-user", "password": "correct horse battery"})
    created = api.post("/api/v1/tokens", json={"name": "via api", "role": "viewer"}, headers=role_headers[A]).json()["token"]
    secrets = [*tokens.values(), issued, login.json()["access_token"], created, "correct horse battery"]
    assert api.get("/api/v1/auth/me", headers=bearer(created)).status_code == 200
    tables = inspect(db.connection()).get_table_names()
    assert {"api_tokens", "users", "parks"} <= set(tables)
    for table in tables:
        for secret in secrets:
            found = db.scalar(text(f'SELECT count(*) FROM "{table}" t WHERE strpos(t::text, :secret) > 0'), {"secret": secret})
            assert found == 0, f"a secret is stored in clear in table {table}"
    # The listing shows prefixes, never secrets.
    listed = api.get("/api/v1/tokens", headers=role_headers[A]).text
    assert not any(secret in listed for secret in secrets)
