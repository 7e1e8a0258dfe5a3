"""Shared paths and independent reference computations for the bim tests (no bim code used here)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from pyproj import Geod, Transformer

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures"
IFC = FIXTURES / "ifc"
IFC_BAD = FIXTURES / "ifc_bad"
GEOD = Geod(ellps="WGS84")


def fixture(name: str) -> Path:
    """Path of a real IFC fixture; skips the test if the shared fixtures are missing."""
    path = IFC / name
    if not path.is_file():
        pytest.skip(f"shared fixture missing: {path}")
    return path


def degrees_apart_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Ellipsoidal (WGS84) distance in metres between two lon/lat points."""
    return float(GEOD.inv(float(lon1), float(lat1), float(lon2), float(lat2))[2])


def projected_to_lonlat(crs: str, easting, northing):
    """pyproj, axis order easting/northing -> lon/lat (floats in, floats out; arrays in, arrays out)."""
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True).transform(easting, northing)


def lonlat_to_enu_reference(origin_lon: float, origin_lat: float, origin_h: float, lon, lat, h) -> np.ndarray:
    """Geodetic -> local ENU by the textbook route (PROJ geocentric + ENU rotation), independent of tiles.enu."""
    to_ecef = Transformer.from_crs("EPSG:4979", "EPSG:4978", always_xy=True)
    x0, y0, z0 = to_ecef.transform(origin_lon, origin_lat, origin_h)
    x, y, z = to_ecef.transform(np.asarray(lon), np.asarray(lat), np.asarray(h))
    d = np.stack([np.asarray(x) - x0, np.asarray(y) - y0, np.asarray(z) - z0], axis=-1)
    lam, phi = math.radians(origin_lon), math.radians(origin_lat)
    east = np.array([-math.sin(lam), math.cos(lam), 0.0])
    north = np.array([-math.sin(phi) * math.cos(lam), -math.sin(phi) * math.sin(lam), math.cos(phi)])
    up = np.array([math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)])
    return np.stack([d @ east, d @ north, d @ up], axis=-1)


def srgb_to_linear(value: float) -> float:
    return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4
