"""Automatic binding of a position to the smallest containing feature (space → storey → building)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from twin.db.models import Park


def _features(client: TestClient, park: Park, **params: str) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/parks/{park.slug}/features", params={"limit": 10_000, **params}).json()["features"]


def _create_at(client: TestClient, park: Park, headers: dict[str, str], code: str, point: Point, height: float) -> dict[str, Any]:
    body = {"code": code, "kind": "wifi_ap", "lon": point.x, "lat": point.y, "height": height}
    response = client.post(f"/api/v1/parks/{park.slug}/assets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_position_without_feature_binds_to_room_then_storey_then_building(client: TestClient, park: Park, as_role) -> None:  # type: ignore[no-untyped-def]
    writer = as_role("integrator")
    storeys = [s for s in _features(client, park, kind="storey") if s["properties"]["base_height"] > 0]
    spaces = _features(client, park, kind="space")
    # A room on an upper storey: its inside point at its mid-height binds to the room.
    storey = next(s for s in storeys if any(r["properties"]["parent"] == s["id"] for r in spaces))
    room = next(r for r in spaces if r["properties"]["parent"] == storey["id"])
    props = room["properties"]
    inside = shape(room["geometry"]).representative_point()
    mid = (props["base_height"] + props["top_height"]) / 2
    assert _create_at(client, park, writer, "T-BIND-ROOM", inside, mid)["feature"] == room["id"]

    # The same spot one storey higher binds to whatever is there, never to this room.
    above = _create_at(client, park, writer, "T-BIND-ABOVE", inside, props["top_height"] + 0.5)
    assert above["feature"] != room["id"]

    # Inside a storey but outside its rooms: the storey.
    for candidate in storeys:
        rooms = unary_union([shape(r["geometry"]) for r in spaces if r["properties"]["parent"] == candidate["id"]])
        free = shape(candidate["geometry"]).difference(rooms.buffer(1e-6)) if not rooms.is_empty else shape(candidate["geometry"])
        if free.area > 1e-10:
            height = candidate["properties"]["base_height"] + 1.0
            bound = _create_at(client, park, writer, "T-BIND-STOREY", free.representative_point(), height)
            assert bound["feature"] == candidate["id"] and bound["feature_kind"] == "storey"
            break
    else:
        raise AssertionError("the demo park has no storey area outside rooms")

    # On the roof of a building: the building itself.
    building = next(b for b in _features(client, park, kind="building") if b["id"] == storey["properties"]["parent"])
    roof = _create_at(client, park, writer, "T-BIND-ROOF", shape(building["geometry"]).representative_point(), building["properties"]["top_height"] + 3)
    assert roof["feature"] == building["id"]


def test_position_outside_every_container_binds_to_the_park_and_moves_rebind(client: TestClient, park: Park, as_role) -> None:  # type: ignore[no-untyped-def]
    writer = as_role("integrator")
    containers = unary_union([shape(f["geometry"]) for f in _features(client, park, kind="building,storey,space,parking_lot,parking_space")])
    min_x, min_y, max_x, max_y = containers.bounds
    outside = Point(min_x - 0.0005, min_y - 0.0005)
    assert not containers.covers(outside)
    asset = _create_at(client, park, writer, "T-BIND-OUT", outside, 0.0)
    assert asset["feature"] is None

    lot = next(f for f in _features(client, park, kind="parking_space"))
    spot = shape(lot["geometry"]).representative_point()
    moved = client.patch(f"/api/v1/parks/{park.slug}/assets/T-BIND-OUT", json={"lon": spot.x, "lat": spot.y}, headers=writer)
    assert moved.status_code == 200, moved.text
    assert moved.json()["feature"] == lot["id"], "moving without naming a feature binds again"

    pinned = client.patch(f"/api/v1/parks/{park.slug}/assets/T-BIND-OUT", json={"lon": outside.x, "lat": outside.y, "feature": lot["id"]}, headers=writer)
    assert pinned.json()["feature"] == lot["id"], "a named feature wins over the position"
    to_park = client.patch(f"/api/v1/parks/{park.slug}/assets/T-BIND-OUT", json={"feature": park.slug}, headers=writer)
    assert to_park.json()["feature"] is None
