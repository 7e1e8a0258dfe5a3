"""Where an IFC model is on Earth: map conversions, IFC2X3 ePSets, IfcSite lat/lon or a user's anchor.

Model coordinates in this module are the geometry iterator's world coordinates converted to
metres ("model metres"). Map eastings/northings are in the units of the CRS axes (what pyproj
expects); heights are metres in whatever vertical datum the file states (no geoid model is
available offline, so orthometric heights are kept orthometric and said so in `height_kind`).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Literal

import ifcopenshell
import ifcopenshell.util.element
import ifcopenshell.util.geolocation
import numpy as np
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from bim.units import length_unit_m, named_unit_m
from tiles.enu import Origin, enu_to_lonlat, lonlat_to_enu

GeorefSource = Literal["map_conversion", "epset_map_conversion", "site_reflatlon", "anchor", "none"]
HeightKind = Literal["orthometric", "ellipsoidal", "as_given", "unknown"]

# Revit writes these IfcSite locations when the user never set one (its default project places).
EXPORTER_DEFAULT_SITES = {"Boston": (42.3584, -71.0598), "Chicago": (41.8744, -87.6394)}
DEFAULT_SITE_TOLERANCE_DEG = 0.01
SITE_DISAGREEMENT_WARN_M = 10_000.0
# Half-size of the neighbourhood (model metres) used to fit the model->ENU affine matrix.
FIT_HALF_SIZE_M = 100.0
# IfcMapConversion.Scale within 1% of the unit ratio is taken as given (it may carry a grid scale factor).
SCALE_TOLERANCE = 0.01
EARTH_RADIUS_M = 6_371_008.8

_local = threading.local()


@dataclass(frozen=True)
class Anchor:
    """A user's placement of the model origin: WGS84 lon/lat (degrees), height (m, as given) and the
    direction of the model's +X axis in degrees anticlockwise from east (0 = model X points east)."""

    lon: float
    lat: float
    height: float = 0.0
    rotation_deg: float = 0.0


@dataclass
class Georef:
    """The resolved georeference of a model.

    eastings/northings: map position of the model origin in CRS axis units (projected sources only).
    orthogonal_height: height of the model origin in metres (map conversions: as stated, orthometric).
    rotation_deg: direction of the model +X axis, anticlockwise from grid east (map conversions)
    or true east (site, anchor). scale: map units per project unit as applied (after sanity checks).
    lon/lat/height: WGS84 position of the model's local origin (0,0,0); height as `height_kind` says.
    """

    source: GeorefSource
    crs: str | None = None
    eastings: float | None = None
    northings: float | None = None
    orthogonal_height: float = 0.0
    rotation_deg: float = 0.0
    scale: float = 1.0
    lon: float | None = None
    lat: float | None = None
    height: float | None = None
    height_kind: HeightKind = "unknown"
    warnings: list[str] = field(default_factory=list)
    # Conversion factors behind the public fields.
    project_unit_m: float = 1.0  # metres per project length unit
    map_unit_m: float = 1.0  # metres per map unit (IfcProjectedCRS.MapUnit or the CRS axis unit)
    crs_unit_m: float = 1.0  # metres per CRS axis unit (what pyproj reads)
    factors_xyz: tuple[float, float, float] = (1.0, 1.0, 1.0)  # IfcMapConversionScaled FactorX/Y/Z
    wcs: np.ndarray | None = None  # the Model context's WorldCoordinateSystem (project units), if not identity

    @property
    def is_projected(self) -> bool:
        """True when positions go through a map CRS (IfcMapConversion or the IFC2X3 ePSets)."""
        return self.source in ("map_conversion", "epset_map_conversion")


# ---------------------------------------------------------------------------------------------
# Resolution


