"""`twin park export` / `twin park import`: the demo park (tiles, a converted BIM model, readings, an alarm,
score evidence with a file) backed up and restored under a new slug, compared table by table."""

from __future__ import annotations

import tarfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from tests.reliability.conftest import Harness
from twin.db.models import Datastream, Park
from twin.pipelines import park_backup
from twin.pipelines.park_backup import BackupError, export_park, import_park

pytestmark = pytest.mark.usefixtures("demo_park")
PARK = "tianfu-demo"
COPY = "tianfu-restored"
EVIDENCE = "infra.monitoring_centre_control"


def _convert_demo_model(db: Session, park: Park, settings, fixtures_dir: Path) -> None:  # type: ignore[no-untyped-def]
    """The demo's BIM model, converted for real inside the test's transaction (savepoints stand in for commits)."""
    import shutil

    from bim.georef import Anchor
    from twin.pipelines.ifc_import import run_ifc_job, submit_ifc

    upload = settings.data_dir / "scratch" / "AC20-FZK-Haus.ifc"
    upload.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fixtures_dir / "ifc" / "AC20-FZK-Haus.ifc", upload)
    _, _, job = submit_ifc(db, park=park, upload=upload, settings=settings, model_name="FZK 示范楼 BIM", building="B04",
                           anchor=Anchor(104.0635441, 30.5400234, 0.0, 12.0))
    connection = db.connection()

    def factory() -> Session:
        return Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)

    run_ifc_job(factory, job_id=job.id, params=dict(job.params), progress=lambda *a: None, settings=settings)  # type: ignore[arg-type]
    db.expire_all()


def _build_world(api: TestClient, db: Session, role_headers, settings, fixtures_dir: Path) -> Park:  # type: ignore[no-untyped-def]
    from twin.pipelines.tiles_build import build_buildings

    park = db.scalar(select(Park).where(Park.slug == PARK))
    build_buildings(db, park=park)
    _convert_demo_model(db, park, settings, fixtures_dir)
    streams = _demo_streams(db, park)
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    batch = [{"datastream": ds, "time": (start + timedelta(minutes=5 * i)).isoformat(), "value": 20.0 + i * 0.25}
             for ds in streams for i in range(24)]
    batch += [{"datastream": streams[1], "time": "2026-03-02T08:00:00+08:00", "value": {"state": "门已关", "ok": True},
               "parameters": {"source": "备份测试"}}]
    stored = api.post(f"/api/v1/parks/{PARK}/observations", json=batch, headers=role_headers["integrator"])
    assert stored.status_code == 200 and stored.json()["accepted"] == len(batch), stored.text
    # A JSON null (which a JSONB column can hold, distinct from SQL NULL) must survive too.
    db.execute(text("UPDATE observations SET result_number = NULL, result_json = 'null'::jsonb WHERE id = "
                    "(SELECT min(id) FROM observations WHERE datastream_id = :ds)"), {"ds": streams[0]})
    alarm = api.post(f"/api/v1/parks/{PARK}/alarms", json={"asset": _an_asset(db, park), "kind": "fire", "severity": "critical",
                                                          "title": "烟感报警（备份测试）"}, headers=role_headers["integrator"])
    assert alarm.status_code == 201, alarm.text
    assert api.post(f"/api/v1/parks/{PARK}/alarms/{alarm.json()['id']}/acknowledge", json={"note": "处理中"},
                    headers=role_headers["integrator"]).status_code == 200
    evidence = api.get(f"/api/v1/parks/{PARK}/score/evidence/{EVIDENCE}", headers=role_headers["admin"]).json()
    assert api.put(f"/api/v1/parks/{PARK}/score/evidence/{EVIDENCE}", json={"points": max(evidence["allowed_points"]), "note": "有监控中心"},
                   headers=role_headers["admin"]).status_code == 200
    attached = api.post(f"/api/v1/parks/{PARK}/score/evidence/{EVIDENCE}/attachments", files={"file": ("证明.txt", "监控中心照片说明".encode())},
                        headers=role_headers["admin"])
    assert attached.status_code == 201, attached.text
    assert api.post(f"/api/v1/parks/{PARK}/score/snapshots", headers=role_headers["admin"]).status_code == 201
    return park


