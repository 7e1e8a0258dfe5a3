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


def _two_layer_files(folder: Path) -> tuple[Path, Path]:
    """The same two layers (2 buildings, 1 road) as a GeoPackage (roads first) and as a zip of two shapefiles."""
    import zipfile

    import geopandas as gpd
    from shapely.geometry import LineString, box

    folder.mkdir()
    layers = {
        "roads": gpd.GeoDataFrame({"highway": ["primary"]}, geometry=[LineString([(104.06, 30.539), (104.062, 30.539)])], crs="EPSG:4326"),
        "buildings": gpd.GeoDataFrame({"building": ["yes", "yes"], "height": ["12 m", "30"]},
                                      geometry=[box(104.06, 30.54, 104.0605, 30.5405), box(104.061, 30.54, 104.0615, 30.5405)], crs="EPSG:4326"),
    }
    geopackage = folder / "site.gpkg"
    for name, frame in layers.items():
        frame.to_file(geopackage, layer=name, driver="GPKG")
        frame.to_file(folder / f"{name}.shp")
    archive = folder / "site.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in sorted(folder.glob("*.*")):
            if part.suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                zipped.write(part, part.name)
    return geopackage, archive


def test_a_file_with_several_layers_is_read_by_source_layer(client: TestClient, park: Park, tokens: dict[str, str], tmp_path: Path) -> None:
    geopackage, archive = _two_layer_files(tmp_path / "site")
    planner = bearer(tokens["planner"])
    several = _upload(client, archive, planner, layer="site")
    assert several.status_code == 400 and "several vector files (buildings, roads)" in several.json()["error"]["message"]
    assert "source_layer" in several.json()["error"]["message"]
    missing = _upload(client, archive, planner, layer="site", source_layer="nope")
    assert missing.status_code == 400 and "no vector file named 'nope'" in missing.json()["error"]["message"]
    roads = _upload(client, archive, planner, layer="site-roads", source_layer="roads")
    assert roads.status_code == 201, roads.text
    assert roads.json()["report"]["by_kind"] == {"road": 1} and roads.json()["tiles"] is None
    # A GeoPackage's first layer is read with a warning that names the others and how to pick one.
    first = _upload(client, geopackage, planner, layer="site-first")
    assert first.status_code == 201, first.text
    assert first.json()["report"]["by_kind"] == {"road": 1}
    assert any("2 layers (roads, buildings)" in w and "source_layer" in w for w in first.json()["report"]["warnings"])
    buildings = _upload(client, geopackage, planner, layer="site-buildings", source_layer="buildings")
    assert buildings.status_code == 201, buildings.text
    assert buildings.json()["report"]["by_kind"] == {"building": 2} and buildings.json()["tiles"]["features"] == 2
    assert buildings.json()["report"]["warnings"] == []
    unknown = _upload(client, geopackage, planner, layer="site-x", source_layer="parcels")
    assert unknown.status_code == 400 and "its layers are: roads, buildings" in unknown.json()["error"]["message"]
