"""Observation helpers shared by the STA write path and the ingest path.

- `split_result`: numbers go to result_number (fast aggregation), anything else to result_json.
- `default_features_of_interest`: the FeatureOfInterest made (once) from each Datastream's Thing Location.
- `ensure_thing_locations`: a Location for every asset that has none (its position and height).
- `follow_asset_positions`: after assets are created or moved, their Thing Location follows (with a HistoricalLocation).
- `refresh_latest`: rebuild datastream_latest rows after updates or deletes.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, func, insert, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from twin.db.models import (Asset, Datastream, DatastreamLatest, FeatureOfInterest, HistoricalLocation, HistoricalLocationLocation,
                            Location, Observation, ThingLocation)
from twin.errors import InvalidInput

GEOJSON = "application/geo+json"


def split_result(value: Any) -> tuple[float | None, Any]:
    """(result_number, result_json) for an STA result: finite numbers are numeric, the rest JSON."""
    if isinstance(value, bool) or value is None:
        return None, value
    if isinstance(value, (int, float)):
        number = float(value)
        if not math.isfinite(number):
            raise InvalidInput("result must be a finite number (NaN and infinity are not JSON)")
        return number, None
    return None, value


def follow_asset_positions(session: Session, *, asset_ids: Iterable[int]) -> int:
    """Keep STA Locations in step with the registry: a new asset gets a Location; a moved one gets a new
    Location (the old stays, as history) and a HistoricalLocation, as STA models a Thing's movement.
    Returns how many Things moved."""
    ids = list(asset_ids)
    if not ids:
        return 0
    ensure_thing_locations(session, asset_ids=ids)
    moved = session.execute(
        select(Asset.id, Asset.park_id, Asset.name, Asset.name_en, Asset.geom, Asset.height, ThingLocation.location_id)
        .join(ThingLocation, ThingLocation.thing_id == Asset.id)
        .join(Location, Location.id == ThingLocation.location_id)
        .where(Asset.id.in_(ids), ~func.ST_Equals(Location.geom, Asset.geom) | (Location.height.is_distinct_from(Asset.height)))
    ).all()
    now = datetime.now(UTC)
    for row in moved:
        location = Location(park_id=row.park_id, name=row.name, description=f"{row.name_en or row.name} position",
                            encoding_type=GEOJSON, geom=row.geom, height=row.height, properties={"source": "asset"})
        session.add(location)
        session.flush()
        session.execute(delete(ThingLocation).where(ThingLocation.thing_id == row.id))
        session.add(ThingLocation(thing_id=row.id, location_id=location.id))
        history = HistoricalLocation(thing_id=row.id, time=now)
        session.add(history)
        session.flush()
        session.add(HistoricalLocationLocation(historical_location_id=history.id, location_id=location.id))
    session.flush()
    return len(moved)


def ensure_thing_locations(session: Session, *, asset_ids: Iterable[int] | None = None, park_id: int | None = None) -> int:
    """Give every asset (of the list, or of the park) without a Location one at its position; returns how many."""
    stmt = select(Asset.id, Asset.park_id, Asset.name, Asset.name_en, Asset.geom, Asset.height).where(
        ~select(ThingLocation.thing_id).where(ThingLocation.thing_id == Asset.id).exists()
    )
    if asset_ids is not None:
        stmt = stmt.where(Asset.id.in_(list(asset_ids)))
    if park_id is not None:
        stmt = stmt.where(Asset.park_id == park_id)
    rows = session.execute(stmt).all()
    if not rows:
        return 0
    locations = [
        Location(
            park_id=row.park_id, name=row.name, description=f"{row.name_en or row.name} position",
            encoding_type=GEOJSON, geom=row.geom, height=row.height, properties={"source": "asset"},
        )
        for row in rows
    ]
    session.add_all(locations)
    session.flush()
    session.add_all(ThingLocation(thing_id=row.id, location_id=loc.id) for row, loc in zip(rows, locations))
    session.flush()
    return len(rows)


def default_features_of_interest(session: Session, datastream_ids: Iterable[int]) -> dict[int, int]:
    """For each Datastream, the FeatureOfInterest of its Thing's Location (created on first use).

    OGC 18-088 §10.2: an Observation posted without a FeatureOfInterest gets one made from the
    Location of its Thing, reused by later Observations.
    """
    wanted = sorted(set(datastream_ids))
    if not wanted:
        return {}
    location_of = _first_location(session, wanted)
    missing_things = [ds for ds in wanted if ds not in location_of]
    if missing_things:
        thing_ids = session.scalars(select(Datastream.thing_id).where(Datastream.id.in_(missing_things)))
        ensure_thing_locations(session, asset_ids=list(thing_ids))
        location_of.update(_first_location(session, missing_things))
    location_ids = sorted(set(location_of.values()))
    existing = dict(
        session.execute(
            select(FeatureOfInterest.location_id, FeatureOfInterest.id).where(FeatureOfInterest.location_id.in_(location_ids))
        ).all()
    )
    to_create = [lid for lid in location_ids if lid not in existing]
    if to_create:
        source = (
            select(
                Location.park_id, Location.name, Location.description, literal(GEOJSON), Location.geom,
                func.jsonb_build_object("source", "location"), Location.id,
            )
            .where(Location.id.in_(to_create))
        )
        # ON CONFLICT: a concurrent request may have made the same feature a moment ago.
        session.execute(
            pg_insert(FeatureOfInterest)
            .from_select(["park_id", "name", "description", "encoding_type", "feature", "properties", "location_id"], source)
            .on_conflict_do_nothing(index_elements=["location_id"])
        )
        existing.update(
            session.execute(
                select(FeatureOfInterest.location_id, FeatureOfInterest.id).where(FeatureOfInterest.location_id.in_(to_create))
            ).all()
        )
    return {ds: existing[loc] for ds, loc in location_of.items()}


def _first_location(session: Session, datastream_ids: list[int]) -> dict[int, int]:
    stmt = (
        select(Datastream.id, func.min(ThingLocation.location_id))
        .join(ThingLocation, ThingLocation.thing_id == Datastream.thing_id)
        .where(Datastream.id.in_(datastream_ids))
        .group_by(Datastream.id)
    )
    return dict(session.execute(stmt).all())


def refresh_latest(session: Session, datastream_ids: Iterable[int]) -> None:
    """Recompute datastream_latest for these Datastreams from their observations (after PATCH/DELETE)."""
    ids = sorted(set(datastream_ids))
    if not ids:
        return
    session.execute(delete(DatastreamLatest).where(DatastreamLatest.datastream_id.in_(ids)))
    latest = (
        select(Observation.datastream_id, Observation.id, Observation.phenomenon_time, Observation.result_number, Observation.result_json)
        .where(Observation.datastream_id.in_(ids))
        .order_by(Observation.datastream_id, Observation.phenomenon_time.desc())
        .distinct(Observation.datastream_id)
    )
    session.execute(
        insert(DatastreamLatest).from_select(
            ["datastream_id", "observation_id", "phenomenon_time", "result_number", "result_json"], latest
        )
    )
