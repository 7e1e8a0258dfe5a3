"""Durable, idempotent, fast observation ingest: one SQL round-trip per batch, hooks after commit.

Every path that stores readings (STA POST Observations / CreateObservations, the compact batch
`POST /api/v1/parks/{park}/observations`, the MQTT consumer) calls `insert_observations`.

Contract of `insert_observations(session, rows)`:
- `rows`: dicts with `datastream_id`, `phenomenon_time` (aware datetime or ISO 8601 string with an
  offset; an interval "start/end" fills `phenomenon_time_end`), `result` (number, bool, string,
  object; numbers go to `result_number`, anything else to `result_json`), and optionally
  `result_time`, `parameters` (object), `feature_of_interest_id`, `result_quality`,
  `valid_time` ("start/end"), `phenomenon_time_end`.
- Returns an `InsertResult` (a list aligned with `rows`): the observation id for a stored row — the
  new id, or for a duplicate (same datastream and phenomenon time, in the database or earlier in
  the batch) the id already stored; `None` for a rejected row. `.rejected` holds (index, message),
  `.duplicates` the indices of duplicates, `.accepted` the newly stored observations.
- A row is rejected, without failing the others, for: a missing or unknown datastream (or one
  outside `park_id` when given), a missing result, a non-finite number, a time without timezone.
- `datastream_latest` only moves forward in time.
- Nothing is visible or acknowledged before the caller's transaction commits. After the commit,
  `after_commit_hooks` run with (session_factory, accepted observations), then the live stream and
  the MQTT re-publication are fed (`twin.integration.live`, `twin.integration.mqtt.publisher`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.orm import Session, sessionmaker

from twin.errors import InvalidInput

log = logging.getLogger("twin.ingest")

# Callables(session_factory, accepted) run after every commit that stored new observations
# (the alarms engine registers its rule evaluation here). Exceptions are logged, never raised.
AfterCommitHook = Callable[[sessionmaker[Session], list["AcceptedObservation"]], None]
after_commit_hooks: list[AfterCommitHook] = []

MAX_BATCH_ROWS = 50_000
_PENDING_KEY = "twin_ingest_accepted"


@dataclass(slots=True)
class AcceptedObservation:
    """A newly stored observation, as handed to hooks after commit."""

    id: int
    datastream_id: int
    phenomenon_time: datetime
    result: Any
    result_time: datetime | None = None
    phenomenon_time_end: datetime | None = None
    parameters: dict[str, Any] | None = None
    feature_of_interest_id: int | None = None


class InsertResult(list):  # type: ignore[type-arg]  # list[int | None], plus the outcome per row
    """Per input row: the stored observation id (new or existing) or None when rejected."""

    def __init__(self, ids: Iterable[int | None], *, rejected: list[tuple[int, str]],
                 duplicates: list[int], accepted: list[AcceptedObservation]) -> None:
        super().__init__(ids)
        self.rejected = rejected
        self.duplicates = duplicates
        self.accepted = accepted

    def counts(self) -> dict[str, Any]:
        """{accepted, duplicates, rejected: [{index, message}]} — the batch endpoint's answer."""
        return {"accepted": len(self.accepted), "duplicates": len(self.duplicates),
                "rejected": [{"index": i, "message": m} for i, m in self.rejected]}


# --- validation --------------------------------------------------------------------------------

class RowError(ValueError):
    """One row is unusable; the message says why (shown to the integrator)."""


