"""BIM models: upload (→ a conversion job), versions, publication, anchors and element properties."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile, status
from fastapi.responses import FileResponse

from twin.access.roles import Principal, Role
from twin.api.auth import ParkPlanner, ParkReader, require
from twin.api.deps import PageDep, SessionDep, SettingsDep
from twin.api.schemas.bim import AnchorBody, ModelPublic, UploadAccepted
from twin.api.uploads import save_upload
from twin.db.models import BimModel, BimModelVersion, Park
from twin.db.queries import bim as bim_queries
from twin.errors import InvalidInput, NotFound
from twin.pipelines.ifc_import import parse_anchor, submit_ifc

router = APIRouter(prefix="/api/v1", tags=["bim"])
IFC_SUFFIXES = (".ifc", ".ifczip")


def _version(v: BimModelVersion) -> dict[str, Any]:
    return {k: getattr(v, k) for k in ("version", "state", "file_name", "file_size", "ifc_schema", "georef", "anchor", "element_count", "stats", "warnings", "job_id", "created_at")}


def _model(session: SessionDep, park: Park, model: BimModel) -> dict[str, Any]:
    versions = bim_queries.get_versions(session, model=model)
    published = next((v for v in versions if v.state == "published"), None)
    return {"id": model.id, "name": model.name, "anchor": model.anchor, "published_version": published.version if published else None,
            "tileset_url": f"/api/v1/parks/{park.slug}/tilesets/bim-{model.id}/tileset.json" if published else None,
            "versions": [_version(v) for v in versions]}


@router.post("/parks/{park}/models", response_model=UploadAccepted, status_code=status.HTTP_202_ACCEPTED)
async def upload_model(
    park: ParkPlanner, session: SessionDep, settings: SettingsDep, request: Request,
    file: Annotated[UploadFile, File(description=".ifc or .ifczip (IFC2X3, IFC4, IFC4X3_ADD2)")],
    name: Annotated[str | None, Form(max_length=200, description="model name; an existing name adds a version")] = None,
    model_id: Annotated[int | None, Form(description="add a version to this model")] = None,
    building: Annotated[str | None, Form(description="code of the park building the model represents")] = None,
    anchor: Annotated[str | None, Form(description="LON,LAT,HEIGHT[,ROTATION_DEG]: placement when the file's georeference is missing or wrong")] = None,
) -> dict[str, Any]:
    """Upload a model: checked at once (a bad file is a 4xx and nothing is kept), converted in a job."""
    placement = parse_anchor(anchor)
    path = await save_upload(file, dest_dir=settings.data_dir / "uploads", max_bytes=settings.max_upload_bytes, suffixes=IFC_SUFFIXES)
    try:
        principal = request.state.principal if hasattr(request.state, "principal") else None
        model, version, job = submit_ifc(session, park=park, upload=path, settings=settings, model_name=name, model_id=model_id,
                                         building=building, anchor=placement, created_by=getattr(principal, "name", None))
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
    return {"model_id": model.id, "version": version.version, "job_id": job.id, "job_url": f"/api/v1/jobs/{job.id}",
            "events_url": f"/api/v1/jobs/{job.id}/events"}


@router.get("/parks/{park}/models", response_model=list[ModelPublic])
def list_models(park: ParkReader, session: SessionDep) -> list[dict[str, Any]]:
    """The park's BIM models with every version, its georeference source and tileset."""
    return [_model(session, park, m) for m in bim_queries.get_all(session, park=park)]


@router.get("/parks/{park}/models/{model_id}", response_model=ModelPublic)
def get_model(park: ParkReader, model_id: int, session: SessionDep) -> dict[str, Any]:
    return _model(session, park, bim_queries.get(session, model_id=model_id, park=park))


@router.post("/parks/{park}/models/{model_id}/versions/{version}/publish", response_model=ModelPublic)
def publish_version(park: ParkPlanner, model_id: int, version: int, session: SessionDep) -> dict[str, Any]:
    """Switch the map to another converted version of the model (atomic)."""
    model = bim_queries.get(session, model_id=model_id, park=park)
    bim_queries.publish_version(session, model=model, version=version)
    return _model(session, park, model)


