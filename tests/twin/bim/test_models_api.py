"""Uploading IFC models: conversion jobs, versions, georeferencing, element properties, bad files."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pyproj import Transformer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import bearer
from tests.twin.bim.conftest import PARK, upload, wait_for_job
from twin.db.models import BimModel, BimModelVersion, Job


def test_upload_converts_publishes_and_serves_elements(live_client: TestClient, fixtures_dir: Path) -> None:
    accepted = upload(live_client, fixtures_dir / "ifc" / "AC20-FZK-Haus.ifc", anchor="104.0655,30.539,0,12")
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    job = wait_for_job(live_client, body["job_id"])
    assert job["state"] == "succeeded", job
    assert job["percent"] == 100 and job["result"]["georef_source"] == "anchor"
    model = live_client.get(f"/api/v1/parks/{PARK}/models/{body['model_id']}").json()
    assert model["published_version"] == 1
    assert model["versions"][0]["georef"]["source"] == "anchor"
    tileset = live_client.get(model["tileset_url"]).json()
    assert tileset["asset"]["version"] == "1.1"
    elements = live_client.get(f"/api/v1/models/{body['model_id']}/elements", params={"ifc_class": "IfcWall"}).json()
    assert elements["numberMatched"] > 0
    wall = elements["elements"][0]
    detail = live_client.get(f"/api/v1/models/{body['model_id']}/elements/{wall['global_id']}").json()
    assert detail["ifc_class"].startswith("IfcWall") and detail["psets"], "full property sets are kept"
    assert detail["storey"] and detail["footprint"]["type"] in ("Polygon", "MultiPolygon")
    storeys = {e["storey"] for e in live_client.get(f"/api/v1/models/{body['model_id']}/elements", params={"limit": 10000}).json()["elements"]}
    on_one = live_client.get(f"/api/v1/models/{body['model_id']}/elements", params={"storey": sorted(s for s in storeys if s)[0]}).json()
    assert 0 < on_one["numberMatched"]
    box = "POLYGON((104.0650 30.5385, 104.0662 30.5385, 104.0662 30.5396, 104.0650 30.5396, 104.0650 30.5385))"
    inside = live_client.get(f"/api/v1/models/{body['model_id']}/elements", params={"intersects": box}).json()
    assert inside["numberMatched"] > 0
    far = "POLYGON((0 0, 0.001 0, 0.001 0.001, 0 0.001, 0 0))"
    assert live_client.get(f"/api/v1/models/{body['model_id']}/elements", params={"intersects": far}).json()["numberMatched"] == 0
    assert live_client.get(f"/api/v1/models/{body['model_id']}/elements/NOPE").status_code == 404


def test_reupload_is_a_new_version_and_versions_can_be_switched(live_client: TestClient, fixtures_dir: Path) -> None:
    first = upload(live_client, fixtures_dir / "ifc" / "AC20-FZK-Haus.ifc", name="fzk", anchor="104.0655,30.539,0,0").json()
    assert wait_for_job(live_client, first["job_id"])["state"] == "succeeded"
    second = upload(live_client, fixtures_dir / "ifc" / "AC20-FZK-Haus.ifczip", name="fzk").json()
    assert second["model_id"] == first["model_id"] and second["version"] == 2
    assert wait_for_job(live_client, second["job_id"])["state"] == "succeeded"
    model = live_client.get(f"/api/v1/parks/{PARK}/models/{first['model_id']}").json()
    assert [(v["version"], v["state"]) for v in model["versions"]] == [(2, "published"), (1, "superseded")]
    original = live_client.get(f"/api/v1/parks/{PARK}/models/{first['model_id']}/versions/1/file")
    assert original.status_code == 200 and original.content.startswith(b"ISO-10303-21")
    switched = live_client.post(f"/api/v1/parks/{PARK}/models/{first['model_id']}/versions/1/publish").json()
    assert switched["published_version"] == 1


def test_map_conversion_wins_over_the_site_location(live_client: TestClient, fixtures_dir: Path) -> None:
    body = upload(live_client, fixtures_dir / "ifc" / "Duplex_A_20110907_georeferenced.ifc").json()
    job = wait_for_job(live_client, body["job_id"])
    assert job["state"] == "succeeded", job
    assert job["result"]["georef_source"] == "epset_map_conversion"
    assert 6.10 < job["result"]["lon"] < 6.14 and 49.62 < job["result"]["lat"] < 49.64, "Luxembourg City, not Chicago"


@pytest.mark.parametrize("name", ["KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc", "AC07-Space-Boundaries.IFC", "AC20-FZK-Haus.lfs-pointer.ifc", "AC20-FZK-Haus.truncated-50pct.ifc"])
def test_broken_fixtures_are_refused_and_leave_nothing(live_client: TestClient, fixtures_dir: Path, engine, name: str) -> None:  # type: ignore[no-untyped-def]
    path = fixtures_dir / "ifc_bad" / name
    if name.endswith(".IFC"):  # the API accepts .ifc/.ifczip by extension, case-insensitively
        pass
    response = upload(live_client, path)
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    expected = {"KIT-Simple-Road-Test-Web-IFC4x3_RC2.ifc": "unsupported schema IFC4X3_RC2; supported: IFC2X3, IFC4, IFC4X3_ADD2",
                "AC07-Space-Boundaries.IFC": "unsupported schema IFC2X_FINAL", "AC20-FZK-Haus.lfs-pointer.ifc": "LFS",
                "AC20-FZK-Haus.truncated-50pct.ifc": "END-ISO-10303-21"}[name]
    assert expected in message
    with Session(engine) as session:
        assert session.scalar(select(func.count(BimModel.id))) == 0
        assert session.scalar(select(func.count(Job.id)).where(Job.kind == "ifc_convert", Job.state == "queued")) == 0


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("model.ifc", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(1200):
                member.write(chunk)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("filename", "content", "words"),
    [("empty.ifc", b"", "empty"), ("notes.ifc", b"just some text, not STEP", "not an IFC"), ("bomb.ifczip", None, "")],
)
def test_other_bad_files_are_4xx(live_client: TestClient, filename: str, content: bytes | None, words: str) -> None:
    data = _zip_bomb() if content is None else content
    response = live_client.post(f"/api/v1/parks/{PARK}/models", files={"file": (filename, data)})
    assert response.status_code == 400, response.text
    assert words.lower() in response.json()["error"]["message"].lower()


def test_model_without_geometry_fails_its_job_with_a_reason(live_client: TestClient, tmp_path: Path) -> None:
    import ifcopenshell.api

    model = ifcopenshell.api.run("project.create_file", version="IFC4")
    project = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcProject", name="empty")
    ifcopenshell.api.run("unit.assign_unit", model)
    site = ifcopenshell.api.run("root.create_entity", model, ifc_class="IfcSite", name="site")
    ifcopenshell.api.run("aggregate.assign_object", model, relating_object=project, products=[site])
    path = tmp_path / "empty.ifc"
    model.write(str(path))
    response = upload(live_client, path, anchor="104.0655,30.539,0")
    if response.status_code == 400:  # refused before the job: equally acceptable, as long as it says why
        assert "geometry" in response.json()["error"]["message"]
        return
    job = wait_for_job(live_client, response.json()["job_id"])
    assert job["state"] == "failed" and "geometry" in job["error"]


def test_only_planners_of_the_park_upload(live_client: TestClient, tokens: dict[str, str], fixtures_dir: Path) -> None:
    path = fixtures_dir / "ifc" / "AC20-FZK-Haus.ifc"
    with path.open("rb") as handle:
        viewer = live_client.post(f"/api/v1/parks/{PARK}/models", files={"file": (path.name, handle)}, headers=bearer(tokens["viewer"]))
    assert viewer.status_code == 403
    assert live_client.post(f"/api/v1/parks/{PARK}/models", files={"file": ("x.ifc", b"ISO")}, headers={"Authorization": ""}).status_code == 401
