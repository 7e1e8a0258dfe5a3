"""The import and tiles endpoints as a planner and a viewer use them, including hostile input."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import bearer
from twin.access.tokens import create_token
from twin.db.models import Park
from twin.db.queries import parks


def _upload(client: TestClient, path: Path, headers: dict[str, str], **form: str):  # type: ignore[no-untyped-def]
    with path.open("rb") as handle:
        return client.post("/api/v1/parks/gis-test/imports/gis", files={"file": (path.name, handle)}, data=form, headers=headers)


@pytest.fixture()
def changan(fixtures_dir: Path) -> Path:
    return fixtures_dir / "gis" / "changan_university_xian_osm_buildings.geojson"


def test_planner_uploads_and_viewer_loads_the_tiles(client: TestClient, park: Park, tokens: dict[str, str], changan: Path) -> None:
    created = _upload(client, changan, bearer(tokens["planner"]), layer="campus")
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["layers"]["campus"] == body["report"]["loaded"]
    assert body["tiles"]["version"] == 1
    listing = client.get("/api/v1/parks/gis-test/tilesets").json()
    assert [t["slug"] for t in listing] == ["buildings"]
    tileset = client.get(listing[0]["url"])
    assert tileset.status_code == 200 and tileset.headers["cache-control"] == "no-cache"
    assert tileset.json()["asset"]["version"] == "1.1"
    etag = tileset.headers["etag"]
    assert client.get(listing[0]["url"], headers={"If-None-Match": etag}).status_code == 304
    uri = tileset.json()["root"]["content"]["uri"]
    content = client.get(listing[0]["url"].rsplit("/", 1)[0] + "/" + uri)
    assert content.status_code == 200 and content.content[:4] == b"glTF"
    assert "immutable" in content.headers["cache-control"]
    history = client.get("/api/v1/parks/gis-test/imports", headers=bearer(tokens["planner"])).json()
    assert history[0]["source_crs"] == "EPSG:4326"


def test_a_viewer_cannot_import_and_another_parks_planner_neither(client: TestClient, db: Session, park: Park, changan: Path) -> None:
    assert _upload(client, changan, {}, layer="campus").status_code == 403
    other = parks.create(db, slug="elsewhere", name="别的园区")
    _, secret = create_token(db, name="other planner", role="planner", park_id=other.id)
    assert _upload(client, changan, bearer(secret), layer="campus").status_code == 403


@pytest.mark.parametrize(
    ("name", "content", "status", "words"),
    [
        ("notes.txt", b"hello", 400, "unsupported file type"),
        ("empty.geojson", b"", 400, "empty"),
        ("broken.geojson", b'{"type": "FeatureCollection", "features": [{"type": "Feat', 400, ""),
        ("../../etc/passwd.geojson", b'{"type":"FeatureCollection","features":[]}', 400, ""),
    ],
)
def test_bad_uploads_get_a_clear_4xx(client: TestClient, park: Park, tokens: dict[str, str], tmp_path: Path, name: str, content: bytes, status: int, words: str) -> None:
    response = client.post("/api/v1/parks/gis-test/imports/gis", files={"file": (name, content)}, data={"layer": "x"}, headers=bearer(tokens["planner"]))
    assert response.status_code == status, response.text
    assert words in response.json()["error"]["message"]


def test_oversized_upload_is_413(client: TestClient, park: Park, tokens: dict[str, str]) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(update={"max_upload_bytes": 1024})
    response = client.post("/api/v1/parks/gis-test/imports/gis", files={"file": ("big.geojson", b" " * 4096)}, data={"layer": "x"}, headers=bearer(tokens["planner"]))
    assert response.status_code == 413 and "larger than the limit" in response.json()["error"]["message"]


def test_mislabelled_crs_upload_says_what_to_pass(client: TestClient, park: Park, tokens: dict[str, str], fixtures_dir: Path) -> None:
    path = fixtures_dir / "gis" / "capetown_universityestate_osm_levels_heights_utm34s_nocrs.geojson"
    response = _upload(client, path, bearer(tokens["planner"]), layer="capetown")
    assert response.status_code == 400 and "--crs" in response.json()["error"]["message"]
    assert _upload(client, path, bearer(tokens["planner"]), layer="capetown", crs="EPSG:32734").status_code == 201


@pytest.mark.parametrize("name", ["..%2F..%2Fetc%2Fpasswd", "abc.glb", "0123456789abcdef0123.exe", "%00.glb"])
def test_tile_content_names_are_checked(client: TestClient, park: Park, name: str) -> None:
    response = client.get(f"/api/v1/parks/gis-test/tilesets/buildings/content/{name}")
    assert response.status_code in (400, 404)
    assert "error" in response.json()


def test_unknown_tileset_is_404(client: TestClient, park: Park) -> None:
    response = client.get("/api/v1/parks/gis-test/tilesets/nothing/tileset.json")
    assert response.status_code == 404 and "tileset 'nothing'" in response.json()["error"]["message"]
