"""Delete a park layer (say, a file imported into the wrong park or layer): its features go with it, and the
building tiles are rebuilt without them (or withdrawn when no building is left)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, exists, func, select
from sqlalchemy.orm import Session, aliased

from twin.db.models import AlarmRule, Asset, BimModel, Enterprise, Feature, Layer, Park
from twin.db.queries import parks as park_queries
from twin.db.queries import tilesets as tileset_queries
from twin.errors import Conflict
from twin.pipelines.tiles_build import BUILDING_KINDS, BUILDINGS_TILESET, build_buildings, has_buildings


def bound_to(session: Session, *, layer: Layer) -> dict[str, int]:
    """What points at the layer's features and would lose its place (alarm rules: their geofence) if they went."""
    in_layer = select(Feature.id).where(Feature.layer_id == layer.id)
    child = aliased(Feature)
    counts = {
        "assets": select(func.count()).select_from(Asset).where(Asset.feature_id.in_(in_layer)),
        "enterprises": select(func.count()).select_from(Enterprise).where(Enterprise.building_id.in_(in_layer)),
        "bim_models": select(func.count()).select_from(BimModel).where(BimModel.building_id.in_(in_layer)),
        "alarm_rules": select(func.count()).select_from(AlarmRule).where(AlarmRule.feature_id.in_(in_layer)),
        "features_of_other_layers": select(func.count()).select_from(child).where(child.parent_id.in_(in_layer), child.layer_id != layer.id),
    }
    return {name: int(session.scalar(query) or 0) for name, query in counts.items()}


def delete_layer(session: Session, *, park: Park, slug: str, force: bool = False) -> dict[str, Any]:
    """Delete the layer and its features; Conflict if anything is bound to them, unless `force` (then assets,
    enterprises and BIM models stay, unbound, and the layer's geofenced alarm rules go)."""
    layer = park_queries.get_layer(session, park=park, slug=slug)
    bound = bound_to(session, layer=layer)
    if any(bound.values()) and not force:
        listed = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in bound.items() if count)
        raise Conflict(f"layer '{slug}' of park '{park.slug}' has {listed} bound to its features; delete with force "
                       "to unbind them (assets, enterprises and models stay, without a place on the map)")
    features = session.scalar(select(func.count()).where(Feature.layer_id == layer.id)) or 0
    had_buildings = session.scalar(select(exists().where(Feature.layer_id == layer.id, Feature.kind.in_(BUILDING_KINDS))))
    session.execute(delete(Layer).where(Layer.id == layer.id))  # its features go with it (trigger layers_delete_features)
    tiles: dict[str, Any] | None = None
    if had_buildings:
        if has_buildings(session, park):
            built = build_buildings(session, park=park)
            tiles = {"version": built.tileset.version if built.tileset else None, "features": built.features}
        else:
            tiles = {"withdrawn": tileset_queries.unpublish(session, park=park, slug=BUILDINGS_TILESET)}
    return {"layer": slug, "features_removed": features, "unbound": bound if force else {}, "tiles": tiles}
