"""A camera's field of view on the ground: a circular sector from position, heading, FOV and range."""

from __future__ import annotations

import math

from pyproj import Geod
from shapely.geometry import Point, Polygon

_GEOD = Geod(ellps="WGS84")


def view_polygon(lon: float, lat: float, *, heading_deg: float, fov_deg: float, range_m: float, steps: int = 16) -> Polygon:
    """The ground area (WGS84 lon/lat) a camera sees; heading 0 = north, clockwise; FOV ≥ 360 = a disc."""
    if range_m <= 0 or fov_deg <= 0:
        return Polygon()
    if fov_deg >= 360:
        azimuths = [i * 360.0 / (steps * 4) for i in range(steps * 4)]
        apex: list[tuple[float, float]] = []
    else:
        start = heading_deg - fov_deg / 2
        azimuths = [start + fov_deg * i / steps for i in range(steps + 1)]
        apex = [(lon, lat)]
    lons, lats, _ = _GEOD.fwd([lon] * len(azimuths), [lat] * len(azimuths), azimuths, [range_m] * len(azimuths))
    return Polygon(apex + list(zip(lons, lats, strict=True)))


def sees(lon: float, lat: float, *, heading_deg: float, fov_deg: float, range_m: float, target_lon: float, target_lat: float) -> bool:
    """True when the target point is within the camera's range and horizontal field of view."""
    azimuth, _, distance = _GEOD.inv(lon, lat, target_lon, target_lat)
    if distance > range_m:
        return False
    if fov_deg >= 360 or distance == 0:
        return True
    offset = (azimuth - heading_deg + 180) % 360 - 180
    return abs(offset) <= fov_deg / 2 + 1e-9


def view_parameters(properties: dict[str, object]) -> dict[str, float]:
    """heading_deg, fov_deg, range_m of a camera asset from its stored properties (defaults 0°, 90°, 30 m)."""
    def number(key: str, default: float) -> float:
        value = properties.get(key, default)
        return float(value) if isinstance(value, int | float) and math.isfinite(value) else default

    return {"heading_deg": number("heading_deg", 0.0), "fov_deg": number("fov_deg", 90.0), "range_m": number("range_m", 30.0)}


def view_polygon_of(properties: dict[str, object], point: Point) -> Polygon:
    """The view polygon of a camera asset from its stored properties (heading_deg, fov_deg, range_m)."""
    return view_polygon(point.x, point.y, **view_parameters(properties))


def asset_sees(properties: dict[str, object], lon: float, lat: float, *, target_lon: float, target_lat: float) -> bool:
    """`sees` for a camera asset at lon/lat (WGS84) with its stored properties."""
    return sees(lon, lat, **view_parameters(properties), target_lon=target_lon, target_lat=target_lat)