def resolve_georef(model: ifcopenshell.file, *, anchor: Anchor | None = None) -> Georef:
    """Resolve where the model origin is: anchor > IfcMapConversion > ePSet_MapConversion > IfcSite lat/lon."""
    warnings: list[str] = []
    unit_m = length_unit_m(model)
    site_hint = _site_reflatlon(model, unit_m, warnings)
    found = _map_conversion(model, unit_m, warnings) or _epset_map_conversion(model, unit_m, warnings)
    if found is not None:
        _locate_origin(found)
        if site_hint is not None and site_hint.lat is not None and found.lat is not None:
            distance = _distance_m(site_hint.lon, site_hint.lat, found.lon, found.lat)
            if distance > SITE_DISAGREEMENT_WARN_M:
                warnings.append(
                    f"IfcSite RefLatitude/RefLongitude ({site_hint.lat:.4f}, {site_hint.lon:.4f}) is "
                    f"{distance / 1000:.0f} km from the map conversion's position; the map conversion is used"
                )
    if anchor is not None:
        if found is not None or site_hint is not None:
            overridden = (found or site_hint).source  # type: ignore[union-attr]
            warnings.append(f"the anchor given overrides the file's georeferencing ({overridden})")
        georef = _from_anchor(anchor, unit_m)
    elif found is not None:
        georef = found
    elif site_hint is not None:
        georef = site_hint
        warnings.append(
            "position taken from IfcSite RefLatitude/RefLongitude, which exporters often leave at a default; "
            "check it on the map or give an anchor"
        )
    else:
        georef = Georef(source="none", project_unit_m=unit_m)
        warnings.append(
            "the model has no georeferencing (no IfcMapConversion, ePSet_MapConversion or IfcSite "
            "RefLatitude/RefLongitude); give an anchor to place it"
        )
    georef.warnings = warnings + [w for w in georef.warnings if w not in warnings]
    return georef


def _context_wcs(model: ifcopenshell.file) -> np.ndarray | None:
    """The Model context's WorldCoordinateSystem as a 4x4 matrix (project units), or None if identity."""
    wcs = ifcopenshell.util.geolocation.get_wcs(model)
    if wcs is None or np.allclose(wcs, np.eye(4)):
        return None
    return np.asarray(wcs, dtype=np.float64)


def _map_conversion(model: ifcopenshell.file, unit_m: float, warnings: list[str]) -> Georef | None:
    """IFC4 / IFC4X3 IfcMapConversion (or IfcMapConversionScaled) to an IfcProjectedCRS."""
    if model.schema == "IFC2X3":
        return None
    operations = [
        op
        for context in model.by_type("IfcGeometricRepresentationContext", include_subtypes=False)
        for op in (context.HasCoordinateOperation or ())
    ]
    for operation in operations:
        if not operation.is_a("IfcMapConversion"):
            warnings.append(f"{operation.is_a()} is not supported; ignored")
            continue
        target = operation.TargetCRS
        crs_name = getattr(target, "Name", None)
        crs = _parse_crs(crs_name, warnings)
        if crs is None:
            continue
        factors = (1.0, 1.0, 1.0)
        if operation.is_a("IfcMapConversionScaled"):
            factors = (float(operation.FactorX), float(operation.FactorY), float(operation.FactorZ))
        map_unit = named_unit_m(getattr(target, "MapUnit", None)) if target.is_a("IfcProjectedCRS") else None
        return _projected_georef(
            "map_conversion",
            crs,
            crs_name,
            eastings=operation.Eastings,
            northings=operation.Northings,
            height=operation.OrthogonalHeight,
            x_abscissa=operation.XAxisAbscissa,
            x_ordinate=operation.XAxisOrdinate,
            scale=operation.Scale,
            map_unit_m=map_unit,
            project_unit_m=unit_m,
            factors=factors,
            wcs=_context_wcs(model),
            warnings=warnings,
        )
    return None


