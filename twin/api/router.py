"""Every router of the service, wired in one place."""

from __future__ import annotations

from fastapi import APIRouter

from twin.api.routes import access, health, imports, jobs, models, parks, tiles
from twin.api.routes import assets as asset_routes
from twin.api.routes import ingest as ingest_routes
from twin.api.routes import live as live_routes
from twin.api.routes import ogc as ogc_routes

api_router = APIRouter()
api_router.include_router(health.router)
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
