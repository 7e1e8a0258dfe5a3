"""Every router of the service, wired in one place."""

from __future__ import annotations

from fastapi import APIRouter

from twin.api.routes import access, health, imports, jobs, metrics, models, parks, tiles
from twin.api.routes import alarms as alarm_routes
from twin.api.routes import assets as asset_routes
from twin.api.routes import ingest as ingest_routes
from twin.api.routes import live as live_routes
from twin.api.routes import ogc as ogc_routes
from twin.api.routes import scoring as score_routes
from twin.api.routes import sta as sta_routes

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(metrics.router)
api_router.include_router(parks.router)
api_router.include_router(access.router)
api_router.include_router(tiles.router)
api_router.include_router(imports.router)
api_router.include_router(live_routes.router)  # before assets: /assets/state must not match /assets/{code}
api_router.include_router(ingest_routes.router)
api_router.include_router(asset_routes.router)
api_router.include_router(models.router)
api_router.include_router(jobs.router)
api_router.include_router(ogc_routes.router)
api_router.include_router(alarm_routes.router)
api_router.include_router(score_routes.router)
api_router.include_router(score_routes.rubric_router)
api_router.include_router(sta_routes.router)