def parse_time(value: Any, what: str) -> datetime:
    """An aware datetime from a datetime or an ISO 8601 string; naive times are refused."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise RowError(f"{what} '{value[:40]}' is not an ISO 8601 time") from None
    else:
        raise RowError(f"{what} must be an ISO 8601 time string")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise RowError(f"{what} must include a timezone, e.g. 'Z' or '+08:00'")
    return moment


def parse_interval(value: Any, what: str) -> tuple[datetime, datetime | None]:
    """A time or an ISO 8601 interval 'start/end' → (start, end or None)."""
    if isinstance(value, str) and "/" in value:
        start_text, _, end_text = value.partition("/")
        start, end = parse_time(start_text, what), parse_time(end_text, what)
        if end < start:
            raise RowError(f"{what} interval ends before it starts")
        return start, end
    return parse_time(value, what), None


def _json_text(value: Any, what: str) -> str:
    try:
        encoded = orjson.dumps(value).decode()
    except TypeError as exc:
        raise RowError(f"{what} is not JSON: {exc}") from None
    if "\\u0000" in encoded:  # PostgreSQL's jsonb cannot hold the NUL character
        raise RowError(f"{what} contains a NUL character (\\u0000)")
    return encoded


def _split_result(result: Any) -> tuple[float | None, str | None]:
    """(result_number, result_json text): numbers go to the numeric column, the rest to JSONB."""
    if isinstance(result, bool):
        return None, "true" if result else "false"
    if isinstance(result, (int, float)):
        try:
            number = float(result)
        except OverflowError:
            raise RowError("result is too large for a double") from None
        if not math.isfinite(number):
            raise RowError("result must be a finite number (NaN and infinity are refused)")
        return number, None
    return None, _json_text(result, "result")


def _optional_json(value: Any, what: str, *, object_only: bool = False) -> str | None:
    if value is None:
        return None
    if object_only and not isinstance(value, Mapping):
        raise RowError(f"{what} must be a JSON object")
    return _json_text(value, what)


def _positive_id(value: Any, what: str, *, required: bool) -> int | None:
    if value is None:
        if required:
            raise RowError(f"{what} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RowError(f"{what} must be an integer id")
    try:
        number = int(value)
    except ValueError:
        raise RowError(f"{what} '{value}' is not an integer id") from None
    if number <= 0 or number >= 2**63:
        raise RowError(f"{what} {number} is out of range")
    return number


def _parse_row(index: int, row: Mapping[str, Any]) -> tuple[Any, ...]:
    """One row's column values in _Columns.NAMES order, or RowError saying what is wrong."""
    datastream = _positive_id(row.get("datastream_id"), "datastream id", required=True)
    if row.get("phenomenon_time") is None:
        raise RowError("phenomenonTime is missing")
    start, end = parse_interval(row["phenomenon_time"], "phenomenonTime")
    if row.get("phenomenon_time_end") is not None:
        end = parse_time(row["phenomenon_time_end"], "phenomenonTime end")
    if row.get("result") is None:
        raise RowError("result is missing")
    number, json_text = _split_result(row["result"])
    result_time = parse_time(row["result_time"], "resultTime") if row.get("result_time") is not None else None
    valid_start = valid_end = None
    if row.get("valid_time") is not None:
        valid_start, valid_end = parse_interval(row["valid_time"], "validTime")
    parameters = _optional_json(row.get("parameters"), "parameters", object_only=True)
    quality = _optional_json(row.get("result_quality"), "resultQuality")
    foi = _positive_id(row.get("feature_of_interest_id"), "FeatureOfInterest id", required=False)
    return (datastream, start, end, result_time, number, json_text, quality, valid_start, valid_end, parameters, foi, index)


class _Columns:
    """Validated rows as column arrays (what the unnest() statement binds)."""

    NAMES = ("ds", "pt", "pte", "rt", "rn", "rj", "rq", "vs", "ve", "pa", "foi", "ord")

    def __init__(self) -> None:
        self.rows: list[tuple[Any, ...]] = []
        self.position: dict[int, int] = {}  # input index → position in the arrays

    def add(self, values: tuple[Any, ...]) -> None:
        self.position[values[-1]] = len(self.rows)
        self.rows.append(values)

    def value(self, index: int, name: str) -> Any:
        return self.rows[self.position[index]][self.NAMES.index(name)]

    def params(self, park_id: int | None) -> dict[str, Any]:
        arrays = list(zip(*self.rows, strict=True))
        return {**{name: list(array) for name, array in zip(self.NAMES, arrays, strict=True)}, "park": park_id}


