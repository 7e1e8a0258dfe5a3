"""API for parks, their layers (read, delete), features (GeoJSON, RFC 7946) and assets."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from geoalchemy2.shape import to_shape

from twin.api.auth import Admin, ParkPlanner, ParkReader, Reader
from twin.api.deps import PageDep, SessionDep, parse_bbox, parse_kinds
from twin.api.responses import GeoJSONResponse, next_links
from twin.api.schemas.parks import LayerDeleted, LayerPublic, ParkCreate, ParkDetail, ParkPublic
from twin.db.models import Park
from twin.db.queries import assets as asset_queries
from twin.db.queries import features as feature_queries
from twin.db.queries import parks as park_queries
from twin.pipelines import layer_delete

router = APIRouter(prefix="/api/v1", tags=["parks"])
GEO = {"response_class": GeoJSONResponse, "responses": {200: {"content": {"application/geo+json": {}}}}}

BBoxQuery = Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (WGS84)", examples=["104.06,30.535,104.07,30.545"])]
KindQuery = Annotated[str | None, Query(description="comma-separated kinds, e.g. building,parking_space")]



def _park_public(park: Park) -> dict[str, Any]:
    center = to_shape(park.center) if park.center is not None else None
    return {
        "slug": park.slug,
        "name": park.name,
        "name_en": park.name_en,
        "city": park.city,
        "center": (center.x, center.y) if center is not None else None,
        "ground_elevation_m": park.ground_elevation_m,
        "properties": park.properties or {},
    }


def _collection(request: Request, features: list[dict[str, Any]], matched: int, limit: int, offset: int) -> dict[str, Any]:
    links = next_links(request, matched=matched, returned=len(features), limit=limit, offset=offset, media_type="application/geo+json")
    return {"type": "FeatureCollection", "numberMatched": matched, "numberReturned": len(features), "features": features, "links": links}


@router.get("/parks", response_model=list[ParkPublic])
def list_parks(session: SessionDep, principal: Reader) -> list[dict[str, Any]]:
    """The parks the caller may see (all of them for a token without park scope)."""
    return [_park_public(p) for p in park_queries.get_all(session) if principal.park_id in (None, p.id)]


@router.post("/parks", response_model=ParkPublic, status_code=201)
def create_park(body: ParkCreate, principal: Admin, session: SessionDep) -> dict[str, Any]:
    """Create an empty park (admin for every park); then import layers and models into it."""
    principal.check(principal.role, None)
    return _park_public(park_queries.create(session, **body.model_dump()))


@router.get("/parks/{park}", response_model=ParkDetail)
def get_park(park: ParkReader, session: SessionDep) -> dict[str, Any]:
    """One park with its extent and counts of features and assets by kind."""
    return {**_park_public(park), **park_queries.summary(session, park=park)}


@router.get("/parks/{park}/layers", response_model=list[LayerPublic])
def list_layers(park: ParkReader, session: SessionDep) -> list[dict[str, Any]]:
    """The park's layers, each with its category, source CRS and feature count."""
    return [
        {**{k: getattr(layer, k) for k in ("slug", "name", "name_en", "category", "source_name", "source_crs")}, "feature_count": n}
        for layer, n in park_queries.get_layers(session, park=park)
    ]


@router.delete("/parks/{park}/layers/{layer}", response_model=LayerDeleted)
def delete_layer(park: ParkPlanner, layer: str, session: SessionDep,
                 force: Annotated[bool, Query(description="delete even if assets, enterprises, BIM models, alarm rules or other "
                                                          "layers' features are bound to its features (they are unbound)")] = False) -> dict[str, Any]:
    """Delete a layer and its features (409 while anything is bound to them, unless `force`); the building tiles are
    rebuilt without them, or withdrawn when the park has no building left."""
    return layer_delete.delete_layer(session, park=park, slug=layer, force=force)


@router.get("/parks/{park}/layers/{layer}/features", **GEO)
def layer_features(park: ParkReader, layer: str, session: SessionDep, page: PageDep, request: Request, bbox: BBoxQuery = None, kind: KindQuery = None) -> dict[str, Any]:
    """Features of one layer as a GeoJSON FeatureCollection (paged, with a `next` link)."""
    park_queries.get_layer(session, park=park, slug=layer)
    flt = feature_queries.FeatureFilter(kinds=parse_kinds(kind), layer_slug=layer, bbox=parse_bbox(bbox))
    return _features(session, park, flt, page, request)


@router.get("/parks/{park}/features", **GEO)
def features(
    park: ParkReader, session: SessionDep, page: PageDep, request: Request,
    bbox: BBoxQuery = None, kind: KindQuery = None,
    parent: Annotated[str | None, Query(description="code of the parent feature, e.g. a building's storeys")] = None,
) -> dict[str, Any]:
    """The park's features as a GeoJSON FeatureCollection, filtered by kind, parent and bbox."""
    flt = feature_queries.FeatureFilter(kinds=parse_kinds(kind), parent_code=parent, bbox=parse_bbox(bbox))
    return _features(session, park, flt, page, request)


def _features(session: SessionDep, park: Park, flt: feature_queries.FeatureFilter, page: PageDep, request: Request) -> dict[str, Any]:
    matched = feature_queries.count(session, park=park, flt=flt)
    rows = feature_queries.get_page(session, park=park, flt=flt, limit=page.limit, offset=page.offset)
    return _collection(request, rows, matched, page.limit, page.offset)


@router.get("/parks/{park}/features/{code}", **GEO)
def feature(park: ParkReader, code: str, session: SessionDep) -> dict[str, Any]:
    """One feature as GeoJSON, with its ancestors (storey → building) and child counts."""
    return feature_queries.get_by_code(session, park=park, code=code)


@router.get("/parks/{park}/assets/geojson", **GEO)
def assets_geojson(
    park: ParkReader, session: SessionDep, page: PageDep, request: Request, bbox: BBoxQuery = None, kind: KindQuery = None,
    feature: Annotated[str | None, Query(description="feature code: assets bound to it or anything under it")] = None,
    q: Annotated[str | None, Query(description="text in the code or name")] = None,
) -> dict[str, Any]:
    """The park's assets (devices) as GeoJSON points with height, filtered by kind, feature, text and bbox."""
    flt = asset_queries.AssetFilter(kinds=parse_kinds(kind), bbox=parse_bbox(bbox), under=feature, q=q)
    matched = asset_queries.count(session, park=park, flt=flt)
    rows = asset_queries.get_page(session, park=park, flt=flt, limit=page.limit, offset=page.offset)
    return _collection(request, rows, matched, page.limit, page.offset)
