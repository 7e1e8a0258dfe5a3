"""Fault and load tests: a private PostgreSQL cluster and a private Mosquitto that these tests may crash.

The machine's PostgreSQL (5432) and Mosquitto (1883) serve other suites and `make run`: never touch them.
Everything here runs against `twin serve` as a real process (tests.support.servers.ServiceProcess).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, pool
from sqlalchemy.orm import Session

from tests.faults.world import FaultWorld
from tests.support.broker import Broker, mosquitto_path
from tests.support.postgres import PrivatePostgres, postgres_bin_dir
from tests.support.servers import ServiceProcess
from tests.twin.ingest.factory import make_sensing_park
from twin.db import database, migrate
from twin.db.models import Alarm, AlarmRule, DatastreamLatest, Observation

DATABASE = "parktwin_faults"
DEVICES = 20  # 10,000 observations = 20 datastreams × 500 minutes


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    """A throwaway cluster (initdb, trust auth, free port) with PostGIS available."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        pytest.skip("PostgreSQL server binaries (initdb) are not installed")
    cluster = PrivatePostgres(bin_dir).init().start()
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def private_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A private Mosquitto with persistence (sessions survive its restart)."""
    if mosquitto_path() is None:
        pytest.skip("mosquitto is not installed")
    running = Broker(tmp_path_factory.mktemp("fault-mosquitto")).start()
    yield running
    running.stop()


@pytest.fixture()
def mqtt_env(private_broker: Broker) -> dict[str, str]:
    """Service settings for MQTT on the private broker; a fresh client id, so each test has its own sessions."""
    return {"TWIN_MQTT_ENABLED": "true", "TWIN_MQTT_HOST": "127.0.0.1", "TWIN_MQTT_PORT": str(private_broker.port),
            "TWIN_MQTT_CLIENT_ID": f"faults-{uuid.uuid4().hex[:6]}"}


@pytest.fixture(scope="session")
def world(private_pg: PrivatePostgres) -> Iterator[FaultWorld]:
    """The service's database on the private cluster, migrated, with tokens and a 20-device park."""
    from twin.access.roles import Role
    from twin.access.tokens import create_token

    url = private_pg.url(DATABASE)
    database.ensure_database(url)
    migrate.upgrade(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    with Session(engine) as session, session.begin():
        tokens = {role.value: create_token(session, name=f"faults {role}", role=role, park_id=None)[1] for role in Role}
        park = make_sensing_park(session, "faults", devices=DEVICES)
    yield FaultWorld(url=url, engine=engine, tokens=tokens, park=park)
    engine.dispose()


@pytest.fixture()
def clean_world(world: FaultWorld) -> FaultWorld:
    """The world with no observations, alarms or alarm rules yet (each test counts from zero)."""
    ids = list(world.park.datastreams.values())
    with Session(world.engine) as session, session.begin():
        session.execute(delete(Observation).where(Observation.datastream_id.in_(ids)))
        session.execute(delete(DatastreamLatest).where(DatastreamLatest.datastream_id.in_(ids)))
        session.execute(delete(Alarm).where(Alarm.park_id == world.park.park_id))
        session.execute(delete(AlarmRule).where(AlarmRule.park_id == world.park.park_id))
    return world


@pytest.fixture()
def service_factory(world: FaultWorld, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """Make ServiceProcess instances on the private database; all are killed at the end of the test."""
    started: list[ServiceProcess] = []

    def make(*, workers: int = 1, **env: str) -> ServiceProcess:
        index = len(started)
        service = ServiceProcess(world.url, tmp_path / f"var-{index}", workers=workers, log_path=tmp_path / f"service-{index}.log",
                                 TWIN_LOG_JSON="false", TWIN_JOBS_ENABLED="false", **env)
        started.append(service)
        return service

    yield make
    for service in started:
        service.stop()
    if os.environ.get("TWIN_FAULTS_SHOW_LOGS"):  # debugging aid: print what the services logged
        for log in sorted(tmp_path.glob("service-*.log")):
            print(f"--- {log.name}\n{log.read_text()[-5000:]}")
