"""STA MQTT topics and payloads: which observations a message carries, and what the service publishes.

Create (OGC 18-088 §14.1): `v1.1/Datastreams(<id>)/Observations` (the body is an Observation),
`v1.1/Observations` (the body names its `Datastream`), `v1.1/FeaturesOfInterest(<id>)/Observations`
(the body names its `Datastream`). A body may be one Observation or, as an extension, a JSON array.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from twin.integration.ingest import AcceptedObservation

VERSION = "v1.1"
# Wildcards cannot match inside "Datastreams(+)", so subscribe to whole levels and parse the topic.
SUBSCRIBE_FILTERS = (f"{VERSION}/+/Observations", f"{VERSION}/Observations")
PUBLISH_TEMPLATE = VERSION + "/Datastreams({datastream})/Observations"

_TOPIC = re.compile(r"^v1\.1/(?:(Datastreams|FeaturesOfInterest)\((\d{1,18})\)/)?Observations$")


class MessageError(ValueError):
    """A message this service cannot store; the text says why (logged, message acknowledged)."""


def _navigation_id(value: Any, what: str) -> int:
    if isinstance(value, dict) and "@iot.id" in value and len(value) == 1:
        value = value["@iot.id"]
    elif isinstance(value, dict):
        raise MessageError(f"{what} must be a reference {{\"@iot.id\": n}}; create entities with the REST API")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise MessageError(f"{what} must reference an entity by integer @iot.id")
    return value


def observation_rows(topic: str, payload: bytes, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """The ingest rows a message carries (see `insert_observations`), or MessageError."""
    match = _TOPIC.match(topic)
    if match is None:
        raise MessageError(f"topic '{topic[:120]}' is not an STA Observations topic")
    parent, parent_id = match.group(1), int(match.group(2)) if match.group(2) else None
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MessageError(f"payload is not JSON: {exc}") from None
    entities = body if isinstance(body, list) else [body]
    received_at = now or datetime.now(UTC)
    rows = []
    for entity in entities:
        if not isinstance(entity, dict):
            raise MessageError("an Observation must be a JSON object")
        if parent == "Datastreams":
            datastream = parent_id
        elif "Datastream" in entity:
            datastream = _navigation_id(entity["Datastream"], "Datastream")
        else:
            raise MessageError("the Observation names no Datastream (publish to v1.1/Datastreams(<id>)/Observations)")
        foi = parent_id if parent == "FeaturesOfInterest" else (
            _navigation_id(entity["FeatureOfInterest"], "FeatureOfInterest") if entity.get("FeatureOfInterest") else None)
        rows.append({
            "datastream_id": datastream,
            # OGC 18-088: without phenomenonTime the server uses the time it received the Observation.
            # Such messages cannot be de-duplicated on redelivery; devices should send phenomenonTime.
            "phenomenon_time": entity.get("phenomenonTime") or received_at,
            "result": entity.get("result"),
            "result_time": entity.get("resultTime"),
            "parameters": entity.get("parameters"),
            "result_quality": entity.get("resultQuality"),
            "valid_time": entity.get("validTime"),
            "feature_of_interest_id": foi,
        })
    return rows


def iso_utc(moment: datetime) -> str:
    """An aware time as ISO 8601 in UTC with a 'Z'."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _utc(moment: datetime) -> datetime:
    return moment if moment.utcoffset() == _ZERO else moment.astimezone(UTC)


_ZERO = timedelta(0)


def observation_payload(observation: AcceptedObservation) -> bytes:
    """The STA JSON of a committed Observation, as published to subscribers (times in UTC, 'Z')."""
    entity: dict[str, Any] = {
        "@iot.id": observation.id,
        "phenomenonTime": _utc(observation.phenomenon_time),
        "resultTime": _utc(observation.result_time) if observation.result_time else None,
        "result": observation.result,
    }
    if observation.phenomenon_time_end is not None:
        entity["phenomenonTime"] = f"{iso_utc(observation.phenomenon_time)}/{iso_utc(observation.phenomenon_time_end)}"
    if observation.parameters:
        entity["parameters"] = observation.parameters
    return orjson.dumps(entity, option=orjson.OPT_UTC_Z)
