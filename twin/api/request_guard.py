"""Refuse malformed or oversized requests at the edge: a query string that is not UTF-8 (400), a body
over its size limit (413, before a handler buffers it).

Hand-written as a plain ASGI middleware (Starlette has neither check, and decoding a non-UTF-8 query
string raises inside Starlette's URL parsing, a 500): it answers a declared Content-Length over the
limit at once, with the service's JSON error, and hands streamed (chunked) bodies to Starlette's
RequestBodyLimitMiddleware, which counts them as the handler reads. Multipart uploads get the upload
limit (the upload code checks the file itself exactly); every other body — JSON, SensorThings,
observation batches — gets the smaller body limit. (FastAPI's own `max_body_size` is fixed per route
when the module is imported; these limits come from the settings and depend on the content type.)
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and the form's small fields around an upload at the limit


class RequestGuard:
    """ASGI middleware: 400 for a non-UTF-8 query string; 413 for a body over `max_body_bytes` (`max_upload_bytes` for multipart)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes + MULTIPART_OVERHEAD
        self.limited_body = RequestBodyLimitMiddleware(app, max_body_size=self.max_body_bytes)
        self.limited_upload = RequestBodyLimitMiddleware(app, max_body_size=self.max_upload_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            scope.get("query_string", b"").decode("utf-8")
        except UnicodeDecodeError:
            await _error(send, 400, "the query string is not valid UTF-8; percent-encode its values as UTF-8")
            return
        headers = dict(scope["headers"])
        multipart = headers.get(b"content-type", b"").lower().startswith(b"multipart/form-data")
        limit = self.max_upload_bytes if multipart else self.max_body_bytes
        what = "upload" if multipart else "request body"
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await _error(send, 400, "the Content-Length header is not a number")
                return
            if size > limit:
                await _error(send, 413, f"the {what} of {size:,} bytes is larger than the limit of {limit:,} bytes")
                return
        # Streamed bodies are counted by Starlette's limiter, which FastAPI's body parsing knows how to answer.
        await (self.limited_upload if multipart else self.limited_body)(scope, receive, send)


async def _error(send: Send, status: int, message: str) -> None:
    """The service's JSON error body ({"error": {status, message}}), sent without reading the request."""
    body: dict[str, Any] = {"error": {"status": status, "message": message}}
    payload = orjson.dumps(body)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": payload})
