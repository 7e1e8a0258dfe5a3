"""Fixtures for the alarm tests: the hand-built world inside the rolled-back session, rule helpers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.twin.alarms.world import World, build_world
from twin.integration.alarms import rules
from twin.integration.ingest import insert_observations

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture()
def world(db: Session) -> World:
    return build_world(db)


@pytest.fixture()
def add_rule(db: Session, world: World) -> Callable[..., dict[str, Any]]:
    """Create a rule in the test park: add_rule(kind=..., name=..., ...)."""
    def make(**spec: Any) -> dict[str, Any]:
        spec.setdefault("name", f"{spec['kind']} rule")
        return rules.create(db, park=world.park, spec=rules.parse_spec(spec), actor="test")
    return make


@pytest.fixture()
def ingest(db: Session, world: World) -> Callable[..., None]:
    """Store readings the way ingest does and commit, which runs the after-commit hooks (the rule evaluation).

    `ingest("AQ-1/pm25", [80, 70, 50])` stores one reading a minute from T0 (or from `start`)."""
    def feed(datastream: str, values: list[Any], *, start: datetime = T0, step: timedelta = timedelta(minutes=1)) -> None:
        rows = [{"datastream_id": world.datastreams[datastream], "phenomenon_time": start + i * step, "result": v} for i, v in enumerate(values)]
        result = insert_observations(db, rows)
        assert not result.rejected, result.rejected
        db.commit()  # a savepoint in the test transaction; fires after_commit → the hooks, on this connection
    return feed
