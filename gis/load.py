"""The one call the service makes: file -> clean, typed features in EPSG:4326 with heights (m) and an import report."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.clean import FAMILY, SOURCE_ROW, CleanCounts, clean_geometries
from gis.crs import parse_crs, source_label, to_wgs84
from gis.heights import SOURCE_DEFAULT, resolve_heights
from gis.kinds import guess_kinds
from gis.properties import json_records
from gis.read import WARNINGS_ATTR, read_vector

FAMILIES = ("polygon", "line", "point")
# Report key for non-building polygons (lawn, parking, zone) without a stated height: they get top_height None
# and height_source None, i.e. they are drawn flat on the ground like lines and points.
SOURCE_FLAT = "flat"
_SOURCE_ID = "__gis_source_id"
ID_ATTRS = ("id", "@id", "osm_id", "fid", "gml_id", "OBJECTID", "objectid", "FID")
NAME_ATTRS = ("name", "名称", "name:zh", "NAME", "Name")
FEATURE_COLUMNS = (
    "family", "kind", "source_id", "name", "base_height", "top_height",
    "height_source", "storeys", "properties", SOURCE_ROW,
)
# How many dropped rows the report lists one by one (the count is always exact).
MAX_DROPPED_ROWS_LISTED = 1000


@dataclass
class ImportReport:
    """What happened to every row of one imported file (JSON-safe via to_dict)."""

    source_name: str
    source_crs: str
    rows_read: int
    loaded: int
    repaired: int
    dropped: int
    dropped_rows: list[dict]  # {"row": 0-based feature position, "source_id", "reason"}; first 1000 listed
    by_family: dict[str, int]  # polygon / line / point counts of loaded features
    height_sources: dict[str, int]  # polygons per "attribute:<col>" / "storeys" / "default" / "flat"
    warnings: list[str]
    by_kind: dict[str, int] = field(default_factory=dict)
    exploded: int = 0  # GeometryCollection rows split into one feature per family
    seconds: float = 0.0

    def to_dict(self) -> dict:
        """Plain dict for JSON / the database."""
        return asdict(self)


@dataclass
class LoadResult:
    """Features (EPSG:4326; see FEATURE_COLUMNS) and the import report."""

    features: gpd.GeoDataFrame
    report: ImportReport


def _first_present(columns: pd.Index, wanted: tuple[str, ...]) -> list[str]:
    return [name for name in wanted if name in columns]


def _as_text(column: pd.Series) -> pd.Series:
    """Column values as stripped strings (object Series, None where missing/blank); integral floats lose their ".0"."""
    if pd.api.types.is_float_dtype(column.dtype):
        values = pd.Series(column.to_numpy(dtype=np.float64, na_value=np.nan))
        integral = np.isfinite(values) & (values == values.round())
        text = pd.Series(None, index=values.index, dtype=object)
        text[integral] = values[integral].map("{:.0f}".format)
        text[np.isfinite(values) & ~integral] = values[np.isfinite(values) & ~integral].map(repr)
        return text
    text = pd.Series(column.to_numpy(dtype=object), dtype="string").str.strip()
    return pd.Series(text.mask(text == "").to_numpy(dtype=object, na_value=None), dtype=object)


def _coalesce_text(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    """Per row, the first non-blank value among the columns as str (object array, None where all are blank)."""
    result = pd.Series(None, index=range(len(frame)), dtype=object)
    for name in names:
        result = result.where(result.notna(), _as_text(frame[name]))
    return result.to_numpy(dtype=object, na_value=None, copy=True)


def _raw_source_ids(frame: pd.DataFrame) -> tuple[np.ndarray, str | None]:
    """Ids from the file's first id-like column, the 0-based row number where missing; and that column's name."""
    id_columns = _first_present(frame.columns, ID_ATTRS)
    id_column = id_columns[0] if id_columns else None
    ids = _coalesce_text(frame, [id_column]) if id_column else np.full(len(frame), None, dtype=object)
    missing = pd.isna(ids)
    ids[missing] = np.arange(len(frame))[missing].astype(str)
    return ids, id_column


def _split_unique(ids: np.ndarray, rows: np.ndarray, family: np.ndarray) -> np.ndarray:
    """Rows split from one GeometryCollection share an id: suffix it with the family ("12#line")."""
    ids = ids.copy()
    split = pd.Series(rows).duplicated(keep=False).to_numpy()
    if split.any():
        ids[split] = [f"{value}#{part}" for value, part in zip(ids[split], family[split])]
    return ids


def _nullable(values: np.ndarray) -> np.ndarray:
    """Float array -> object array with None for NaN, so the database and JSON see NULL, never NaN."""
    out = values.astype(object)
    out[np.isnan(values)] = None
    return out


def _nullable_int(values: np.ndarray) -> np.ndarray:
    """Float array of whole numbers -> object array of int, None for NaN."""
    out = np.full(len(values), None, dtype=object)
    present = ~np.isnan(values)
    out[present] = values[present].astype(np.int64).tolist()
    return out


def _heights_by_row(
    frame: gpd.GeoDataFrame, family: np.ndarray, kind: np.ndarray, **options
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(top, base, storeys, source) for every row: resolved for polygons; NaN/None for lines, points and flat areas."""
    polygon = family == "polygon"
    heights = resolve_heights(frame.iloc[np.flatnonzero(polygon)], **options)
    top, base, storeys = (np.full(len(frame), np.nan) for _ in range(3))
    source = np.full(len(frame), None, dtype=object)
    top[polygon], base[polygon], storeys[polygon] = heights.top_height, heights.base_height, heights.storeys
    source[polygon] = heights.source
    # A lawn, car park or zone without a stated height lies flat: only buildings get the default height.
    flat = polygon & (source == SOURCE_DEFAULT) & (kind != "building")
    top[flat] = np.nan
    source[flat] = None
    return top, base, storeys, source


