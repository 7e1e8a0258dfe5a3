"""Rule evaluation on ingest: threshold (with hysteresis), state and geofence rules, and recovery from no-data.

`evaluate_committed` is registered in `twin.integration.ingest.after_commit_hooks` (see
twin/integration/alarms/__init__.py): after every commit that stored new observations it finds the
enabled rules watching their datastreams (one query; nothing more when none match), walks each
subject's new observations in time order through the rule, and raises, repeats or clears alarms in
one transaction. Observations older than what an open alarm has already seen are ignored, so a late
reading cannot clear a newer alarm. Tracked positions (geofence) are GeoJSON Point results.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from twin.db.session import transaction
from twin.integration.alarms import lifecycle, placement
from twin.integration.alarms.history import SYSTEM
from twin.integration.alarms.rules import is_finite_number
from twin.integration.alarms.selectors import ASSET_MATCHES, DEDUP_KEY_SQL, PROPERTY_MATCHES
from twin.integration.ingest import AcceptedObservation
from twin.integration.mqtt.topics import iso_utc


ON_INGEST_KINDS = ["threshold", "state", "geofence", "no_data"]

# One round trip: the (rule, datastream) pairs of the batch with the subject's open alarm, if any. The
# property regexps run once per (rule, observed property) in the batch, not per datastream; a no-data
# rule only matters here while its alarm is open (a reading ends the silence).
_MATCHES_SQL = text(f"""
WITH d AS MATERIALIZED (
    SELECT id, thing_id, observed_property_id FROM datastreams WHERE id = ANY(:ids)
), watching AS MATERIALIZED (
    SELECT r.id AS rule_id, op.id AS op_id
    FROM alarm_rules r JOIN observed_properties op ON op.id IN (SELECT observed_property_id FROM d)
    WHERE r.enabled AND r.kind = ANY(:kinds) AND {PROPERTY_MATCHES}
)
SELECT r.id AS rule_id, r.kind, a.park_id, d.id AS datastream_id, a.id AS asset_id, {DEDUP_KEY_SQL} AS key,
       al.id IS NOT NULL AS open, al.observed_at
FROM d JOIN assets a ON a.id = d.thing_id
JOIN watching w ON w.op_id = d.observed_property_id
JOIN alarm_rules r ON r.id = w.rule_id
LEFT JOIN alarms al ON al.park_id = r.park_id AND al.dedup_key = {DEDUP_KEY_SQL} AND al.state <> 'cleared'
WHERE {ASSET_MATCHES} AND (r.kind <> 'no_data' OR al.id IS NOT NULL)
""")

_RULES_SQL = text("""
SELECT r.id, r.kind, r.severity, r.name, r.name_en, r.params, r.feature_id AS fence_id, f.code AS fence
FROM alarm_rules r LEFT JOIN features f ON f.id = r.feature_id WHERE r.id = ANY(:ids)
""")

# What an alarm's message names: the asset and the property with its unit (only for subjects that raise).
_LABELS_SQL = text("""
SELECT d.id, a.code AS asset, a.name AS asset_name, op.name AS property, d.unit_of_measurement->>'symbol' AS unit
FROM datastreams d JOIN assets a ON a.id = d.thing_id JOIN observed_properties op ON op.id = d.observed_property_id
WHERE d.id = ANY(:ids)
""")

_INSIDE_SQL = text("""
SELECT p.ord, ST_Covers(f.geom, ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326))
FROM unnest(CAST(:ords AS int[]), CAST(:fences AS bigint[]), CAST(:lons AS float8[]), CAST(:lats AS float8[])) AS p(ord, fence, lon, lat)
JOIN features f ON f.id = p.fence
""")


@dataclass(slots=True)
class Subject:
    """One rule applied to one datastream (threshold, state) or one asset (geofence, no-data)."""

    key: str
    rule: Any  # the row of _RULES_SQL
    park_id: int
    asset_id: int
    datastream_id: int
    observations: list[AcceptedObservation]
    open: bool = False
    open_observed_at: datetime | None = None


@dataclass(slots=True)
class Step:
    """A run of the rule's verdicts: raise (n consecutive breaching readings, `last` the newest) or clear."""

    action: str
    last: AcceptedObservation
    n: int = 1


# --- verdicts (pure) ---------------------------------------------------------------------------