def _stored_file(settings: SettingsDep, version: BimModelVersion) -> Path:
    """The version's IFC file under the data folder, or NotFound (removed, or a path from another installation)."""
    path = Path(version.file_path).resolve()
    if not path.is_relative_to((settings.data_dir / "models").resolve()) or not path.is_file():
        raise NotFound(f"the IFC file of version {version.version} is no longer stored; upload it again")
    return path


@router.get("/parks/{park}/models/{model_id}/versions/{version}/file", response_class=FileResponse,
            responses={200: {"content": {"application/x-step": {}}}})
def download_version(park: ParkReader, model_id: int, version: int, session: SessionDep, settings: SettingsDep) -> FileResponse:
    """The IFC file of a version, as uploaded."""
    found = bim_queries.get_version(session, model=bim_queries.get(session, model_id=model_id, park=park), version=version)
    return FileResponse(_stored_file(settings, found), filename=found.file_name, media_type="application/x-step")


@router.put("/parks/{park}/models/{model_id}/anchor", response_model=UploadAccepted, status_code=status.HTTP_202_ACCEPTED)
def set_anchor(park: ParkPlanner, model_id: int, body: AnchorBody, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """Place the model by hand (position, height, rotation) and convert it again as a new version."""
    from bim.georef import Anchor

    model = bim_queries.get(session, model_id=model_id, park=park)
    latest = bim_queries.get_versions(session, model=model)
    if not latest:
        raise InvalidInput("the model has no uploaded file to place")
    source = _stored_file(settings, latest[0])
    scratch = settings.data_dir / "uploads" / f"anchor-{model.id}"
    scratch.mkdir(parents=True, exist_ok=True)
    copy = scratch / latest[0].file_name
    shutil.copyfile(source, copy)
    try:
        _, version, job = submit_ifc(session, park=park, upload=copy, settings=settings, model_id=model.id, anchor=Anchor(**body.model_dump()))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {"model_id": model.id, "version": version.version, "job_id": job.id, "job_url": f"/api/v1/jobs/{job.id}", "events_url": f"/api/v1/jobs/{job.id}/events"}


def _model_for_reader(model_id: int, session: SessionDep, principal: Principal) -> BimModel:
    model = bim_queries.get(session, model_id=model_id)
    principal.check(Role.viewer, model.park_id)
    return model


@router.get("/models/{model_id}/elements/{global_id}")
def get_element(model_id: int, global_id: str, session: SessionDep, principal: Annotated[Principal, Depends(require(Role.viewer))],
                version: Annotated[int | None, Query(description="default: the published version")] = None) -> dict[str, Any]:
    """One element's full record: class, name, storey, every property set and quantity, footprint, z range."""
    model = _model_for_reader(model_id, session, principal)
    chosen = bim_queries.get_version(session, model=model, version=version) if version else bim_queries.published_version(session, model=model)
    if chosen is None:
        raise InvalidInput(f"model {model_id} has no published version yet")
    return bim_queries.get_element(session, version=chosen, global_id=global_id)


@router.get("/models/{model_id}/elements")
def list_elements(model_id: int, session: SessionDep, page: PageDep, principal: Annotated[Principal, Depends(require(Role.viewer))],
                  storey: str | None = None, ifc_class: str | None = None,
                  intersects: Annotated[str | None, Query(description="WKT polygon in WGS84: elements whose footprint intersects it")] = None) -> dict[str, Any]:
    """Elements of the published version: "which elements are on storey 2", "which spaces intersect this polygon"."""
    model = _model_for_reader(model_id, session, principal)
    chosen = bim_queries.published_version(session, model=model)
    if chosen is None:
        raise InvalidInput(f"model {model_id} has no published version yet")
    if intersects:
        _check_wkt(intersects)
    total, rows = bim_queries.get_elements(session, version=chosen, storey=storey, ifc_class=ifc_class, intersects_wkt=intersects, limit=page.limit, offset=page.offset)
    return {"numberMatched": total, "numberReturned": len(rows), "elements": rows}


def _check_wkt(text: str) -> None:
    import shapely

    try:
        shape = shapely.from_wkt(text)
    except Exception:  # noqa: BLE001 — shapely raises several types for bad WKT
        raise InvalidInput("intersects must be a WKT geometry in WGS84, e.g. POLYGON((lon lat, ...))") from None
    if shape is None or shape.is_empty or not shape.is_valid:
        raise InvalidInput("intersects must be a valid, non-empty WKT geometry")
