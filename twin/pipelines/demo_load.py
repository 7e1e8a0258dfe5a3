"""Load the bundled demo park (data/demo) into PostGIS; idempotent: a second load changes nothing."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point, shape
from sqlalchemy import func, or_, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from gis.heights import parse_height
from twin.access.roles import Role
from twin.access.tokens import create_user
from twin.db.models import Asset, Enterprise, Feature, ImportRecord, Layer, Park, User
from twin.errors import InvalidInput
from twin.integration.alarms.demo import seed_demo_rules
from twin.integration.sta.seed import seed_demo_datastreams

Progress = Callable[[str, int, int], None]
OWN_FEATURE_KEYS = {"id", "kind", "name", "name_en", "parent", "base_height", "height", "storeys"}
OWN_ASSET_KEYS = {"id", "kind", "name", "name_en", "feature"}


@dataclass
class DemoLoadReport:
    park: str
    layers: int = 0
    features: int = 0
    assets: int = 0
    enterprises: int = 0
    removed: int = 0
    models: list[dict[str, Any]] = field(default_factory=list)


def read_manifest(demo_dir: Path) -> dict[str, Any]:
    """park.json of the demo folder, or InvalidInput if it is missing or malformed."""
    path = demo_dir / "park.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"demo park manifest not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path} is not valid JSON: {exc}") from None


def load_demo(session: Session, *, demo_dir: Path, storey_height: float = 3.0, default_height: float = 10.0, demo_password: str = "parktwin-demo", progress: Progress | None = None) -> DemoLoadReport:
    """Upsert the park, its layers, features (with parents), assets and enterprises from demo_dir."""
    manifest = read_manifest(demo_dir)
    park = _upsert_park(session, manifest)
    report = DemoLoadReport(park=park.slug)
    codes_by_layer: dict[int, set[str]] = {}
    parents: list[tuple[str, str]] = []
    layers = manifest.get("layers", [])
    for index, spec in enumerate(layers):
        if progress:
            progress(f"layer {spec['slug']}", index, len(layers))
        layer = _upsert_layer(session, park, spec, manifest.get("source_crs", "EPSG:4326"))
        rows = [_feature_row(f, park, layer, storey_height, default_height) for f in _read_geojson(demo_dir / spec["file"])]
        _upsert(session, Feature, rows)
        codes_by_layer[layer.id] = {r["code"] for r in rows}
        parents += [(r["code"], r["_parent"]) for r in rows if r["_parent"]]
        report.layers += 1
        report.features += len(rows)
    report.removed = _remove_stale(session, park, codes_by_layer)
    _link_parents(session, park, parents)
    ids = dict(session.execute(select(Feature.code, Feature.id).where(Feature.park_id == park.id)).all())
    if manifest.get("assets"):
        if progress:
            progress("assets", len(layers), len(layers) + 1)
        rows = [_asset_row(f, park, ids) for f in _read_geojson(demo_dir / manifest["assets"])]
        _upsert(session, Asset, rows)
        report.assets = len(rows)
    if manifest.get("enterprises"):
        rows = [_enterprise_row(r, park, ids) for r in _read_csv(demo_dir / manifest["enterprises"])]
        _upsert(session, Enterprise, rows)
        report.enterprises = len(rows)
    ensure_demo_users(session, park=park, password=demo_password)
    seed_demo_datastreams(session, park)  # SensorThings Sensors/ObservedProperties/Datastreams of the demo devices
    seed_demo_rules(session, park=park)  # alarm rules (PM2.5, noise, pH, elevator fault, meter offline, GF-01); skipped without the alarm tables
    session.add(ImportRecord(park_id=park.id, source_kind="demo", source_name=str(demo_dir), source_crs=manifest.get("source_crs"), report=report.__dict__))
    if progress:
        progress("done", len(layers) + 1, len(layers) + 1)
    return report


DEMO_USERS = (("admin", Role.admin, False), ("planner", Role.planner, True), ("integrator", Role.integrator, True), ("viewer", Role.viewer, True))


def ensure_demo_users(session: Session, *, park: Park, password: str) -> None:
    """One user per role for the demo (admin for every park, the others for this park); kept if present."""
    existing = set(session.scalars(select(User.username)))
    for username, role, scoped in DEMO_USERS:
        if username not in existing:
            create_user(session, username=username, password=password, role=role, park_id=park.id if scoped else None)


def _read_geojson(path: Path) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read demo layer {path}: {exc}") from None
    return data.get("features", [])


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def _upsert_park(session: Session, manifest: dict[str, Any]) -> Park:
    values = {
        "slug": manifest["slug"], "name": manifest["name"], "name_en": manifest.get("name_en"),
        "city": manifest.get("city"), "ground_elevation_m": float(manifest.get("ground_elevation_m", 0.0)),
        "properties": manifest.get("properties", {}),
        "center": from_shape(Point(*manifest["center"]), srid=4326) if manifest.get("center") else None,
    }
    stmt = insert(Park).values(values)
    session.execute(stmt.on_conflict_do_update(index_elements=["slug"], set_={k: stmt.excluded[k] for k in values if k != "slug"}))
    return session.scalars(select(Park).where(Park.slug == manifest["slug"])).one()


def _upsert_layer(session: Session, park: Park, spec: dict[str, Any], source_crs: str) -> Layer:
    values = {
        "park_id": park.id, "slug": spec["slug"], "name": spec["name"], "name_en": spec.get("name_en"),
        "category": spec.get("category", "other"), "source_name": spec["file"], "source_crs": source_crs,
    }
    stmt = insert(Layer).values(values)
    session.execute(stmt.on_conflict_do_update(constraint="uq_layers_park_id_slug", set_={k: stmt.excluded[k] for k in values if k not in ("park_id", "slug")}))
    return session.scalars(select(Layer).where(Layer.park_id == park.id, Layer.slug == spec["slug"])).one()


def _heights(props: dict[str, Any], storey_height: float, default_height: float) -> tuple[float | None, str | None, int | None]:
    storeys = int(props["storeys"]) if props.get("storeys") not in (None, "") else None
    height = parse_height(props.get("height"))
    if height is not None:
        return height, "attribute:height", storeys
    if storeys:
        return storeys * storey_height, "storeys", storeys
    if props.get("kind") == "building":
        return default_height, "default", None
    return None, None, None


def _feature_row(feature: dict[str, Any], park: Park, layer: Layer, storey_height: float, default_height: float) -> dict[str, Any]:
    props = dict(feature.get("properties") or {})
    if not props.get("id") or not props.get("kind"):
        raise InvalidInput(f"demo feature without id or kind in layer {layer.slug}: {props}")
    top, source, storeys = _heights(props, storey_height, default_height)
    geom = shape(feature["geometry"])
    return {
        "park_id": park.id, "layer_id": layer.id, "code": props["id"], "kind": props["kind"],
        "name": props.get("name"), "name_en": props.get("name_en"),
        "geom": from_shape(geom if geom.has_z is False else _drop_z(geom), srid=4326),
        "base_height": float(props.get("base_height") or 0.0), "top_height": top,
        "height_source": source, "storeys": storeys,
        "properties": {k: v for k, v in props.items() if k not in OWN_FEATURE_KEYS},
        "_parent": props.get("parent"),
    }


def _drop_z(geom: Any) -> Any:
    from shapely import force_2d

    return force_2d(geom)


def _asset_row(feature: dict[str, Any], park: Park, ids: dict[str, int]) -> dict[str, Any]:
    props = dict(feature.get("properties") or {})
    coords = feature["geometry"]["coordinates"]
    bound = props.get("feature")
    if bound and bound != park.slug and bound not in ids:
        raise InvalidInput(f"asset {props.get('id')} is bound to unknown feature '{bound}'")
    return {
        "park_id": park.id, "code": props["id"], "kind": props["kind"], "name": props.get("name") or props["id"],
        "name_en": props.get("name_en"), "feature_id": ids.get(bound) if bound else None,
        "geom": from_shape(Point(coords[0], coords[1]), srid=4326),
        "height": float(coords[2]) if len(coords) > 2 else 0.0,
        "properties": {k: v for k, v in props.items() if k not in OWN_ASSET_KEYS},
    }


def _enterprise_row(row: dict[str, str], park: Park, ids: dict[str, int]) -> dict[str, Any]:
    props = {k: _csv_value(v) for k, v in row.items() if k not in ("id", "name", "name_en", "building")}
    return {
        "park_id": park.id, "code": row["id"], "name": row["name"], "name_en": row.get("name_en") or None,
        "building_id": ids.get(row.get("building") or ""), "properties": props,
    }


def _csv_value(text: str | None) -> Any:
    """CSV cells to JSON values: true/false → bool, integers → int, empty → None."""
    if text is None or text.strip() == "":
        return None
    lowered = text.strip().lower()
    if lowered in ("true", "false", "yes", "no", "是", "否"):
        return lowered in ("true", "yes", "是")
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _upsert(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    clean = [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]
    table = model.__table__
    stmt = insert(table)
    update = {c: stmt.excluded[c] for c in clean[0] if c not in ("park_id", "code")}
    # Touch only rows whose values changed, so an unchanged reload keeps updated_at (and the tiles).
    changed = or_(*(table.c[c].is_distinct_from(stmt.excluded[c]) for c in update))
    update["updated_at"] = func.now()
    constraint = f"uq_{table.name}_park_id_code"
    for start in range(0, len(clean), 2000):
        session.execute(stmt.on_conflict_do_update(constraint=constraint, set_=update, where=changed), clean[start : start + 2000])


def _remove_stale(session: Session, park: Park, codes_by_layer: dict[int, set[str]]) -> int:
    """Delete features of the demo layers that the files no longer contain (the user edited them)."""
    removed = 0
    for layer_id, codes in codes_by_layer.items():
        stale = session.scalars(select(Feature).where(Feature.layer_id == layer_id, Feature.code.not_in(codes) if codes else true())).all()
        for feature in stale:
            session.delete(feature)
        removed += len(stale)
    session.flush()
    return removed


def _link_parents(session: Session, park: Park, parents: list[tuple[str, str]]) -> None:
    ids = dict(session.execute(select(Feature.code, Feature.id).where(Feature.park_id == park.id)).all())
    missing = sorted({p for _, p in parents if p not in ids and p != park.slug})
    if missing:
        raise InvalidInput(f"demo features name unknown parents: {', '.join(missing[:10])}")
    for code, parent in parents:
        if parent in ids:
            session.execute(Feature.__table__.update().where(Feature.id == ids[code]).values(parent_id=ids[parent]))
