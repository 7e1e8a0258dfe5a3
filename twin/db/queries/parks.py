"""Data access for parks and layers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from twin.db.models import Asset, Feature, Layer, Park
from twin.errors import NotFound


def get_all(session: Session) -> list[Park]:
    """Every park, by slug."""
    return list(session.scalars(select(Park).order_by(Park.slug)))


def get_by_slug(session: Session, *, slug: str) -> Park:
    """The park with this slug, or NotFound."""
    park = session.scalar(select(Park).where(Park.slug == slug))
    if park is None:
        raise NotFound(f"park '{slug}' not found")
    return park


def summary(session: Session, *, park: Park) -> dict[str, Any]:
    """Counts and extent of a park: features by kind, assets by kind, bbox (lon/lat)."""
    feature_counts = dict(
        session.execute(
            select(Feature.kind, func.count()).where(Feature.park_id == park.id).group_by(Feature.kind)
        ).all()
    )
    asset_counts = dict(
        session.execute(select(Asset.kind, func.count()).where(Asset.park_id == park.id).group_by(Asset.kind)).all()
    )
    extent = session.execute(
        select(
            func.ST_XMin(func.ST_Extent(Feature.geom)),
            func.ST_YMin(func.ST_Extent(Feature.geom)),
            func.ST_XMax(func.ST_Extent(Feature.geom)),
            func.ST_YMax(func.ST_Extent(Feature.geom)),
        ).where(Feature.park_id == park.id)
    ).one()
    bbox = list(extent) if extent[0] is not None else None
    return {"features_by_kind": feature_counts, "assets_by_kind": asset_counts, "bbox": bbox}


def get_layers(session: Session, *, park: Park) -> list[tuple[Layer, int]]:
    """The park's layers with their feature counts."""
    count = select(func.count()).where(Feature.layer_id == Layer.id).correlate(Layer).scalar_subquery()
    rows = session.execute(select(Layer, count).where(Layer.park_id == park.id).order_by(Layer.id))
    return [(layer, n) for layer, n in rows]


def get_layer(session: Session, *, park: Park, slug: str) -> Layer:
    """One layer of the park by slug, or NotFound."""
    layer = session.scalar(select(Layer).where(Layer.park_id == park.id, Layer.slug == slug))
    if layer is None:
        raise NotFound(f"layer '{slug}' not found in park '{park.slug}'")
    return layer


def create(session: Session, *, slug: str, name: str, name_en: str | None = None, city: str | None = None,
           center: tuple[float, float] | None = None, ground_elevation_m: float = 0.0, properties: dict[str, Any] | None = None) -> Park:
    """A new, empty park; Conflict if the slug is taken."""
    from geoalchemy2.shape import from_shape
    from shapely.geometry import Point

    from twin.errors import Conflict

    if session.scalar(select(Park.id).where(Park.slug == slug)):
        raise Conflict(f"park '{slug}' already exists")
    park = Park(slug=slug, name=name, name_en=name_en, city=city, ground_elevation_m=ground_elevation_m, properties=properties or {},
                center=from_shape(Point(*center), srid=4326) if center else None)
    session.add(park)
    session.flush()
    return park
