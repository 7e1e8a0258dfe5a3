"""Parse CRS names, check them against the coordinates, and reproject frames to EPSG:4326 (lon/lat degrees).

CGCS2000 (EPSG:4490 and its Gauss-Krüger zones) -> WGS84 is a null shift in PROJ
(agreement within ~1 m), which is fine for a park map. Heights are never touched
here: a compound CRS (e.g. EPSG:4547+... or 7415) is reduced to its horizontal part.
"""

from __future__ import annotations

import re
import warnings

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj.exceptions import CRSError as PyprojCRSError

from gis import chinacoords
from gis.errors import CrsError

WGS84 = pyproj.CRS.from_epsg(4326)

# Chinese web-map offsets that PROJ lacks (see gis/chinacoords.py for why they are hand-written).
SPECIAL_CRS = {"GCJ02", "BD09"}
_SPECIAL_ALIASES = {"GCJ02": "GCJ02", "MARS": "GCJ02", "BD09": "BD09", "BD09LL": "BD09", "BAIDU": "BD09"}

# How far (fraction of the CRS's own extent, and at least this many metres) data may
# stray outside a projected CRS's area of use before we call the label wrong.
_AREA_MARGIN_FRACTION = 0.25
_AREA_MARGIN_MIN_M = 50_000.0

MAX_LABEL_CHARS = 200
_CRS_EXAMPLES = (
    "e.g. EPSG:32734 for UTM zone 34S (EPSG:326xx / 327xx for UTM zone xx north / south), "
    "EPSG:4544 for CGCS2000 3-degree Gauss-Krüger CM 105E (Chengdu, zone 35 without prefix)"
)


def parse_crs(text: str) -> pyproj.CRS | str:
    """Parse "EPSG:4544", "4490", "gcj02", "GCJ-02", "bd09" or any pyproj input; returns a pyproj CRS or "GCJ02"/"BD09"."""
    if text is None or not str(text).strip():
        raise CrsError("No CRS given: pass one with --crs, e.g. EPSG:4326, EPSG:4490 or EPSG:4544.")
    cleaned = str(text).strip()
    special_key = re.sub(r"[\s_\-]", "", cleaned).upper()
    if special_key in _SPECIAL_ALIASES:
        return _SPECIAL_ALIASES[special_key]
    if cleaned.isdigit():
        cleaned = f"EPSG:{cleaned}"
    try:
        return pyproj.CRS.from_user_input(cleaned)
    except PyprojCRSError:
        raise CrsError(
            f"Unknown CRS {text!r}: pass an EPSG code such as EPSG:4326, EPSG:4490 (CGCS2000), "
            "EPSG:4544 (CGCS2000 / 3-degree Gauss-Krüger CM 105E, Chengdu), EPSG:32648 (UTM 48N), "
            "or gcj02 / bd09 for coordinates copied from Amap / Baidu."
        ) from None


def crs_label(crs: pyproj.CRS | str) -> str:
    """Parseable name for a CRS: "EPSG:4544", "GCJ02", or its WKT when it has no authority code."""
    if isinstance(crs, str):
        return crs
    authority = crs.to_authority(min_confidence=70)
    if authority is not None:
        return f"{authority[0]}:{authority[1]}"
    return crs.to_wkt()


def source_label(crs: pyproj.CRS | str) -> str:
    """Short name of the CRS data came from, for records (<= 200 chars): EPSG code, else PROJ string, else name."""
    if isinstance(crs, str):
        return crs
    authority = crs.to_authority(min_confidence=70)
    if authority is not None:
        return f"{authority[0]}:{authority[1]}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # to_proj4 warns that PROJ strings are lossy; fine for a record
        proj = crs.to_proj4()
    return proj if proj and len(proj) <= MAX_LABEL_CHARS else crs.name[:MAX_LABEL_CHARS]


def _display_name(crs: pyproj.CRS | str) -> str:
    """Label for messages: the authority code when there is one, else the CRS's name (never a WKT blob)."""
    if isinstance(crs, str):
        return crs
    authority = crs.to_authority(min_confidence=90)
    return f"{authority[0]}:{authority[1]}" if authority else crs.name


def _horizontal(crs: pyproj.CRS) -> pyproj.CRS:
    """Horizontal component of a compound CRS (we reproject x/y only; heights stay as given)."""
    if crs.is_compound:
        for sub in crs.sub_crs_list:
            if sub.is_geographic or sub.is_projected:
                return sub
    return crs


def _data_bounds(gdf: gpd.GeoDataFrame) -> tuple[float, float, float, float] | None:
    """(minx, miny, maxx, maxy) of the finite coordinates, or None if there are none."""
    coords = shapely.get_coordinates(gdf.geometry.values)
    coords = coords[np.isfinite(coords).all(axis=1)]
    if len(coords) == 0:
        return None
    return (
        float(coords[:, 0].min()),
        float(coords[:, 1].min()),
        float(coords[:, 0].max()),
        float(coords[:, 1].max()),
    )