def threshold_verdict(params: dict[str, Any], *, is_open: bool, value: Any) -> str | None:
    """'raise' above high / below low; 'clear' once back past the clear edge; None in the band or for non-numbers."""
    if not is_finite_number(value):
        return None
    high, low = params.get("high"), params.get("low")
    if (high is not None and value > high) or (low is not None and value < low):
        return "raise"
    if not is_open:
        return None
    high_ok = high is None or value < params.get("high_clear", high)
    low_ok = low is None or value > params.get("low_clear", low)
    return "clear" if high_ok and low_ok else None


def _state_token(value: Any) -> tuple[str, Any]:
    if isinstance(value, bool):
        return ("bool", value)
    if is_finite_number(value):
        return ("number", float(value))
    if isinstance(value, str):
        return ("text", value.strip().lower())
    return ("other", repr(value))


def state_verdict(params: dict[str, Any], *, is_open: bool, value: Any) -> str | None:
    """'raise' when the result is one of the rule's values, else 'clear' (when open)."""
    bad = {_state_token(v) for v in params.get("values", [])}
    if _state_token(value) in bad:
        return "raise"
    return "clear" if is_open else None


def geofence_verdict(params: dict[str, Any], *, is_open: bool, inside: bool | None) -> str | None:
    """exit: 'raise' while outside; enter: 'raise' while inside; 'clear' otherwise (when open)."""
    if inside is None:
        return None
    breach = (not inside) if params.get("mode", "exit") == "exit" else inside
    if breach:
        return "raise"
    return "clear" if is_open else None


def point_of(result: Any) -> tuple[float, float] | None:
    """(lon, lat) of a GeoJSON Point result in WGS84, else None."""
    if not isinstance(result, dict) or result.get("type") != "Point":
        return None
    coordinates = result.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2 or not all(is_finite_number(c) for c in coordinates[:2]):
        return None
    lon, lat = float(coordinates[0]), float(coordinates[1])
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def steps(subject: Subject, verdict_of: Any) -> list[Step]:
    """Walk the subject's observations oldest first; consecutive raises collapse into one step."""
    is_open = subject.open
    result: list[Step] = []
    for observation in sorted(subject.observations, key=lambda o: o.phenomenon_time):
        if subject.open_observed_at is not None and observation.phenomenon_time < subject.open_observed_at:
            continue  # older than what the open alarm has already seen
        verdict = verdict_of(observation, is_open)
        if verdict == "raise":
            if result and result[-1].action == "raise":
                result[-1].n += 1
                result[-1].last = observation
            else:
                result.append(Step("raise", observation))
            is_open = True
        elif verdict == "clear" and is_open:
            result.append(Step("clear", observation))
            is_open = False
    return result


# --- evaluation --------------------------------------------------------------------------------

def evaluate_committed(session_factory: sessionmaker[Session], accepted: list[AcceptedObservation]) -> None:
    """Ingest hook: evaluate the on-ingest rules for newly committed observations, in one transaction."""
    if accepted:
        with transaction(session_factory) as session:
            evaluate(session, accepted)


def evaluate(session: Session, accepted: list[AcceptedObservation], *, now: datetime | None = None) -> int:
    """Evaluate the rules watching these observations' datastreams; the number of alarm changes (flush only)."""
    by_datastream: dict[int, list[AcceptedObservation]] = defaultdict(list)
    for observation in accepted:
        by_datastream[observation.datastream_id].append(observation)
    matches = session.execute(_MATCHES_SQL, {"ids": list(by_datastream), "kinds": ON_INGEST_KINDS}).all()
    if not matches:
        return 0
    rules = {r.id: r for r in session.execute(_RULES_SQL, {"ids": sorted({m.rule_id for m in matches})})}
    subjects: dict[str, Subject] = {}
    for match in matches:
        subject = subjects.get(match.key)
        if subject is None:
            subject = subjects[match.key] = Subject(match.key, rules[match.rule_id], match.park_id, match.asset_id, match.datastream_id,
                                                    [], match.open, match.observed_at)
        subject.observations.extend(by_datastream[match.datastream_id])
    inside = _inside_fences(session, [s for s in subjects.values() if s.rule.kind == "geofence"])
    planned = [(subject, step) for subject in subjects.values() for step in steps(subject, _verdict_function(subject, inside))]
    raising = sorted({step.last.datastream_id for _, step in planned if step.action == "raise"})
    labels = {row.id: row for row in session.execute(_LABELS_SQL, {"ids": raising})} if raising else {}
    for subject, step in planned:
        _apply(session, subject, step, labels.get(step.last.datastream_id), now)
    return len(planned)