def _epset_map_conversion(model: ifcopenshell.file, unit_m: float, warnings: list[str]) -> Georef | None:
    """The IFC2X3 convention of the bSI georeferencing guide: ePSet_MapConversion + ePSet_ProjectedCRS psets.

    ifcopenshell.util.geolocation only looks on IfcProject; real files (the Duplex sample) put them on
    IfcSite, so both are searched here.
    """
    holders = list(model.by_type("IfcProject")) + list(model.by_type("IfcSite"))
    for holder in holders:
        conversion = ifcopenshell.util.element.get_pset(holder, "ePSet_MapConversion")
        if not conversion:
            continue
        crs_pset = ifcopenshell.util.element.get_pset(holder, "ePSet_ProjectedCRS") or {}
        crs_name = crs_pset.get("Name") or conversion.get("TargetCRS")
        crs = _parse_crs(crs_name, warnings)
        if crs is None:
            continue
        return _projected_georef(
            "epset_map_conversion",
            crs,
            crs_name,
            eastings=conversion.get("Eastings"),
            northings=conversion.get("Northings"),
            height=conversion.get("OrthogonalHeight"),
            x_abscissa=conversion.get("XAxisAbscissa"),
            x_ordinate=conversion.get("XAxisOrdinate"),
            scale=conversion.get("Scale"),
            map_unit_m=_unit_label_m(crs_pset.get("MapUnit")),
            project_unit_m=unit_m,
            factors=(1.0, 1.0, 1.0),
            wcs=_context_wcs(model),
            warnings=warnings,
        )
    return None


def _projected_georef(
    source: GeorefSource,
    crs: CRS,
    crs_name: str | None,
    *,
    eastings,
    northings,
    height,
    x_abscissa,
    x_ordinate,
    scale,
    map_unit_m: float | None,
    project_unit_m: float,
    factors: tuple[float, float, float],
    wcs: np.ndarray | None,
    warnings: list[str],
) -> Georef:
    """Build a projected Georef from raw map-conversion values (map units), checking Scale against units."""
    crs_unit_m = _crs_axis_unit_m(crs)
    if map_unit_m is None:
        map_unit_m = crs_unit_m  # no MapUnit: the values are in the CRS's own units
    x_abscissa, x_ordinate = float(x_abscissa or 0.0), float(x_ordinate or 0.0)
    if x_abscissa == 0.0 and x_ordinate == 0.0:
        x_abscissa = 1.0
    applied_scale = _checked_scale(scale, project_unit_m / map_unit_m, warnings)
    to_crs_units = map_unit_m / crs_unit_m
    return Georef(
        source=source,
        crs=_crs_label(crs, crs_name),
        eastings=float(eastings or 0.0) * to_crs_units,
        northings=float(northings or 0.0) * to_crs_units,
        orthogonal_height=float(height or 0.0) * map_unit_m,
        rotation_deg=math.degrees(math.atan2(x_ordinate, x_abscissa)),
        scale=applied_scale,
        height_kind="orthometric",
        project_unit_m=project_unit_m,
        map_unit_m=map_unit_m,
        crs_unit_m=crs_unit_m,
        factors_xyz=factors,
        wcs=wcs,
    )


def _checked_scale(scale, unit_ratio: float, warnings: list[str]) -> float:
    """IfcMapConversion.Scale (map units per project unit), cross-checked with the two length units.

    The schema says Scale converts project units to map units, but exporters write it inverted
    (the buildingSMART IFC4X3 UTM sample: millimetre project, metre map, Scale 1000) or leave it at 1
    with different units. Only a value close to the unit ratio is trusted as it is.
    """
    given = float(scale) if scale not in (None, 0) else 1.0
    if abs(given / unit_ratio - 1.0) <= SCALE_TOLERANCE:
        return given
    if abs(given * unit_ratio - 1.0) <= SCALE_TOLERANCE:
        warnings.append(
            f"IfcMapConversion Scale {given:g} is the inverse of the unit ratio {unit_ratio:g} "
            f"(project unit to map unit); using {unit_ratio:g}"
        )
        return unit_ratio
    if abs(given - 1.0) <= SCALE_TOLERANCE:
        warnings.append(
            f"IfcMapConversion Scale is 1 but project and map units differ (ratio {unit_ratio:g}); "
            f"using {unit_ratio:g}"
        )
        return unit_ratio
    warnings.append(f"IfcMapConversion Scale {given:g} differs from the unit ratio {unit_ratio:g}; used as given")
    return given


