"""The live stream (Server-Sent Events) and the current state of every asset, for the map."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from twin.api.auth import ParkReader
from twin.api.deps import SessionDep, SettingsDep, parse_bbox, parse_kinds
from twin.api.schemas.live import AssetStates
from twin.errors import InvalidInput
from twin.integration import asset_states
from twin.integration.live import EVENT_TYPES, LiveFilter, LiveHub

router = APIRouter(prefix="/api/v1", tags=["live"])

HEARTBEAT_S = 15.0
MAX_EVENTS_PER_WRITE = 500


def parse_types(text: str | None) -> frozenset[str]:
    """`reading,alarm` → the event types, or InvalidInput naming the unknown one."""
    types = frozenset(parse_kinds(text))
    unknown = sorted(types - set(EVENT_TYPES))
    if unknown:
        raise InvalidInput(f"unknown event type '{unknown[0]}'; use {', '.join(EVENT_TYPES)}")
    return types


async def sse_stream(hub: LiveHub, flt: LiveFilter, heartbeat_s: float = HEARTBEAT_S) -> AsyncIterator[bytes]:
    """SSE bytes: one `data:` message per event, a comment every `heartbeat_s` when quiet."""
    async with hub.subscribe(flt) as subscription:
        with contextlib.suppress(TimeoutError):  # tell the client it is live once LISTEN is in place
            await asyncio.wait_for(hub.listening.wait(), timeout=5.0)
        yield b"retry: 3000\n: connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(subscription.queue.get(), timeout=heartbeat_s)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            messages = [event]
            while len(messages) < MAX_EVENTS_PER_WRITE and not subscription.queue.empty():
                messages.append(subscription.queue.get_nowait())
            yield b"".join(b"data: " + orjson.dumps(m) + b"\n\n" for m in messages)


@router.get("/parks/{park}/live", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}})
async def live(
    park: ParkReader, request: Request,
    kinds: Annotated[str | None, Query(description="asset kinds, e.g. camera,meter")] = None,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (WGS84)")] = None,
    types: Annotated[str | None, Query(description="event types: reading,alarm,asset_state")] = None,
) -> StreamingResponse:
    """The park's live events as Server-Sent Events; `access_token` may be a query parameter (EventSource).

    Each message is `data: <event JSON>` with the event's `type` inside (shapes in twin.integration.live).
    """
    flt = LiveFilter(park=park.slug, kinds=frozenset(parse_kinds(kinds)), bbox=parse_bbox(bbox), types=parse_types(types))
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(sse_stream(request.app.state.live_hub, flt), media_type="text/event-stream", headers=headers)


@router.get("/parks/{park}/assets/state", response_model=AssetStates)
def assets_state(park: ParkReader, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Every asset's current state (normal / warning / alarm / offline), for the map's first colouring."""
    return asset_states.get_all(session, park=park, offline_after_s=settings.asset_offline_after_s)