def _demo_streams(db: Session, park: Park) -> list[int]:
    from twin.db.models import Asset

    return list(db.scalars(select(Datastream.id).join(Asset, Asset.id == Datastream.thing_id).where(Asset.park_id == park.id)
                           .order_by(Datastream.id).limit(6)))


def _an_asset(db: Session, park: Park) -> str:
    from twin.db.models import Asset

    return db.scalar(select(Asset.code).where(Asset.park_id == park.id, Asset.kind == "fire_equipment").order_by(Asset.id).limit(1)) \
        or db.scalar(select(Asset.code).where(Asset.park_id == park.id).order_by(Asset.id).limit(1))


def _tables(path: Path) -> dict[str, list[dict[str, Any]]]:
    """The rows of every table in a backup archive."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with tarfile.open(path, "r:gz") as archive:
        for member in archive.getmembers():
            if member.name.startswith("tables/"):
                handle = archive.extractfile(member)
                assert handle is not None
                tables[member.name.split("-", 1)[1].removesuffix(".jsonl")] = [orjson.loads(line) for line in handle if line.strip()]
    return tables


def _expected(table: str, row: dict[str, Any], maps: dict[str, dict[int, int]], settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """What an original row must look like in the restored park: ids through the maps, the park's own names moved."""
    from twin.db.base import Base

    meta = Base.metadata.tables[table]
    out = dict(row)
    if table in maps:
        out["id"] = maps[table][row["id"]]
    elif "id" in out and park_backup._surrogate(meta):
        out.pop("id")
    for fk in meta.foreign_keys:
        target, column = park_backup._refers_to(fk).table.name, fk.parent.name
        if out.get(column) is None or target in park_backup.SHARED:
            continue
        out[column] = None if target in park_backup.EXCLUDED else maps[target][row[column]]
    if table == "parks":
        out["slug"] = COPY
    if table == "tilesets" and row["slug"].startswith("bim-"):
        model = maps["bim_models"][int(row["slug"].removeprefix("bim-"))]
        out["slug"], out["source_ref"] = f"bim-{model}", f"model:{model}"
    if table == "alarms" and row["dedup_key"].startswith("device:"):
        asset, rest = row["dedup_key"].removeprefix("device:").split("/", 1)
        out["dedup_key"] = f"device:{maps['assets'][int(asset)]}/{rest}"
    if table == "bim_model_versions":
        out["file_path"] = str(settings.data_dir / "models" / COPY / Path(row["file_path"]).name)
    if table == "score_attachments":
        out["stored_path"] = row["stored_path"].replace(f"score/{PARK}/", f"score/{COPY}/", 1)
    if table == "datastream_latest":
        out.pop("observation_id")  # re-pointed by (datastream, time); checked separately
    return out


def _canonical(rows: list[dict[str, Any]]) -> list[bytes]:
    return sorted(orjson.dumps(r, option=orjson.OPT_SORT_KEYS) for r in rows)


