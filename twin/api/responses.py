"""Response classes: GeoJSON with its own media type, serialised by orjson (fast for big collections)."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response


class GeoJSONResponse(Response):
    media_type = "application/geo+json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)
