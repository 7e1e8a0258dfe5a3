"""IFC upload → durable job → georeferenced 3D Tiles + every element in PostGIS, published atomically."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import shapely
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bim.convert import BimResult
from bim.isolated import convert_ifc_isolated
from bim.errors import BimError, InvalidIfc
from bim.georef import Anchor, model_to_wgs84
from bim.open import validate_ifc_upload
from tiles.enu import Origin
from tiles.sink import MemorySink
from tiles.tileset import build_tileset
from twin.db.models import BimModel, BimModelVersion, Feature, Job, Park
from twin.db.queries import jobs as job_queries
from twin.db.queries import tilesets as tileset_queries
from twin.db.session import transaction
from twin.errors import InvalidInput, NotFound, TwinError
from twin.jobs.handlers import Progress
from twin.settings import Settings

# Overall percent range of each conversion phase, for one progress bar across the job.
PHASE_SPAN = {"validate": (0, 5), "georef": (5, 8), "geometry": (8, 75), "metadata": (75, 82), "tiles": (82, 94), "publish": (94, 100)}
ABSOLUTE_HEIGHT_SOURCES = {"map_conversion", "epset_map_conversion", "site_reflatlon"}


def parse_anchor(text: str | None) -> Anchor | None:
    """'LON,LAT,HEIGHT[,ROTATION_DEG]' → Anchor (rotation: model +X anticlockwise from east), or InvalidInput."""
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise InvalidInput(f"anchor must be LON,LAT,HEIGHT[,ROTATION_DEG] numbers, got '{text}'") from None
    if len(values) not in (3, 4) or not all(np.isfinite(values)):
        raise InvalidInput("anchor must be LON,LAT,HEIGHT[,ROTATION_DEG]")
    lon, lat, height, *rotation = values
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidInput("anchor longitude/latitude out of range")
    return Anchor(lon=lon, lat=lat, height=height, rotation_deg=rotation[0] if rotation else 0.0)


def submit_ifc(session: Session, *, park: Park, upload: Path, settings: Settings, model_name: str | None = None,
               model_id: int | None = None, building: str | None = None, anchor: Anchor | None = None,
               created_by: str | None = None) -> tuple[BimModel, BimModelVersion, Job]:
    """Check the file (a bad one is refused now, and nothing is kept), store it, and queue its conversion.

    A re-upload makes a new version of an existing model: the model is named by `model_id`, or by
    `model_name` (default: the file name without extension) within the park.
    """
    try:
        validate_ifc_upload(upload, max_unzipped_bytes=settings.max_upload_bytes * 8)
    except InvalidIfc as exc:
        raise InvalidInput(str(exc)) from None
    model = _model_for(session, park=park, model_id=model_id, name=model_name or Path(upload.name).name.split(".")[0], building=building)
    if anchor is not None:
        model.anchor = asdict(anchor)
    digest = _sha256(upload)
    stored = settings.data_dir / "models" / park.slug / f"{digest}{''.join(Path(upload.name).suffixes[-1:]).lower()}"
    stored.parent.mkdir(parents=True, exist_ok=True)
    if not stored.exists():
        shutil.copyfile(upload, stored)
    number = (session.scalar(select(func.max(BimModelVersion.version)).where(BimModelVersion.model_id == model.id)) or 0) + 1
    version = BimModelVersion(model_id=model.id, version=number, file_name=upload.name, file_path=str(stored), file_sha256=digest,
                              file_size=stored.stat().st_size, anchor=model.anchor, state="processing")
    session.add(version)
    session.flush()
    job = job_queries.create(session, kind="ifc_convert", park_id=park.id, created_by=created_by,
                             params={"version_id": version.id, "model_id": model.id, "file_name": upload.name})
    version.job_id = job.id
    session.flush()
    return model, version, job


def import_ifc_now(factory: sessionmaker[Session], *, park_slug: str, file: Path, settings: Settings, name: str | None = None,
                   building: str | None = None, anchor: Anchor | None = None, progress: Progress | None = None) -> dict[str, Any]:
    """Submit and run a conversion in this process (CLI, demo load): the same job, without waiting for a runner."""
    from twin.db.queries import parks

    scratch = Path(tempfile.mkdtemp(prefix="twin-ifc-"))
    job_id: int | None = None
    try:
        upload = scratch / file.name
        shutil.copyfile(file, upload)
        with transaction(factory) as session:
            model, version, job = submit_ifc(session, park=parks.get_by_slug(session, slug=park_slug), upload=upload, settings=settings,
                                             model_name=name, building=building, anchor=anchor, created_by="cli")
            job_queries.start(session, job=job)  # this process runs it: no service runner may claim it
            job_id, params = job.id, dict(job.params)
        result = run_ifc_job(factory, job_id=job_id, params=params, progress=progress or (lambda *a: None), settings=settings)
        with transaction(factory) as session:
            job_queries.succeed(session, job_id=job_id, result=result)
        return {**result, "version": version.version}
    except TwinError as exc:
        if job_id is not None:
            with transaction(factory) as session:
                job_queries.fail(session, job_id=job_id, error=exc.message)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _model_for(session: Session, *, park: Park, model_id: int | None, name: str, building: str | None) -> BimModel:
    if model_id is not None:
        model = session.get(BimModel, model_id)
        if model is None or model.park_id != park.id:
            raise NotFound(f"model {model_id} not found in park '{park.slug}'")
        return model
    model = session.scalar(select(BimModel).where(BimModel.park_id == park.id, BimModel.name == name))
    if model is None:
        model = BimModel(park_id=park.id, name=name)
        session.add(model)
    if building:
        found = session.scalar(select(Feature.id).where(Feature.park_id == park.id, Feature.code == building))
        if found is None:
            raise InvalidInput(f"building '{building}' not found in park '{park.slug}'")
        model.building_id = found
    session.flush()
    return model


def run_ifc_job(factory: sessionmaker[Session], *, job_id: int, params: dict[str, Any], progress: Progress, settings: Settings) -> dict[str, Any]:
    """The job body: convert, tile and publish one model version (all or nothing)."""
    with transaction(factory) as session:
        version = session.get(BimModelVersion, params["version_id"])
        if version is None:
            raise NotFound(f"model version {params['version_id']} no longer exists")
        model = session.get(BimModel, version.model_id)
        park = session.get(Park, model.park_id)
        path, anchor_dict, ground = Path(version.file_path), version.anchor, park.ground_elevation_m

    def step(phase: str, fraction: float) -> None:
        low, high = PHASE_SPAN.get(phase, (0, 100))
        progress(phase, (low + (high - low) * fraction) / 100, None)

    try:
        # In a child process: a geometry-kernel crash on one file is retried with OpenCASCADE (bim.isolated).
        result = convert_ifc_isolated(path, anchor=Anchor(**anchor_dict) if anchor_dict else None, progress=step)
    except BimError as exc:
        _mark_failed(factory, version_id=params["version_id"], reason=str(exc))
        raise InvalidInput(str(exc)) from None
    offset = ground if result.georef.source in ABSOLUTE_HEIGHT_SOURCES else 0.0
    origin = Origin(result.origin.lon, result.origin.lat, result.origin.height - offset)
    sink = MemorySink()
    tileset = build_tileset(result.meshes, origin=origin, sink=sink, class_name="ifc_element", progress=lambda d, t: step("tiles", d / t))
    step("publish", 0.0)
    rows = element_rows(result, offset=offset)
    with transaction(factory) as session:
        model = session.get(BimModel, model.id)
        park = session.get(Park, park.id)
        record = tileset_queries.publish(session, park=park, new=tileset_queries.NewTileset(
            slug=f"bim-{model.id}", title=model.name, title_en=model.name, source_kind="bim", source_ref=f"model:{model.id}",
            source_hash=None, tileset=tileset, blobs=sink.blobs))
        _store_elements(session, version_id=params["version_id"], rows=rows)
        session.execute(update(BimModelVersion).where(BimModelVersion.model_id == model.id, BimModelVersion.state == "published").values(state="superseded"))
        session.execute(update(BimModelVersion).where(BimModelVersion.id == params["version_id"]).values(
            state="published", tileset_id=record.id, ifc_schema=result.schema, element_count=len(rows),
            georef=_georef_summary(result, origin, offset), stats=result.stats, warnings=result.warnings))
    return {"model_id": model.id, "version_id": params["version_id"], "tileset": f"bim-{model.id}", "tileset_version": record.version,
            "elements": len(rows), "georef_source": result.georef.source, "lon": origin.lon, "lat": origin.lat, "warnings": result.warnings}


def _mark_failed(factory: sessionmaker[Session], *, version_id: int, reason: str) -> None:
    with transaction(factory) as session:
        session.execute(update(BimModelVersion).where(BimModelVersion.id == version_id).values(state="failed", warnings=[reason]))


def _georef_summary(result: BimResult, origin: Origin, offset: float) -> dict[str, Any]:
    g = result.georef
    return {"source": g.source, "crs": g.crs, "eastings": g.eastings, "northings": g.northings, "orthogonal_height": g.orthogonal_height,
            "rotation_deg": g.rotation_deg, "scale": g.scale, "model_origin": {"lon": g.lon, "lat": g.lat, "height": g.height},
            "tileset_origin": {"lon": origin.lon, "lat": origin.lat, "height": origin.height},
            "height_offset_m": -offset, "warnings": g.warnings}


def element_rows(result: BimResult, *, offset: float) -> list[dict[str, Any]]:
    """Elements as rows for bim_elements: footprints to WGS84, z range to metres above the park's ground."""
    elements = result.elements
    has_shape = np.array([e.footprint is not None and not e.footprint.is_empty for e in elements], dtype=bool)
    footprints = np.array([e.footprint if ok else None for e, ok in zip(elements, has_shape, strict=True)], dtype=object)
    wkb: list[str | None] = [None] * len(elements)
    if has_shape.any():
        def project(coords: np.ndarray) -> np.ndarray:
            lon, lat, _ = model_to_wgs84(result.georef, np.c_[coords, np.zeros(len(coords))])
            return np.c_[lon, lat]

        projected = shapely.transform(footprints[has_shape], project)
        hexes = shapely.to_wkb(shapely.set_srid(projected, 4326), hex=True, include_srid=True)
        for index, value in zip(np.flatnonzero(has_shape), hexes, strict=True):
            wkb[index] = value
    rows = []
    for element, geometry in zip(elements, wkb, strict=True):
        z_min, z_max = _heights(result, element, offset)
        rows.append({"global_id": element.global_id, "ifc_class": element.ifc_class, "name": element.name, "storey": element.storey,
                     "footprint": geometry, "z_min": z_min, "z_max": z_max, "psets": _element_json(element)})
    return rows


def _heights(result: BimResult, element: Any, offset: float) -> tuple[float | None, float | None]:
    if element.z_min is None or element.footprint is None or element.footprint.is_empty:
        return None, None
    point = element.footprint.representative_point()
    xyz = np.array([[point.x, point.y, element.z_min], [point.x, point.y, element.z_max]])
    _, _, heights = model_to_wgs84(result.georef, xyz)
    return float(heights[0] - offset), float(heights[1] - offset)


def _element_json(element: Any) -> dict[str, Any]:
    """Everything known about an element except geometry, JSON-safe."""
    data = {k: v for k, v in asdict(element).items() if k not in ("footprint", "z_min", "z_max")}
    return orjson.loads(orjson.dumps(data, default=str, option=orjson.OPT_SERIALIZE_NUMPY))


def _store_elements(session: Session, *, version_id: int, rows: list[dict[str, Any]]) -> None:
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor, cursor.copy("COPY bim_elements (version_id, global_id, ifc_class, name, storey, footprint, z_min, z_max, psets) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((version_id, row["global_id"], row["ifc_class"], row["name"], row["storey"], row["footprint"],
                            row["z_min"], row["z_max"], orjson.dumps(row["psets"]).decode()))
