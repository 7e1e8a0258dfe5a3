"""Loading the demo park: complete, idempotent, follows edits, rejects broken input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import DEMO_DIR
from twin.db.models import Asset, Enterprise, Feature, Park
from twin.errors import InvalidInput
from twin.pipelines.demo_load import load_demo


def _counts(db: Session) -> tuple[int, int, int]:
    return (db.scalar(select(func.count(Feature.id))), db.scalar(select(func.count(Asset.id))), db.scalar(select(func.count(Enterprise.id))))


def _files_feature_count(demo_dir: Path) -> int:
    manifest = json.loads((demo_dir / "park.json").read_text(encoding="utf-8"))
    return sum(len(json.loads((demo_dir / l["file"]).read_text(encoding="utf-8"))["features"]) for l in manifest["layers"])


def test_loading_twice_creates_no_duplicates(db: Session) -> None:
    first = load_demo(db, demo_dir=DEMO_DIR)
    after_first = _counts(db)
    second = load_demo(db, demo_dir=DEMO_DIR)
    assert _counts(db) == after_first
    assert first.features == second.features == _files_feature_count(DEMO_DIR)
    assert db.scalar(select(func.count(Park.id)).where(Park.slug == first.park)) == 1


def test_hierarchy_park_building_storey_space(db: Session) -> None:
    load_demo(db, demo_dir=DEMO_DIR)
    space = db.scalars(select(Feature).where(Feature.kind == "space").limit(1)).one()
    storey = db.get(Feature, space.parent_id)
    building = db.get(Feature, storey.parent_id)
    assert (storey.kind, building.kind) == ("storey", "building")
    inside = db.scalar(select(func.ST_Within(func.ST_Centroid(space.geom), func.ST_Buffer(building.geom, 0.00001))))
    assert inside


def test_every_asset_bound_to_a_place_has_a_valid_feature(db: Session) -> None:
    load_demo(db, demo_dir=DEMO_DIR)
    unbound = db.scalar(select(func.count(Asset.id)).where(Asset.feature_id.is_(None)))
    total = db.scalar(select(func.count(Asset.id)))
    assert total > 0 and unbound < total
    kinds = set(db.scalars(select(Asset.kind).distinct()))
    assert {"camera", "meter", "smart_pole", "ev_charger", "air_quality_sensor", "display_screen", "wifi_ap"} <= kinds


def test_edits_to_the_files_are_followed(db: Session, tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, demo)
    load_demo(db, demo_dir=demo)
    green = demo / "layers" / "green.geojson"
    data = json.loads(green.read_text(encoding="utf-8"))
    removed = data["features"].pop()["properties"]["id"]
    data["features"][0]["properties"]["name"] = "改名的绿地"
    green.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = load_demo(db, demo_dir=demo)
    assert report.removed == 1
    assert db.scalar(select(Feature).where(Feature.code == removed)) is None
    renamed = data["features"][0]["properties"]["id"]
    assert db.scalars(select(Feature.name).where(Feature.code == renamed)).one() == "改名的绿地"


def test_broken_manifest_and_dangling_parent_are_refused(db: Session, tmp_path: Path) -> None:
    (tmp_path / "park.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not valid JSON"):
        load_demo(db, demo_dir=tmp_path)
    with pytest.raises(InvalidInput, match="not found"):
        load_demo(db, demo_dir=tmp_path / "missing")
    demo = tmp_path / "demo"
    shutil.copytree(DEMO_DIR, demo)
    spaces = demo / "layers" / "spaces.geojson"
    data = json.loads(spaces.read_text(encoding="utf-8"))
    data["features"][0]["properties"]["parent"] = "NO-SUCH-STOREY"
    spaces.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(InvalidInput, match="NO-SUCH-STOREY"):
        load_demo(db, demo_dir=demo)