def test_a_park_round_trips_losslessly_under_a_new_slug(  # type: ignore[no-untyped-def]
    harness: Harness, api: TestClient, db: Session, role_headers, rely_settings, fixtures_dir: Path, tmp_path: Path
) -> None:
    settings = rely_settings
    _build_world(api, db, role_headers, settings, fixtures_dir)
    started = time.perf_counter()
    exported = export_park(db, slug=PARK, out=tmp_path / "park.tar.gz", data_dir=settings.data_dir)
    export_s = time.perf_counter() - started
    assert not exported.warnings, exported.warnings
    for table in ("parks", "layers", "features", "assets", "enterprises", "imports", "tilesets", "tileset_blobs", "tile_blobs",
                  "bim_models", "bim_model_versions", "bim_elements", "locations", "sensors", "observed_properties", "datastreams",
                  "observations", "datastream_latest", "alarm_rules", "alarms", "events", "score_evidence", "score_attachments",
                  "score_snapshots", "thing_locations"):
        assert exported.rows.get(table, 0) > 0, f"the world has no {table} rows to back up"
    assert exported.files == 2  # the IFC file and the attachment
    started = time.perf_counter()
    restored = import_park(db, archive_path=exported.path, data_dir=settings.data_dir, slug=COPY)
    import_s = time.perf_counter() - started
    assert restored.rows == exported.rows
    again = export_park(db, slug=COPY, out=tmp_path / "copy.tar.gz", data_dir=settings.data_dir)
    assert not again.warnings, again.warnings
    original, copy = _tables(exported.path), _tables(again.path)
    assert set(original) == set(copy) == {t.name for t in park_backup.park_tables()}
    for table, rows in original.items():
        if table == "tile_blobs":
            assert _canonical(copy[table]) == _canonical(rows)  # content-addressed: the very same blobs
            continue
        expected = [_expected(table, row, restored.id_maps, settings) for row in rows]
        actual = [{k: v for k, v in row.items() if not (k == "observation_id" and table == "datastream_latest")} for row in copy[table]]
        if table not in restored.id_maps and park_backup._surrogate(next(t for t in park_backup.park_tables() if t.name == table)):
            actual = [{k: v for k, v in row.items() if k != "id"} for row in actual]
        assert _canonical(actual) == _canonical(expected), f"table {table} differs after the round trip"
    _check_geometry_and_pointers(db)
    assert db.scalar(text("SELECT count(*) FROM observations o JOIN datastreams d ON d.id = o.datastream_id JOIN assets a ON a.id = d.thing_id "
                          "JOIN parks p ON p.id = a.park_id WHERE p.slug = :b AND o.result_json = 'null'::jsonb"), {"b": COPY}) == 1
    _check_served_the_same(api, role_headers)
    print(f"\nbackup: {sum(exported.rows.values())} rows, {exported.path.stat().st_size / 1e6:.1f} MB, export {export_s:.1f} s, import {import_s:.1f} s")


def _check_geometry_and_pointers(db: Session) -> None:
    unequal = db.scalar(text("""
        SELECT count(*) FROM features a JOIN parks pa ON pa.id = a.park_id AND pa.slug = :a
        LEFT JOIN (features b JOIN parks pb ON pb.id = b.park_id AND pb.slug = :b) ON b.code = a.code
        WHERE b.id IS NULL OR NOT ST_Equals(a.geom, b.geom) OR ST_SRID(b.geom) <> 4326"""), {"a": PARK, "b": COPY})
    assert unequal == 0
    dangling = db.scalar(text("""
        SELECT count(*) FROM datastream_latest l JOIN datastreams d ON d.id = l.datastream_id JOIN assets a ON a.id = d.thing_id
        JOIN parks p ON p.id = a.park_id AND p.slug = :b
        LEFT JOIN observations o ON o.id = l.observation_id AND o.datastream_id = l.datastream_id AND o.phenomenon_time = l.phenomenon_time
        WHERE o.id IS NULL"""), {"b": COPY})
    assert dangling == 0


def _check_served_the_same(api: TestClient, role_headers) -> None:  # type: ignore[no-untyped-def]
    headers = role_headers["viewer"]

    def features(slug: str) -> dict[str, Any]:
        body = api.get(f"/api/v1/parks/{slug}/features", params={"limit": 10_000}, headers=headers).json()
        return {f["id"]: {**f, "properties": {k: v for k, v in f["properties"].items()}} for f in body["features"]}

    assert features(COPY) == features(PARK)
    for slug in ("buildings",):
        a = api.get(f"/api/v1/parks/{PARK}/tilesets/{slug}/tileset.json", headers=headers)
        b = api.get(f"/api/v1/parks/{COPY}/tilesets/{slug}/tileset.json", headers=headers)
        assert a.status_code == b.status_code == 200 and a.json() == b.json()
    models = {m["name"]: m for m in api.get(f"/api/v1/parks/{COPY}/models", headers=headers).json()}
    model = models["FZK 示范楼 BIM"]
    tileset = api.get(model["tileset_url"], headers=headers)
    assert tileset.status_code == 200
    content = tileset.json()["root"].get("content") or tileset.json()["root"]["children"][0]["content"]
    glb = api.get(model["tileset_url"].replace("tileset.json", content["uri"]), headers=headers)
    assert glb.status_code == 200 and glb.content[:4] == b"glTF"
    version = model["published_version"]
    ifc = api.get(f"/api/v1/parks/{COPY}/models/{model['id']}/versions/{version}/file", headers=headers)
    assert ifc.status_code == 200 and ifc.content.startswith(b"ISO-10303-21")
    alarms = api.get(f"/api/v1/parks/{COPY}/alarms", headers=headers).json()["items"]
    assert [a["state"] for a in alarms] == ["acknowledged"]
    assert api.get(f"/api/v1/parks/{COPY}/score", headers=headers).json()["total"] == \
        api.get(f"/api/v1/parks/{PARK}/score", headers=headers).json()["total"]


