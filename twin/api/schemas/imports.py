"""Response shapes for imports."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class GisImportResponse(BaseModel):
    report: dict[str, Any] = Field(description="rows read, loaded, repaired, dropped (with rows and reasons), by family and kind, height sources, source CRS, warnings; changes: features added, updated, unchanged and removed")
    layers: dict[str, int] = Field(description="layer slug → features stored (mixed files fill <layer>-lines / <layer>-points)")
    tiles: dict[str, Any] | None = Field(description="the building tiles rebuild, when the file had buildings")


class GisImportAccepted(BaseModel):
    """An import queued as a job (`Prefer: respond-async`): follow job_url or events_url; the job's result is a GisImportResponse."""

    job_id: int
    job_url: str
    events_url: str = Field(description="Server-Sent Events with the job's phase (import, tiles) and percent")
