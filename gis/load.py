"""The one call the service makes: file -> clean, typed features in EPSG:4326 with heights (m) and an import report."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gis.clean import FAMILY, SOURCE_ROW, CleanCounts, clean_geometries, expected_families
from gis.crs import parse_crs, source_label, to_wgs84
from gis.heights import SOURCE_DEFAULT, resolve_heights
from gis.kinds import guess_kinds
from gis.properties import column_forms, json_records
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
# Rows cleaned and typed at a time by VectorStream: a quarter of the file, so the database has work
# early, within bounds that keep the vectorised steps at their speed (measured on 18k and 100k footprints).
CHUNK_ROWS = 10_000
MIN_CHUNK_ROWS = 2_000


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


@dataclass
class _Tally:
    """What the report needs of every loaded feature, gathered chunk by chunk."""

    family: list[np.ndarray] = field(default_factory=list)
    kind: list[np.ndarray] = field(default_factory=list)
    source_id: list[np.ndarray] = field(default_factory=list)
    height_source: list[np.ndarray] = field(default_factory=list)

    def add(self, features: gpd.GeoDataFrame) -> None:
        for name in ("family", "kind", "source_id", "height_source"):
            getattr(self, name).append(features[name].to_numpy())

    def column(self, name: str) -> np.ndarray:
        parts = getattr(self, name)
        return np.concatenate(parts) if parts else np.array([], dtype=object)


def _report(
    path: Path, source_crs: str, rows_read: int, tally: _Tally, counts: CleanCounts, raw_ids: np.ndarray, warnings: list[str]
) -> ImportReport:
    """The import report: counts by family/kind/height source, dropped rows with their file ids, warnings."""
    family, source = tally.column("family"), tally.column("height_source")
    dropped_rows = [
        {"row": item["row"], "source_id": str(raw_ids[item["row"]]), "reason": item["reason"]}
        for item in counts.dropped_rows[:MAX_DROPPED_ROWS_LISTED]
    ]
    if counts.dropped:
        reasons = Counter(item["reason"] for item in counts.dropped_rows)
        warnings.append(
            f"{counts.dropped} of {rows_read} rows dropped: " + "; ".join(f"{n} × {why}" for why, n in reasons.items())
        )
    ids = pd.Series(tally.column("source_id"), dtype=object)
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
        loaded=len(family),
        repaired=counts.repaired,
        dropped=counts.dropped,
        dropped_rows=dropped_rows,
        by_family={f: int((family == f).sum()) for f in FAMILIES},
        height_sources=dict(Counter(SOURCE_FLAT if s is None else str(s) for s in source[family == "polygon"])),
        warnings=warnings,
        by_kind=dict(Counter(str(k) for k in tally.column("kind"))),
        exploded=counts.exploded,
    )


class VectorStream:
    """A file read and checked as a whole, then cleaned, classified and given heights chunk by chunk.

    Everything decided over the whole file is decided when the stream opens: the CRS and its
    plausibility, the height options, which columns hold ids, names and attributes, and each
    attribute column's JSON form. A consumer (the PostGIS COPY) can then store one chunk while the
    next is prepared. Iterate once; `report` is complete when the iteration ends.
    """

    def __init__(self, path: Path, frame: gpd.GeoDataFrame, *, source_crs: str, raw_ids: np.ndarray, id_column: str | None,
                 warnings: list[str], heights: dict, chunk_rows: int | None, say: Callable[[str], None], started: float) -> None:
        self.path, self.source_crs, self.rows_read = path, source_crs, len(frame)
        self.expected_families = expected_families(frame.geometry.to_numpy())
        self.report: ImportReport | None = None
        self._frame, self._raw_ids, self._warnings, self._heights = frame, raw_ids, warnings, heights
        self._chunk_rows = max(len(frame), 1) if chunk_rows is None else min(chunk_rows, max(MIN_CHUNK_ROWS, -(-len(frame) // 4)))
        self._say, self._started = say, started
        self._name_columns = _first_present(frame.columns, NAME_ATTRS)
        consumed = {frame.geometry.name, SOURCE_ROW, FAMILY, _SOURCE_ID, "kind", id_column,
                    self._name_columns[0] if self._name_columns else None}
        self._property_columns = [c for c in frame.columns if c not in consumed]
        self._forms = column_forms(frame, self._property_columns)

    def __iter__(self) -> Iterator[gpd.GeoDataFrame]:
        counts, tally = CleanCounts(rows_in=self.rows_read), _Tally()
        for start in range(0, self.rows_read, self._chunk_rows):
            end = min(start + self._chunk_rows, self.rows_read)
            if self.rows_read > self._chunk_rows:
                self._say(f"cleaning and typing rows {start + 1:,}–{end:,} of {self.rows_read:,}")
            part, part_counts = clean_geometries(self._frame.iloc[start:end])
            counts.absorb(part_counts)
            features = self._features(part)
            tally.add(features)
            yield features
        self.report = _report(self.path, self.source_crs, self.rows_read, tally, counts, self._raw_ids, self._warnings)
        self.report.seconds = round(time.perf_counter() - self._started, 3)
        self._say(f"done: {self.report.loaded} features in {self.report.seconds:.2f} s")

    def _features(self, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Cleaned rows → the FEATURE_COLUMNS frame."""
        family = frame[FAMILY].to_numpy()
        kind = guess_kinds(frame, family)
        top, base, storeys, source = _heights_by_row(frame, family, kind, **self._heights)
        source_id = _split_unique(frame[_SOURCE_ID].to_numpy(), frame[SOURCE_ROW].to_numpy(), family)
        return gpd.GeoDataFrame(
            {
                "family": pd.Series(family, dtype=object),
                "kind": pd.Series(kind, dtype=object),
                "source_id": pd.Series(source_id, dtype=object),
                "name": pd.Series(_coalesce_text(frame, self._name_columns), dtype=object),
                "base_height": pd.Series(_nullable(base), dtype=object),
                "top_height": pd.Series(_nullable(top), dtype=object),
                "height_source": pd.Series(source, dtype=object),
                # The database keeps whole storeys; a fractional count ("2.5" = 2 + attic) rounds up.
                "storeys": pd.Series(_nullable_int(np.ceil(storeys)), dtype=object),
                "properties": pd.Series(json_records(frame, self._property_columns, forms=self._forms), dtype=object),
                SOURCE_ROW: frame[SOURCE_ROW].to_numpy(),
            },
            geometry=frame.geometry.to_numpy(),
            crs="EPSG:4326",
        )


