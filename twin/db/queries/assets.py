"""Data access for assets (read side; the integration layer adds writes)."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from twin.db.models import Asset, Feature, Park
from twin.db.queries.features import BBox


def _filtered(park: Park, kinds: tuple[str, ...], bbox: BBox | None) -> Select[Any]:
    stmt = (
        select(Asset, Feature.code.label("feature_code"), func.ST_AsGeoJSON(Asset.geom, 7).label("geojson"))
        .outerjoin(Feature, Feature.id == Asset.feature_id)
        .where(Asset.park_id == park.id)
    )
    if kinds:
        stmt = stmt.where(Asset.kind.in_(kinds))
    if bbox:
        stmt = stmt.where(func.ST_Intersects(Asset.geom, func.ST_MakeEnvelope(*bbox, 4326)))
    return stmt


def count(session: Session, *, park: Park, kinds: tuple[str, ...] = (), bbox: BBox | None = None) -> int:
    """How many assets match."""
    return session.scalar(select(func.count()).select_from(_filtered(park, kinds, bbox).subquery())) or 0


def get_page(
    session: Session, *, park: Park, kinds: tuple[str, ...] = (), bbox: BBox | None = None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """One page of assets as GeoJSON Features (point with height as the third coordinate)."""
    rows = session.execute(_filtered(park, kinds, bbox).order_by(Asset.id).limit(limit).offset(offset))
    return [to_geojson(row.Asset, row.feature_code, row.geojson) for row in rows]


def to_geojson(asset: Asset, feature_code: str | None, geojson: str) -> dict[str, Any]:
    """An RFC 7946 Feature for an asset; the twin's own fields win on a name clash."""
    geometry = orjson.loads(geojson)
    geometry["coordinates"] = [*geometry["coordinates"][:2], asset.height]
    own = {"code": asset.code, "kind": asset.kind, "name": asset.name, "name_en": asset.name_en, "feature": feature_code}
    return {"type": "Feature", "id": asset.code, "geometry": geometry, "properties": {**(asset.properties or {}), **own}}
