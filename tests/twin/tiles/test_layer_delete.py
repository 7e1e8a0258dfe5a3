"""Deleting a layer (a file imported by mistake): refused while things are bound to its features, unless forced;
its features go, bound assets stay (unbound), and the building tiles are rebuilt without them or withdrawn."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import bearer
from twin.db.models import Feature, Park

CAMPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "fixtures" / "gis" / "changan_university_xian_osm_buildings.geojson"


def _import(client: TestClient, planner: dict[str, str], layer: str) -> dict:
    with CAMPUS.open("rb") as handle:
        done = client.post("/api/v1/parks/gis-test/imports/gis", files={"file": (CAMPUS.name, handle)}, data={"layer": layer}, headers=planner)
    assert done.status_code == 201, done.text
    return done.json()


def _features(db: Session, park: Park) -> int:
    return db.scalar(select(func.count()).select_from(Feature).where(Feature.park_id == park.id)) or 0


def test_a_layer_with_a_bound_asset_is_refused_then_deleted_with_force(client: TestClient, db: Session, park: Park, tokens: dict[str, str]) -> None:
    planner, integrator = bearer(tokens["planner"]), bearer(tokens["integrator"])
    imported = _import(client, planner, "campus")
    loaded = imported["report"]["loaded"]
    building = client.get("/api/v1/parks/gis-test/layers/campus/features", params={"limit": 1}).json()["features"][0]
    lon, lat = building["geometry"]["coordinates"][0][0][:2]
    asset = client.post("/api/v1/parks/gis-test/assets", json={"code": "CAM-X1", "kind": "camera", "lon": lon, "lat": lat,
                                                              "feature": building["id"]}, headers=integrator)
    assert asset.status_code == 201, asset.text

    assert client.delete("/api/v1/parks/gis-test/layers/campus", headers=bearer(tokens["viewer"])).status_code == 403
    refused = client.delete("/api/v1/parks/gis-test/layers/campus", headers=planner)
    assert refused.status_code == 409 and "1 assets bound" in refused.json()["error"]["message"], refused.text
    assert _features(db, park) == loaded  # nothing was deleted

    forced = client.delete("/api/v1/parks/gis-test/layers/campus", params={"force": "true"}, headers=planner)
    assert forced.status_code == 200, forced.text
    assert forced.json()["features_removed"] == loaded and forced.json()["unbound"]["assets"] == 1
    assert forced.json()["tiles"] == {"withdrawn": True}
    assert _features(db, park) == 0
    assert client.get("/api/v1/parks/gis-test/layers").json() == []
    assert client.get("/api/v1/parks/gis-test/tilesets").json() == []  # no building left: no buildings tileset
    kept = client.get("/api/v1/parks/gis-test/assets/CAM-X1").json()
    assert kept["code"] == "CAM-X1" and kept.get("feature") in (None, "gis-test")
    missing = client.delete("/api/v1/parks/gis-test/layers/campus", headers=planner)
    assert missing.status_code == 404 and "layer 'campus' not found" in missing.json()["error"]["message"]


def test_deleting_one_of_two_building_layers_rebuilds_the_tiles_without_it(client: TestClient, park: Park, tokens: dict[str, str]) -> None:
    planner = bearer(tokens["planner"])
    _import(client, planner, "campus")
    with CAMPUS.open("rb") as handle:  # the same buildings again under other codes: a second building layer
        second = client.post("/api/v1/parks/gis-test/imports/gis", files={"file": ("copy.geojson", handle)}, data={"layer": "copy"}, headers=planner)
    assert second.status_code == 201, second.text
    both = client.get("/api/v1/parks/gis-test/tilesets").json()[0]
    done = client.delete("/api/v1/parks/gis-test/layers/copy", headers=planner)
    assert done.status_code == 200, done.text
    tiles = done.json()["tiles"]
    assert tiles["version"] == both["version"] + 1 and tiles["features"] == both["feature_count"] // 2
    assert client.get("/api/v1/parks/gis-test/tilesets").json()[0]["feature_count"] == tiles["features"]
