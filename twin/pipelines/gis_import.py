"""Import a GIS file into a park layer in PostGIS (a new layer, or merged by feature code into an existing one)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import exists, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis.errors import GisError
from gis.clean import ranked_families
from gis.load import open_vector
from twin.db.models import Feature, ImportRecord, Layer, Park
from twin.jobs.handlers import Progress
from twin.pipelines.bulk import gc_paused
from twin.pipelines.tiles_build import build_buildings
from twin.settings import Settings
from twin.errors import InvalidInput

# Which layer category a file's dominant feature kind suggests (the page groups layers by category).
CATEGORY_BY_KIND = {
    "building": "buildings", "road": "roads", "parking_lot": "parking", "parking_space": "parking",
    "green": "green", "water": "water", "zone": "zones", "key_location": "key_locations",
}
COPY_COLUMNS = ("park_id", "layer_id", "code", "kind", "name", "geom", "base_height", "top_height", "height_source", "storeys", "properties")
_COLUMN_LIST = ", ".join(COPY_COLUMNS)
# What an import is doing (reading, checking, storing) and the share of the file's rows stored (None before the first).
GisProgress = Callable[[str, float | None], None]
IMPORT_SHARE = 0.7  # of the whole: reading and storing; the building tiles take the rest


@dataclass
class GisImportResult:
    report: dict[str, Any]  # the file's ImportReport, plus "changes" (see Changes)
    layers: dict[str, int] = field(default_factory=dict)  # layer slug -> features stored


@dataclass
class Changes:
    """What an import did to the layers' features, by code (`<layer>:<source id>`). A feature whose code comes
    again keeps its id, so whatever points at it (assets, enterprises, BIM models, alarm rules, child storeys)
    stays bound; it is only written if something in it changed."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0


@gc_paused()
def import_gis(
    session: Session, *, park: Park, path: Path, layer: str, layer_name: str | None = None, source_layer: str | None = None,
    crs: str | None = None, height_attr: str | None = None, levels_attr: str | None = None, storey_height: float = 3.0,
    default_height: float = 10.0, source_name: str | None = None, progress: GisProgress | None = None,
) -> GisImportResult:
    """Load a file (its layer `source_layer` if it has several) with gis.open_vector and store it: the file's main geometry family in `layer`,
    other families (a mixed export's lines or points) in `<layer>-lines` / `<layer>-points`.

    The file is read and checked whole, then stored chunk by chunk in one COPY: the database
    indexes one chunk while the next is cleaned (on 2 cores this halves the time of a large file).
    The layers are chosen before the first row goes out, from the geometry types as read; in the rare
    file where cleaning changes which family is the main one, the COPY is undone and done again.
    Into layers that already hold features, the rows go to a staging table and are merged by code
    (see Changes), so a re-import keeps what is bound to the features it still has.
    """
    source = source_name or path.name
    try:
        stream = open_vector(path, layer=source_layer, crs=crs, height_attr=height_attr, levels_attr=levels_attr, storey_height=storey_height,
                             default_height=default_height, progress=(lambda message: progress(message, None)) if progress else None)
        chunks: list[Any] = []

        def kept() -> Iterator[Any]:  # the chunks as they come, kept in case the COPY must be redone
            for chunk in stream:
                chunks.append(chunk)
                yield chunk

        savepoint = session.begin_nested()
        planned = _layer_slugs(stream.expected_families, layer)
        stored, changes = _store(session, park=park, slugs=planned, chunks=kept(), name=layer_name, source=source, source_crs=stream.source_crs, progress=progress, rows=stream.rows_read)
    except GisError as exc:
        raise InvalidInput(str(exc)) from None
    report = stream.report
    assert report is not None
    if report.loaded == 0:
        raise InvalidInput(f"nothing to import: all {report.rows_read} rows were dropped ({report.dropped} invalid)")
    wanted = _layer_slugs(ranked_families(report.by_family), layer)
    if wanted == planned:
        savepoint.commit()
    else:
        savepoint.rollback()
        stored, changes = _store(session, park=park, slugs=wanted, chunks=chunks, name=layer_name, source=source, source_crs=stream.source_crs, progress=progress, rows=stream.rows_read)
    result = GisImportResult(report={**report.to_dict(), "changes": asdict(changes)}, layers=stored)  # every layer stored holds rows: its family is in the report
    record = ImportRecord(park_id=park.id, layer_id=None, source_kind="gis", source_name=source,
                          source_crs=report.source_crs, report={**result.report, "layers": result.layers})
    session.add(record)
    session.flush()
    return result


