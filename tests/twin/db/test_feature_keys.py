"""Features' composite key (layer_id, park_id) → layers: a feature's layer is in its own park, and deleting a park removes its features."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from twin.db.models import Feature, Layer, Park
from twin.db.queries import parks


def _park_with_layer(db: Session, slug: str) -> tuple[Park, Layer]:
    park = parks.create(db, slug=slug, name=slug)
    layer = Layer(park_id=park.id, slug="buildings", name="buildings")
    db.add(layer)
    db.flush()
    return park, layer


def _add_feature(db: Session, *, park: Park, layer: Layer, code: str) -> None:
    db.execute(text("INSERT INTO features (park_id, layer_id, code, kind, geom) "
                    "VALUES (:park, :layer, :code, 'building', ST_GeomFromText('POINT(104 30)', 4326))"),
               {"park": park.id, "layer": layer.id, "code": code})


def test_a_feature_cannot_sit_in_another_parks_layer(db: Session) -> None:
    park, _ = _park_with_layer(db, "keys-a")
    _, other_layer = _park_with_layer(db, "keys-b")
    with pytest.raises(IntegrityError, match="fk_features_layer_id_layers"), db.begin_nested():
        _add_feature(db, park=park, layer=other_layer, code="B1")


def test_deleting_a_park_deletes_its_features_through_its_layers(db: Session) -> None:
    park, layer = _park_with_layer(db, "keys-c")
    _add_feature(db, park=park, layer=layer, code="B1")
    db.execute(text("DELETE FROM parks WHERE id = :id"), {"id": park.id})
    assert db.scalar(select(func.count()).select_from(Feature).where(Feature.park_id == park.id)) == 0
