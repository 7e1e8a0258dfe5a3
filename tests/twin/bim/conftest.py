"""BIM API tests run conversions for real: a job runner in a child process needs committed rows,
so these tests use their own committed park (deleted afterwards) instead of the rolled-back session."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from tests.conftest import bearer
from twin.db.models import Park
from twin.db.queries import parks
from twin.settings import Settings

PARK = "bim-test"


@pytest.fixture()
def bim_park(engine) -> Iterator[str]:  # type: ignore[no-untyped-def]
    with Session(engine) as session, session.begin():
        session.execute(delete(Park).where(Park.slug == PARK))
        parks.create(session, slug=PARK, name="BIM 测试园区", center=(104.0655, 30.539), ground_elevation_m=495.0)
    yield PARK
    with Session(engine) as session, session.begin():
        session.execute(delete(Park).where(Park.slug == PARK))


@pytest.fixture()
def live_client(settings: Settings, bim_park: str, tokens: dict[str, str], tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The app with its job runner, on committed data, acting as a planner by default."""
    from twin.main import create_app

    app = create_app(settings.model_copy(update={"mqtt_enabled": False, "data_dir": tmp_path / "var"}))
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers.update(bearer(tokens["planner"]))
        yield client


def wait_for_job(client: TestClient, job_id: int, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} did not finish in {timeout} s: {job}")


def upload(client: TestClient, path, **form):  # type: ignore[no-untyped-def]
    with open(path, "rb") as handle:
        return client.post(f"/api/v1/parks/{PARK}/models", files={"file": (path.name, handle)}, data=form)