def open_vector(
    path: Path,
    *,
    crs: str | None = None,
    layer: str | None = None,
    height_attr: str | None = None,
    levels_attr: str | None = None,
    storey_height: float = 3.0,
    default_height: float = 10.0,
    chunk_rows: int | None = CHUNK_ROWS,
    progress: Callable[[str], None] | None = None,
) -> VectorStream:
    """Read a file, reproject it to EPSG:4326 and check it as a whole; its features then come chunk by chunk
    (at most chunk_rows at a time, about a quarter of the file; None: in one piece). Raises GisError for anything the whole file contradicts."""
    started = time.perf_counter()
    say = progress or (lambda message: None)
    path = Path(path)
    if crs is not None:
        parse_crs(crs)  # reject a bad --crs before reading a large file
    say(f"reading {path.name}")
    frame, declared = read_vector(path, layer=layer)
    warnings = list(frame.attrs.get(WARNINGS_ATTR, []))
    if crs is None and declared is None:
        warnings.append("The file declares no CRS; assumed EPSG:4326 (lon/lat). Pass --crs if that is wrong.")
    elif crs is not None and declared is not None:
        declared_label, wanted_label = source_label(parse_crs(declared)), source_label(parse_crs(crs))
        if declared_label != wanted_label:
            warnings.append(f"The file declares {declared_label}; used {wanted_label} from --crs instead.")
    heights = {"height_attr": height_attr, "levels_attr": levels_attr, "storey_height": storey_height, "default_height": default_height}
    resolve_heights(frame.iloc[:0], **heights)  # bad height options or columns fail now, before any row is stored

    source_text = crs or declared or "EPSG:4326"
    say((f"checking {len(frame):,} rows' coordinates ({source_text})" if source_text == "EPSG:4326"
         else f"reprojecting {len(frame):,} rows from {source_text} to EPSG:4326")[:200])
    frame[SOURCE_ROW] = np.arange(len(frame))
    raw_ids, id_column = _raw_source_ids(frame)
    frame[_SOURCE_ID] = raw_ids
    frame, source_crs = to_wgs84(frame, declared=declared, override=crs)
    return VectorStream(path, frame, source_crs=source_crs, raw_ids=raw_ids, id_column=id_column, warnings=warnings,
                        heights=heights, chunk_rows=chunk_rows, say=say, started=started)


def load_vector(path: Path, **options) -> LoadResult:
    """Read, reproject to EPSG:4326, clean, classify and give heights (m above ground) to every feature of a file
    (the options of open_vector), all at once."""
    stream = open_vector(path, **{"chunk_rows": None, **options})
    features = pd.concat(list(stream), ignore_index=True)
    assert stream.report is not None
    return LoadResult(features=gpd.GeoDataFrame(features, geometry="geometry", crs="EPSG:4326"), report=stream.report)
