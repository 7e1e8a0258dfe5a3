"""The demo park's full score: computed without error, its deliberate gaps found, the API equal to the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_DIR, TEST_DATABASE_URL

pytestmark = pytest.mark.usefixtures("demo_park")
PARK = "tianfu-demo"


@pytest.fixture(scope="module")
def score(engine, settings, demo_park: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The demo park's score, computed once for the module (the API path is compared in the CLI test)."""
    from sqlalchemy.orm import Session

    from twin.db.queries import parks
    from twin.scoring.service import get_score

    with Session(engine) as session:
        return get_score(session, park=parks.get_by_slug(session, slug=demo_park), settings=settings).public()


def by_id(score: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in score["indicators"]}


def test_every_computed_indicator_is_computed_without_error(score: dict[str, Any]) -> None:
    computed = [i for i in score["indicators"] if i["source"] == "computed"]
    assert len(computed) == 32
    assert not [i["id"] for i in computed if i.get("error")]
    assert all(i["value_text"] for i in computed)
    assert 0 < score["total"] < 500


def test_key_locations_without_camera_view_are_listed_for_the_map(score: dict[str, Any]) -> None:
    cameras = by_id(score)["ops.camera_coverage"]
    manifest = json.loads((DEMO_DIR / "layers" / "key-locations.geojson").read_text(encoding="utf-8"))
    key_locations = {f["properties"]["id"] for f in manifest["features"]}
    highlight = cameras["map"]["highlight"]
    assert highlight["missing"] and set(highlight["missing"]) <= key_locations | set(cameras["evidence"]["derived_junctions"])
    assert len(highlight["ok"]) + len(highlight["missing"]) == cameras["evidence"]["total"]
    assert cameras["evidence"]["by_category"]["road_intersection"] >= 19  # junctions derived from the road network
    assert cameras["points"] < cameras["max"] and "关键位置" in cameras["gap"]["zh"]


def test_ev_chargers_fall_short_of_ten_percent(score: dict[str, Any]) -> None:
    ev = by_id(score)["ops.ev_charging"]
    chargers, spaces = len(ev["evidence"]["chargers"]), ev["evidence"]["spaces"]
    assert 0.05 < chargers / spaces < 0.10 and 2 <= ev["points"] < 5
    needed = -(-spaces // 10) - chargers  # ⌈10 % of the spaces⌉ − chargers
    assert ev["advice"][-1]["en"].startswith(f"add {needed} chargers to reach 10.0% of {spaces} spaces")
    assert ev["advice"][-1]["gain"] == 5 - ev["points"]


def test_smart_poles_lack_one_category_and_some_roads_lack_conduit(score: dict[str, Any]) -> None:
    indicators = by_id(score)
    poles = indicators["ops.smart_poles"]
    assert poles["value"] == 4 and poles["points"] == 3  # 4 of 5: 2 + 2·(4 − 3)/(5 − 3) = 3
    assert "应急报警" in poles["gap"]["zh"]
    roads = indicators["infra.conduit_roads"]
    assert roads["map"]["layer"] == "roads" and roads["map"]["highlight"]["missing"]
    assert roads["points"] < 5 and roads["advice"]


def test_live_indicators_follow_the_sensor_window(score: dict[str, Any]) -> None:
    indicators = by_id(score)
    for indicator_id in ("ops.energy_monitoring", "ops.environment_monitoring", "ops.elevator_safety"):
        assert indicators[indicator_id]["evidence"]["window_minutes"] == 15


def test_cli_prints_what_the_api_serves(client: TestClient) -> None:
    # The CLI runs first: it commits the day's automatic snapshot, which the API's scoring (inside this
    # test's open transaction) then finds; the other order would make the CLI wait for that transaction.
    env = {**os.environ, "TWIN_DATABASE_URL": TEST_DATABASE_URL}
    result = subprocess.run([sys.executable, "-m", "twin.cli", "score", "show", "--park", PARK, "--json"],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    cli = json.loads(result.stdout)
    score = client.get(f"/api/v1/parks/{PARK}/score").json()
    assert cli["total"] == score["total"] and cli["dimensions"] == score["dimensions"]
    strip = ("computed_at",)
    assert {k: v for k, v in cli.items() if k not in strip and k != "indicators"} == {k: v for k, v in score.items() if k not in strip and k != "indicators"}
    for mine, theirs in zip(cli["indicators"], score["indicators"], strict=True):
        for key in ("id", "points", "source", "value", "value_text", "gap", "advice", "map"):
            assert mine[key] == theirs[key], (mine["id"], key)


def test_cli_table_export_and_bad_input(tmp_path, settings, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    from twin.cli import app

    # In-process (the subprocess test above covers the real entry point): the CLI reads the test settings.
    monkeypatch.setattr("twin.cli_common.get_settings", lambda: settings)
    monkeypatch.setattr("twin.cli_score.get_settings", lambda: settings)
    runner = CliRunner()
    html, xlsx = tmp_path / "score.html", tmp_path / "score.xlsx"
    for out in (html, xlsx):
        done = runner.invoke(app, ["score", "export", "--park", PARK, "-o", str(out)])
        assert done.exit_code == 0, done.output
        assert "wrote" in done.output and out.stat().st_size > 1000
    assert "<svg" in html.read_text(encoding="utf-8") and xlsx.read_bytes()[:2] == b"PK"
    table = runner.invoke(app, ["score", "show", "--park", PARK], env={"COLUMNS": "200"})
    assert table.exit_code == 0 and "ops.camera_coverage" in table.output and "总分 Total:" in table.output
    wrong = runner.invoke(app, ["score", "show", "--park", "nope"])
    assert wrong.exit_code == 1 and "park 'nope' not found" in wrong.output
    bad = runner.invoke(app, ["score", "export", "--park", PARK, "-o", str(tmp_path / "x.pdf")])
    assert bad.exit_code == 1 and ".xlsx or .html" in bad.output
