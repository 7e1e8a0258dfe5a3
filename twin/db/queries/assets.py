"""Data access for assets (read side; writes live in twin/integration/assets)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from twin.db.models import Asset, Feature, Park
from twin.db.queries.features import BBox
from twin.errors import NotFound


@dataclass(frozen=True, slots=True)
class AssetFilter:
    """What a caller may narrow an asset listing by; all optional."""

    kinds: tuple[str, ...] = ()
    bbox: BBox | None = None
    # Code of a feature: assets bound to it or to anything under it (a building's storeys and rooms).
    under: str | None = None
    # Case-insensitive substring of the code, name or English name.
    q: str | None = None


def _subtree_ids(park: Park, code: str) -> Select[Any]:
    """Ids of the feature with this code and of all its descendants (recursive CTE)."""
    tree = select(Feature.id).where(Feature.park_id == park.id, Feature.code == code).cte("subtree", recursive=True)
    tree = tree.union_all(select(Feature.id).join(tree, Feature.parent_id == tree.c.id))
    return select(tree.c.id)


def filtered(park: Park, flt: AssetFilter) -> Select[Any]:
    """The park's assets matching the filter, with bound feature code/kind and GeoJSON geometry (unordered)."""
    stmt = (
        select(
            Asset,
            Feature.code.label("feature_code"),
            Feature.kind.label("feature_kind"),
            func.ST_AsGeoJSON(Asset.geom, 7).label("geojson"),
        )
        .outerjoin(Feature, Feature.id == Asset.feature_id)
        .where(Asset.park_id == park.id)
    )
    if flt.kinds:
        stmt = stmt.where(Asset.kind.in_(flt.kinds))
    if flt.bbox:
        stmt = stmt.where(func.ST_Intersects(Asset.geom, func.ST_MakeEnvelope(*flt.bbox, 4326)))
    if flt.under and flt.under != park.slug:  # the park itself: everything
        stmt = stmt.where(Asset.feature_id.in_(_subtree_ids(park, flt.under)))
    if flt.q:
        pattern = "%" + flt.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(or_(Asset.code.ilike(pattern), Asset.name.ilike(pattern), Asset.name_en.ilike(pattern)))
    return stmt


def count(session: Session, *, park: Park, flt: AssetFilter = AssetFilter()) -> int:
    """How many assets match."""
    return session.scalar(select(func.count()).select_from(filtered(park, flt).subquery())) or 0


def get_page(session: Session, *, park: Park, flt: AssetFilter = AssetFilter(), limit: int, offset: int) -> list[dict[str, Any]]:
    """One page of assets as GeoJSON Features (point with height as the third coordinate)."""
    rows = session.execute(filtered(park, flt).order_by(Asset.id).limit(limit).offset(offset))
    return [to_geojson(row.Asset, row.feature_code, row.geojson) for row in rows]


def get_records(session: Session, *, park: Park, flt: AssetFilter = AssetFilter(), limit: int, offset: int) -> list[dict[str, Any]]:
    """One page of assets as plain JSON records (lon/lat/height, attributes, bound feature)."""
    rows = session.execute(filtered(park, flt).order_by(Asset.id).limit(limit).offset(offset))
    return [to_record(row.Asset, row.feature_code, row.feature_kind, row.geojson) for row in rows]


def get_record(session: Session, *, park: Park, code: str) -> dict[str, Any]:
    """One asset as a JSON record, or NotFound."""
    row = session.execute(filtered(park, AssetFilter()).where(Asset.code == code)).first()
    if row is None:
        raise NotFound(f"asset '{code}' not found in park '{park.slug}'")
    return to_record(row.Asset, row.feature_code, row.feature_kind, row.geojson)


def to_geojson(asset: Asset, feature_code: str | None, geojson: str) -> dict[str, Any]:
    """An RFC 7946 Feature for an asset; the twin's own fields win on a name clash."""
    geometry = orjson.loads(geojson)
    geometry["coordinates"] = [*geometry["coordinates"][:2], asset.height]
    own = {"code": asset.code, "kind": asset.kind, "name": asset.name, "name_en": asset.name_en, "feature": feature_code, "height": asset.height}
    return {"type": "Feature", "id": asset.code, "geometry": geometry, "properties": {**(asset.properties or {}), **own}}


def to_record(asset: Asset, feature_code: str | None, feature_kind: str | None, geojson: str) -> dict[str, Any]:
    """An asset as a JSON record; `feature` None means bound to the park itself."""
    lon, lat = orjson.loads(geojson)["coordinates"][:2]
    return {
        "code": asset.code, "kind": asset.kind, "name": asset.name, "name_en": asset.name_en,
        "feature": feature_code, "feature_kind": feature_kind, "lon": lon, "lat": lat, "height": asset.height,
        "attributes": asset.properties or {}, "created_at": asset.created_at, "updated_at": asset.updated_at,
    }