def test_import_refuses_an_existing_slug_and_a_tampered_archive(db: Session, rely_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from twin.errors import Conflict, InvalidInput

    exported = export_park(db, slug=PARK, out=tmp_path / "park.tar.gz", data_dir=rely_settings.data_dir)
    with pytest.raises(Conflict):
        import_park(db, archive_path=exported.path, data_dir=rely_settings.data_dir)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(exported.path, "r:gz") as source, tarfile.open(evil, "w:gz") as target:
        for member in source.getmembers():
            target.addfile(member, source.extractfile(member))
        info = tarfile.TarInfo("files/score/../../../../etc/cron.d/x")
        payload = b"* * * * * root true\n"
        info.size = len(payload)
        import io

        target.addfile(info, io.BytesIO(payload))
    with pytest.raises(BackupError):
        import_park(db, archive_path=evil, data_dir=rely_settings.data_dir, slug="evil-copy")
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"not a tarball")
    with pytest.raises(InvalidInput, match="not a readable park backup"):
        import_park(db, archive_path=garbage, data_dir=rely_settings.data_dir, slug="garbage")
    assert not (rely_settings.data_dir / "etc").exists()


def test_a_table_without_a_path_to_parks_fails_loudly() -> None:
    from sqlalchemy import Column, Integer, String, Table

    from twin.db.base import Base

    orphan = Table("rely_orphans", Base.metadata, Column("id", Integer, primary_key=True), Column("name", String(10)))
    try:
        with pytest.raises(BackupError, match="rely_orphans"):
            park_backup.park_tables()
    finally:
        Base.metadata.remove(orphan)
    assert "rely_orphans" not in {t.name for t in park_backup.park_tables()}


def test_cli_export_and_import(engine, database_url: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`twin park export` / `twin park import` as an operator runs them, on committed data (the copy is removed after)."""
    import os
    import subprocess
    import sys

    from sqlalchemy import delete, func

    from twin.db.models import Feature

    env = {**os.environ, "TWIN_DATABASE_URL": database_url, "TWIN_DATA_DIR": str(tmp_path / "var")}

    def twin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "twin.cli", *args], env=env, capture_output=True, text=True, timeout=300)

    backup = tmp_path / "demo.tar.gz"
    try:
        exported = twin("park", "export", PARK, "-o", str(backup))
        assert exported.returncode == 0, exported.stderr
        assert backup.stat().st_size > 0 and f"park {PARK} →" in exported.stderr
        imported = twin("park", "import", str(backup), "--slug", "rely-cli-copy")
        assert imported.returncode == 0, imported.stderr
        twice = twin("park", "import", str(backup), "--slug", "rely-cli-copy")
        assert twice.returncode == 1 and "already exists" in twice.stderr and "Traceback" not in twice.stderr
        with Session(engine) as session:
            counts = dict(session.execute(select(Park.slug, func.count(Feature.id)).join(Feature, Feature.park_id == Park.id)
                                          .where(Park.slug.in_([PARK, "rely-cli-copy"])).group_by(Park.slug)).all())
        assert counts["rely-cli-copy"] == counts[PARK] > 0
        missing = twin("park", "export", "no-such-park", "-o", str(tmp_path / "x.tar.gz"))
        assert missing.returncode == 1 and "not found" in missing.stderr
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(Park).where(Park.slug == "rely-cli-copy"))
