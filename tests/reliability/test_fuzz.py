"""Schemathesis over the whole OpenAPI document, once per role: no 5xx, every response as documented.

The CI run is bounded (derandomized, 4 examples per operation and role, about 80 s); `make reliability`
runs the slow variant with 60 examples per operation and role (about 7 minutes a role).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from sqlalchemy.orm import Session

from tests.conftest import bearer
from tests.reliability.conftest import ROLES, app_on_test_sessions
from tests.reliability.fuzzing import FuzzOutcome, fuzz_operation
from twin.settings import Settings

# Streams that never end by themselves (SSE); their 4xx answers are in the access and hostile-input tests.
STREAMS = r"(/live|/jobs/\{job_id\}/events)$"
CI_EXAMPLES = 4
SLOW_EXAMPLES = 60


@pytest.fixture(scope="module")
def fuzz_app(rely_settings: Settings, demo_park: str) -> Iterator[tuple[FastAPI, dict[str, Session]]]:
    """An app served by Schemathesis's own ASGI client (its lifespan is stopped after the module)."""
    from schemathesis.python import asgi

    yield app_on_test_sessions(rely_settings)
    asgi.shutdown_lifespans()


def fuzz_all(app: FastAPI, *, headers: dict[str, str], path_parameters: dict[str, Any], max_examples: int) -> list[FuzzOutcome]:
    """Every operation of the app's OpenAPI document (streams excepted), fuzzed and checked."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app).exclude(path_regex=STREAMS)
    return [fuzz_operation(result.ok(), headers=headers, path_parameters=path_parameters, max_examples=max_examples)
            for result in schema.get_all_operations()]


def _check(outcomes: list[FuzzOutcome], role: str, seconds: float) -> None:
    print(f"\n{role}: fuzzed {len(outcomes)} operations, {sum(o.examples for o in outcomes)} requests in {seconds:.1f} s")
    failures = {f"{o.label}: {title}": detail for o in outcomes for title, detail in o.failures.items()}
    assert not failures, "\n".join(failures) + "\n\n" + "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


@pytest.mark.parametrize("role", ROLES)
def test_fuzz_every_operation_as_each_role(role: str, fuzz_app, db: Session, tokens: dict[str, str], demo_park: str) -> None:  # type: ignore[no-untyped-def]
    app, current = fuzz_app
    current["db"] = db
    started = time.perf_counter()
    # The demo park and its real layer/tileset names, so the cases reach the handlers rather than a 404.
    fixed = {"park": demo_park, "layer": "buildings", "slug": "buildings"}
    outcomes = fuzz_all(app, headers=bearer(tokens[role]), path_parameters=fixed, max_examples=CI_EXAMPLES)
    _check(outcomes, role, time.perf_counter() - started)
    assert len(outcomes) >= 80 and all(o.examples > 0 for o in outcomes)


@pytest.mark.slow
@pytest.mark.timeout(3600)
@pytest.mark.parametrize("role", ROLES)
def test_fuzz_long_run(role: str, fuzz_app, db: Session, tokens: dict[str, str], demo_park: str) -> None:  # type: ignore[no-untyped-def]
    app, current = fuzz_app
    current["db"] = db
    started = time.perf_counter()
    outcomes = fuzz_all(app, headers=bearer(tokens[role]), path_parameters={"park": demo_park}, max_examples=SLOW_EXAMPLES)
    _check(outcomes, role, time.perf_counter() - started)


def test_hand_picked_calls_answer_as_documented(fuzz_app, db: Session, tokens: dict[str, str], demo_park: str) -> None:  # type: ignore[no-untyped-def]
    """Answers random cases rarely reach (304, 204 for a $ref, text/plain for $value, a repeated alarm's 200), checked the same way."""
    from sqlalchemy import select

    from tests.reliability.fuzzing import CHECKS
    from twin.db.models import Asset, Datastream, Location, Park, ThingLocation
    from twin.integration.ingest import insert_observations
    from twin.pipelines.tiles_build import build_buildings

    app, current = fuzz_app
    current["db"] = db
    park = db.scalar(select(Park).where(Park.slug == demo_park))
    build_buildings(db, park=park)
    stream, thing = db.execute(select(Datastream.id, Datastream.thing_id).join(Asset, Asset.id == Datastream.thing_id)
                               .where(Asset.park_id == park.id).order_by(Datastream.id).limit(1)).one()
    stored = insert_observations(db, [{"datastream_id": stream, "phenomenon_time": "2026-03-01T08:00:00Z", "result": 21.5}], park_id=park.id)
    observation = stored[0]
    location = db.scalar(select(ThingLocation.location_id).where(ThingLocation.thing_id == thing))
    other_location = db.scalar(select(Location.id).where(Location.park_id == park.id, Location.id != location).limit(1))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    sta, tileset = schema["/sta/v1.1/{path}"], schema["/api/v1/parks/{park}/tilesets/{slug}/tileset.json"]["GET"]
    admin = bearer(tokens["admin"])
    etag = tileset.Case(path_parameters={"park": demo_park, "slug": "buildings"}).call(headers=admin).headers["etag"][0]
    cases = [
        (sta["GET"].Case(path_parameters={"path": f"Observations({observation})/result/$value"}), {}, 200),
        (sta["POST"].Case(path_parameters={"path": f"Things({thing})/Locations/$ref"}, body={"@iot.id": other_location}, media_type="application/json"), {}, 204),
        (tileset.Case(path_parameters={"park": demo_park, "slug": "buildings"}), {"If-None-Match": etag}, 304),
        (schema["/api/v1/parks/{park}/alarms"]["POST"].Case(path_parameters={"park": demo_park}, body={"lon": 104.0655, "lat": 30.539, "kind": "fire"}), {}, 201),
        (schema["/api/v1/parks/{park}/alarms"]["POST"].Case(path_parameters={"park": demo_park}, body={"lon": 104.0655, "lat": 30.539, "kind": "fire"}), {}, 200),
        (sta["DELETE"].Case(path_parameters={"path": f"Observations({observation})"}), {}, 200),
    ]
    for case, extra, status in cases:
        response = case.call_and_validate(headers={**admin, **extra}, checks=CHECKS)
        assert response.status_code == status, (case.path_parameters, response.status_code, response.text[:300])
