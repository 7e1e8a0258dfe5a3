"""Data access for the import history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.db.models import ImportRecord, Park


def get_all(session: Session, *, park: Park, limit: int = 100) -> list[dict[str, Any]]:
    """The park's latest imports, newest first."""
    rows = session.scalars(select(ImportRecord).where(ImportRecord.park_id == park.id).order_by(ImportRecord.id.desc()).limit(limit))
    return [{"id": r.id, "source_kind": r.source_kind, "source_name": r.source_name, "source_crs": r.source_crs,
             "created_at": r.created_at.isoformat(), "report": r.report} for r in rows]