def _parse_crs(name, warnings: list[str]) -> CRS | None:
    """pyproj CRS from an IfcProjectedCRS.Name such as 'EPSG:32760' (also 'EPSG 32760' or '32760')."""
    if not name:
        warnings.append("the map conversion's CRS has no name; it cannot be used")
        return None
    text = str(name).strip()
    candidates = [text]
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.upper().startswith("EPSG") and digits:
        candidates.append(f"EPSG:{digits}")
    elif text.isdigit():
        candidates.append(f"EPSG:{text}")
    for candidate in candidates:
        try:
            return CRS.from_user_input(candidate)
        except CRSError:
            continue
    warnings.append(f"unknown CRS {text!r} in the map conversion; it cannot be used")
    return None


def _crs_label(crs: CRS, name: str | None) -> str:
    """'EPSG:nnnn' when the CRS has an EPSG code, else the name as written in the file."""
    authority = crs.to_authority()
    return f"{authority[0]}:{authority[1]}" if authority else str(name)


def _horizontal_crs(crs: CRS) -> CRS:
    """The projected part of a compound CRS (EPSG:9897 = LUREF TM + NG95 height); heights stay as stated."""
    if crs.is_compound:
        for sub in crs.sub_crs_list:
            if sub.is_projected or sub.is_geographic:
                return sub
    return crs


def _crs_axis_unit_m(crs: CRS) -> float:
    """Metres per unit of the CRS's first horizontal axis (1 for metre CRSs, 0.3048... for foot CRSs)."""
    axes = _horizontal_crs(crs).axis_info
    factor = axes[0].unit_conversion_factor if axes else 1.0
    return float(factor) if factor else 1.0


_UNIT_LABELS_M = {"METRE": 1.0, "METER": 1.0, "MILLIMETRE": 0.001, "MILLIMETER": 0.001, "CENTIMETRE": 0.01,
                  "CENTIMETER": 0.01, "FOOT": 0.3048, "FEET": 0.3048, "US SURVEY FOOT": 1200 / 3937}


def _unit_label_m(label) -> float | None:
    """Metres per unit for an ePSet_ProjectedCRS MapUnit label such as 'METRE', or None if absent/unknown."""
    if not label:
        return None
    return _UNIT_LABELS_M.get(str(label).strip().upper())


def _site_reflatlon(model: ifcopenshell.file, unit_m: float, warnings: list[str]) -> Georef | None:
    """IfcSite RefLatitude/RefLongitude/RefElevation and the Model context's TrueNorth, if plausible."""
    for site in model.by_type("IfcSite"):
        lat_dms, lon_dms = site.RefLatitude, site.RefLongitude
        if not lat_dms or not lon_dms:
            continue
        lat, lon = _compound_angle_deg(lat_dms), _compound_angle_deg(lon_dms)
        if not (abs(lat) <= 90.0 and abs(lon) <= 180.0):
            warnings.append(
                f"IfcSite {site.Name or site.GlobalId!s} has an impossible position "
                f"(latitude {lat:.10g}°, longitude {lon:.10g}°); ignored"
            )
            continue
        if lat == 0.0 and lon == 0.0:
            warnings.append("IfcSite RefLatitude/RefLongitude is 0°, 0° (an unset default); ignored")
            continue
        for place, (default_lat, default_lon) in EXPORTER_DEFAULT_SITES.items():
            if abs(lat - default_lat) < DEFAULT_SITE_TOLERANCE_DEG and abs(lon - default_lon) < DEFAULT_SITE_TOLERANCE_DEG:
                warnings.append(
                    f"IfcSite RefLatitude/RefLongitude is {place}, an exporter's default; the model is probably not there"
                )
        height = float(site.RefElevation or 0.0) * unit_m
        true_north = ifcopenshell.util.geolocation.get_true_north(model)  # degrees anticlockwise from +Y
        return Georef(
            source="site_reflatlon",
            lon=lon,
            lat=lat,
            height=height,
            orthogonal_height=height,
            rotation_deg=-float(true_north) + 0.0,  # + 0.0 turns -0.0 into 0.0
            height_kind="orthometric",
            project_unit_m=unit_m,
        )
    return None


