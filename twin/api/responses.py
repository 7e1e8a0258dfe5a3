"""Response classes: GeoJSON with its own media type, serialised by orjson (fast for big collections)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class GeoJSONResponse(JSONResponse):  # a JSONResponse, so OpenAPI documents the body's model, not a string
    media_type = "application/geo+json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


def next_links(request: Any, *, matched: int, returned: int, limit: int, offset: int, media_type: str) -> list[dict[str, str]]:
    """A `next` link (same URL, next offset) while more items match than this page and earlier ones hold."""
    if offset + returned >= matched:
        return []
    return [{"rel": "next", "type": media_type, "href": str(request.url.include_query_params(offset=offset + limit, limit=limit))}]
