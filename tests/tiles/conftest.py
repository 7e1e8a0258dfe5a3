"""Shared helpers for the tiles tests: seeded random footprints, fixture paths, validator availability."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

from tiles.validate import validator_available

GIS_FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "gis"

requires_validator = pytest.mark.skipif(
    not validator_available(), reason="node or web/node_modules/gltf-validator missing (run npm install in web/)"
)


def random_footprints(n: int, seed: int, spread: float = 2000.0) -> tuple[list[shapely.Polygon], np.ndarray]:
    """n seeded rectangles and L-shapes (alternating) within +-spread m of the origin, heights 3..90 m."""
    rng = np.random.default_rng(seed)
    x0, y0 = rng.uniform(-spread, spread, n), rng.uniform(-spread, spread, n)
    w, d = rng.uniform(6, 50, n), rng.uniform(6, 50, n)
    cw, cd = w * rng.uniform(0.3, 0.7, n), d * rng.uniform(0.3, 0.7, n)
    polygons: list[shapely.Polygon] = []
    for i in range(n):
        x, y = x0[i], y0[i]
        if i % 2:
            polygons.append(shapely.box(x, y, x + w[i], y + d[i]))
        else:
            polygons.append(shapely.Polygon([
                (x, y), (x + w[i], y), (x + w[i], y + cd[i]), (x + cw[i], y + cd[i]), (x + cw[i], y + d[i]), (x, y + d[i]),
            ]))
    return polygons, rng.uniform(3, 90, n)


@pytest.fixture(scope="session")
def gis_fixtures() -> Path:
    """The shared GIS fixtures folder; tests that need it skip only if it is missing."""
    if not GIS_FIXTURES.is_dir():
        pytest.skip(f"shared GIS fixtures not found at {GIS_FIXTURES}")
    return GIS_FIXTURES.resolve()
