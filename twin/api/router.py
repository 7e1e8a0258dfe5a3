"""Every router of the service, wired in one place."""

from __future__ import annotations

from fastapi import APIRouter

from twin.api.routes import access, health, imports, parks, tiles
from twin.api.routes import assets as asset_routes

api_router = APIRouter()
api_router.include_router(health.router)
api_router.include_router(parks.router)
api_router.include_router(access.router)
api_router.include_router(tiles.router)
api_router.include_router(imports.router)
api_router.include_router(asset_routes.router)
