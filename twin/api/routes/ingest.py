"""Compact observation batches for integrators: `POST /api/v1/parks/{park}/observations`."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request

from twin.api.auth import ParkIntegrator
from twin.api.deps import SessionDep
from twin.api.schemas.live import BatchResult, CompactObservation
from twin.errors import InvalidInput
from twin.integration.ingest import MAX_BATCH_ROWS, fill_default_features, insert_observations

router = APIRouter(prefix="/api/v1", tags=["live"])


async def raw_body(request: Request) -> bytes:
    """The request body as bytes (parsed with orjson in the handler: big batches, no model per row)."""
    return await request.body()


def compact_rows(body: bytes) -> list[Any]:
    """[{datastream, time, value, result_time?, parameters?}, ...] → ingest rows (non-objects kept for rejection)."""
    try:
        items = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not JSON: {exc}") from None
    if not isinstance(items, list):
        raise InvalidInput("the body must be a JSON array of {datastream, time, value}")
    if len(items) > MAX_BATCH_ROWS:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH_ROWS} observations; got {len(items)}")
    return [
        {"datastream_id": item.get("datastream"), "phenomenon_time": item.get("time"), "result": item.get("value"),
         "result_time": item.get("result_time"), "parameters": item.get("parameters")}
        if isinstance(item, dict) else item
        for item in items
    ]


@router.post(
    "/parks/{park}/observations", response_model=BatchResult,
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "array", "maxItems": MAX_BATCH_ROWS, "items": CompactObservation.model_json_schema()}}}}},
)
def post_observations(park: ParkIntegrator, session: SessionDep, body: Annotated[bytes, Depends(raw_body)]) -> dict[str, Any]:
    """Store a batch of readings of this park's datastreams; answered after the commit.

    A repeated reading (same datastream and time) is stored once and counted in `duplicates`; bad rows
    are listed in `rejected` with their index and the reason, and do not stop the others.
    """
    rows = compact_rows(body)
    fill_default_features(session, rows, park_id=park.id)
    return insert_observations(session, rows, park_id=park.id).counts()