# --- the statement -----------------------------------------------------------------------------

# One round-trip, parameters in binary (text arrays in text format cost a regex per element): unnest the arrays, keep rows whose datastream exists (in the park, when scoped),
# insert in (datastream, time) order — the same lock order in every transaction, so concurrent
# batches cannot deadlock — skip conflicts, move datastream_latest forward, and answer per row with
# the new id, or for a duplicate the stored id (the COALESCE only runs the lookup for duplicates).
_INSERT_SQL = """
WITH input AS (
    SELECT * FROM unnest(%(ds)b::int8[], %(pt)b::timestamptz[], %(pte)b::timestamptz[], %(rt)b::timestamptz[],
                         %(rn)b::float8[], %(rj)b::text[], %(rq)b::text[], %(vs)b::timestamptz[],
                         %(ve)b::timestamptz[], %(pa)b::text[], %(foi)b::int8[], %(ord)b::int4[])
        AS t(datastream_id, phenomenon_time, phenomenon_time_end, result_time, result_number, result_json,
             result_quality, valid_start, valid_end, parameters, foi, ord)
), valid AS MATERIALIZED (
    SELECT i.* FROM input i JOIN datastreams d ON d.id = i.datastream_id
    WHERE (%(park)s::int8 IS NULL OR EXISTS (SELECT 1 FROM assets a WHERE a.id = d.thing_id AND a.park_id = %(park)s::int8))
      AND (i.foi IS NULL OR EXISTS (SELECT 1 FROM features_of_interest f WHERE f.id = i.foi))
), ins AS (
    INSERT INTO observations (datastream_id, phenomenon_time, phenomenon_time_end, result_time, result_number,
                              result_json, result_quality, valid_time, parameters, feature_of_interest_id)
    SELECT datastream_id, phenomenon_time, phenomenon_time_end, result_time, result_number, result_json::jsonb,
           result_quality::jsonb,
           CASE WHEN valid_start IS NULL THEN NULL ELSE tstzrange(valid_start, valid_end, '[]') END,
           parameters::jsonb, foi
    FROM valid ORDER BY datastream_id, phenomenon_time
    ON CONFLICT (datastream_id, phenomenon_time) DO NOTHING
    RETURNING id, datastream_id, phenomenon_time, result_number, result_json
), latest AS (
    INSERT INTO datastream_latest AS l (datastream_id, observation_id, phenomenon_time, result_number, result_json)
    SELECT DISTINCT ON (datastream_id) datastream_id, id, phenomenon_time, result_number, result_json
    FROM ins ORDER BY datastream_id, phenomenon_time DESC
    ON CONFLICT (datastream_id) DO UPDATE
        SET observation_id = EXCLUDED.observation_id, phenomenon_time = EXCLUDED.phenomenon_time,
            result_number = EXCLUDED.result_number, result_json = EXCLUDED.result_json
        WHERE l.phenomenon_time < EXCLUDED.phenomenon_time
)
SELECT v.ord, COALESCE(ins.id, (SELECT o.id FROM observations o
                                WHERE o.datastream_id = v.datastream_id AND o.phenomenon_time = v.phenomenon_time)),
       ins.id IS NOT NULL
FROM valid v LEFT JOIN ins ON ins.datastream_id = v.datastream_id AND ins.phenomenon_time = v.phenomenon_time
"""

# A duplicate committed by a concurrent transaction after our statement's snapshot: look again.
_EXISTING_SQL = """
SELECT k.ord, o.id FROM unnest(%(ds)b::int8[], %(pt)b::timestamptz[], %(ord)b::int4[]) AS k(ds, pt, ord)
JOIN observations o ON o.datastream_id = k.ds AND o.phenomenon_time = k.pt
"""


