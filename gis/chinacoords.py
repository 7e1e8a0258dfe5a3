"""GCJ-02 and BD-09 <-> WGS84 offsets used by Chinese web maps (Amap/Tencent, Baidu); degrees in, degrees out.

Hand-written because PROJ has no definition for these: GCJ-02 is a deliberately
obfuscated, non-geodetic offset (the "Mars" shift) and BD-09 is Baidu's further
perturbation of it. The forward formulas below are the widely published ones
(e.g. wandergis/coordtransform, eviltransform); there is no closed-form inverse,
so the inverses solve forward(p) = target by fixed-point iteration to < 1e-7 deg
(~1 cm), much tighter than the usual one-step approximation (~1-2 m).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Krasovsky 1940 ellipsoid as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0

# Inverse iteration stops below this (degrees); 1e-9 deg is ~0.1 mm.
_INVERSE_TOLERANCE_DEG = 1e-9
_INVERSE_MAX_ITERATIONS = 30

Coords = tuple[NDArray[np.float64], NDArray[np.float64]]


def _as_float_arrays(lon: ArrayLike, lat: ArrayLike) -> Coords:
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def outside_china(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.bool_]:
    """True where the point (degrees) lies outside the rough China box where GCJ-02 applies no offset."""
    lon_a, lat_a = _as_float_arrays(lon, lat)
    return ~((lon_a > 72.004) & (lon_a < 137.8347) & (lat_a > 0.8293) & (lat_a < 55.8271))


def _offset_lat(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _offset_lon(x: NDArray[np.float64], y: NDArray[np.float64]) -> NDArray[np.float64]:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """WGS84 lon/lat (deg) -> GCJ-02 lon/lat (deg); points outside China are returned unchanged."""
    lon_a, lat_a = _as_float_arrays(lon, lat)
    dlat = _offset_lat(lon_a - 105.0, lat_a - 35.0)
    dlon = _offset_lon(lon_a - 105.0, lat_a - 35.0)
    radlat = lat_a / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    outside = outside_china(lon_a, lat_a)
    return np.where(outside, lon_a, lon_a + dlon), np.where(outside, lat_a, lat_a + dlat)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """GCJ-02 lon/lat (deg) -> BD-09 lon/lat (deg)."""
    x, y = _as_float_arrays(lon, lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _invert(forward, lon: ArrayLike, lat: ArrayLike) -> Coords:
    """Solve forward(p) = (lon, lat) for p by fixed-point iteration (the offsets vary slowly, so it converges fast)."""
    target_lon, target_lat = _as_float_arrays(lon, lat)
    guess_lon, guess_lat = target_lon.copy(), target_lat.copy()
    for _ in range(_INVERSE_MAX_ITERATIONS):
        fwd_lon, fwd_lat = forward(guess_lon, guess_lat)
        err_lon, err_lat = fwd_lon - target_lon, fwd_lat - target_lat
        guess_lon = guess_lon - err_lon
        guess_lat = guess_lat - err_lat
        worst = max(np.nanmax(np.abs(err_lon), initial=0.0), np.nanmax(np.abs(err_lat), initial=0.0))
        if worst < _INVERSE_TOLERANCE_DEG:
            break
    return guess_lon, guess_lat


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """GCJ-02 lon/lat (deg) -> WGS84 lon/lat (deg), iterated to < 1e-7 deg."""
    return _invert(wgs84_to_gcj02, lon, lat)


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """BD-09 lon/lat (deg) -> GCJ-02 lon/lat (deg), iterated to < 1e-7 deg."""
    return _invert(gcj02_to_bd09, lon, lat)


def wgs84_to_bd09(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """WGS84 lon/lat (deg) -> BD-09 lon/lat (deg)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> Coords:
    """BD-09 lon/lat (deg) -> WGS84 lon/lat (deg), iterated to < 1e-7 deg."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