def import_and_tile(session: Session, *, park: Park, path: Path, settings: Settings, source_name: str, options: dict[str, Any],
                    progress: Progress | None = None) -> dict[str, Any]:
    """What a GIS upload does, in the caller's transaction: import the file, then rebuild the building tiles if it had
    buildings (unless options say build_tiles=False); the upload's response (report, layers, tiles). Used by the
    upload endpoint, its background job and `twin import gis`; `options` are import_gis's, plus build_tiles;
    progress is reported as a job reports it: phase ("import", "tiles"), fraction of the whole, message."""
    say = progress or (lambda phase, fraction, message: None)
    imported = {name: value for name, value in options.items() if name != "build_tiles"}
    result = import_gis(session, park=park, path=path, default_height=settings.default_building_height_m, source_name=source_name,
                        progress=lambda message, share: say("import", IMPORT_SHARE * (share or 0.0), message), **imported)
    tiles = None
    if options.get("build_tiles", True) and result.report.get("by_kind", {}).get("building"):
        built = build_buildings(session, park=park, progress=lambda label, done, total: say(
            "tiles", IMPORT_SHARE + (1 - IMPORT_SHARE) * done / max(total, 1), f"tile {done} of {total}"))
        tiles = {"skipped": built.skipped, "features": built.features, "version": built.tileset.version if built.tileset else None}
    return {"report": result.report, "layers": result.layers, "tiles": tiles}

def _layer_slugs(families: dict[str, int], layer: str) -> dict[str, str]:
    """Family → layer slug: the main (first) family in `layer`, the others in `<layer>-<family>s`."""
    return {family: layer if i == 0 else f"{layer}-{family}s" for i, family in enumerate(families)}


def _store(session: Session, *, park: Park, slugs: dict[str, str], chunks: Iterable[Any], name: str | None, source: str,
           source_crs: str, progress: GisProgress | None, rows: int) -> tuple[dict[str, int], Changes]:
    """COPY the chunks' features into their layers (created if new), name each layer's category after its
    dominant kind; returns the features stored per layer slug and what changed.

    New or empty layers take the rows straight into `features`; layers that hold features take them
    through a staging table and a merge by code (`_merge`).
    """
    layers = {family: _upsert_layer(session, park=park, slug=slug, name=name or slug, source=source, source_crs=source_crs)
              for family, slug in slugs.items()}
    layer_ids = [target.id for target in layers.values()]
    merging = bool(session.scalar(select(exists().where(Feature.layer_id.in_(layer_ids)))))
    kinds = {family: Counter[str]() for family in slugs}
    raw = session.connection().connection.driver_connection
    if merging:
        raw.execute(f"DROP TABLE IF EXISTS {_STAGING}")
        raw.execute(f"CREATE TEMP TABLE {_STAGING} ON COMMIT DROP AS SELECT {_COLUMN_LIST} FROM features WITH NO DATA")
    codes = _Codes()
    stored = 0
    # The queued writer sends from its own thread, so this one prepares the next chunk meanwhile.
    with raw.cursor() as cursor, cursor.copy(f"COPY {_STAGING if merging else 'features'} ({_COLUMN_LIST}) FROM STDIN (FORMAT BINARY)",
                                             writer=QueuedLibpqWriter(cursor)) as copy:
        copy.set_types(["int4", "int4", "text", "text", "text", "bytea", "float8", "float8", "text", "int4", "bytea"])
        for chunk in chunks:
            for family, part in chunk.groupby("family", sort=False):
                if family not in layers:
                    continue  # not planned: the caller sees the family in the report and stores again
                kinds[family].update(part["kind"].tolist())
                _copy_rows(copy, park=park, layer=layers[family], frame=part, codes=codes)
            stored += len(chunk)
            if progress:
                progress(f"stored {stored:,} of {rows:,} features", min(1.0, stored / max(rows, 1)))
    counts: dict[str, int] = {}
    for family, target in layers.items():
        dominant = kinds[family].most_common(1)[0][0] if kinds[family] else "other"
        target.category = CATEGORY_BY_KIND.get(dominant, "other")
        counts[target.slug] = sum(kinds[family].values())
    session.flush()
    copied = sum(counts.values())
    changes = _merge(session, park=park, layer_ids=layer_ids, staged=copied) if merging else Changes(added=copied)
    return counts, changes


# The import's rows on their way into layers that hold features (dropped when merged, or at commit).
_STAGING = "gis_import_staging"
# What a re-import rewrites in a feature it keeps: what the file says (not name_en or parent_id, which the file has not).
_MERGED = [column for column in COPY_COLUMNS if column not in ("park_id", "code")]