def _verdict_function(subject: Subject, inside: dict[tuple[int, int], bool]) -> Any:
    params, kind = subject.rule.params or {}, subject.rule.kind
    if kind == "threshold":
        return lambda o, is_open: threshold_verdict(params, is_open=is_open, value=o.result)
    if kind == "state":
        return lambda o, is_open: state_verdict(params, is_open=is_open, value=o.result)
    if kind == "geofence":
        return lambda o, is_open: geofence_verdict(params, is_open=is_open, inside=inside.get((subject.rule.fence_id, id(o))))
    return lambda o, is_open: "clear" if is_open else None  # no_data: any reading ends the silence


def _inside_fences(session: Session, subjects: list[Subject]) -> dict[tuple[int, int], bool]:
    """{(fence id, id(observation)): inside that fence} for the tracked positions, with one PostGIS query."""
    observations: list[AcceptedObservation] = []
    fences, lons, lats = [], [], []
    for subject in subjects:
        for observation in subject.observations:
            point = point_of(observation.result)
            if point is not None:
                observations.append(observation)
                fences.append(subject.rule.fence_id)
                lons.append(point[0])
                lats.append(point[1])
    if not observations:
        return {}
    rows = session.execute(_INSIDE_SQL, {"ords": list(range(len(observations))), "fences": fences, "lons": lons, "lats": lats})
    return {(fences[ord_], id(observations[ord_])): bool(inside) for ord_, inside in rows}


def _apply(session: Session, subject: Subject, step: Step, label: Any, now: datetime | None) -> None:
    rule, observation = subject.rule, step.last
    if step.action == "clear":
        lifecycle.clear_by_key(session, park_id=subject.park_id, dedup_key=subject.key, actor=SYSTEM, now=now,
                               observed_at=observation.phenomenon_time, note="condition ended / 已恢复",
                               payload={"value": _shown(observation.result), "time": iso_utc(observation.phenomenon_time)})
        return
    draft = lifecycle.AlarmDraft(
        park_id=subject.park_id, dedup_key=subject.key, kind=rule.kind, severity=rule.severity, source="rule",
        title=rule.name, title_en=rule.name_en, rule_id=rule.id, asset_id=subject.asset_id,
        datastream_id=observation.datastream_id, observed_at=observation.phenomenon_time, **_describe(rule, label, observation),
    )
    lifecycle.raise_alarm(session, draft=draft, repeats=step.n, now=now)


def _shown(result: Any) -> Any:
    return result if isinstance(result, (int, float, str, bool)) or result is None else point_of(result)


def _describe(rule: Any, label: Any, observation: AcceptedObservation) -> dict[str, Any]:
    """message, details and (for a geofence) the place of an alarm raised by this observation."""
    who = f"{label.asset_name}（{label.asset}）"
    when = iso_utc(observation.phenomenon_time)
    params = rule.params or {}
    if rule.kind == "geofence":
        lon, lat = point_of(observation.result) or (None, None)
        verb = "离开" if params.get("mode", "exit") == "exit" else "进入"
        return {"message": f"{who} {verb} {rule.fence} @ ({lon:.6f}, {lat:.6f})",
                "details": {"lon": lon, "lat": lat, "geofence": rule.fence, "mode": params.get("mode", "exit"), "time": when},
                "place": placement.Place(lon=lon, lat=lat)}
    unit = label.unit or ""
    value = observation.result
    if rule.kind == "threshold":
        high = params.get("high")
        condition = f"> {high:g}" if high is not None and value > high else f"< {params.get('low'):g}"
        message = f"{who} {label.property} = {value:g} {unit} {condition}".replace("  ", " ")
    else:
        message = f"{who} {label.property} = {value}"
    return {"message": message, "details": {"value": _shown(value), "unit": label.unit, "property": label.property, "time": when,
                                            **{k: v for k, v in params.items() if k != "values"}}}