def _compound_angle_deg(values) -> float:
    """IfcCompoundPlaneAngleMeasure (degrees, minutes, seconds[, millionths]) to decimal degrees."""
    parts = [int(v) for v in values] + [0] * (4 - len(values))
    return float(ifcopenshell.util.geolocation.dms2dd(*parts[:4]))


def _from_anchor(anchor: Anchor, unit_m: float) -> Georef:
    """A Georef placing the model origin at the anchor."""
    if not (abs(anchor.lat) <= 90.0 and abs(anchor.lon) <= 180.0):
        raise ValueError(f"anchor position out of range: lon {anchor.lon}, lat {anchor.lat}")
    return Georef(
        source="anchor",
        lon=float(anchor.lon),
        lat=float(anchor.lat),
        height=float(anchor.height),
        orthogonal_height=float(anchor.height),
        rotation_deg=float(anchor.rotation_deg),
        height_kind="as_given",
        project_unit_m=unit_m,
    )


def _locate_origin(georef: Georef) -> None:
    """Fill lon/lat/height of a projected Georef from its map position of the model origin."""
    lon, lat, height = model_to_wgs84(georef, np.zeros((1, 3)))
    georef.lon, georef.lat, georef.height = float(lon[0]), float(lat[0]), float(height[0])


def _distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine; a warning threshold needs no better)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


# ---------------------------------------------------------------------------------------------
# Transformations


def _to_wgs84(crs_label: str) -> Transformer:
    """A per-thread cached transformer from the CRS's horizontal part to WGS84 lon/lat (PROJ objects are not thread-safe)."""
    cache = getattr(_local, "transformers", None)
    if cache is None:
        cache = _local.transformers = {}
    transformer = cache.get(crs_label)
    if transformer is None:
        horizontal = _horizontal_crs(CRS.from_user_input(crs_label))
        transformer = cache[crs_label] = Transformer.from_crs(horizontal, "EPSG:4326", always_xy=True)
    return transformer