def insert_observations(session: Session, rows: list[dict[str, Any]], *, park_id: int | None = None) -> InsertResult:
    """Store observations once each (see the module docstring for the contract); flushes, never commits."""
    if len(rows) > MAX_BATCH_ROWS:
        raise InvalidInput(f"a batch holds at most {MAX_BATCH_ROWS} observations; got {len(rows)}")
    ids: list[int | None] = [None] * len(rows)
    rejected: list[tuple[int, str]] = []
    duplicates: list[int] = []
    first_of: dict[tuple[int, datetime], int] = {}
    repeats: list[tuple[int, int]] = []  # (index, index of the earlier row with the same key)
    columns = _Columns()
    for index, row in enumerate(rows):
        try:
            if not isinstance(row, Mapping):
                raise RowError("an observation must be a JSON object")
            values = _parse_row(index, row)
        except RowError as exc:
            rejected.append((index, str(exc)))
            continue
        key = (values[0], values[1])
        if key in first_of:
            repeats.append((index, first_of[key]))
        else:
            first_of[key] = index
            columns.add(values)
    accepted: list[AcceptedObservation] = []
    if columns.rows:
        session.flush()  # pending ORM writes (e.g. a datastream created in this transaction) go first
        answered = _execute(session, columns, park_id, ids, duplicates)
        seen_before = set(duplicates)
        accepted = [_accepted(i, rows[index], columns, index) for index, i in answered.items() if index not in seen_before]
        for index in columns.position:
            if index not in answered:
                rejected.append((index, _missing_reference(columns, index, park_id)))
    for index, first in repeats:
        if ids[first] is None:
            rejected.append((index, "same datastream and phenomenonTime as a rejected row"))
        else:
            ids[index] = ids[first]
            duplicates.append(index)
    rejected.sort()
    duplicates.sort()
    if accepted:
        _remember_for_commit(session, accepted)
    return InsertResult(ids, rejected=rejected, duplicates=duplicates, accepted=accepted)


def _execute(session: Session, columns: _Columns, park_id: int | None, ids: list[int | None],
             duplicates: list[int]) -> dict[int, int | None]:
    """Run the statement; fill `ids` and `duplicates`; answer {index: id} for rows whose datastream exists."""
    driver = session.connection().connection.driver_connection
    answered: dict[int, int | None] = {}
    with driver.cursor() as cursor:
        cursor.execute(_INSERT_SQL, columns.params(park_id))
        unresolved: list[int] = []
        for index, observation_id, inserted in cursor.fetchall():
            answered[index] = ids[index] = observation_id
            if not inserted:
                duplicates.append(index)
                if observation_id is None:
                    unresolved.append(index)
        if unresolved:
            cursor.execute(_EXISTING_SQL, {"ds": [columns.value(i, "ds") for i in unresolved],
                                           "pt": [columns.value(i, "pt") for i in unresolved], "ord": unresolved})
            for index, observation_id in cursor.fetchall():
                answered[index] = ids[index] = observation_id
    return answered


def _missing_reference(columns: _Columns, index: int, park_id: int | None) -> str:
    where = " in this park" if park_id is not None else ""
    message = f"datastream {columns.value(index, 'ds')} does not exist{where}"
    foi = columns.value(index, "foi")
    return message if foi is None else f"{message}, or FeatureOfInterest {foi} does not exist"


def _accepted(observation_id: int, row: Mapping[str, Any], columns: _Columns, index: int) -> AcceptedObservation:
    values = columns.rows[columns.position[index]]
    return AcceptedObservation(
        id=observation_id, datastream_id=values[0], phenomenon_time=values[1], result=row["result"],
        result_time=values[3], phenomenon_time_end=values[2], parameters=row.get("parameters"),
        feature_of_interest_id=values[10],
    )


_PARK_DATASTREAMS_SQL = text("""
SELECT d.id FROM datastreams d JOIN assets a ON a.id = d.thing_id
WHERE d.id = ANY(:ids) AND (CAST(:park AS bigint) IS NULL OR a.park_id = :park)
""")


# (database, datastream) → (expiry, default FeatureOfInterest id). A feature is made once per Thing
# Location and rarely changes; caching it keeps several queries off every batch. A stale entry for a
# deleted feature only makes rows rejected ("FeatureOfInterest … does not exist") until it expires.
_default_foi: dict[tuple[str, int], tuple[float, int]] = {}
DEFAULT_FOI_TTL_S = 300.0


