"""Fixtures for ingest, MQTT and live tests: a committed sensing park, a private Mosquitto, servers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session, sessionmaker

from tests.support.broker import Broker, mosquitto_path
from tests.support.servers import free_port
from tests.twin.ingest.factory import SensingPark, make_sensing_park
from twin.db.models import Park
from twin.settings import REPO_ROOT


@pytest.fixture(scope="session")
def mosquitto_bin() -> str:
    path = mosquitto_path()
    if path is None:
        pytest.skip("mosquitto is not installed")
    return path


@pytest.fixture(scope="session")
def broker(mosquitto_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """One private broker for the module's MQTT tests (the system broker may be serving `make run`)."""
    running = Broker(tmp_path_factory.mktemp("mosquitto")).start()
    yield running
    running.stop()


@pytest.fixture()
def own_broker(mosquitto_bin: str, tmp_path: Path) -> Iterator[Broker]:
    """A broker this test alone may kill and restart."""
    running = Broker(tmp_path).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def committed_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def _committed_park(factory: sessionmaker[Session], slug: str, devices: int) -> Iterator[SensingPark]:
    with factory() as session, session.begin():
        park = make_sensing_park(session, slug, devices=devices)
    yield park
    with factory() as session, session.begin():
        session.execute(delete(Park).where(Park.slug == park.slug))


@pytest.fixture(scope="session")
def sensing_park(committed_factory: sessionmaker[Session]) -> Iterator[SensingPark]:
    """A committed park 'ingest-test' with 6 devices (meters and air quality sensors), one datastream each."""
    yield from _committed_park(committed_factory, "ingest-test", 6)


@pytest.fixture(scope="session")
def other_park(committed_factory: sessionmaker[Session]) -> Iterator[SensingPark]:
    """A second committed park with one device (for park-scope checks)."""
    yield from _committed_park(committed_factory, "ingest-other", 1)


def start_server(database_url: str, *, env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """A uvicorn process serving the app on a free port against `database_url` (MQTT off)."""
    port = free_port()
    environment = {**os.environ, "TWIN_DATABASE_URL": database_url, "TWIN_MQTT_ENABLED": "false",
                   "TWIN_LOG_JSON": "false", "TWIN_LOG_LEVEL": "WARNING", **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "twin.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--timeout-graceful-shutdown", "1"], cwd=REPO_ROOT, env=environment)
    return process, port
