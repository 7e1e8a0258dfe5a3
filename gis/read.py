"""Read a vector file (GeoJSON, GeoPackage, Shapefile or zipped Shapefile, CityJSON) into a GeoDataFrame in its own CRS."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import geopandas as gpd
import pyogrio
import pyogrio.errors

from gis.cityjson import looks_like_cityjson, read_cityjson
from gis.crs import crs_label
from gis.errors import EmptyInput, GisError, UnsupportedFormat
from gis.geojson import read_geojson_fast

SUPPORTED_FORMATS = "GeoJSON (.geojson/.json), GeoPackage (.gpkg), Shapefile (.shp or a .zip holding one), CityJSON (.city.json/.json)"
_ZIPPED_VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")
_SHP_FILE_CODE = 9994
# Zip bombs: real vector data deflates 2-20x (the Moscow shapefile: 2x .shp, 18x .dbf); a member that
# expands far more than that, and to more than a few MB, is refused before GDAL reads it. (A 0.7 MB
# zipped GeoJSON of repeated points expanded to 2 million features, 26 s and 1.9 GB of memory.)
ZIP_RATIO_LIMIT = 100
ZIP_RATIO_MIN_BYTES = 16 << 20
MAX_UNZIPPED_BYTES = 4 << 30
_SHP_HEADER_BYTES = 100
_PYOGRIO_ERRORS = (
    pyogrio.errors.DataSourceError,
    pyogrio.errors.DataLayerError,
    pyogrio.errors.FieldError,
    pyogrio.errors.GeometryError,
    pyogrio.errors.CRSError,
    pyogrio.errors.FeatureError,
)

WARNINGS_ATTR = "gis_warnings"  # GeoDataFrame.attrs key holding reader warnings (list of str)
FORMAT_ATTR = "gis_format"

# How a user picks one layer of a file (named for the CLI and the API, where --layer / layer is the park layer).
CHOOSE_LAYER = "--source-layer NAME (source_layer in the API)"


def _check_shp_header(header: bytes, actual_size: int, name: str) -> None:
    """A .shp states its own length: a shorter file was cut off, and GDAL would silently read null geometries."""
    if len(header) < _SHP_HEADER_BYTES or struct.unpack(">i", header[:4])[0] != _SHP_FILE_CODE:
        raise GisError(f"{name} is not a valid shapefile (.shp header missing or damaged); export it again.")
    declared_size = struct.unpack(">i", header[24:28])[0] * 2  # length is counted in 16-bit words
    if actual_size < declared_size:
        raise GisError(
            f"{name} is truncated: its header says {declared_size} bytes but the file has {actual_size}. "
            "Copy or download the shapefile again (all of .shp, .shx, .dbf, .prj)."
        )


def _check_shp_companions(shp_name: str, names: list[str]) -> list[str]:
    """A .shp needs its .shx (index); without a .dbf the attributes are lost (a warning). `names` are sibling files."""
    stem = shp_name[: -len(".shp")].lower()
    present = {n.lower() for n in names}
    if f"{stem}.shx" not in present:
        raise GisError(
            f"{Path(shp_name).name} came without its .shx index file; upload the .shp together with its .shx, .dbf "
            "and .prj (or zip them into one .zip)."
        )
    if f"{stem}.dbf" not in present:
        return [f"{Path(shp_name).name} came without its .dbf, so its features have no attributes."]
    return []


def _check_zip_sizes(path: Path, archive: zipfile.ZipFile) -> None:
    """Refuse a zip whose members expand beyond MAX_UNZIPPED_BYTES, or by a ratio only a zip bomb has."""
    members = [info for info in archive.infolist() if not info.is_dir()]
    total = sum(info.file_size for info in members)
    if total > MAX_UNZIPPED_BYTES:
        raise GisError(f"{path.name} expands to {total:,} bytes, above the limit of {MAX_UNZIPPED_BYTES:,}; split the data into smaller files.")
    for info in members:
        if info.file_size > ZIP_RATIO_MIN_BYTES and info.file_size > ZIP_RATIO_LIMIT * max(info.compress_size, 1):
            raise GisError(f"{path.name} looks like a zip bomb: {info.filename} expands from {info.compress_size:,} to "
                           f"{info.file_size:,} bytes (more than {ZIP_RATIO_LIMIT}x); it was not read.")


def _zip_member(path: Path, layer: str | None) -> tuple[str, list[str]]:
    """The /vsizip/ path of the one vector file inside a zip (`layer` picks a shapefile by stem if there are several)."""
    try:
        with zipfile.ZipFile(path) as archive:
            _check_zip_sizes(path, archive)
            names = [n for n in archive.namelist() if not n.startswith("__MACOSX/") and not n.endswith("/")]
            shapefiles = [n for n in names if n.lower().endswith(".shp")]
            candidates = shapefiles or [n for n in names if n.lower().endswith(_ZIPPED_VECTOR_SUFFIXES)]
            if layer is not None and len(candidates) > 1:
                chosen = [n for n in candidates if Path(n).stem == layer]
                if not chosen:
                    raise GisError(f"{path.name} holds no vector file named {layer!r}; it holds: {', '.join(Path(n).stem for n in candidates)}.")
                candidates = chosen
            if not candidates:
                raise UnsupportedFormat(
                    f"{path.name} holds no shapefile (.shp) or other vector file; zip the .shp with its .shx, .dbf and .prj."
                )
            if len(candidates) > 1:
                listed = ", ".join(Path(n).stem for n in candidates)
                raise GisError(f"{path.name} holds several vector files ({listed}); choose one with {CHOOSE_LAYER}.")
            member = candidates[0]
            companion_warnings: list[str] = []
            if member.lower().endswith(".shp"):
                companion_warnings = _check_shp_companions(member, names)
                info = archive.getinfo(member)
                with archive.open(member) as handle:
                    _check_shp_header(handle.read(_SHP_HEADER_BYTES), info.file_size, member)
    except zipfile.BadZipFile:
        raise GisError(f"{path.name} is not a readable zip archive (truncated or corrupt); zip the files again.") from None
    return f"/vsizip/{path.resolve()}/{member}", companion_warnings


def _short_reason(exc: Exception) -> str:
    """GDAL's message without the path noise, first sentence only."""
    text = str(exc).split("; It might help")[0].strip()
    if "failed: " in text:  # SQLite errors quote the failing SQL first; the cause comes after it
        text = text.rsplit("failed: ", 1)[1]
    return text.rstrip(".")


