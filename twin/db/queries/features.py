"""Data access for spatial features: filtered pages as GeoJSON-ready rows, one feature, hierarchy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from twin.db.models import Feature, Layer, Park
from twin.errors import NotFound

BBox = tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class FeatureFilter:
    """What a caller may narrow a feature listing by; all optional."""

    kinds: tuple[str, ...] = ()
    layer_slug: str | None = None
    parent_code: str | None = None
    bbox: BBox | None = None


def filtered(park: Park, flt: FeatureFilter) -> Select[Any]:
    """The park's features matching the filter, with layer slug, parent code and GeoJSON geometry (unordered)."""
    parent = aliased(Feature)
    stmt = (
        select(
            Feature,
            Layer.slug.label("layer_slug"),
            parent.code.label("parent_code"),
            func.ST_AsGeoJSON(Feature.geom, 7).label("geojson"),
        )
        .join(Layer, Layer.id == Feature.layer_id)
        .outerjoin(parent, parent.id == Feature.parent_id)
        .where(Feature.park_id == park.id)
    )
    if flt.kinds:
        stmt = stmt.where(Feature.kind.in_(flt.kinds))
    if flt.layer_slug:
        stmt = stmt.where(Layer.slug == flt.layer_slug)
    if flt.parent_code:
        stmt = stmt.where(parent.code == flt.parent_code)
    if flt.bbox:
        stmt = stmt.where(func.ST_Intersects(Feature.geom, func.ST_MakeEnvelope(*flt.bbox, 4326)))
    return stmt


def count(session: Session, *, park: Park, flt: FeatureFilter) -> int:
    """How many features match the filter."""
    return session.scalar(select(func.count()).select_from(filtered(park, flt).subquery())) or 0


def get_page(session: Session, *, park: Park, flt: FeatureFilter, limit: int, offset: int) -> list[dict[str, Any]]:
    """One page of matching features as GeoJSON Feature dicts, in id order."""
    rows = session.execute(filtered(park, flt).order_by(Feature.id).limit(limit).offset(offset))
    return [to_geojson(row.Feature, row.layer_slug, row.parent_code, row.geojson) for row in rows]


def get_by_code(session: Session, *, park: Park, code: str) -> dict[str, Any]:
    """One feature as a GeoJSON Feature with its ancestors and child counts, or NotFound."""
    row = session.execute(filtered(park, FeatureFilter()).where(Feature.code == code)).first()
    if row is None:
        raise NotFound(f"feature '{code}' not found in park '{park.slug}'")
    feature = to_geojson(row.Feature, row.layer_slug, row.parent_code, row.geojson)
    feature["properties"]["ancestors"] = ancestors(session, feature_id=row.Feature.id)
    children = session.execute(
        select(Feature.kind, func.count()).where(Feature.parent_id == row.Feature.id).group_by(Feature.kind)
    ).all()
    feature["properties"]["children"] = dict(children)
    return feature


def ancestors(session: Session, *, feature_id: int) -> list[dict[str, str | None]]:
    """The chain of parents from the nearest up (storey, building...), via a recursive CTE."""
    chain = select(Feature.id, Feature.parent_id, Feature.code, Feature.kind, Feature.name, func.cast(0, Feature.storeys.type).label("depth"))
    chain = chain.where(Feature.id == feature_id).cte("chain", recursive=True)
    step = select(Feature.id, Feature.parent_id, Feature.code, Feature.kind, Feature.name, chain.c.depth + 1).join(
        chain, Feature.id == chain.c.parent_id
    )
    chain = chain.union_all(step)
    rows = session.execute(select(chain.c.code, chain.c.kind, chain.c.name).where(chain.c.depth > 0).order_by(chain.c.depth))
    return [{"code": code, "kind": kind, "name": name} for code, kind, name in rows]


def to_geojson(feature: Feature, layer_slug: str, parent_code: str | None, geojson: str) -> dict[str, Any]:
    """An RFC 7946 Feature: source attributes first, the twin's own fields win on a name clash."""
    own = {
        "code": feature.code,
        "kind": feature.kind,
        "name": feature.name,
        "name_en": feature.name_en,
        "layer": layer_slug,
        "parent": parent_code,
        "base_height": feature.base_height,
        "top_height": feature.top_height,
        "height_source": feature.height_source,
        "storeys": feature.storeys,
    }
    return {
        "type": "Feature",
        "id": feature.code,
        "geometry": orjson.loads(geojson),
        "properties": {**(feature.properties or {}), **own},
    }
