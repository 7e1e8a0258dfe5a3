"""The event log: append what happened (type, payload, who, when) for an alarm or a broadcast."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from twin.db.models import Event

SYSTEM = "system"  # the actor of automatic changes (rule evaluation, no-data sweep, auto broadcast)


def record_event(session: Session, *, park_id: int, type: str, actor: str, payload: dict[str, Any] | None = None,
                 alarm_id: int | None = None, time: datetime | None = None) -> Event:
    """Append one event (flushed, so it has an id)."""
    event = Event(park_id=park_id, alarm_id=alarm_id, type=type, actor=actor, payload=payload or {})
    if time is not None:
        event.time = time
    session.add(event)
    session.flush()
    return event
