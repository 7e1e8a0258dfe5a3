"""Which function runs each kind of job. A handler gets (session_factory, job id, params, progress) and returns a JSON result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Progress = Callable[[str, float, str | None], None]
Handler = Callable[..., dict[str, Any]]


def handlers() -> dict[str, Handler]:
    """Imported lazily so the runner starts fast and a child loads only what it runs."""
    from twin.pipelines.gis_job import run_gis_job
    from twin.pipelines.ifc_import import run_ifc_job

    return {"ifc_convert": run_ifc_job, "gis_import": run_gis_job}


KINDS = ("ifc_convert", "gis_import")
