"""ParkTwin extensions to SensorThings: time-bucket aggregation and latest values.

- aggregate: `Datastreams(5)/Observations/aggregate` — avg/min/max/sum over numeric results and
  count of observations per time bucket (PostgreSQL date_bin), one indexed range scan.
- latest: the newest value of every Datastream of some Things, of a building (and the storeys and
  spaces under it) or of a bbox, read from `datastream_latest` (no scan of observations).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Float, func, literal, select
from sqlalchemy.orm import Session

from twin.db.models import Asset, Datastream, DatastreamLatest, Feature, Observation, ObservedProperty, Park
from twin.errors import InvalidInput, NotFound
from twin.integration.sta.model import BY_SET, iso, number_value
from twin.integration.sta.reading import Context

AGGREGATES = {
    "avg": lambda v: func.avg(v),
    "min": lambda v: func.min(v),
    "max": lambda v: func.max(v),
    "sum": lambda v: func.sum(v),
    "count": lambda v: func.count(),
}
MAX_BUCKETS = 100_000
# Chengdu's midnight: daily buckets start at local midnight unless another origin is asked for.
DEFAULT_ORIGIN = datetime(2000, 1, 1, tzinfo=UTC) - timedelta(hours=8)
_SHORT = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]+)$", re.I)
_ISO = re.compile(r"^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$", re.I)
_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "second", "seconds"), 1),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "week", "weeks"), 604800),
}


def parse_interval(text: str) -> timedelta:
    """`15min`, `1h`, `1d`, `30s` or ISO 8601 `PT15M` → a positive timedelta (no months: buckets are fixed)."""
    cleaned = text.strip()
    short = _SHORT.match(cleaned)
    if short and short[2].lower() in _UNIT_SECONDS:
        seconds = float(short[1]) * _UNIT_SECONDS[short[2].lower()]
    else:
        iso_match = _ISO.match(cleaned)
        if not iso_match or cleaned.upper() in ("P", "PT"):
            raise InvalidInput(f"interval '{text}' must look like 15min, 1h, 1d or PT15M (months and years vary in length)")
        weeks, days, hours, minutes, secs = (float(g) if g else 0.0 for g in iso_match.groups())
        seconds = weeks * 604800 + days * 86400 + hours * 3600 + minutes * 60 + secs
    if seconds < 1:
        raise InvalidInput(f"interval '{text}' must be at least one second")
    return timedelta(seconds=seconds)


def parse_time_param(text: str | None, name: str) -> datetime | None:
    """An ISO 8601 time query parameter (UTC when it has no offset), None when absent."""
    if text is None or text == "":
        return None
    try:
        value = datetime.fromisoformat(text.strip().replace(" ", "+"))  # '+' arrives as a space when not URL-encoded
    except ValueError:
        raise InvalidInput(f"{name} '{text}' is not an ISO 8601 time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def parse_functions(text: str) -> list[str]:
    """`avg,min,max` → the known aggregate names, in order; InvalidInput for others."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in AGGREGATES]
    if not names or unknown:
        raise InvalidInput(f"func must list some of {', '.join(AGGREGATES)}; unknown: {', '.join(unknown) or '(none given)'}")
    return list(dict.fromkeys(names))


def aggregate(
    session: Session, *, datastream_id: int, interval: timedelta, functions: list[str],
    start: datetime, end: datetime, origin: datetime = DEFAULT_ORIGIN, ctx: Context,
) -> dict[str, Any]:
    """Per time bucket [start, start+interval): the asked aggregates of the Datastream's observations in [start, end)."""
    if end <= start:
        raise InvalidInput("'to' must be after 'from'")
    if (end - start) / interval > MAX_BUCKETS:
        raise InvalidInput(f"that asks for more than {MAX_BUCKETS} buckets; use a longer interval or a shorter period")
    datastream = _visible_datastream(session, datastream_id, ctx)
    bucket = func.date_bin(literal(interval), Observation.phenomenon_time, literal(origin)).label("bucket")
    value = Observation.result_number
    columns = [AGGREGATES[name](value).cast(Float).label(name) if name != "count" else AGGREGATES[name](value).label(name) for name in functions]
    stmt = (
        select(bucket, *columns)
        .where(
            Observation.datastream_id == datastream_id,
            Observation.phenomenon_time >= start,
            Observation.phenomenon_time < end,
        )
        .group_by(bucket)
        .order_by(bucket)
    )
    buckets = []
    for row in session.execute(stmt):
        entry: dict[str, Any] = {"start": iso(row.bucket), "end": iso(row.bucket + interval)}
        for name in functions:
            entry[name] = row._mapping[name]
        buckets.append(entry)
    return {
        "Datastream@iot.selfLink": ctx.self_link(BY_SET["Datastreams"], datastream_id),
        "name": datastream.name,
        "unitOfMeasurement": datastream.unit_of_measurement,
        "interval": f"PT{int(interval.total_seconds())}S",
        "from": iso(start),
        "to": iso(end),
        "functions": functions,
        "buckets": buckets,
    }


