"""kill -9 of the service in the middle of an IFC conversion: nothing half-published, the job reruns."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tests.conftest import bearer
from tests.support.servers import ServiceProcess
from twin.db.models import BimModelVersion, Job, Park, Tileset
from twin.db.queries import parks

PARK = "crash-test"


@pytest.fixture()
def crash_park(engine) -> str:  # type: ignore[no-untyped-def]
    with Session(engine) as session, session.begin():
        session.execute(delete(Park).where(Park.slug == PARK))
        parks.create(session, slug=PARK, name="崩溃测试园区", center=(104.0655, 30.539))
    yield PARK
    with Session(engine) as session, session.begin():
        session.execute(delete(Park).where(Park.slug == PARK))


def _job(client: httpx.Client, job_id: int) -> dict:
    return client.get(f"/api/v1/jobs/{job_id}").json()


@pytest.mark.slow
def test_kill_during_conversion_leaves_no_partial_model_and_the_job_reruns(database_url: str, engine, tokens, crash_park: str, fixtures_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    service = ServiceProcess(database_url, tmp_path / "var", TWIN_JOBS_STALE_SECONDS="3").start()
    try:
        client = httpx.Client(base_url=service.url, headers=bearer(tokens["planner"]), timeout=30)
        path = fixtures_dir / "ifc" / "Office_A_20110811.ifc"  # ~1,000 products: several seconds of geometry
        with path.open("rb") as handle:
            accepted = client.post(f"/api/v1/parks/{PARK}/models", files={"file": (path.name, handle)}, data={"anchor": "104.0655,30.539,0"})
        assert accepted.status_code == 202, accepted.text
        job_id = accepted.json()["job_id"]
        deadline = time.monotonic() + 60
        while _job(client, job_id)["phase"] != "geometry":
            assert time.monotonic() < deadline, "conversion never reached the geometry phase"
            time.sleep(0.1)
        service.kill9()
        with Session(engine) as session:
            job = session.get(Job, job_id)
            assert job.state == "running", "killed mid-flight: nobody could record an end"
            assert session.scalar(select(Tileset).where(Tileset.slug.like("bim-%"), Tileset.park_id == parks.get_by_slug(session, slug=PARK).id)) is None
            assert session.scalar(select(BimModelVersion.state).where(BimModelVersion.job_id == job_id)) == "processing"
        service.start()
        deadline = time.monotonic() + 180
        while (state := _job(client, job_id))["state"] not in ("succeeded", "failed"):
            assert time.monotonic() < deadline, f"job hangs after restart: {state}"
            time.sleep(0.3)
        assert state["state"] == "succeeded", state
        assert state["attempts"] == 2, "the interrupted attempt counted, then one rerun"
        model = client.get(f"/api/v1/parks/{PARK}/models/{accepted.json()['model_id']}").json()
        assert model["published_version"] == 1
        assert client.get(model["tileset_url"]).status_code == 200
    finally:
        service.stop()