def _report(
    path: Path,
    source_crs: str,
    rows_read: int,
    features: gpd.GeoDataFrame,
    counts: CleanCounts,
    raw_ids: np.ndarray,
    source: np.ndarray,
    warnings: list[str],
) -> ImportReport:
    """The import report: counts by family/kind/height source, dropped rows with their file ids, warnings."""
    family = features["family"].to_numpy()
    dropped_rows = [
        {"row": item["row"], "source_id": str(raw_ids[item["row"]]), "reason": item["reason"]}
        for item in counts.dropped_rows[:MAX_DROPPED_ROWS_LISTED]
    ]
    if counts.dropped:
        reasons = Counter(item["reason"] for item in counts.dropped_rows)
        warnings.append(
            f"{counts.dropped} of {rows_read} rows dropped: " + "; ".join(f"{n} × {why}" for why, n in reasons.items())
        )
    ids = features["source_id"]
    repeated = ids[ids.duplicated()].unique()
    if len(repeated):
        examples = ", ".join(map(str, repeated[:3]))
        warnings.append(
            f"{len(repeated)} feature ids occur more than once in the file (e.g. {examples}); source_id is not unique."
        )
    return ImportReport(
        source_name=path.name,
        source_crs=source_crs,
        rows_read=rows_read,
        loaded=len(features),
        repaired=counts.repaired,
        dropped=counts.dropped,
        dropped_rows=dropped_rows,
        by_family={f: int((family == f).sum()) for f in FAMILIES},
        height_sources=dict(Counter(SOURCE_FLAT if s is None else str(s) for s in source[family == "polygon"])),
        warnings=warnings,
        by_kind=dict(Counter(str(k) for k in features["kind"])),
        exploded=counts.exploded,
    )


def load_vector(
    path: Path,
    *,
    crs: str | None = None,
    layer: str | None = None,
    height_attr: str | None = None,
    levels_attr: str | None = None,
    storey_height: float = 3.0,
    default_height: float = 10.0,
    progress: Callable[[str], None] | None = None,
) -> LoadResult:
    """Read, reproject to EPSG:4326, clean, classify and give heights (m above ground) to every feature of a file."""
    started = time.perf_counter()
    say = progress or (lambda message: None)
    path = Path(path)
    if crs is not None:
        parse_crs(crs)  # reject a bad --crs before reading a large file
    say(f"reading {path.name}")
    frame, declared = read_vector(path, layer=layer)
    rows_read = len(frame)
    warnings = list(frame.attrs.get(WARNINGS_ATTR, []))
    if crs is None and declared is None:
        warnings.append("The file declares no CRS; assumed EPSG:4326 (lon/lat). Pass --crs if that is wrong.")
    elif crs is not None and declared is not None:
        declared_label, wanted_label = source_label(parse_crs(declared)), source_label(parse_crs(crs))
        if declared_label != wanted_label:
            warnings.append(f"The file declares {declared_label}; used {wanted_label} from --crs instead.")

    say(f"reprojecting {rows_read} rows from {crs or declared or 'EPSG:4326'} to EPSG:4326"[:200])
    frame[SOURCE_ROW] = np.arange(len(frame))
    raw_ids, id_column = _raw_source_ids(frame)
    frame[_SOURCE_ID] = raw_ids
    frame, source_crs = to_wgs84(frame, declared=declared, override=crs)

    say("cleaning geometries")
    frame, counts = clean_geometries(frame)
    family = frame[FAMILY].to_numpy()

    say("resolving heights and kinds")
    kind = guess_kinds(frame, family)
    top, base, storeys, source = _heights_by_row(
        frame, family, kind, height_attr=height_attr, levels_attr=levels_attr,
        storey_height=storey_height, default_height=default_height,
    )

    say("collecting attributes")
    source_id = _split_unique(frame[_SOURCE_ID].to_numpy(), frame[SOURCE_ROW].to_numpy(), family)
    name_columns = _first_present(frame.columns, NAME_ATTRS)
    name = _coalesce_text(frame, name_columns)
    consumed = {
        frame.geometry.name, SOURCE_ROW, FAMILY, _SOURCE_ID, "kind", id_column, name_columns[0] if name_columns else None
    }
    properties = json_records(frame, [c for c in frame.columns if c not in consumed])

    features = gpd.GeoDataFrame(
        {
            "family": pd.Series(family, dtype=object),
            "kind": pd.Series(kind, dtype=object),
            "source_id": pd.Series(source_id, dtype=object),
            "name": pd.Series(name, dtype=object),
            "base_height": pd.Series(_nullable(base), dtype=object),
            "top_height": pd.Series(_nullable(top), dtype=object),
            "height_source": pd.Series(source, dtype=object),
            # The database keeps whole storeys; a fractional count ("2.5" = 2 + attic) rounds up.
            "storeys": pd.Series(_nullable_int(np.ceil(storeys)), dtype=object),
            "properties": pd.Series(properties, dtype=object),
            SOURCE_ROW: frame[SOURCE_ROW].to_numpy(),
        },
        geometry=frame.geometry.to_numpy(),
        crs="EPSG:4326",
    )

    report = _report(path, source_crs, rows_read, features, counts, raw_ids, source, warnings)
    report.seconds = round(time.perf_counter() - started, 3)
    say(f"done: {report.loaded} features in {report.seconds:.2f} s")
    return LoadResult(features=features, report=report)
