"""PostgreSQL crashes while a large GIS upload is being copied into PostGIS: the planner gets a clear 503, the
park keeps nothing of the half-done import (no features, no layer, no import record, no upload left on disk),
and the same upload succeeds once the database is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, pool, text

from bench.bench_gis_tiles import generate
from tests.faults.world import FaultWorld, wait_for
from tests.support.postgres import PrivatePostgres
from tests.support.servers import ServiceProcess

FOOTPRINTS = 60_000  # a few seconds of COPY: room to crash in the middle of it
LAYER = "crash-buildings"


@pytest.fixture(scope="module")
def footprints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gis-crash") / "footprints.gpkg"
    generate(path, FOOTPRINTS)
    return path


@pytest.fixture()
def service(world: FaultWorld, tmp_path: Path) -> Iterator[ServiceProcess]:
    running = ServiceProcess(world.url, tmp_path / "data").start()
    yield running
    running.stop()


def _copying(url: str) -> bool:
    """Whether a backend is running the import's COPY into features now."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            return bool(connection.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY features%'")))
    except Exception:  # noqa: BLE001 — not up yet
        return False
    finally:
        engine.dispose()


def _left_behind(world: FaultWorld) -> dict[str, int]:
    with world.engine.connect() as connection:
        return {
            "features": connection.scalar(text("SELECT count(*) FROM features f JOIN layers l ON l.id = f.layer_id WHERE l.slug = :layer"), {"layer": LAYER}),
            "layers": connection.scalar(text("SELECT count(*) FROM layers WHERE slug = :layer"), {"layer": LAYER}),
            "imports": connection.scalar(text("SELECT count(*) FROM imports WHERE source_name = 'footprints.gpkg'")),
        }


def _upload(service: ServiceProcess, world: FaultWorld, path: Path, **form: str) -> httpx.Response:
    with path.open("rb") as handle:
        return httpx.post(f"{service.url}/api/v1/parks/{world.park.slug}/imports/gis", files={"file": (path.name, handle)},
                          data={"layer": LAYER, **form}, headers={"Authorization": f"Bearer {world.tokens['planner']}"}, timeout=180)


def test_a_database_crash_mid_copy_is_a_503_and_leaves_nothing(world: FaultWorld, private_pg: PrivatePostgres, service: ServiceProcess,
                                                               footprints: Path, tmp_path: Path) -> None:
    crashed: dict[str, float] = {}

    def crash_during_copy() -> None:
        wait_for(lambda: _copying(world.url), timeout=120, what="the COPY into features", interval=0.01)
        crashed["at"] = time.monotonic()
        private_pg.crash()
        time.sleep(1.0)
        private_pg.start()

    thread = threading.Thread(target=crash_during_copy, daemon=True)
    thread.start()
    failed = _upload(service, world, footprints, build_tiles="false")
    thread.join(120)
    assert "at" in crashed, "the database was not crashed during the COPY"
    assert failed.status_code == 503, failed.text
    assert "database" in failed.json()["error"]["message"]
    assert _left_behind(world) == {"features": 0, "layers": 0, "imports": 0}
    assert not any((tmp_path / "data" / "uploads").rglob("*.gpkg")), "the upload was left on disk"
    # The database is back: the same upload goes through whole, tiles included.
    done = _upload(service, world, footprints)
    assert done.status_code == 201, done.text
    assert done.json()["layers"] == {LAYER: FOOTPRINTS} and done.json()["tiles"]["features"] == FOOTPRINTS
    assert _left_behind(world) == {"features": FOOTPRINTS, "layers": 1, "imports": 1}