def model_to_map(georef: Georef, xyz_model_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model metres (n,3) -> map eastings, northings (CRS axis units) and height (metres); projected sources only."""
    if not georef.is_projected:
        raise ValueError(f"georeference source {georef.source!r} has no map CRS")
    xyz = np.atleast_2d(np.asarray(xyz_model_m, dtype=np.float64)) / georef.project_unit_m
    if georef.wcs is not None:
        # As ifcopenshell.util.geolocation.auto_xyz2enh: map conversions apply to the context's WCS.
        homogeneous = np.c_[xyz, np.ones(len(xyz))]
        xyz = (homogeneous @ np.linalg.inv(georef.wcs).T)[:, :3]
    theta = math.radians(georef.rotation_deg)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    fx, fy, fz = georef.factors_xyz
    s = georef.scale
    to_crs = georef.map_unit_m / georef.crs_unit_m
    east_map = s * (fx * cos_t * xyz[:, 0] - fy * sin_t * xyz[:, 1])
    north_map = s * (fx * sin_t * xyz[:, 0] + fy * cos_t * xyz[:, 1])
    eastings = georef.eastings + east_map * to_crs
    northings = georef.northings + north_map * to_crs
    height = georef.orthogonal_height + s * fz * xyz[:, 2] * georef.map_unit_m
    return eastings, northings, height


def model_to_wgs84(georef: Georef, xyz_model_m: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Model metres (n,3) -> WGS84 lon, lat (degrees) and height (metres, datum as `georef.height_kind`)."""
    xyz = np.atleast_2d(np.asarray(xyz_model_m, dtype=np.float64))
    if georef.is_projected:
        eastings, northings, height = model_to_map(georef, xyz)
        lon, lat = _to_wgs84(georef.crs).transform(eastings, northings)  # type: ignore[arg-type]
        return np.asarray(lon), np.asarray(lat), np.asarray(height)
    if georef.lon is None or georef.lat is None:
        raise ValueError("the model has no georeferencing; give an anchor")
    # Site or anchor: the model is a flat local frame tangent at its origin, turned by rotation_deg.
    reference = Origin(georef.lon, georef.lat, georef.height or 0.0)
    enu = xyz @ _rotation_z(georef.rotation_deg).T
    return enu_to_lonlat(reference, enu[:, 0], enu[:, 1], enu[:, 2])


def model_heights(georef: Georef, z_model_m: np.ndarray) -> np.ndarray:
    """Model Z (metres) -> heights in metres in the georeference's vertical datum (see `height_kind`)."""
    z = np.asarray(z_model_m, dtype=np.float64)
    if georef.is_projected and georef.wcs is None:
        fz = georef.factors_xyz[2]
        return georef.orthogonal_height + georef.scale * fz * (z / georef.project_unit_m) * georef.map_unit_m
    if georef.is_projected:
        points = np.zeros((z.size, 3))
        points[:, 2] = z.reshape(-1)
        return model_to_map(georef, points)[2].reshape(z.shape)
    if georef.height is None:
        raise ValueError("the model has no georeferencing; give an anchor")
    return georef.height + z  # a flat local frame: Earth curvature (<1 cm within 300 m) is left out


def footprints_to_wgs84(georef: Georef, polygons: list) -> list:
    """Polygons in model XY metres (None allowed) -> the same polygons in WGS84 lon/lat (EPSG:4326), in one pass."""
    import shapely  # local: only callers that store footprints need it

    present = [i for i, polygon in enumerate(polygons) if polygon is not None]
    result: list = [None] * len(polygons)
    if not present:
        return result

    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat, _ = model_to_wgs84(georef, np.c_[coords, np.zeros(len(coords))])
        return np.c_[lon, lat]

    moved = shapely.transform(np.array([polygons[i] for i in present], dtype=object), project)
    for slot, polygon in zip(present, moved):
        result[slot] = polygon
    return result


def model_to_enu_matrix(georef: Georef, origin: Origin, *, center_m: np.ndarray | None = None) -> np.ndarray:
    """4x4 matrix (row-major numpy, column vectors) taking model metres to the tileset's ENU metres at `origin`.

    The matrix is fitted to exact transforms (model -> map CRS -> WGS84 -> ENU) of points within
    FIT_HALF_SIZE_M of `center_m` (default: the model origin), so it carries the map rotation, the
    projection's grid convergence and its scale factor; a building is treated as rigid there.
    """
    center = np.zeros(3) if center_m is None else np.asarray(center_m, dtype=np.float64).reshape(3)
    offsets = FIT_HALF_SIZE_M * np.array(
        [[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1], [1, 1, 0], [-1, 1, 0]],
        dtype=np.float64,
    )
    samples = center + offsets
    lon, lat, height = model_to_wgs84(georef, samples)
    east, north, up = lonlat_to_enu(origin, lon, lat, height)
    target = np.stack([east, north, up], axis=1)
    source = np.c_[samples - center, np.ones(len(samples))]
    solution, *_ = np.linalg.lstsq(source, target, rcond=None)  # (4, 3): affine about the centre
    matrix = np.eye(4)
    matrix[:3, :3] = solution[:3].T
    matrix[:3, 3] = solution[3] - matrix[:3, :3] @ center
    return matrix


def model_to_enu(georef: Georef, xyz_model_m: np.ndarray, origin: Origin) -> np.ndarray:
    """Model metres (n,3) -> tileset ENU metres (n,3) at `origin`, through one fitted 4x4 matrix."""
    xyz = np.atleast_2d(np.asarray(xyz_model_m, dtype=np.float64))
    center = (xyz.min(axis=0) + xyz.max(axis=0)) / 2 if len(xyz) else None
    matrix = model_to_enu_matrix(georef, origin, center_m=center)
    return xyz @ matrix[:3, :3].T + matrix[:3, 3]


def _rotation_z(angle_deg: float) -> np.ndarray:
    """3x3 anticlockwise rotation about +Z by `angle_deg`."""
    a = math.radians(angle_deg)
    return np.array([[math.cos(a), -math.sin(a), 0.0], [math.sin(a), math.cos(a), 0.0], [0.0, 0.0, 1.0]])
