"""Features' key (layer_id, park_id) → layers, enforced by statement-level triggers (migration 0009): a feature's
layer is in its own park, deleting a layer or a park removes its features, and a layer in use keeps its key."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from twin.db.models import Feature, Layer, Park
from twin.db.queries import parks


def _park_with_layer(db: Session, slug: str) -> tuple[Park, Layer]:
    park = parks.create(db, slug=slug, name=slug)
    layer = Layer(park_id=park.id, slug="buildings", name="buildings")
    db.add(layer)
    db.flush()
    return park, layer


def _add_feature(db: Session, *, park_id: int, layer_id: int, code: str) -> None:
    db.execute(text("INSERT INTO features (park_id, layer_id, code, kind, geom) "
                    "VALUES (:park, :layer, :code, 'building', ST_GeomFromText('POINT(104 30)', 4326))"),
               {"park": park_id, "layer": layer_id, "code": code})


def test_a_feature_cannot_sit_in_another_parks_layer(db: Session) -> None:
    park, _ = _park_with_layer(db, "keys-a")
    _, other_layer = _park_with_layer(db, "keys-b")
    with pytest.raises(IntegrityError, match="fk_features_layer_id_layers"), db.begin_nested():
        _add_feature(db, park_id=park.id, layer_id=other_layer.id, code="B1")


def test_deleting_a_park_deletes_its_features_through_its_layers(db: Session) -> None:
    park, layer = _park_with_layer(db, "keys-c")
    _add_feature(db, park_id=park.id, layer_id=layer.id, code="B1")
    db.execute(text("DELETE FROM parks WHERE id = :id"), {"id": park.id})
    assert db.scalar(select(func.count()).select_from(Feature).where(Feature.park_id == park.id)) == 0


def _count(db: Session, **where: int) -> int:
    clauses = [getattr(Feature, column) == value for column, value in where.items()]
    return db.scalar(select(func.count()).select_from(Feature).where(*clauses)) or 0


def test_the_error_names_the_missing_layer(db: Session) -> None:
    park, _ = _park_with_layer(db, "keys-d")
    with pytest.raises(IntegrityError, match=r"Key \(layer_id, park_id\)=\(-1, \d+\) is not present"), db.begin_nested():
        _add_feature(db, park_id=park.id, layer_id=-1, code="B1")


def test_one_bad_row_fails_the_whole_statement(db: Session) -> None:
    park, layer = _park_with_layer(db, "keys-e")
    _, other_layer = _park_with_layer(db, "keys-f")
    rows = ", ".join(f"(:park, {layer_id}, 'B{i}', 'building', ST_GeomFromText('POINT(104 30)', 4326))"
                     for i, layer_id in enumerate([layer.id] * 50 + [other_layer.id] + [layer.id] * 50))
    with pytest.raises(IntegrityError, match="fk_features_layer_id_layers"), db.begin_nested():
        db.execute(text(f"INSERT INTO features (park_id, layer_id, code, kind, geom) VALUES {rows}"), {"park": park.id})
    assert _count(db, park_id=park.id) == 0


def test_a_feature_cannot_move_into_another_parks_layer(db: Session) -> None:
    park, layer = _park_with_layer(db, "keys-g")
    _, other_layer = _park_with_layer(db, "keys-h")
    _add_feature(db, park_id=park.id, layer_id=layer.id, code="B1")
    with pytest.raises(IntegrityError, match="fk_features_layer_id_layers"), db.begin_nested():
        db.execute(text("UPDATE features SET layer_id = :other WHERE park_id = :park"), {"other": other_layer.id, "park": park.id})
    db.execute(text("UPDATE features SET name = 'renamed' WHERE park_id = :park"), {"park": park.id})  # the key unchanged: fine


def test_deleting_a_layer_deletes_its_features_only(db: Session) -> None:
    park, layer = _park_with_layer(db, "keys-i")
    second = Layer(park_id=park.id, slug="roads", name="roads")
    db.add(second)
    db.flush()
    _add_feature(db, park_id=park.id, layer_id=layer.id, code="B1")
    _add_feature(db, park_id=park.id, layer_id=second.id, code="R1")
    db.execute(text("DELETE FROM layers WHERE id = :id"), {"id": layer.id})
    assert _count(db, layer_id=layer.id) == 0
    assert _count(db, layer_id=second.id) == 1


def test_a_layer_in_use_keeps_its_park(db: Session) -> None:
    park, layer = _park_with_layer(db, "keys-j")
    other = parks.create(db, slug="keys-k", name="keys-k")
    _add_feature(db, park_id=park.id, layer_id=layer.id, code="B1")
    with pytest.raises(IntegrityError, match="still referenced"), db.begin_nested():
        db.execute(text("UPDATE layers SET park_id = :other WHERE id = :id"), {"other": other.id, "id": layer.id})
    db.execute(text("UPDATE layers SET name = 'renamed' WHERE id = :id"), {"id": layer.id})  # the key unchanged: fine


def test_an_insert_locks_its_layer_until_commit(engine: Engine) -> None:
    """As a foreign key does: a layer cannot be deleted under an import that has not committed yet."""
    with Session(engine) as setup, setup.begin():
        park, layer = _park_with_layer(setup, "keys-lock")
        park_id, layer_id = park.id, layer.id
    try:
        with Session(engine) as importer, importer.begin():
            _add_feature(importer, park_id=park_id, layer_id=layer_id, code="B1")
            with Session(engine) as deleter, deleter.begin():
                deleter.execute(text("SET LOCAL lock_timeout = '200ms'"))
                with pytest.raises(OperationalError, match="lock timeout"):
                    deleter.execute(text("DELETE FROM layers WHERE id = :id"), {"id": layer_id})
    finally:
        with Session(engine) as cleanup, cleanup.begin():
            cleanup.execute(text("DELETE FROM parks WHERE id = :id"), {"id": park_id})
        with Session(engine) as check:
            assert _count(check, park_id=park_id) == 0
