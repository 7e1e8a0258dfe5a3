"""A GIS upload with `Prefer: respond-async`: 202 at once, the import and tiles run in a job (the service's own
runner, in a child process, on committed rows), its progress and result in /api/v1/jobs/{id}."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from bench.bench_gis_tiles import generate
from tests.conftest import bearer
from twin.db.models import Feature, Park
from twin.db.queries import parks
from twin.settings import Settings

PARK = "gis-job-test"
ASYNC = {"Prefer": "respond-async"}


@pytest.fixture()
def gis_park(engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session, session.begin():
        session.execute(delete(Park).where(Park.slug == PARK))
        parks.create(session, slug=PARK, name="GIS 任务测试园区", center=None)
    yield PARK
    with Session(engine) as session, session.begin():
        session.execute(delete(Park).where(Park.slug == PARK))


@pytest.fixture()
def live_client(settings: Settings, gis_park: str, tokens: dict[str, str], tmp_path: Path) -> Iterator[TestClient]:
    """The app with its job runner, on committed data, acting as a planner."""
    from twin.main import create_app

    app = create_app(settings.model_copy(update={"mqtt_enabled": False, "data_dir": tmp_path / "var"}))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(tokens["planner"]))
        yield client


def _post(client: TestClient, path: Path, headers: dict[str, str] | None = None, **form: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post(f"/api/v1/parks/{PARK}/imports/gis", files={"file": (path.name, handle)}, data=form, headers=headers or {})


def _follow(client: TestClient, job_id: int, timeout: float = 120.0) -> tuple[dict, list[tuple[str, float]]]:
    """The finished job, and every (phase, percent) seen while it ran."""
    seen: list[tuple[str, float]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] == "running":
            seen.append((job["phase"], job["percent"]))
        if job["state"] in ("succeeded", "failed"):
            return job, seen
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s")


def test_an_async_upload_is_imported_and_tiled_by_a_job_with_progress(live_client: TestClient, engine, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "district.gpkg"
    generate(source, 30_000)
    accepted = _post(live_client, source, ASYNC, layer="district")
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert accepted.headers["location"] == body["job_url"] == f"/api/v1/jobs/{body['job_id']}"
    assert accepted.headers["preference-applied"] == "respond-async"
    job, seen = _follow(live_client, body["job_id"])
    assert job["state"] == "succeeded", job
    assert job["kind"] == "gis_import" and job["percent"] == 100
    result = job["result"]
    assert result["report"]["loaded"] == 30_000 and result["layers"] == {"district": 30_000}
    assert result["tiles"]["features"] == 30_000 and result["tiles"]["version"] == 1
    phases = [phase for phase, _ in seen if phase != "starting"]
    assert phases and phases[0] == "import" and set(phases) <= {"import", "tiles"}, seen
    assert "tiles" in phases or len(seen) < 10, seen  # a job this size spends a while on tiles (unless it was seen only briefly)
    percents = [percent for _, percent in seen]
    assert percents == sorted(percents) and all(0 <= p <= 100 for p in percents), seen
    with Session(engine) as session:
        park_id = session.scalar(select(Park.id).where(Park.slug == PARK))
        assert session.scalar(select(func.count()).select_from(Feature).where(Feature.park_id == park_id)) == 30_000
    assert live_client.get(f"/api/v1/parks/{PARK}/tilesets").json()[0]["version"] == 1
    assert not any((tmp_path / "var").rglob("district.gpkg")), "the upload outlived its job"


def test_an_async_upload_of_a_bad_file_fails_its_job_with_the_reason_and_keeps_nothing(live_client: TestClient, fixtures_dir: Path,
                                                                                       tmp_path: Path, engine) -> None:  # type: ignore[no-untyped-def]
    mislabelled = fixtures_dir / "gis" / "capetown_universityestate_osm_levels_heights_utm34s_nocrs.geojson"
    accepted = _post(live_client, mislabelled, ASYNC, layer="capetown")
    assert accepted.status_code == 202, accepted.text
    job, _ = _follow(live_client, accepted.json()["job_id"])
    assert job["state"] == "failed" and "--crs" in job["error"] and "EPSG:32734" in job["error"], job
    with Session(engine) as session:
        park_id = session.scalar(select(Park.id).where(Park.slug == PARK))
        assert session.scalar(select(func.count()).select_from(Feature).where(Feature.park_id == park_id)) == 0
    assert not any((tmp_path / "var").rglob("*.geojson"))
    # What is wrong before any work (the file type) is still refused at once, with no job.
    refused = live_client.post(f"/api/v1/parks/{PARK}/imports/gis", files={"file": ("notes.txt", b"hello")}, data={"layer": "x"}, headers=ASYNC)
    assert refused.status_code == 400 and "unsupported file type" in refused.json()["error"]["message"]
    # Without the header the same upload is answered in the request, as before.
    fixed = _post(live_client, mislabelled, layer="capetown", crs="EPSG:32734")
    assert fixed.status_code == 201 and fixed.json()["report"]["loaded"] > 0
