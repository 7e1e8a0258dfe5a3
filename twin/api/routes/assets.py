"""The asset registry: kinds, CRUD of a park's devices, bulk import from CSV/GeoJSON."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Query, Request, Response, UploadFile, status

from twin.api.auth import ParkIntegrator, ParkReader, Reader
from twin.api.deps import PageDep, SessionDep, SettingsDep, parse_bbox, parse_kinds
from twin.api.responses import next_links
from twin.api.schemas.assets import AssetCreate, AssetKindPublic, AssetPage, AssetPatch, AssetPublic, ImportReportPublic
from twin.db.queries.assets import AssetFilter
from twin.errors import PayloadTooLarge
from twin.integration.assets import importer, kinds, registry

router = APIRouter(prefix="/api/v1", tags=["assets"])


@router.get("/asset-kinds", response_model=list[AssetKindPublic])
def asset_kinds(principal: Reader) -> list[dict[str, Any]]:
    """Every asset kind: labels (zh/en), FIWARE type and the JSON Schema of its attributes."""
    return [kind.public() for kind in kinds.KINDS]


@router.get("/parks/{park}/assets", response_model=AssetPage)
def list_assets(
    park: ParkReader, session: SessionDep, page: PageDep, request: Request,
    kind: Annotated[str | None, Query(description="comma-separated kinds, e.g. camera,meter")] = None,
    feature: Annotated[str | None, Query(description="feature code: assets bound to it or anything under it (a building's storeys and rooms)")] = None,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (WGS84)")] = None,
    q: Annotated[str | None, Query(max_length=200, description="text in the code, name or English name")] = None,
) -> dict[str, Any]:
    """The park's assets as JSON records (paged, with a `next` link); GeoJSON at …/assets/geojson."""
    flt = AssetFilter(kinds=parse_kinds(kind), bbox=parse_bbox(bbox), under=feature, q=q)
    matched, items = registry.get_all(session, park=park, flt=flt, limit=page.limit, offset=page.offset)
    links = next_links(request, matched=matched, returned=len(items), limit=page.limit, offset=page.offset, media_type="application/json")
    return {"items": items, "numberMatched": matched, "numberReturned": len(items), "links": links}


@router.post("/parks/{park}/assets", response_model=AssetPublic, status_code=status.HTTP_201_CREATED)
def create_asset(park: ParkIntegrator, body: AssetCreate, session: SessionDep) -> dict[str, Any]:
    """Register a device; without `feature` it is bound to the smallest feature containing it."""
    return registry.create(session, park=park, spec=body)


@router.post("/parks/{park}/assets/import", response_model=ImportReportPublic)
def import_assets(
    park: ParkIntegrator, session: SessionDep, settings: SettingsDep,
    file: Annotated[UploadFile, File(description="CSV (id, kind, name, name_en, lon, lat, height, feature, attribute columns) or GeoJSON points")],
    mode: Annotated[Literal["upsert", "create"], Query(description="upsert: update existing codes; create: existing codes are errors")] = "upsert",
    dry_run: Annotated[bool, Query(description="validate and report, write nothing")] = False,
    atomic: Annotated[bool, Query(description="write nothing unless every row is valid")] = False,
) -> dict[str, Any]:
    """Import assets in bulk with one report line per row; valid rows are applied unless `atomic`."""
    content = file.file.read(settings.max_upload_bytes + 1)
    if len(content) > settings.max_upload_bytes:
        raise PayloadTooLarge(f"the file exceeds the upload limit of {settings.max_upload_bytes} bytes")
    report = importer.import_assets(session, park=park, content=content, filename=file.filename or "upload",
                                    mode=mode, dry_run=dry_run, atomic=atomic)
    return report.as_dict()


@router.get("/parks/{park}/assets/{code}", response_model=AssetPublic)
def get_asset(park: ParkReader, code: str, session: SessionDep) -> dict[str, Any]:
    """One asset with its position, bound feature and attributes."""
    return registry.get(session, park=park, code=code)


@router.put("/parks/{park}/assets/{code}", response_model=AssetPublic)
def replace_asset(park: ParkIntegrator, code: str, body: AssetCreate, session: SessionDep) -> dict[str, Any]:
    """Overwrite an asset entirely (the body's code must match)."""
    return registry.replace(session, park=park, code=code, spec=body)


@router.patch("/parks/{park}/assets/{code}", response_model=AssetPublic)
def update_asset(park: ParkIntegrator, code: str, body: AssetPatch, session: SessionDep) -> dict[str, Any]:
    """Change some fields of an asset; attributes merge key by key (null removes one)."""
    return registry.update(session, park=park, code=code, changes=body.model_dump(exclude_unset=True))


@router.delete("/parks/{park}/assets/{code}", status_code=status.HTTP_204_NO_CONTENT)
def delete_asset(park: ParkIntegrator, code: str, session: SessionDep) -> Response:
    """Remove an asset."""
    registry.delete(session, park=park, code=code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
