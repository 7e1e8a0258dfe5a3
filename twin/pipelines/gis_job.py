"""A GIS import as a background job (an upload sent with `Prefer: respond-async`): for files whose import would
outlast an HTTP request (a city's buildings), with the job's phase and percent in /api/v1/jobs/{id}.

The upload waits in TWIN_DATA_DIR/imports/<job folder>/ until its job has run (retried there after a service
crash); the job does what the synchronous upload does, in one transaction, and its result is that response.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from twin.db.models import Job, Park
from twin.db.queries import jobs as job_queries
from twin.db.session import transaction
from twin.errors import NotFound
from twin.jobs.handlers import Progress
from twin.pipelines.gis_import import import_and_tile
from twin.settings import Settings

KIND = "gis_import"
OPTIONS = ("layer", "layer_name", "source_layer", "crs", "height_attr", "levels_attr", "storey_height", "build_tiles")


def submit_gis(session: Session, *, park: Park, upload: Path, settings: Settings, options: dict[str, Any],
               created_by: str | None = None) -> Job:
    """Keep the upload for its job and queue the job (it runs once the caller's transaction commits)."""
    unknown = set(options) - set(OPTIONS)
    if unknown:
        raise ValueError(f"unknown GIS import options: {sorted(unknown)}")
    waiting = settings.data_dir / "imports"
    waiting.mkdir(parents=True, exist_ok=True)
    kept = Path(tempfile.mkdtemp(prefix="gis-", dir=waiting)) / upload.name
    shutil.move(upload, kept)
    try:
        return job_queries.create(session, kind=KIND, park_id=park.id, created_by=created_by,
                                  params={"park_id": park.id, "path": str(kept), "file_name": upload.name, **options})
    except BaseException:
        shutil.rmtree(kept.parent, ignore_errors=True)
        raise


def run_gis_job(factory: sessionmaker[Session], *, job_id: int, params: dict[str, Any], progress: Progress, settings: Settings) -> dict[str, Any]:
    """The job body: import the kept file and rebuild the building tiles (all or nothing); the file goes when it ends."""
    path = Path(params["path"])
    options = {name: params[name] for name in OPTIONS if name in params}
    try:
        with transaction(factory) as session:
            park = session.get(Park, params["park_id"])
            if park is None:
                raise NotFound(f"park {params['park_id']} no longer exists")
            progress("import", 0.0, f"reading {params['file_name']}")
            return import_and_tile(session, park=park, path=path, settings=settings, source_name=params["file_name"], options=options,
                                   progress=progress)
    finally:
        shutil.rmtree(path.parent, ignore_errors=True)