def _projected_hint(minx: float, miny: float, maxx: float, maxy: float) -> str:
    """A --crs suggestion for metre coordinates; a leading zone number in x means a GK zone with prefix."""
    x_mid = (minx + maxx) / 2
    zone = int(x_mid // 1_000_000)
    if 25 <= zone <= 45 and 0 <= miny <= 6_500_000:
        # CGCS2000 3-degree GK zones 25..45 with zone-prefixed false easting are EPSG:4513..4533.
        return (
            f"x carries the zone prefix {zone}, so it is probably EPSG:{4513 + zone - 25} "
            f"(CGCS2000 / 3-degree Gauss-Krüger zone {zone}); otherwise pass the file's real CRS with --crs, "
            + _CRS_EXAMPLES
        )
    return "pass the file's real CRS with --crs, " + _CRS_EXAMPLES


def check_plausible(gdf: gpd.GeoDataFrame, crs: pyproj.CRS | str) -> None:
    """Raise CrsError when the coordinates contradict the CRS (degrees out of range, or data outside a projected CRS's area)."""
    bounds = _data_bounds(gdf)
    if bounds is None:
        return
    minx, miny, maxx, maxy = bounds
    x_mid, y_mid = (minx + maxx) / 2, (miny + maxy) / 2
    label = _display_name(crs)
    geographic = isinstance(crs, str) or _horizontal(crs).is_geographic
    if geographic:
        swapped = -90.0 <= minx and maxx <= 90.0 and -180.0 <= miny and maxy <= 180.0
        if swapped and (miny < -90.0 or maxy > 90.0):
            raise CrsError(
                f"The coordinates look like latitude/longitude in swapped order (x≈{x_mid:.5f}, y≈{y_mid:.5f}); "
                "export the file with longitude as x and latitude as y."
            )
        if minx < -180.0 or maxx > 180.0 or miny < -90.0 or maxy > 90.0:
            raise CrsError(
                f"The file is labelled {label} (degrees) but its coordinates look like projected metres "
                f"(x≈{x_mid:.0f}, y≈{y_mid:.0f}), not degrees; " + _projected_hint(minx, miny, maxx, maxy) + "."
            )
        return
    horizontal = _horizontal(crs)
    area = horizontal.area_of_use
    if area is None:
        return
    try:
        to_crs = pyproj.Transformer.from_crs(WGS84, horizontal, always_xy=True)
        amin_x, amin_y, amax_x, amax_y = to_crs.transform_bounds(*area.bounds, densify_pts=21)
    except pyproj.exceptions.ProjError:
        return
    if not np.all(np.isfinite([amin_x, amin_y, amax_x, amax_y])):
        return
    margin_x = max((amax_x - amin_x) * _AREA_MARGIN_FRACTION, _AREA_MARGIN_MIN_M)
    margin_y = max((amax_y - amin_y) * _AREA_MARGIN_FRACTION, _AREA_MARGIN_MIN_M)
    inside = (
        minx >= amin_x - margin_x
        and maxx <= amax_x + margin_x
        and miny >= amin_y - margin_y
        and maxy <= amax_y + margin_y
    )
    if inside:
        return
    looks_like_degrees = -180.0 <= minx and maxx <= 180.0 and -90.0 <= miny and maxy <= 90.0
    if looks_like_degrees:
        raise CrsError(
            f"The file is labelled {label} ({horizontal.name}, metres) but its coordinates look like degrees "
            f"(x≈{x_mid:.5f}, y≈{y_mid:.5f}); pass --crs EPSG:4326 (or EPSG:4490 for CGCS2000 lon/lat)."
        )
    west, south, east, north = area.bounds
    raise CrsError(
        f"The coordinates (x≈{x_mid:.0f}, y≈{y_mid:.0f}) lie outside the area where {label} ({horizontal.name}) "
        f"is used (lon {west:.2f}..{east:.2f}, lat {south:.2f}..{north:.2f}); "
        + _projected_hint(minx, miny, maxx, maxy)
        + "."
    )


def _transform_special(gdf: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Undo the GCJ-02 / BD-09 offset on every vertex (vectorised over all coordinates)."""
    inverse = chinacoords.gcj02_to_wgs84 if source == "GCJ02" else chinacoords.bd09_to_wgs84

    def to_wgs84_xy(coords: np.ndarray) -> np.ndarray:
        lon, lat = inverse(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    geometry = shapely.transform(gdf.geometry.values, to_wgs84_xy)
    return gpd.GeoDataFrame(gdf.drop(columns=gdf.geometry.name), geometry=geometry, crs=WGS84)


def to_wgs84(
    gdf: gpd.GeoDataFrame, *, declared: str | None, override: str | None
) -> tuple[gpd.GeoDataFrame, str]:
    """Return gdf in EPSG:4326 (lon/lat degrees) and the label of the source CRS used (override > declared > EPSG:4326)."""
    source_text = override or declared or "EPSG:4326"
    source = parse_crs(source_text)
    check_plausible(gdf, source)
    label = source_label(source)
    if isinstance(source, str):
        return _transform_special(gdf, source), label
    horizontal = _horizontal(source)
    # Re-label, never re-project, from the declared CRS: an override means the file's label is wrong.
    framed = gdf.set_crs(horizontal, allow_override=True)
    if horizontal.equals(WGS84, ignore_axis_order=True):
        return framed.set_crs(WGS84, allow_override=True), label
    try:
        projected = framed.to_crs(WGS84)
    except pyproj.exceptions.ProjError as exc:
        raise CrsError(f"Cannot reproject from {_display_name(source)} to EPSG:4326 ({exc}); check the --crs value.") from None
    _check_finite(projected, _display_name(source))
    return projected, label


def _check_finite(gdf: gpd.GeoDataFrame, label: str) -> None:
    """A transform that yields inf/NaN means the coordinates are not in the source CRS at all."""
    coords = shapely.get_coordinates(gdf.geometry.values)
    if len(coords) and not np.isfinite(coords).all():
        raise CrsError(
            f"Reprojecting from {label} produced invalid coordinates; the data are not in {label}: "
            "pass the file's real CRS with --crs, " + _CRS_EXAMPLES + "."
        )