def fill_default_features(session: Session, rows: list[Any], *, park_id: int | None = None) -> None:
    """Give rows without a FeatureOfInterest their Thing's Location's one (OGC 18-088 §10.2), as STA POSTs do."""
    from twin.integration.sta.observations import default_features_of_interest  # deferred: sta imports this module

    database = str(session.get_bind().engine.url)
    now = time.monotonic()
    wanted = {row["datastream_id"] for row in rows if isinstance(row, dict) and row.get("feature_of_interest_id") is None
              and type(row.get("datastream_id")) is int}
    missing = sorted(ds for ds in wanted if _default_foi.get((database, ds), (0.0, 0))[0] < now)
    found: dict[int, int] = {}
    if missing:
        known = list(session.scalars(_PARK_DATASTREAMS_SQL, {"ids": missing, "park": park_id}))
        found = default_features_of_interest(session, known) if known else {}
        # Shared only once committed: a feature made by a transaction that rolls back (a database restart
        # mid-request) does not exist, and a cached id would get valid readings rejected until it expired.
        _remember_features_for_commit(session, {(database, ds): (now + DEFAULT_FOI_TTL_S, feature) for ds, feature in found.items()})
    for row in rows:
        if isinstance(row, dict) and row.get("feature_of_interest_id") is None:
            feature = found.get(row.get("datastream_id"))  # type: ignore[arg-type]
            cached = _default_foi.get((database, row.get("datastream_id")))  # type: ignore[arg-type]
            if feature is None and cached is not None:
                feature = cached[1]
            if feature is not None:
                row["feature_of_interest_id"] = feature


_PENDING_FOI_KEY = "twin_ingest_default_foi"


def _remember_features_for_commit(session: Session, entries: dict[tuple[str, int], tuple[float, int]]) -> None:
    """Add `entries` to the default-feature cache when the session commits (dropped on rollback)."""
    if not entries:
        return
    pending = session.info.setdefault(_PENDING_FOI_KEY, {})
    pending.update(entries)
    if not event.contains(session, "after_commit", _share_features):
        event.listen(session, "after_commit", _share_features)
        event.listen(session, "after_rollback", _forget_features)


def _share_features(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the enclosing transaction may still roll back
        return
    _default_foi.update(session.info.pop(_PENDING_FOI_KEY, {}))


def _forget_features(session: Session) -> None:
    session.info.pop(_PENDING_FOI_KEY, None)


# --- after commit ------------------------------------------------------------------------------

def _remember_for_commit(session: Session, accepted: list[AcceptedObservation]) -> None:
    """Hold the new observations until the session commits (dropped on rollback)."""
    pending = session.info.get(_PENDING_KEY)
    if pending is None:
        session.info[_PENDING_KEY] = pending = []
        if not event.contains(session, "after_commit", _on_commit):
            event.listen(session, "after_commit", _on_commit)
            event.listen(session, "after_rollback", _on_rollback)
    pending.extend(accepted)


def _on_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def _on_commit(session: Session) -> None:
    accepted = session.info.pop(_PENDING_KEY, None)
    if accepted:
        dispatch_after_commit(sessionmaker(bind=session.get_bind(), expire_on_commit=False), accepted)


def dispatch_after_commit(session_factory: sessionmaker[Session], accepted: list[AcceptedObservation]) -> None:
    """Run the hooks and feed the live stream / MQTT with observations that are now committed."""
    from twin.integration import live  # deferred: live and the publisher import this module's types
    from twin.integration.mqtt import publisher

    for hook in (*after_commit_hooks, live.offer_readings, publisher.publish_committed):
        try:
            hook(session_factory, accepted)
        except Exception:  # noqa: BLE001 — a failing hook must not undo or block ingest
            log.exception("after-commit hook %s failed", getattr(hook, "__qualname__", hook))
