"""Paths to the shared real-world GIS fixtures (read-only, outside the repo)."""

from __future__ import annotations

from pathlib import Path

import pytest

GIS_FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "gis"
XIAN_BUILDINGS = "changan_university_xian_osm_buildings.geojson"
XIAN_MIXED = "changan_university_xian_osm_export_mixed.geojson"
CAPE_TOWN = "capetown_universityestate_osm_levels_heights_utm34s_nocrs.geojson"
MOSCOW = "moscow_osm_buildings.shp"


@pytest.fixture(scope="session")
def gis_fixtures() -> Path:
    """The shared fixtures folder; tests that need it skip only if it is missing."""
    if not GIS_FIXTURES.is_dir():
        pytest.skip(f"shared GIS fixtures not found at {GIS_FIXTURES}")
    return GIS_FIXTURES.resolve()
