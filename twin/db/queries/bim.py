"""Data access for BIM models, versions and elements."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from twin.db.models import BimElement, BimModel, BimModelVersion, Park, Tileset
from twin.errors import Conflict, NotFound


def get_all(session: Session, *, park: Park) -> list[BimModel]:
    return list(session.scalars(select(BimModel).where(BimModel.park_id == park.id).order_by(BimModel.id)))


def get(session: Session, *, model_id: int, park: Park | None = None) -> BimModel:
    """A model (of `park`, when given), or NotFound."""
    model = session.get(BimModel, model_id)
    if model is None or (park is not None and model.park_id != park.id):
        raise NotFound(f"model {model_id} not found")
    return model


def get_versions(session: Session, *, model: BimModel) -> list[BimModelVersion]:
    return list(session.scalars(select(BimModelVersion).where(BimModelVersion.model_id == model.id).order_by(BimModelVersion.version.desc())))


def get_version(session: Session, *, model: BimModel, version: int) -> BimModelVersion:
    found = session.scalar(select(BimModelVersion).where(BimModelVersion.model_id == model.id, BimModelVersion.version == version))
    if found is None:
        raise NotFound(f"model {model.id} has no version {version}")
    return found


def publish_version(session: Session, *, model: BimModel, version: int) -> BimModelVersion:
    """Make an earlier (or later) converted version the published one, atomically with its tileset."""
    target = get_version(session, model=model, version=version)
    if target.tileset_id is None or session.get(Tileset, target.tileset_id) is None:
        raise Conflict(f"version {version} has no tiles (state {target.state}); it cannot be published")
    session.execute(update(Tileset).where(Tileset.park_id == model.park_id, Tileset.slug == f"bim-{model.id}", Tileset.published).values(published=False))
    session.flush()
    session.execute(update(Tileset).where(Tileset.id == target.tileset_id).values(published=True))
    session.execute(update(BimModelVersion).where(BimModelVersion.model_id == model.id, BimModelVersion.state == "published").values(state="superseded"))
    target.state = "published"
    session.flush()
    return target


def published_version(session: Session, *, model: BimModel) -> BimModelVersion | None:
    return session.scalar(select(BimModelVersion).where(BimModelVersion.model_id == model.id, BimModelVersion.state == "published"))


def get_element(session: Session, *, version: BimModelVersion, global_id: str) -> dict[str, Any]:
    """One element's full record (all property sets and quantities), or NotFound."""
    row = session.execute(
        select(BimElement, func.ST_AsGeoJSON(BimElement.footprint, 7)).where(BimElement.version_id == version.id, BimElement.global_id == global_id)
    ).first()
    if row is None:
        raise NotFound(f"element '{global_id}' not found in model version {version.version}")
    element, footprint = row
    return {**element.psets, "global_id": element.global_id, "ifc_class": element.ifc_class, "name": element.name, "storey": element.storey,
            "z_min": element.z_min, "z_max": element.z_max, "footprint": orjson.loads(footprint) if footprint else None}


def ifc_class_and_subtypes(name: str, schema: str) -> list[str]:
    """An IFC class and all its subtypes in the schema ("IfcWall" also finds IfcWallStandardCase)."""
    import ifcopenshell

    try:
        declaration = ifcopenshell.ifcopenshell_wrapper.schema_by_name(schema).declaration_by_name(name)
    except RuntimeError:
        return [name]  # unknown to the schema: match it literally (no rows, but no error either)
    names, stack = [], [declaration]
    while stack:
        current = stack.pop()
        names.append(current.name())
        stack.extend(current.subtypes())
    return names


def get_elements(session: Session, *, version: BimModelVersion, storey: str | None, ifc_class: str | None,
                 intersects_wkt: str | None, limit: int, offset: int) -> tuple[int, list[dict[str, Any]]]:
    """Elements filtered by storey, class and a WGS84 polygon they intersect; (count, page)."""
    stmt = select(BimElement.global_id, BimElement.ifc_class, BimElement.name, BimElement.storey, BimElement.z_min, BimElement.z_max).where(BimElement.version_id == version.id)
    if storey:
        stmt = stmt.where(BimElement.storey == storey)
    if ifc_class:
        stmt = stmt.where(BimElement.ifc_class.in_(ifc_class_and_subtypes(ifc_class, version.ifc_schema or "IFC4")))
    if intersects_wkt:
        stmt = stmt.where(func.ST_Intersects(BimElement.footprint, func.ST_GeomFromText(intersects_wkt, 4326)))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.execute(stmt.order_by(BimElement.id).limit(limit).offset(offset)).mappings().all()
    return total, [dict(r) for r in rows]