def _merge(session: Session, *, park: Park, layer_ids: list[int], staged: int) -> Changes:
    """The `staged` rows → the layers: insert new codes, update changed features in place, delete the codes the
    file no longer has. A code that another layer of the park already uses is an error, not a silent skip."""
    params = {"park": park.id, "layers": layer_ids}
    session.execute(text(f"ANALYZE {_STAGING}"))
    clash = session.scalars(text(
        f"SELECT s.code FROM {_STAGING} s JOIN features f ON f.park_id = s.park_id AND f.code = s.code "
        "WHERE f.park_id = :park AND NOT f.layer_id = ANY(:layers) ORDER BY s.code LIMIT 3"), params).all()
    if clash:
        raise InvalidInput(f"feature codes already used by another layer of park '{park.slug}': {', '.join(clash)}; "
                           "import into that layer or under another layer name")
    incoming = ", ".join(f"EXCLUDED.{c}" for c in _MERGED)
    written = session.scalars(text(
        f"INSERT INTO features ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM {_STAGING} "
        f"ON CONFLICT (park_id, code) DO UPDATE SET ({', '.join(_MERGED)}) = ROW({incoming}) "
        f"WHERE ({', '.join(f'features.{c}' for c in _MERGED)}) IS DISTINCT FROM ({incoming}) "
        "RETURNING xmax = 0"), params).all()  # xmax = 0: the row was inserted, not updated
    removed = session.execute(text(
        f"DELETE FROM features f WHERE f.layer_id = ANY(:layers) AND NOT EXISTS "
        f"(SELECT 1 FROM {_STAGING} s WHERE s.park_id = f.park_id AND s.code = f.code)"), params).rowcount or 0
    session.execute(text(f"DROP TABLE {_STAGING}"))
    added = sum(written)
    return Changes(added=added, updated=len(written) - added, unchanged=staged - len(written), removed=removed)


def _upsert_layer(session: Session, *, park: Park, slug: str, name: str, source: str, source_crs: str) -> Layer:
    """The park's layer `slug`, created or given this import's name and source."""
    values = {"park_id": park.id, "slug": slug, "name": name, "name_en": name, "category": "other", "source_name": source, "source_crs": source_crs}
    stmt = insert(Layer).values(values)
    session.execute(stmt.on_conflict_do_update(constraint="uq_layers_park_id_slug", set_={k: stmt.excluded[k] for k in ("name", "source_name", "source_crs")}))
    return session.scalars(select(Layer).where(Layer.park_id == park.id, Layer.slug == slug)).one()


def _copy_rows(copy: Any, *, park: Park, layer: Layer, frame: Any, codes: _Codes) -> None:
    """One chunk's rows of one layer into a binary COPY.

    Geometry goes as EWKB bytes and JSONB as its binary wire form (version byte 1 + JSON text);
    both columns are declared `bytea` to psycopg so the bytes pass through untouched to the
    server's own binary input functions (geometry_recv, jsonb_recv).
    """
    ewkb = shapely.to_wkb(shapely.set_srid(np.asarray(frame.geometry.values, dtype=object), 4326), include_srid=True)
    keys = codes.assign(layer.slug, frame["source_id"].astype(str).tolist())
    base = _nullable(frame["base_height"]).tolist()
    top = _nullable(frame["top_height"]).tolist()
    storeys = [None if v is None else int(round(v)) for v in _nullable(frame["storeys"]).tolist()]
    properties = [b"\x01" + orjson.dumps(p or {}, option=orjson.OPT_SERIALIZE_NUMPY) for p in frame["properties"]]
    kinds, names, sources = frame["kind"].tolist(), frame["name"].tolist(), frame["height_source"].tolist()
    for i in range(len(keys)):
        copy.write_row((park.id, layer.id, keys[i], kinds[i], names[i], ewkb[i], base[i] or 0.0, top[i], sources[i], storeys[i], properties[i]))


class _Codes:
    """Feature codes `<layer>:<source id>`, unique over a whole import: a source id repeated in the
    file keeps every row as `...#2`, `...#3`."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def assign(self, layer_slug: str, source_ids: list[str]) -> list[str]:
        seen, codes = self._seen, []
        for source_id in source_ids:
            code = f"{layer_slug}:{source_id}"
            seen[code] = seen.get(code, 0) + 1
            codes.append(code if seen[code] == 1 else f"{code}#{seen[code]}")
        return codes


def _nullable(column: Any) -> np.ndarray:
    """A numeric column as an object array with None for missing or non-finite values."""
    values = np.asarray(column.to_numpy(dtype=float, na_value=np.nan), dtype=float)
    out = values.astype(object)
    out[~np.isfinite(values)] = None
    return out
