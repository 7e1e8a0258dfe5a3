"""The alarm roll-up of a park: open alarms counted by severity for the park, each building and storey
(every building is listed, so the map can colour all of them "by alarm state")."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from twin.db.models import Park
from twin.integration.alarms.vocabulary import OPEN_STATES, map_state, severity_counts, worst
from twin.integration.mqtt.topics import iso_utc

_OPEN_COUNTS_SQL = text("""
SELECT al.building_id, al.storey_id, s.code AS storey, s.name AS storey_name, al.severity, al.state, count(*) AS n
FROM alarms al LEFT JOIN features s ON s.id = al.storey_id
WHERE al.park_id = :park AND al.state <> 'cleared'
GROUP BY al.building_id, al.storey_id, s.code, s.name, al.severity, al.state
""")

_BUILDINGS_SQL = text("SELECT id, code, name, name_en FROM features WHERE park_id = :park AND kind = 'building' ORDER BY code")


def _block(pairs: list[tuple[str, int]]) -> dict[str, Any]:
    counts = severity_counts(pairs)
    severest = worst([s for s, n in counts.items() if n])
    return {"open": sum(counts.values()), "by_severity": counts, "worst": severest, "map_state": map_state(severest)}


def summary(session: Session, *, park: Park, now: datetime | None = None) -> dict[str, Any]:
    """Open alarms by severity and state for the park, per building (all of them) and per storey (those with alarms)."""
    rows = session.execute(_OPEN_COUNTS_SQL, {"park": park.id}).all()
    by_state = dict.fromkeys(OPEN_STATES, 0)
    park_pairs: list[tuple[str, int]] = []
    building_pairs: dict[int | None, list[tuple[str, int]]] = defaultdict(list)
    storeys: dict[int | None, dict[tuple[str, str | None], list[tuple[str, int]]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        by_state[row.state] = by_state.get(row.state, 0) + row.n
        park_pairs.append((row.severity, row.n))
        building_pairs[row.building_id].append((row.severity, row.n))
        if row.storey is not None:
            storeys[row.building_id][(row.storey, row.storey_name)].append((row.severity, row.n))
    buildings = []
    for building in session.execute(_BUILDINGS_SQL, {"park": park.id}):
        block = _block(building_pairs.get(building.id, []))
        floors = [{"storey": code, "name": name, **_block(pairs)} for (code, name), pairs in sorted(storeys[building.id].items())]
        buildings.append({"building": building.code, "name": building.name, "name_en": building.name_en, **block, "storeys": floors})
    return {"park": park.slug, "time": iso_utc(now or datetime.now(UTC)), **_block(park_pairs), "by_state": by_state,
            "buildings": buildings, "outside_buildings": _block(building_pairs.get(None, []))}
