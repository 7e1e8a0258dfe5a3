"""Shared fixtures: a real PostGIS test database, migrated once; a rolled-back session per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from twin.db import database, migrate
from twin.settings import REPO_ROOT, Settings

TEST_DATABASE_URL = os.environ.get(
    "TWIN_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/parktwin_test"
)
FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
DEMO_DIR = REPO_ROOT / "data" / "demo"


def scratch_url(suffix: str) -> str:
    """A database URL next to the test database, for tests that need their own (migrations, CLI)."""
    base, _, name = TEST_DATABASE_URL.rpartition("/")
    return f"{base}/{name}_{suffix}"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    if not FIXTURES.is_dir():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return FIXTURES


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """A freshly created and migrated test database (dropped first if left over)."""
    database.drop_database(TEST_DATABASE_URL)
    database.ensure_database(TEST_DATABASE_URL)
    migrate.upgrade(TEST_DATABASE_URL)
    yield TEST_DATABASE_URL


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url, pool_pre_ping=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(database_url=database_url, data_dir=tmp_path_factory.mktemp("var"), log_json=False, mqtt_enabled=False)


@pytest.fixture(scope="session")
def demo_park(engine: Engine, settings: Settings) -> str:
    """The demo park loaded (committed) once for the session; tests must not change it for good."""
    from twin.pipelines.demo_load import load_demo

    with Session(engine) as session, session.begin():
        report = load_demo(session, demo_dir=DEMO_DIR)
    return report.park


@pytest.fixture()
def db(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test (commits become savepoints)."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def tokens(engine: Engine) -> dict[str, str]:
    """One committed API token per role, valid for every park: {"viewer": "pt_...", ...}."""
    from twin.access.roles import Role
    from twin.access.tokens import create_token

    with Session(engine) as session, session.begin():
        return {role.value: create_token(session, name=f"test {role}", role=role, park_id=None)[1] for role in Role}


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture(scope="session")
def app(settings: Settings):  # type: ignore[no-untyped-def]
    """One app for the whole session (building one costs ~0.8 s); tests get it through anon_client/client."""
    from twin.main import create_app

    return create_app(settings.model_copy(update={"jobs_enabled": False}))


@pytest.fixture(scope="session")
def session_client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture()
def anon_client(app, session_client: TestClient, db: Session) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    """The app with no credentials, talking to the per-test session (everything is rolled back)."""
    from twin.api.deps import get_session

    def test_session() -> Iterator[Session]:
        with db.begin_nested():
            yield db

    app.dependency_overrides[get_session] = test_session
    original_settings = app.state.settings
    session_client.headers.pop("Authorization", None)
    try:
        yield session_client
    finally:
        app.dependency_overrides.pop(get_session, None)
        app.state.settings = original_settings  # a test may swap settings (limits); never leak them
        session_client.headers.pop("Authorization", None)


@pytest.fixture()
def client(anon_client: TestClient, tokens: dict[str, str]) -> TestClient:
    """Like anon_client, sending a viewer token; pass other headers per request to act as another role."""
    anon_client.headers.update(bearer(tokens["viewer"]))
    return anon_client
