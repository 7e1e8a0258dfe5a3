"""`/metrics` in the Prometheus text format (for the operator's monitoring; no park data in it)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from twin.metrics import render

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics() -> Response:
    """Request, ingest, job and alarm counters and request latency histograms."""
    body, content_type = render()
    return Response(content=body, media_type=content_type)
