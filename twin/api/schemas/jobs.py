"""Job status shape."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class JobPublic(BaseModel):
    id: int
    kind: str
    state: str = Field(description="queued | running | succeeded | failed")
    phase: str = Field(description="validate, georef, geometry, metadata, tiles, publish, done…")
    percent: float
    message: str | None
    error: str | None = Field(description="why a failed job failed")
    result: dict[str, Any]
    attempts: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
