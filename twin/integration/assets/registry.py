"""The asset registry: create, read, update, replace and delete a park's devices (flush only)."""

from __future__ import annotations

from typing import Any

from geoalchemy2.shape import from_shape
from pydantic import ValidationError
from shapely.geometry import Point
from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.db.models import Asset, Park
from twin.db.queries import assets as asset_queries
from twin.errors import Conflict, InvalidInput, NotFound
from twin.integration.assets import kinds
from twin.integration.assets.binding import Binder
from twin.integration.assets.spec import AssetSpec
from twin.integration.sta.observations import follow_asset_positions

POSITION_FIELDS = ("lon", "lat", "height")


def row_values(park: Park, spec: AssetSpec, *, binder: Binder) -> dict[str, Any]:
    """Validated column values for an asset (kind attributes checked, feature bound), or InvalidInput."""
    attributes = kinds.validate_attributes(spec.kind, spec.attributes)
    return {
        "park_id": park.id,
        "code": spec.code,
        "kind": spec.kind,
        "name": spec.name or spec.code,
        "name_en": spec.name_en,
        "feature_id": binder.bind(feature=spec.feature, lon=spec.lon, lat=spec.lat, height=spec.height),
        "geom": from_shape(Point(spec.lon, spec.lat), srid=4326),
        "height": spec.height,
        "properties": attributes,
    }


def get(session: Session, *, park: Park, code: str) -> dict[str, Any]:
    """One asset as a JSON record, or NotFound."""
    return asset_queries.get_record(session, park=park, code=code)


def get_all(session: Session, *, park: Park, flt: asset_queries.AssetFilter, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """How many assets match and one page of them as JSON records."""
    return asset_queries.count(session, park=park, flt=flt), asset_queries.get_records(session, park=park, flt=flt, limit=limit, offset=offset)


def create(session: Session, *, park: Park, spec: AssetSpec) -> dict[str, Any]:
    """Add an asset; Conflict if the code exists, InvalidInput for bad attributes or an unknown feature."""
    if _find(session, park, spec.code) is not None:
        raise Conflict(f"asset '{spec.code}' already exists in park '{park.slug}'")
    asset = Asset(**row_values(park, spec, binder=Binder(session, park=park)))
    session.add(asset)
    session.flush()
    follow_asset_positions(session, asset_ids=[asset.id])
    return get(session, park=park, code=spec.code)


def replace(session: Session, *, park: Park, code: str, spec: AssetSpec) -> dict[str, Any]:
    """Overwrite every field of an existing asset (PUT); the body's code must be the path's."""
    if spec.code != code:
        raise InvalidInput(f"the body's code '{spec.code}' differs from the asset's code '{code}' (codes cannot be renamed)")
    asset = _existing(session, park, code)
    for key, value in row_values(park, spec, binder=Binder(session, park=park)).items():
        setattr(asset, key, value)
    session.flush()
    follow_asset_positions(session, asset_ids=[asset.id])
    return get(session, park=park, code=code)


def update(session: Session, *, park: Park, code: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change some fields (PATCH). `attributes` merge key by key (null removes one, RFC 7396);
    moving the asset without naming a feature binds it again to the feature containing its new position."""
    current = get(session, park=park, code=code)
    if "code" in changes and changes["code"] != code:
        raise InvalidInput(f"codes cannot be renamed (asset '{code}')")
    merged = {key: current[key] for key in ("code", "kind", "name", "name_en", "lon", "lat", "height", "feature")}
    merged["feature"] = merged["feature"] or park.slug
    if any(key in changes for key in POSITION_FIELDS) and "feature" not in changes:
        merged["feature"] = None
    attributes = dict(current["attributes"])
    for key, value in (changes.get("attributes") or {}).items():
        if value is None:
            attributes.pop(key, None)
        else:
            attributes[key] = value
    merged.update({k: v for k, v in changes.items() if k != "attributes"})
    merged["attributes"] = attributes
    try:
        spec = AssetSpec.model_validate(merged)
    except ValidationError as exc:
        raise InvalidInput(validation_message(exc)) from None
    return replace(session, park=park, code=code, spec=spec)


def delete(session: Session, *, park: Park, code: str) -> None:
    """Remove an asset, or NotFound."""
    session.delete(_existing(session, park, code))
    session.flush()


def existing_codes(session: Session, *, park: Park, codes: list[str]) -> set[str]:
    """Which of these codes already exist in the park."""
    if not codes:
        return set()
    found: set[str] = set()
    for start in range(0, len(codes), 5000):
        chunk = codes[start : start + 5000]
        found |= set(session.scalars(select(Asset.code).where(Asset.park_id == park.id, Asset.code.in_(chunk))))
    return found


def validation_message(exc: ValidationError) -> str:
    """A pydantic error list as one line: `field: why; field: why`."""
    parts = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(p) for p in error.get("loc", ())) or "value"
        parts.append(f"{field}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def _find(session: Session, park: Park, code: str) -> Asset | None:
    return session.scalar(select(Asset).where(Asset.park_id == park.id, Asset.code == code))


def _existing(session: Session, park: Park, code: str) -> Asset:
    asset = _find(session, park, code)
    if asset is None:
        raise NotFound(f"asset '{code}' not found in park '{park.slug}'")
    return asset


def kinds_present(session: Session, *, park: Park) -> list[str]:
    """The asset kinds the park has at least one of, sorted."""
    return list(session.scalars(select(Asset.kind).where(Asset.park_id == park.id).group_by(Asset.kind).order_by(Asset.kind)))