def _read_with_gdal(source: str, name: str, format_name: str, layer: str | None) -> gpd.GeoDataFrame:
    """pyogrio read that turns every GDAL failure into a GisError saying what to do."""
    warnings: list[str] = []
    try:
        layers = [str(row[0]) for row in pyogrio.list_layers(source)]
        if layer is not None and layer not in layers:
            raise GisError(f"{name} has no layer {layer!r}; its layers are: {', '.join(layers)}.")
        if layer is None and len(layers) > 1:
            layer = layers[0]
            warnings.append(f"{name} has {len(layers)} layers ({', '.join(layers)}); read the first, {layer!r}. Choose another with {CHOOSE_LAYER}.")
        frame = pyogrio.read_dataframe(source, layer=layer, use_arrow=True)  # through Arrow: twice as fast on large files
    except _PYOGRIO_ERRORS as exc:
        raise GisError(
            f"Could not read {name} as {format_name}: {_short_reason(exc)}. The file may be truncated or not really "
            f"{format_name}: export it again (supported: {SUPPORTED_FORMATS})."
        ) from None
    frame.attrs[WARNINGS_ATTR] = warnings
    return frame


def _format_of(path: Path) -> str:
    lower = path.name.lower()
    if lower.endswith((".city.json", ".cityjson")):
        return "CityJSON"
    if lower.endswith((".geojson", ".json")):
        return "CityJSON" if looks_like_cityjson(path) else "GeoJSON"
    if lower.endswith(".gpkg"):
        return "GeoPackage"
    if lower.endswith(".shp"):
        return "Shapefile"
    if lower.endswith(".zip"):
        return "zipped Shapefile"
    raise UnsupportedFormat(f"{path.name}: unsupported file type; use {SUPPORTED_FORMATS}.")


def read_vector(path: Path, *, layer: str | None = None) -> tuple[gpd.GeoDataFrame, str | None]:
    """Features of a vector file in the file's own CRS, and that CRS as declared ("EPSG:4544", WKT) or None if undeclared."""
    path = Path(path)
    if not path.is_file():
        raise GisError(f"File not found: {path}.")
    if path.stat().st_size == 0:
        raise EmptyInput(f"{path.name} is empty (0 bytes); upload the file again.")
    format_name = _format_of(path)
    fast = read_geojson_fast(path) if format_name == "GeoJSON" else None
    if format_name == "CityJSON":
        frame, declared = read_cityjson(path)
    elif fast is not None:
        frame, declared = fast
    else:
        source, companion_warnings = str(path), []
        if format_name == "Shapefile":
            siblings = [path.with_suffix(suffix) for suffix in (".shx", ".SHX", ".dbf", ".DBF")]
            companion_warnings = _check_shp_companions(str(path), [str(p) for p in siblings if p.exists()])
            with path.open("rb") as handle:
                _check_shp_header(handle.read(_SHP_HEADER_BYTES), path.stat().st_size, path.name)
        elif format_name == "zipped Shapefile":
            source, companion_warnings = _zip_member(path, layer)
            layer = None  # one file in the zip: its single layer
        frame = _read_with_gdal(source, path.name, format_name, layer)
        frame.attrs[WARNINGS_ATTR] = companion_warnings + frame.attrs[WARNINGS_ATTR]
        declared = crs_label(frame.crs) if frame.crs is not None else None
    frame.attrs.setdefault(WARNINGS_ATTR, [])
    frame.attrs[FORMAT_ATTR] = format_name
    if len(frame) == 0:
        raise EmptyInput(f"{path.name} holds no features; export the layer that contains your geometry.")
    return frame, declared
