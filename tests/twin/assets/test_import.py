"""Bulk import from CSV and GeoJSON files made in tmp_path: per-row report, modes, dry run, atomic, CLI."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from tests.conftest import DEMO_DIR, TEST_DATABASE_URL
from twin.db.models import Asset, ImportRecord, Park

LON, LAT = 104.0655, 30.539
COLUMNS = ["id", "kind", "name", "name_en", "lon", "lat", "height", "feature", "fov_deg", "heading_deg", "functions", "meter_type", "vendor"]


def _csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _mixed_rows(existing: str) -> list[dict[str, Any]]:
    return [
        {"id": "T-IMP-1", "kind": "camera", "name": "导入摄像机", "lon": LON, "lat": LAT, "height": 3, "feature": "B01", "fov_deg": 60, "heading_deg": 90, "vendor": "海康"},
        {"id": "T-IMP-2", "kind": "smart_pole", "name": "导入灯杆", "lon": LON + 0.0001, "lat": LAT, "functions": "lighting|camera|broadcast"},
        {"id": "T-IMP-3", "kind": "meter", "name": "导入电表", "lon": LON, "lat": LAT, "feature": "B01", "meter_type": "electricity"},
        {"id": "T-IMP-4", "kind": "teleporter", "lon": LON, "lat": LAT},
        {"id": "T-IMP-5", "kind": "camera", "lat": LAT},
        {"id": "T-IMP-6", "kind": "camera", "lon": LON, "lat": LAT, "fov_deg": 500},
        {"id": "T-IMP-7", "kind": "camera", "lon": LON, "lat": LAT, "feature": "NOPE-9"},
        {"id": "T-IMP-1", "kind": "camera", "lon": LON, "lat": LAT},
        {"id": existing, "kind": "camera", "name": "改名的摄像机", "lon": LON, "lat": LAT, "feature": "B01", "fov_deg": 45},
    ]


def _import(client: TestClient, park: Park, headers: dict[str, str], path: Path, **params: Any) -> Any:
    with path.open("rb") as f:
        return client.post(f"/api/v1/parks/{park.slug}/assets/import", params=params, files={"file": (path.name, f)}, headers=headers)


def _codes(client: TestClient, park: Park, prefix: str) -> set[str]:
    return {a["code"] for a in client.get(f"/api/v1/parks/{park.slug}/assets", params={"q": prefix, "limit": 10_000}).json()["items"]}


@pytest.fixture()
def existing(client: TestClient, park: Park) -> str:
    return client.get(f"/api/v1/parks/{park.slug}/assets", params={"kind": "camera", "limit": 1}).json()["items"][0]["code"]


def test_csv_with_good_and_bad_rows_reports_each_and_applies_the_good(client: TestClient, park: Park, as_role, existing: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    response = _import(client, park, as_role("integrator"), _csv(tmp_path / "assets.csv", _mixed_rows(existing)))
    assert response.status_code == 200, response.text
    report = response.json()
    rows = {(r["row"], r["code"]): r for r in report["rows"]}
    assert [r["status"] for r in report["rows"]] == ["created", "created", "created", "error", "error", "error", "error", "error", "updated"]
    assert [r["row"] for r in report["rows"]] == list(range(2, 11)), "rows are CSV lines, header = 1"
    assert "unknown asset kind 'teleporter'" in rows[(5, "T-IMP-4")]["message"]
    assert "lon: missing" in rows[(6, "T-IMP-5")]["message"]
    assert "camera attribute 'fov_deg' = '500'" in rows[(7, "T-IMP-6")]["message"] and "360" in rows[(7, "T-IMP-6")]["message"]
    assert "feature 'NOPE-9' not found" in rows[(8, "T-IMP-7")]["message"]
    assert "duplicate code 'T-IMP-1' in the file (first on row 2)" in rows[(9, "T-IMP-1")]["message"]
    assert (report["created"], report["updated"], report["errors"], report["applied"]) == (3, 1, 5, True)

    assert _codes(client, park, "T-IMP-") == {"T-IMP-1", "T-IMP-2", "T-IMP-3"}
    camera = client.get(f"/api/v1/parks/{park.slug}/assets/T-IMP-1").json()
    assert camera["attributes"] == {"fov_deg": 60.0, "heading_deg": 90.0, "vendor": "海康"} and camera["feature"] == "B01"
    pole = client.get(f"/api/v1/parks/{park.slug}/assets/T-IMP-2").json()
    assert pole["attributes"]["functions"] == ["lighting", "camera", "broadcast"]
    updated = client.get(f"/api/v1/parks/{park.slug}/assets/{existing}").json()
    assert updated["name"] == "改名的摄像机" and updated["attributes"] == {"fov_deg": 45.0}


def test_create_mode_refuses_existing_codes(client: TestClient, park: Park, as_role, existing: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "a.csv", [{"id": existing, "kind": "camera", "lon": LON, "lat": LAT}, {"id": "T-NEW-1", "kind": "camera", "lon": LON, "lat": LAT}])
    report = _import(client, park, as_role("integrator"), path, mode="create").json()
    assert [r["status"] for r in report["rows"]] == ["error", "created"]
    assert f"asset '{existing}' already exists" in report["rows"][0]["message"]


def test_dry_run_and_atomic_write_nothing(client: TestClient, park: Park, as_role, existing: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = _csv(tmp_path / "assets.csv", _mixed_rows(existing))
    before = client.get(f"/api/v1/parks/{park.slug}/assets/{existing}").json()
    for params in ({"dry_run": "true"}, {"atomic": "true"}):
        report = _import(client, park, as_role("integrator"), path, **params).json()
        assert (report["created"], report["errors"], report["applied"]) == (3, 5, False)
        assert _codes(client, park, "T-IMP-") == set()
        assert client.get(f"/api/v1/parks/{park.slug}/assets/{existing}").json() == before
    good = _csv(tmp_path / "good.csv", _mixed_rows(existing)[:3])
    report = _import(client, park, as_role("integrator"), good, atomic="true").json()
    assert report["applied"] and _codes(client, park, "T-IMP-") == {"T-IMP-1", "T-IMP-2", "T-IMP-3"}


def test_geojson_import_with_lists_heights_and_a_bad_geometry(client: TestClient, park: Park, as_role, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    def point(code: str, kind: str, coords: list[float], **props: Any) -> dict[str, Any]:
        return {"type": "Feature", "geometry": {"type": "Point", "coordinates": coords}, "properties": {"id": code, "kind": kind, **props}}

    collection = {"type": "FeatureCollection", "features": [
        point("T-GJ-1", "unmanned_retail", [LON, LAT, 1.5], name="无人售货机", payment=["face", "qr_code"]),
        point("T-GJ-2", "parking_sensor", [LON, LAT], status="occupied", feature="B01"),
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[LON, LAT], [LON, LAT + 1e-4], [LON + 1e-4, LAT], [LON, LAT]]]}, "properties": {"id": "T-GJ-3", "kind": "camera"}},
        point("T-GJ-4", "parking_sensor", [LON, LAT], status="taken"),
    ]}
    path = tmp_path / "assets.geojson"
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    report = _import(client, park, as_role("integrator"), path).json()
    assert [(r["row"], r["status"]) for r in report["rows"]] == [(1, "created"), (2, "created"), (3, "error"), (4, "error")]
    assert "must be a Point" in report["rows"][2]["message"] and "'status' = 'taken'" in report["rows"][3]["message"]
    retail = client.get(f"/api/v1/parks/{park.slug}/assets/T-GJ-1").json()
    assert (retail["height"], retail["attributes"]["payment"], retail["name"]) == (1.5, ["face", "qr_code"], "无人售货机")


def test_the_demo_asset_file_imports_cleanly_as_a_dry_run(client: TestClient, park: Park, as_role) -> None:  # type: ignore[no-untyped-def]
    path = DEMO_DIR / "assets.geojson"
    report = _import(client, park, as_role("integrator"), path, dry_run="true").json()
    count = len(json.loads(path.read_text(encoding="utf-8"))["features"])
    assert (report["updated"], report["errors"], report["applied"]) == (count, 0, False)


def test_excel_gb18030_csv_with_json_list_cells(client: TestClient, park: Park, as_role, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "excel.csv"
    text = 'id,kind,name,lon,lat,functions\nT-GB-1,smart_pole,东门智慧灯杆,104.0655,30.539,"[""lighting"", ""display""]"\n'
    path.write_bytes(text.encode("gb18030"))
    report = _import(client, park, as_role("integrator"), path).json()
    assert [r["status"] for r in report["rows"]] == ["created"], report
    pole = client.get(f"/api/v1/parks/{park.slug}/assets/T-GB-1").json()
    assert (pole["name"], pole["attributes"]["functions"]) == ("东门智慧灯杆", ["lighting", "display"])


def test_geojson_export_imports_back_unchanged(client: TestClient, park: Park, as_role, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    exported = client.get(f"/api/v1/parks/{park.slug}/assets/geojson", params={"kind": "camera,smart_pole", "limit": 10_000}).json()
    before = {a["code"]: a for a in client.get(f"/api/v1/parks/{park.slug}/assets", params={"kind": "camera,smart_pole", "limit": 10_000}).json()["items"]}
    path = tmp_path / "export.geojson"
    path.write_text(json.dumps(exported, ensure_ascii=False), encoding="utf-8")
    report = _import(client, park, as_role("integrator"), path).json()
    assert (report["updated"], report["errors"]) == (len(before), 0)
    after = {a["code"]: a for a in client.get(f"/api/v1/parks/{park.slug}/assets", params={"kind": "camera,smart_pole", "limit": 10_000}).json()["items"]}
    fields = ("kind", "name", "name_en", "feature", "lon", "lat", "height", "attributes")
    assert {c: [a[f] for f in fields] for c, a in after.items()} == {c: [a[f] for f in fields] for c, a in before.items()}


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("bad.csv", "name,lon\nx,1\n", "needs at least the columns"),
        ("bad.geojson", "{not json", "not valid JSON"),
        ("bad.json", '{"type": "Topology"}', "expected a GeoJSON FeatureCollection"),
    ],
)
def test_unreadable_files_are_400(client: TestClient, park: Park, as_role, tmp_path: Path, name: str, content: str, words: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    response = _import(client, park, as_role("integrator"), path)
    assert response.status_code == 400 and words in response.json()["error"]["message"]


def test_cli_import_assets_reports_rows_and_exit_status(demo_park: str, engine: Engine, tmp_path: Path) -> None:
    path = _csv(tmp_path / "cli.csv", [
        {"id": "T-CLI-1", "kind": "camera", "lon": LON, "lat": LAT, "fov_deg": 60},
        {"id": "T-CLI-2", "kind": "camera", "lon": LON, "lat": LAT, "fov_deg": 500},
    ])
    env = {**os.environ, "TWIN_DATABASE_URL": TEST_DATABASE_URL}
    try:
        result = subprocess.run([sys.executable, "-m", "twin.cli", "import", "assets", str(path), "--park", demo_park, "--json"],
                                env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 1, result.stderr
        report = json.loads(result.stdout)
        assert [r["status"] for r in report["rows"]] == ["created", "error"]
        assert "1 created, 0 updated, 1 errors" in result.stderr and "fov_deg" in result.stderr
        with Session(engine) as session:
            assert session.scalars(select(Asset.code).where(Asset.code.like("T-CLI-%"))).all() == ["T-CLI-1"]
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(Asset).where(Asset.code.like("T-CLI-%")))
            session.execute(delete(ImportRecord).where(ImportRecord.source_name == path.name))
