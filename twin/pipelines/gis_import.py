"""Import a GIS file into a park layer in PostGIS (replacing the layer's previous contents)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis.errors import GisError
from gis.load import load_vector
from twin.db.models import Feature, ImportRecord, Layer, Park
from twin.errors import InvalidInput

# Which layer category a file's dominant feature kind suggests (the page groups layers by category).
CATEGORY_BY_KIND = {
    "building": "buildings", "road": "roads", "parking_lot": "parking", "parking_space": "parking",
    "green": "green", "water": "water", "zone": "zones", "key_location": "key_locations",
}
COPY_COLUMNS = ("park_id", "layer_id", "code", "kind", "name", "geom", "base_height", "top_height", "height_source", "storeys", "properties")


@dataclass
class GisImportResult:
    report: dict[str, Any]
    layers: dict[str, int] = field(default_factory=dict)  # layer slug -> features stored


def import_gis(
    session: Session, *, park: Park, path: Path, layer: str, layer_name: str | None = None, crs: str | None = None,
    height_attr: str | None = None, levels_attr: str | None = None, storey_height: float = 3.0,
    default_height: float = 10.0, source_name: str | None = None, progress: Callable[[str], None] | None = None,
) -> GisImportResult:
    """Load a file with gis.load_vector and store it: the file's main geometry family in `layer`,
    other families (a mixed export's lines or points) in `<layer>-lines` / `<layer>-points`."""
    try:
        loaded = load_vector(path, crs=crs, height_attr=height_attr, levels_attr=levels_attr, storey_height=storey_height, default_height=default_height, progress=progress)
    except GisError as exc:
        raise InvalidInput(str(exc)) from None
    frame, report = loaded.features, loaded.report
    if len(frame) == 0:
        raise InvalidInput(f"nothing to import: all {report.rows_read} rows were dropped ({report.dropped} invalid)")
    families = frame["family"].value_counts()
    main_family = str(families.index[0])
    result = GisImportResult(report=report.to_dict())
    for family in families.index:
        part = frame[frame["family"] == family]
        slug = layer if family == main_family else f"{layer}-{family}s"
        target = _replace_layer(session, park=park, slug=slug, name=layer_name or slug, kinds=part["kind"], source=source_name or path.name, source_crs=report.source_crs)
        if progress:
            progress(f"storing {len(part)} {family} features in layer {slug}")
        _copy_features(session, park=park, layer=target, frame=part)
        result.layers[slug] = len(part)
    record = ImportRecord(park_id=park.id, layer_id=None, source_kind="gis", source_name=source_name or path.name,
                          source_crs=report.source_crs, report={**result.report, "layers": result.layers})
    session.add(record)
    session.flush()
    return result


def _replace_layer(session: Session, *, park: Park, slug: str, name: str, kinds: Any, source: str, source_crs: str) -> Layer:
    dominant = str(kinds.value_counts().index[0]) if len(kinds) else "other"
    values = {"park_id": park.id, "slug": slug, "name": name, "name_en": name, "category": CATEGORY_BY_KIND.get(dominant, "other"),
              "source_name": source, "source_crs": source_crs}
    stmt = insert(Layer).values(values)
    session.execute(stmt.on_conflict_do_update(constraint="uq_layers_park_id_slug", set_={k: stmt.excluded[k] for k in ("name", "category", "source_name", "source_crs")}))
    target = session.scalars(select(Layer).where(Layer.park_id == park.id, Layer.slug == slug)).one()
    session.execute(delete(Feature).where(Feature.layer_id == target.id))
    return target


def _copy_features(session: Session, *, park: Park, layer: Layer, frame: Any) -> None:
    """COPY the rows in one stream: an order of magnitude faster than INSERTs for large files."""
    ewkb = shapely.to_wkb(shapely.set_srid(np.asarray(frame.geometry.values, dtype=object), 4326), hex=True, include_srid=True)
    raw = session.connection().connection.driver_connection
    columns = ", ".join(COPY_COLUMNS)
    seen: dict[str, int] = {}
    with raw.cursor() as cursor, cursor.copy(f"COPY features ({columns}) FROM STDIN") as copy:
        for i, row in enumerate(frame.itertuples(index=False)):
            code = f"{layer.slug}:{row.source_id}"
            seen[code] = seen.get(code, 0) + 1
            if seen[code] > 1:  # a source id repeated in the file: keep every row, tell them apart
                code = f"{code}#{seen[code]}"
            copy.write_row((
                park.id, layer.id, code, row.kind, row.name, ewkb[i],
                _number(row.base_height) or 0.0, _number(row.top_height), row.height_source, _int(row.storeys),
                orjson.dumps(row.properties or {}).decode(),
            ))


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and not np.isfinite(value)) else float(value)


def _int(value: Any) -> int | None:
    number = _number(value)
    return None if number is None else int(round(number))
