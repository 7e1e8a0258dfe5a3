"""Bulk import of assets from CSV or GeoJSON, with a report line per row.

Valid rows are applied and invalid ones reported (a typo in row 812 should not block 811 good
devices); `atomic=True` applies nothing unless every row is valid; `dry_run=True` never writes.
Every row is validated before anything is written, so the apply step is one bulk upsert.

CSV: columns id (or code), kind, name, name_en, lon, lat, height, feature, then one column per
kind attribute (lists as JSON `["a","b"]` or `a|b`); UTF-8 or GB18030 (Excel). An empty feature
cell binds the asset to the smallest feature containing its position. GeoJSON: Point features
(height as the third coordinate); what the API's GeoJSON listing exports imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

from pydantic import ValidationError
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from twin.db.models import Asset, ImportRecord, Park
from twin.errors import Conflict, InvalidInput, TwinError
from twin.integration.sta.observations import follow_asset_positions
from twin.integration.assets import kinds
from twin.integration.assets.binding import Binder
from twin.integration.assets.registry import existing_codes, row_values, validation_message
from twin.integration.assets.spec import AssetSpec

ImportMode = Literal["upsert", "create"]
RowStatus = Literal["created", "updated", "error"]
Progress = Callable[[int, int], None]
# CSV columns that are the asset's own fields; every other column is a kind attribute.
OWN_COLUMNS = {"id": "code", "code": "code", "kind": "kind", "name": "name", "name_en": "name_en",
               "lon": "lon", "lat": "lat", "height": "height", "feature": "feature"}
UPSERT_CHUNK = 2000


@dataclass(slots=True)
class RowReport:
    """The outcome of one row: `row` is the CSV line (header = 1) or the GeoJSON feature's number."""

    row: int
    code: str | None
    status: RowStatus
    message: str = ""


@dataclass(slots=True)
class ImportReport:
    """What an import did (or, when `applied` is false, would do): counts and one line per row."""

    park: str
    source: str
    mode: ImportMode
    dry_run: bool
    atomic: bool
    applied: bool = False
    created: int = 0
    updated: int = 0
    errors: int = 0
    rows: list[RowReport] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        # By hand: dataclasses.asdict deep-copies every value, slow for 100,000-row reports.
        summary = {name: getattr(self, name) for name in ("park", "source", "mode", "dry_run", "atomic", "applied", "created", "updated", "errors")}
        return {**summary, "rows": [{"row": r.row, "code": r.code, "status": r.status, "message": r.message} for r in self.rows]}


def import_assets(
    session: Session, *, park: Park, content: bytes, filename: str, mode: ImportMode = "upsert",
    dry_run: bool = False, atomic: bool = False, progress: Progress | None = None,
) -> ImportReport:
    """Validate every row of a CSV/GeoJSON asset file, then upsert (or create) the valid ones."""
    if mode not in ("upsert", "create"):
        raise InvalidInput(f"unknown import mode '{mode}'; use 'upsert' or 'create'")
    records = list(read_records(content, filename=filename, park_slug=park.slug))
    report = ImportReport(park=park.slug, source=filename, mode=mode, dry_run=dry_run, atomic=atomic)
    binder = Binder(session, park=park, preload=True)
    binder.prefetch([p for _, r in records if (p := _unbound_position(r)) is not None])
    existing = existing_codes(session, park=park, codes=[str(r.get("code")) for _, r in records if r.get("code")])
    first_row: dict[str, int] = {}
    planned: list[dict[str, Any]] = []
    for done, (row, record) in enumerate(records, start=1):
        code = str(record["code"]) if record.get("code") not in (None, "") else None
        try:
            spec = _spec(record)
            if spec.code in first_row:
                raise Conflict(f"duplicate code '{spec.code}' in the file (first on row {first_row[spec.code]})")
            first_row[spec.code] = row
            if mode == "create" and spec.code in existing:
                raise Conflict(f"asset '{spec.code}' already exists (import with mode=upsert to update it)")
            planned.append(row_values(park, spec, binder=binder))
            status: RowStatus = "updated" if spec.code in existing else "created"
            report.rows.append(RowReport(row=row, code=spec.code, status=status))
        except TwinError as exc:
            report.rows.append(RowReport(row=row, code=code, status="error", message=exc.message))
        if progress:
            progress(done, len(records))
    report.created = sum(1 for r in report.rows if r.status == "created")
    report.updated = sum(1 for r in report.rows if r.status == "updated")
    report.errors = sum(1 for r in report.rows if r.status == "error")
    report.applied = not dry_run and not (atomic and report.errors) and bool(planned)
    if report.applied:
        _upsert(session, planned)
        summary = {k: v for k, v in report.as_dict().items() if k != "rows"}
        session.add(ImportRecord(park_id=park.id, source_kind="assets", source_name=filename, source_crs="EPSG:4326", report=summary))
        session.flush()
    return report


def _unbound_position(record: dict[str, Any]) -> tuple[float, float, float] | None:
    """(lon, lat, height) of a record that names no feature, as AssetSpec will parse it; None if not numeric."""
    if record.get("feature") not in (None, ""):
        return None
    try:
        height = record.get("height")
        return float(record["lon"]), float(record["lat"]), float(height) if height not in (None, "") else 0.0
    except (KeyError, TypeError, ValueError):
        return None


