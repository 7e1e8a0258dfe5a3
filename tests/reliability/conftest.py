"""Reliability fixtures: one app per module (MQTT and jobs off, demo park loaded) pointed at each test's
rolled-back session, a token per role, and tokens scoped to another park."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import bearer
from twin.access.roles import Role
from twin.access.tokens import create_token
from twin.api.deps import get_session
from twin.db.models import Park
from twin.db.queries import parks as park_queries
from twin.settings import Settings

ROLES = tuple(role.value for role in Role)
OTHER_PARK = "rely-other"
PARK = "tianfu-demo"
# Real values for the demo park's path parameters (any other parameter gets 1); token_id is never a real
# token, so an admin's DELETE cannot revoke the suite's own tokens.
PATH_VALUES = {"park": PARK, "layer": "buildings", "slug": "buildings", "code": "B01", "collection_id": f"{PARK}-buildings",
               "feature_id": "B01", "indicator_id": "infra.monitoring_centre_control", "path": "Things",
               "name": "0123456789abcdef0123.glb", "global_id": "x", "token_id": "999999999"}


def fill_path(template: str) -> str:
    """An OpenAPI path template with the demo park's values in it."""
    for name, value in PATH_VALUES.items():
        template = template.replace("{" + name + "}", value)
    return re.sub(r"\{[a-z_]+\}", "1", template)


@dataclass
class Harness:
    """The app under test, its client (no credentials by default) and the session it talks to."""

    app: FastAPI
    client: TestClient
    current: dict[str, Session]


@pytest.fixture(scope="module")
def rely_settings(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The suite's settings with MQTT and the job runner off and a private data folder."""
    return settings.model_copy(update={"mqtt_enabled": False, "jobs_enabled": False, "data_dir": tmp_path_factory.mktemp("rely-var")})


def app_on_test_sessions(settings: Settings) -> tuple[FastAPI, dict[str, Session]]:
    """The app whose requests use `current["db"]` (a test's rolled-back session; each request in a savepoint)."""
    from twin.main import create_app

    app = create_app(settings)
    current: dict[str, Session] = {}

    def test_session() -> Iterator[Session]:
        session = current["db"]
        with session.begin_nested():
            yield session

    app.dependency_overrides[get_session] = test_session
    return app, current


@pytest.fixture(scope="module")
def harness(rely_settings: Settings, demo_park: str) -> Iterator[Harness]:
    """One app (and lifespan) per module; each test points it at its own rolled-back session."""
    app, current = app_on_test_sessions(rely_settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Harness(app=app, client=client, current=current)


@pytest.fixture()
def api(harness: Harness, db: Session) -> Iterator[TestClient]:
    """The module's client, without credentials, on this test's session (everything is rolled back)."""
    harness.current["db"] = db
    harness.client.headers.clear()
    yield harness.client
    harness.current.pop("db", None)


@pytest.fixture()
def role_headers(tokens: dict[str, str]) -> dict[str, dict[str, str]]:
    """Authorization headers of a token valid for every park, by role name."""
    return {role: bearer(tokens[role]) for role in ROLES}


@pytest.fixture()
def other_park(db: Session) -> Park:
    """A second, empty park (rolled back)."""
    return park_queries.create(db, slug=OTHER_PARK, name="另一个园区", name_en="Another park", center=(104.2, 30.7))


@pytest.fixture()
def other_park_headers(db: Session, other_park: Park) -> dict[str, dict[str, str]]:
    """Authorization headers of tokens scoped to the other park, by role name."""
    return {role: bearer(create_token(db, name=f"other {role}", role=role, park_id=other_park.id)[1]) for role in ROLES}


@pytest.fixture()
def demo(db: Session, demo_park: str) -> Park:
    """The demo park's row."""
    return park_queries.get_by_slug(db, slug=demo_park)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """This folder's `slow` tests (the long fuzz run) run only when asked for: `-m slow` (`make reliability`)."""
    asked = "slow" in (config.option.markexpr or "") and "not slow" not in (config.option.markexpr or "")
    if asked:
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="long run: select it with -m slow (make reliability)")
    for item in items:
        if item.get_closest_marker("slow") and here in Path(str(item.path)).parents:
            item.add_marker(skip)
