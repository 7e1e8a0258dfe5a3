"""OGC API – Features at /ogc: landing page, conformance, collections, queryables, items.

Reads need a viewer token like the rest of the API (GDAL: GDAL_HTTP_HEADERS="Authorization:
Bearer ..."); a park-scoped token sees only its park's collections.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from twin.api.auth import Reader
from twin.api.deps import SessionDep, parse_bbox
from twin.api.responses import GeoJSONResponse
from twin.ogc import service
from twin.ogc.cql import FILTER_LANGS

router = APIRouter(prefix="/ogc", tags=["OGC API – Features"])
GEO = {"response_class": GeoJSONResponse, "responses": {200: {"content": {"application/geo+json": {}}}}}


def _parameter(name: str, schema: dict[str, Any], description: str, style: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description, **(style or {})}


# Declared for the OpenAPI document (clients such as GDAL read `limit`'s maximum from it); parsed by
# twin.ogc.service so that every bad value is a 400 with the OGC wording, not a 422.
ITEMS_PARAMETERS = [
    _parameter("limit", {"type": "integer", "minimum": 1, "maximum": service.MAX_LIMIT, "default": service.DEFAULT_LIMIT}, "page size"),
    _parameter("offset", {"type": "integer", "minimum": 0, "default": 0}, "items to skip (next links carry it)"),
    _parameter("bbox", {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}, "minLon,minLat,maxLon,maxLat (CRS84)", {"style": "form", "explode": False}),
    _parameter("datetime", {"type": "string"}, "RFC 3339 instant or interval (start/end, '..' open), on the record's last change"),
    _parameter("filter", {"type": "string"}, "CQL2 filter over the queryables, e.g. kind = 'camera' AND fov_deg > 60"),
    _parameter("filter-lang", {"type": "string", "enum": list(FILTER_LANGS), "default": "cql2-text"}, "filter language"),
]


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/") + router.prefix


@router.get("", summary="OGC API landing page")
def landing(request: Request, principal: Reader) -> dict[str, Any]:
    """Links to the API definition, conformance and the collections."""
    return service.landing(_base(request))


@router.get("/conformance")
def conformance(principal: Reader) -> dict[str, Any]:
    """The conformance classes this server implements."""
    return service.conformance()


@router.get("/collections")
def collections(request: Request, principal: Reader, session: SessionDep) -> dict[str, Any]:
    """Every collection of the parks the caller may read."""
    parks = service.visible_parks(session, principal=principal)
    return service.get_collections(session, parks=parks, base=_base(request))


@router.get("/collections/{collection_id}")
def collection(collection_id: str, request: Request, principal: Reader, session: SessionDep) -> dict[str, Any]:
    """One collection's metadata and extent."""
    found = service.get_collection(session, parks=service.visible_parks(session, principal=principal), collection_id=collection_id)
    return service.describe(session, found, base=_base(request))


@router.get("/collections/{collection_id}/queryables", response_class=GeoJSONResponse, responses={200: {"content": {"application/schema+json": {}}}})
def queryables(collection_id: str, request: Request, principal: Reader, session: SessionDep) -> GeoJSONResponse:
    """The properties a `filter` or a `?name=value` parameter may use (JSON Schema)."""
    found = service.get_collection(session, parks=service.visible_parks(session, principal=principal), collection_id=collection_id)
    return GeoJSONResponse(service.queryables(found, base=_base(request)), media_type="application/schema+json")


@router.get("/collections/{collection_id}/items", openapi_extra={"parameters": ITEMS_PARAMETERS}, **GEO)
def items(collection_id: str, request: Request, principal: Reader, session: SessionDep) -> dict[str, Any]:
    """Features of a collection (GeoJSON), paged with `next` links; `?<queryable>=value` filters by equality."""
    found = service.get_collection(session, parks=service.visible_parks(session, principal=principal), collection_id=collection_id)
    params = dict(request.query_params)
    return service.get_items(
        session, collection=found, params=params, bbox=parse_bbox(params.get("bbox")), base=_base(request),
        page_href=lambda offset, limit: str(request.url.include_query_params(offset=offset, limit=limit)),
    )


@router.get("/collections/{collection_id}/items/{feature_id}", **GEO)
def item(collection_id: str, feature_id: str, request: Request, principal: Reader, session: SessionDep) -> dict[str, Any]:
    """One feature by id."""
    found = service.get_collection(session, parks=service.visible_parks(session, principal=principal), collection_id=collection_id)
    return service.get_item(session, collection=found, feature_id=feature_id, base=_base(request))
