"""Upload GIS files into a park layer; the building tiles are rebuilt from PostGIS afterwards."""

from __future__ import annotations

import shutil
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Header, Request, UploadFile, status
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from twin.api.auth import ParkPlanner
from twin.api.deps import SessionDep, SettingsDep
from twin.api.schemas.imports import GisImportAccepted, GisImportResponse
from twin.api.uploads import save_upload
from twin.db.queries import imports as import_queries
from twin.pipelines.gis_import import import_and_tile
from twin.pipelines.gis_job import submit_gis

router = APIRouter(prefix="/api/v1/parks/{park}/imports", tags=["imports"])
GIS_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip", ".city.json", ".cityjson")


@router.post("/gis", response_model=GisImportResponse, status_code=status.HTTP_201_CREATED,
             responses={202: {"model": GisImportAccepted, "description": "with `Prefer: respond-async`: the import runs as a job"}})
async def import_gis_file(
    park: ParkPlanner, session: SessionDep, settings: SettingsDep, request: Request,
    file: Annotated[UploadFile, File(description="GeoJSON, GeoPackage, zipped Shapefile or CityJSON")],
    layer: Annotated[str, Form(pattern=r"^[a-z0-9][a-z0-9\-_]{0,60}$", description="target layer slug. If it exists, its features are merged by code: features the file has again keep their ids (and what is bound to them), the others are removed")],
    layer_name: Annotated[str | None, Form(max_length=200)] = None,
    source_layer: Annotated[str | None, Form(max_length=200, description="the file's layer to read when it has several: a GeoPackage layer, or a shapefile of a zip by name (without .shp)")] = None,
    crs: Annotated[str | None, Form(description="source CRS when the file has none or a wrong one: EPSG:4544, EPSG:4490, gcj02, bd09…")] = None,
    height_attr: Annotated[str | None, Form()] = None,
    levels_attr: Annotated[str | None, Form()] = None,
    storey_height: Annotated[float, Form(gt=0, le=20)] = 3.0,
    build_tiles: Annotated[bool, Form()] = True,
    prefer: Annotated[str | None, Header(description="`respond-async` (RFC 7240): answer 202 at once and import in a background job "
                                                     "(for files whose import would outlast the request); its result is this endpoint's 201 body")] = None,
) -> Any:
    """Import a file into a layer (all of the file's rows accounted for in the report) and rebuild the tiles."""
    path = await save_upload(file, dest_dir=settings.data_dir / "uploads", max_bytes=settings.max_upload_bytes, suffixes=GIS_SUFFIXES)
    options = {"layer": layer, "layer_name": layer_name, "source_layer": source_layer, "crs": crs, "height_attr": height_attr,
               "levels_attr": levels_attr, "storey_height": storey_height, "build_tiles": build_tiles}
    try:
        if prefer and "respond-async" in prefer.lower():
            principal = getattr(request.state, "principal", None)
            job = submit_gis(session, park=park, upload=path, settings=settings, options=options, created_by=getattr(principal, "name", None))
            accepted = GisImportAccepted(job_id=job.id, job_url=f"/api/v1/jobs/{job.id}", events_url=f"/api/v1/jobs/{job.id}/events")
            return JSONResponse(accepted.model_dump(), status_code=status.HTTP_202_ACCEPTED,
                                headers={"Location": accepted.job_url, "Preference-Applied": "respond-async"})
        return await run_in_threadpool(import_and_tile, session, park=park, path=path, settings=settings, source_name=path.name, options=options)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)  # (a job's upload was moved to its own folder first)


@router.get("", response_model=list[dict[str, Any]])
def list_imports(park: ParkPlanner, session: SessionDep) -> list[dict[str, Any]]:
    """The park's import history with each import's report and source CRS."""
    return import_queries.get_all(session, park=park)
