"""POST /api/v1/parks/{park}/observations: counts, duplicates stored once, rejections, roles, bad bodies."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import bearer
from tests.twin.ingest.factory import SensingPark
from twin.db.models import Observation


def _post(client: TestClient, park: str, body: object, token: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = client.post(f"/api/v1/parks/{park}/observations", content=orjson.dumps(body), headers=bearer(token))
    return response.status_code, response.json()


def test_batch_counts_duplicates_once_and_reports_rejected_rows(
    client: TestClient, db: Session, tokens: dict[str, str], sensing_park: SensingPark, other_park: SensingPark
) -> None:
    ds = list(sensing_park.datastreams.values())
    foreign = next(iter(other_park.datastreams.values()))
    body = [{"datastream": ds[0], "time": f"2025-04-01T08:{m:02d}:00+08:00", "value": 20 + m} for m in range(30)]
    body += [
        {"datastream": ds[0], "time": "2025-04-01T00:05:00Z", "value": 1},  # 08:05+08:00 again
        {"datastream": ds[1], "time": "2025-04-01T08:00:00+08:00", "value": "on"},
        {"datastream": foreign, "time": "2025-04-01T08:00:00+08:00", "value": 1},
        {"datastream": ds[1], "time": "2025-04-01 08:00:00", "value": 1},
        {"datastream": ds[1], "value": 1},
        [1, 2, 3],
    ]
    status, answer = _post(client, sensing_park.slug, body, tokens["integrator"])
    assert status == 200, answer
    assert answer["accepted"] == 31 and answer["duplicates"] == 1
    rejected = {r["index"]: r["message"] for r in answer["rejected"]}
    assert sorted(rejected) == [32, 33, 34, 35]
    assert "in this park" in rejected[32] and "timezone" in rejected[33] and "missing" in rejected[34]
    status, again = _post(client, sensing_park.slug, body, tokens["integrator"])
    assert again["accepted"] == 0 and again["duplicates"] == 32
    stored = db.scalar(select(func.count()).where(Observation.datastream_id == ds[0], Observation.phenomenon_time >= datetime(2025, 4, 1, tzinfo=UTC)))
    assert stored == 30


def test_viewers_cannot_write(client: TestClient, tokens: dict[str, str], sensing_park: SensingPark) -> None:
    body = [{"datastream": 1, "time": "2025-04-01T08:00:00Z", "value": 1}]
    assert _post(client, sensing_park.slug, body, tokens["viewer"])[0] == 403
    assert _post(client, sensing_park.slug, body, tokens["planner"])[0] == 403
    assert _post(client, "no-such-park", body, tokens["integrator"])[0] == 404


@pytest.mark.parametrize(("content", "words"), [
    (b"{not json", "not JSON"),
    (b'{"datastream": 1}', "JSON array"),
    (orjson.dumps([{"datastream": 1, "time": "2025-01-01T00:00:00Z", "value": 1}] * 50_001), "at most 50000"),
])
def test_bad_bodies_get_a_clear_400(client: TestClient, tokens: dict[str, str], sensing_park: SensingPark, content: bytes, words: str) -> None:
    response = client.post(f"/api/v1/parks/{sensing_park.slug}/observations", content=content, headers=bearer(tokens["integrator"]))
    assert response.status_code == 400
    assert words in response.json()["error"]["message"]


def test_openapi_documents_the_batch_and_live_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "post" in paths["/api/v1/parks/{park}/observations"]
    assert {"/api/v1/parks/{park}/live", "/api/v1/parks/{park}/assets/state"} <= set(paths)