def read_records(content: bytes, *, filename: str, park_slug: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number, record) pairs from CSV or GeoJSON bytes; InvalidInput if the file is unreadable."""
    suffix = PurePath(filename).suffix.lower()
    looks_json = content.lstrip()[:1] in (b"{", b"[")
    if suffix in (".geojson", ".json") or (suffix != ".csv" and looks_json):
        return _geojson_records(content, filename, park_slug)
    return _csv_records(content, filename)


def _spec(record: dict[str, Any]) -> AssetSpec:
    """A record → AssetSpec with its attributes typed for the kind; InvalidInput saying which field."""
    if record.get("problem"):
        raise InvalidInput(record["problem"])
    kind = record.get("kind")
    if not kind:
        raise InvalidInput("kind: missing")
    model = kinds.get(str(kind)).attributes
    attributes = {k: _typed_cell(v, model.model_fields.get(k)) for k, v in record.get("attributes", {}).items()}
    for required in ("lon", "lat"):
        if record.get(required) in (None, ""):
            raise InvalidInput(f"{required}: missing (the position is required)")
    try:
        return AssetSpec.model_validate({**{k: v for k, v in record.items() if v not in (None, "")}, "attributes": attributes})
    except ValidationError as exc:
        raise InvalidInput(validation_message(exc)) from None


def _typed_cell(value: Any, known: Any) -> Any:
    """A CSV cell as the value its attribute wants: lists as JSON or `a|b|c`; extras as JSON scalars."""
    if not isinstance(value, str):
        return value  # GeoJSON values are typed already
    text = value.strip()
    wants_list = known is not None and "list" in str(known.annotation)
    if text[:1] in ("[", "{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    if wants_list:
        return [part.strip() for part in text.split("|") if part.strip()]
    if known is not None:
        return text  # pydantic coerces "90" → 90.0, "true" → True for known fields
    try:  # an extra column: keep numbers and booleans typed, anything else as text
        parsed = json.loads(text)
        return parsed if isinstance(parsed, (int, float, bool)) else text
    except json.JSONDecodeError:
        return text


def _decode(content: bytes, filename: str) -> str:
    # Excel in China saves CSV as GB18030 unless told otherwise; UTF-8 (with or without BOM) first.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(f"{filename}: not UTF-8 or GB18030 text")


def _csv_records(content: bytes, filename: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(_decode(content, filename), newline=""))
    columns = [c.strip() for c in (reader.fieldnames or [])]
    if "kind" not in columns or not ({"id", "code"} & set(columns)):
        raise InvalidInput(f"{filename}: a CSV needs at least the columns id (or code), kind, lon, lat; found {', '.join(columns) or 'none'}")
    reader.fieldnames = columns
    records = []
    for cells in reader:
        record: dict[str, Any] = {"attributes": {}}
        for column, value in cells.items():
            if column is None:  # more cells than header columns
                continue
            own = OWN_COLUMNS.get(column)
            if own:
                record[own] = value
            elif value not in (None, ""):
                record["attributes"][column] = value
        records.append((reader.line_num, record))
    return iter(records)


def _geojson_records(content: bytes, filename: str, park_slug: str) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        data = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{filename}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("type") not in ("FeatureCollection", "Feature"):
        raise InvalidInput(f"{filename}: expected a GeoJSON FeatureCollection")
    features = data.get("features", []) if data["type"] == "FeatureCollection" else [data]
    return iter([(number, _feature_record(f, park_slug)) for number, f in enumerate(features, start=1)])


def _feature_record(feature: Any, park_slug: str) -> dict[str, Any]:
    """A GeoJSON Feature → record; a non-point geometry is noted as the record's `problem`."""
    feature = feature if isinstance(feature, dict) else {}
    props = dict(feature["properties"]) if isinstance(feature.get("properties"), dict) else {}
    # Our own GeoJSON export carries both `id` and `code` (and `height`): accept it back unchanged.
    own_id, own_code = props.pop("id", None), props.pop("code", None)
    code = next((c for c in (own_id, own_code, feature.get("id")) if c not in (None, "")), None)
    record: dict[str, Any] = {"code": str(code) if code is not None else None}  # numeric ids are codes too
    for key in ("kind", "name", "name_en"):
        record[key] = props.pop(key, None)
    # An explicit `"feature": null` is how the GeoJSON listing says "bound to the park itself";
    # only a missing key asks for automatic binding.
    record["feature"] = (props.pop("feature") or park_slug) if "feature" in props else None
    geometry = feature.get("geometry")
    if isinstance(geometry, dict) and geometry.get("type") == "Point" and len(geometry.get("coordinates") or []) >= 2:
        coordinates = geometry["coordinates"]
        record["lon"], record["lat"] = coordinates[0], coordinates[1]
        record["height"] = coordinates[2] if len(coordinates) > 2 else props.get("height", 0.0)
    elif geometry is not None:
        shown = geometry.get("type") if isinstance(geometry, dict) else repr(geometry)
        record["problem"] = f"geometry: must be a Point (lon, lat[, height]), got {shown}"
    props.pop("height", None)
    record["attributes"] = props
    return record


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert new assets and overwrite existing ones (same park and code) in bulk."""
    stmt = insert(Asset.__table__)
    update = {c: stmt.excluded[c] for c in rows[0] if c not in ("park_id", "code")}
    update["updated_at"] = func.now()
    upsert = stmt.on_conflict_do_update(constraint="uq_assets_park_id_code", set_=update)
    # Core execution (the ORM's bulk mode would regroup rows by which values are None); RETURNING
    # lets SQLAlchemy send multi-row INSERTs ("insertmanyvalues") instead of one statement per row.
    connection = session.connection()
    ids: list[int] = []
    for start in range(0, len(rows), UPSERT_CHUNK):
        ids += connection.execute(upsert.returning(Asset.id), rows[start : start + UPSERT_CHUNK]).scalars().all()
    session.flush()
    follow_asset_positions(session, asset_ids=ids)
