"""Build the FastAPI application: database, routers, error handlers, the web page."""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from twin import metrics
from twin.api import errors as api_errors
from twin.api.request_guard import RequestGuard
from twin.api.router import api_router
from twin.db.session import make_engine, make_session_factory
from twin.jobs.runner import JobRunner
from twin.settings import Settings, get_settings

log = logging.getLogger("twin.http")

DESCRIPTION = """
ParkTwin — the park's "one map" (一张图): PostGIS-backed park geometry, BIM models and live devices,
served as GeoJSON, 3D Tiles 1.1, OGC SensorThings API 1.1 (`/sta/v1.1`) and OGC API – Features (`/ogc`).

Coordinates are WGS84 longitude/latitude (EPSG:4326); heights are metres above the park's ground.
Errors are JSON: `{"error": {"status", "message", "detail"?, "request_id"?}}`.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ParkTwin app for these settings (read from the environment when omitted)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from twin.integration import runtime as integration  # MQTT consumer (if enabled) + live hub

        await integration.start_app(app)
        runner = JobRunner(app.state.session_factory, settings=settings, stale_after=timedelta(seconds=settings.jobs_stale_seconds)) if settings.jobs_enabled else None
        if runner:
            runner.start()
        yield
        if runner:
            runner.stop()
        await integration.stop_app(app)
        app.state.engine.dispose()

    app = FastAPI(title="ParkTwin", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.session_factory = make_session_factory(app.state.engine)
    api_errors.install(app)
    app.include_router(api_router)

    @app.middleware("http")
    async def request_log(request: Request, call_next):  # type: ignore[no-untyped-def]
        request.state.request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        response: Response = await call_next(request)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        response.headers["x-request-id"] = request.state.request_id
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")  # the route template, so ids don't explode label counts
        metrics.REQUESTS.labels(request.method, template, str(response.status_code)).inc()
        metrics.LATENCY.labels(request.method, template).observe(elapsed_ms / 1000)
        log.info("%s %s %s", request.method, request.url.path, response.status_code,
                 extra={"status": response.status_code, "ms": elapsed_ms, "request_id": request.state.request_id})
        return response

    # Added last, so it is the outermost layer: it answers before the request log parses the URL.
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    if (settings.web_dir / "index.html").exists():
        app.mount("/", StaticFiles(directory=settings.web_dir, html=True), name="web")
    return app
