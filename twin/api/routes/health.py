"""Liveness/readiness: the service answers and its database is reachable with PostGIS."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from twin.api.schemas.parks import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(request: Request) -> Health | JSONResponse:
    """200 when the database answers with PostGIS and is migrated; 503 otherwise."""
    try:
        with request.app.state.engine.connect() as connection:
            postgis = connection.scalar(text("SELECT postgis_lib_version()"))
            revision = list(connection.scalars(text("SELECT version_num FROM alembic_version")))
    except SQLAlchemyError as exc:
        body = Health(status="unavailable", database=f"error: {type(exc).__name__}")
        return JSONResponse(status_code=503, content=body.model_dump())
    return Health(status="ok", database="ok", postgis=postgis, revision=sorted(revision))
