"""OGC fixtures: a committed grid park of 1,200 buildings and the app served by uvicorn on a free port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from bench.bench_ogc import drop_park, seed_grid_park, serve_in_thread
from twin.settings import Settings

GRID_PARK = "ogc-grid"
GRID_BUILDINGS = 1200


@pytest.fixture(scope="session")
def grid_park(engine: Engine) -> Iterator[str]:
    """A park of 1,200 small buildings (committed; removed at the end of the session)."""
    with Session(engine) as session, session.begin():
        drop_park(session, slug=GRID_PARK)
        seed_grid_park(session, slug=GRID_PARK, count=GRID_BUILDINGS)
    yield GRID_PARK
    with Session(engine) as session, session.begin():
        drop_park(session, slug=GRID_PARK)


@pytest.fixture(scope="session")
def live_url(settings: Settings, demo_park: str, grid_park: str) -> Iterator[str]:
    """The real app on uvicorn in a thread, against the test database: http://127.0.0.1:<port>."""
    from twin.main import create_app

    # No MQTT consumer or job runner: this server only answers HTTP (and must not join the
    # broker's shared subscriptions other tests rely on).
    quiet = settings.model_copy(update={"mqtt_enabled": False, "jobs_enabled": False})
    with serve_in_thread(create_app(quiet)) as url:
        yield url
