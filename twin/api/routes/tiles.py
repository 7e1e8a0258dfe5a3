"""3D Tiles of a park: tilesets (versioned, atomically published) and their content-addressed GLB content."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from twin.api.auth import ParkPlanner, ParkReader
from twin.api.deps import SessionDep
from twin.api.schemas.tiles import BuildResponse, TilesetPublic
from twin.db.models import Tileset
from twin.db.queries import tilesets as tileset_queries
from twin.errors import InvalidInput
from twin.pipelines.tiles_build import BUILDINGS_TILESET, build_buildings

router = APIRouter(prefix="/api/v1/parks/{park}/tilesets", tags=["tiles"])
CONTENT_NAME = re.compile(r"^[0-9a-f]{20,64}\.(glb|json|subtree)$")
SlugPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9\-_]{0,99}$")]
IMMUTABLE = "public, max-age=31536000, immutable"


def _public(request: Request, park_slug: str, tileset: Tileset) -> dict[str, Any]:
    base = f"/api/v1/parks/{park_slug}/tilesets/{tileset.slug}"
    return {
        "slug": tileset.slug, "version": tileset.version, "title": tileset.title, "title_en": tileset.title_en,
        "source_kind": tileset.source_kind, "source_ref": tileset.source_ref, "published": tileset.published,
        "feature_count": tileset.feature_count, "tile_count": tileset.tile_count, "bytes_total": tileset.bytes_total,
        "created_at": tileset.created_at, "url": f"{base}/tileset.json", "version_url": f"{base}/v{tileset.version}/tileset.json",
    }


def _json_or_304(request: Request, tileset: Tileset, cache: str) -> Response:
    etag = f'"{tileset.slug}-v{tileset.version}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
    from twin.api.responses import GeoJSONResponse  # orjson rendering; media type set below

    response = GeoJSONResponse(tileset.tileset, headers={"ETag": etag, "Cache-Control": cache})
    response.headers["content-type"] = "application/json"
    return response


@router.get("", response_model=list[TilesetPublic])
def list_tilesets(park: ParkReader, session: SessionDep, request: Request) -> list[dict[str, Any]]:
    """The park's published tilesets (buildings, BIM models) with their URLs."""
    return [_public(request, park.slug, t) for t in tileset_queries.get_all(session, park=park)]


@router.get("/{slug}/versions", response_model=list[TilesetPublic])
def list_versions(slug: SlugPath, park: ParkReader, session: SessionDep, request: Request) -> list[dict[str, Any]]:
    """Every stored version of a tileset, newest first."""
    return [_public(request, park.slug, t) for t in tileset_queries.get_versions(session, park=park, slug=slug)]


@router.get("/{slug}/tileset.json", response_class=Response, responses={200: {"content": {"application/json": {}}}, 304: {"description": "unchanged"}})
def published_tileset(slug: SlugPath, park: ParkReader, session: SessionDep, request: Request) -> Response:
    """The published version's tileset.json (3D Tiles 1.1); revalidated by ETag on every load."""
    return _json_or_304(request, tileset_queries.get(session, park=park, slug=slug), "no-cache")


@router.get("/{slug}/v{version}/tileset.json", response_class=Response, responses={200: {"content": {"application/json": {}}}, 304: {"description": "unchanged"}})
def versioned_tileset(slug: SlugPath, version: int, park: ParkReader, session: SessionDep, request: Request) -> Response:
    """One stored version's tileset.json; immutable."""
    return _json_or_304(request, tileset_queries.get(session, park=park, slug=slug, version=version), IMMUTABLE)


def _content(slug: str, name: str, park: Any, session: Any, request: Request) -> Response:
    if not CONTENT_NAME.fullmatch(name):
        raise InvalidInput("invalid tile content name")
    etag = f'"{name}"'
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": IMMUTABLE})
    data = tileset_queries.get_blob(session, park=park, slug=slug, name=name)
    return Response(content=data, media_type="model/gltf-binary", headers={"ETag": etag, "Cache-Control": IMMUTABLE})


@router.get("/{slug}/content/{name}", response_class=Response, responses={200: {"content": {"model/gltf-binary": {}}}, 304: {"description": "unchanged"}})
def content(slug: SlugPath, name: str, park: ParkReader, session: SessionDep, request: Request) -> Response:
    """Tile content (GLB) by its content hash; cached forever."""
    return _content(slug, name, park, session, request)


@router.get("/{slug}/v{version}/content/{name}", response_class=Response, responses={200: {"content": {"model/gltf-binary": {}}}, 304: {"description": "unchanged"}})
def versioned_content(slug: SlugPath, version: int, name: str, park: ParkReader, session: SessionDep, request: Request) -> Response:
    """Tile content resolved relative to a versioned tileset.json."""
    return _content(slug, name, park, session, request)


@router.post("/buildings/build", response_model=BuildResponse)
def rebuild_buildings(park: ParkPlanner, session: SessionDep, request: Request, force: bool = False) -> dict[str, Any]:
    """Rebuild the building tiles from PostGIS (skipped when the buildings have not changed, unless force)."""
    result = build_buildings(session, park=park, force=force)
    published = result.tileset or tileset_queries.get(session, park=park, slug=BUILDINGS_TILESET)
    return {"skipped": result.skipped, "features": result.features, "tileset": _public(request, park.slug, published)}