def _visible_datastream(session: Session, datastream_id: int, ctx: Context) -> Datastream:
    conditions = [Datastream.id == datastream_id]
    scope = ctx.scope(BY_SET["Datastreams"])
    if scope is not None:
        conditions.append(scope)
    found = session.scalar(select(Datastream).where(*conditions))
    if found is None:
        raise NotFound(f"Datastreams({datastream_id}) not found")
    return found


def latest(
    session: Session, *, ctx: Context, things: list[int] | None = None, building: str | None = None,
    park: str | None = None, bbox: tuple[float, float, float, float] | None = None, limit: int,
) -> dict[str, Any]:
    """The latest value of every visible Datastream matching the selectors (all are combined with AND)."""
    stmt = (
        select(
            Datastream.id, Datastream.name, Datastream.unit_of_measurement, Datastream.properties,
            Asset.id.label("thing_id"), Asset.name.label("thing_name"), Asset.code, Asset.kind,
            ObservedProperty.name.label("property"), ObservedProperty.definition,
            DatastreamLatest.observation_id, DatastreamLatest.phenomenon_time, DatastreamLatest.result_number, DatastreamLatest.result_json,
        )
        .join(Asset, Asset.id == Datastream.thing_id)
        .join(ObservedProperty, ObservedProperty.id == Datastream.observed_property_id)
        .outerjoin(DatastreamLatest, DatastreamLatest.datastream_id == Datastream.id)
        .order_by(Asset.id, Datastream.id)
        .limit(limit)
    )
    if ctx.park_id is not None:
        stmt = stmt.where(Asset.park_id == ctx.park_id)
    if park is not None:
        park_id = session.scalar(select(Park.id).where(Park.slug == park))
        if park_id is None or (ctx.park_id is not None and park_id != ctx.park_id):
            raise NotFound(f"park '{park}' not found")
        stmt = stmt.where(Asset.park_id == park_id)
    if things is not None:
        stmt = stmt.where(Asset.id.in_(things))
    if building is not None:
        stmt = stmt.where(Asset.feature_id.in_(_subtree(session, building, ctx, park)))
    if bbox is not None:
        stmt = stmt.where(func.ST_Intersects(Asset.geom, func.ST_MakeEnvelope(*bbox, 4326)))
    datastreams = BY_SET["Datastreams"]
    observations = BY_SET["Observations"]
    things_type = BY_SET["Things"]
    value = []
    for row in session.execute(stmt):
        value.append({
            "@iot.id": row.id,
            "@iot.selfLink": ctx.self_link(datastreams, row.id),
            "name": row.name,
            "unitOfMeasurement": row.unit_of_measurement,
            "ObservedProperty": {"name": row.property, "definition": row.definition},
            "Thing": {"@iot.id": row.thing_id, "@iot.selfLink": ctx.self_link(things_type, row.thing_id),
                      "name": row.thing_name, "code": row.code, "kind": row.kind},
            "phenomenonTime": iso(row.phenomenon_time),
            "result": number_value(row.result_number) if row.result_number is not None else row.result_json,
            "Observation@iot.selfLink": ctx.self_link(observations, row.observation_id) if row.observation_id else None,
        })
    return {"value": value}


def _subtree(session: Session, code: str, ctx: Context, park: str | None) -> Any:
    """Ids of the feature(s) with this code and of everything under them (storeys, spaces)."""
    roots = select(Feature.id).where(Feature.code == code)
    if ctx.park_id is not None:
        roots = roots.where(Feature.park_id == ctx.park_id)
    if park is not None:
        roots = roots.where(Feature.park_id == select(Park.id).where(Park.slug == park).scalar_subquery())
    if session.scalar(roots.limit(1)) is None:
        raise NotFound(f"building (feature) '{code}' not found")
    tree = roots.cte("subtree", recursive=True)
    tree = tree.union_all(select(Feature.id).join(tree, Feature.parent_id == tree.c.id))
    return select(tree.c.id)
