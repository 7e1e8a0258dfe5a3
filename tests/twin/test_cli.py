"""The `twin` command as an operator runs it: a subprocess with TWIN_DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import scratch_url
from twin.db import database


def _twin(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TWIN_DATABASE_URL": url}
    return subprocess.run([sys.executable, "-m", "twin.cli", *args], env=env, capture_output=True, text=True, timeout=300)


def test_help_lists_the_operator_commands() -> None:
    out = _twin("--help", url="postgresql+psycopg://unused/x").stdout
    for command in ("serve", "db", "demo"):
        assert command in out


def test_db_upgrade_creates_the_database_then_demo_load_is_idempotent() -> None:
    url = scratch_url("cli")
    database.drop_database(url)
    try:
        first = _twin("db", "upgrade", url=url)
        assert first.returncode == 0, first.stderr
        assert "created database" in first.stderr
        load = _twin("demo", "load", url=url)
        assert load.returncode == 0, load.stderr
        again = _twin("demo", "load", url=url)
        assert again.returncode == 0, again.stderr
        first_line, second_line = load.stderr.splitlines()[-1], again.stderr.splitlines()[-1]
        assert first_line.split("; building tiles")[0] == second_line.split("; building tiles")[0]
        assert "building tiles v1" in first_line and "building tiles unchanged" in second_line
        campus = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "gis" / "changan_university_xian_osm_buildings.geojson"
        imported = _twin("import", "gis", str(campus), "--park", "tianfu-demo", "--layer", "campus", url=url)
        assert imported.returncode == 0, imported.stderr
        assert "added" in imported.stderr and "layers campus " in " ".join(imported.stderr.split())
        assert "campus\tbuildings\t218\t" in _twin("park", "layers", "tianfu-demo", url=url).stdout
        deleted = _twin("park", "delete-layer", "tianfu-demo", "campus", url=url)
        assert deleted.returncode == 0, deleted.stderr
        assert "layer campus deleted: 218 features; building tiles v3 (31 buildings)" in " ".join(deleted.stderr.split())
    finally:
        database.drop_database(url)


def test_unreachable_database_is_a_clear_error_not_a_traceback() -> None:
    result = _twin("db", "upgrade", url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    assert result.returncode == 1
    assert "error:" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path) -> None:  # type: ignore[no-untyped-def]
    source = tmp_path / "site.geojson"
    source.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    down, missing = "postgresql+psycopg://postgres:secret@127.0.0.1:1/parktwin", scratch_url("cli-missing")
    for url, words, args in ((down, "is PostgreSQL running there?", ("park", "list")),
                             (down, "is PostgreSQL running there?", ("import", "gis", str(source), "--park", "p", "--layer", "l")),
                             (missing, "`twin db upgrade` creates it", ("score", "show", "--park", "p"))):
        done = _twin(*args, url=url)
        assert done.returncode == 1, done.stderr
        assert "error: the database is unreachable" in done.stderr and words in " ".join(done.stderr.split()), done.stderr
        assert "Traceback" not in done.stderr and "secret" not in done.stderr
