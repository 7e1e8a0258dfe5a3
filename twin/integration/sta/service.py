"""The STA operations the routes call: read, create, update, delete a resource path; service root; dataArray."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from twin.db.models import Datastream
from twin.errors import InvalidInput, NotFound
from twin.integration import ingest
from twin.integration.sta import paths, reading
from twin.integration.sta.model import BY_SET, ENTITY_TYPES
from twin.integration.sta.observations import default_features_of_interest
from twin.integration.sta.options import parse_options
from twin.integration.sta.reading import Context
from twin.integration.sta.writing import Writer, observation_row

SPEC = "http://www.opengis.net/spec/iot_sensing/1.1/req"
MQTT_CREATE = f"{SPEC}/create-observations-via-mqtt/observations-creation"
MQTT_RECEIVE = f"{SPEC}/receive-updates-via-mqtt/receive-updates"
CONFORMANCE = (
    f"{SPEC}/datamodel",
    f"{SPEC}/resource-path/resource-path-to-entities",
    f"{SPEC}/request-data",
    f"{SPEC}/create-update-delete",
    f"{SPEC}/data-array/data-array",
    MQTT_CREATE,
    MQTT_RECEIVE,
)
DATA_ARRAY_COMPONENTS = {"phenomenonTime", "result", "resultTime", "resultQuality", "validTime", "parameters", "FeatureOfInterest/id", "id"}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a read returns: a JSON body, or raw text for `$value`."""

    body: Any
    text: str | None = None


def service_root(ctx: Context, *, mqtt_endpoint: str) -> dict[str, Any]:
    """The service root document (OGC 18-088 §9.2.1): entity sets and server settings."""
    return {
        "value": [{"name": t.set_name, "url": f"{ctx.base}/{t.set_name}"} for t in ENTITY_TYPES],
        "serverSettings": {
            "conformance": list(CONFORMANCE),
            MQTT_CREATE: {"endpoints": [mqtt_endpoint]},
            MQTT_RECEIVE: {"endpoints": [mqtt_endpoint]},
        },
    }


def read(session: Session, *, ctx: Context, path: str, params: dict[str, str]) -> Outcome:
    """GET any resource path with its query options."""
    resource = paths.parse_path(path)
    options = parse_options(params)
    conditions, entity_id, _ = paths.resolve(session, resource, scope=ctx.scope)
    entity = resource.last.entity
    link = f"{ctx.base}/{path.strip('/')}"
    one_datastream = len(resource.steps) > 1 and resource.steps[-2].entity.set_name == "Datastreams"
    if resource.prop is not None:
        assert entity_id is not None
        value = reading.read_property(session, entity=entity, entity_id=entity_id, name=resource.prop)
        if resource.value:
            return Outcome(None, text="" if value is None else value if isinstance(value, str) else _json_text(value))
        return Outcome({resource.prop: value})
    if resource.ref:
        if entity_id is not None:
            return Outcome({"@iot.selfLink": ctx.self_link(entity, entity_id)})
        return Outcome(reading.read_refs(session, entity=entity, conditions=conditions, options=options, ctx=ctx, link=link, one_datastream=one_datastream))
    if entity_id is not None:
        return Outcome(reading.read_entity(session, entity=entity, entity_id=entity_id, options=options, ctx=ctx))
    return Outcome(reading.read_collection(
        session, entity=entity, conditions=conditions, options=options, ctx=ctx, link=link, one_datastream=one_datastream,
    ))


def create(session: Session, *, ctx: Context, path: str, body: Any) -> tuple[str, dict[str, Any]]:
    """POST to a collection (or a navigation collection, or $ref): (Location URL, created entity)."""
    resource = paths.parse_path(path)
    if resource.prop is not None:
        raise InvalidInput("cannot POST to a property")
    writer = Writer(session, ctx)
    if resource.ref:
        parent, nav = _parent_and_nav(session, resource, ctx)
        writer.add_ref(parent[0], parent[1], nav, body)
        return "", {}
    if resource.last.single:
        raise InvalidInput("POST goes to a collection, e.g. /Things or /Things(1)/Datastreams")
    implied: dict[str, int] = {}
    if len(resource.steps) > 1:
        parent_step = resource.steps[-2]
        _, parent_id, _ = paths.resolve(session, paths.ResourcePath(resource.steps[:-1]), scope=ctx.scope)
        assert parent_id is not None
        implied = {_reverse_nav(resource.last.entity.set_name, parent_step.entity.set_name): parent_id}
    entity = resource.last.entity
    created = writer.create(entity, body, implied=implied)
    session.flush()
    return ctx.self_link(entity, created), reading.read_entity(session, entity=entity, entity_id=created, options=parse_options({}), ctx=ctx)


def update(session: Session, *, ctx: Context, path: str, body: Any, replace: bool) -> dict[str, Any] | None:
    """PATCH / PUT an entity (or PUT a single-entity $ref); returns the updated entity."""
    resource = paths.parse_path(path)
    writer = Writer(session, ctx)
    if resource.ref:
        if not replace:
            raise InvalidInput("use PUT to change a link with $ref")
        parent, nav = _parent_and_nav(session, resource, ctx)
        writer.set_ref(parent[0], parent[1], nav, body)
        return None
    if resource.prop is not None or not resource.last.single:
        raise InvalidInput("PATCH and PUT address one entity, e.g. /Things(1)")
    _, entity_id, _ = paths.resolve(session, resource, scope=ctx.scope)
    assert entity_id is not None
    entity = resource.last.entity
    writer.update(entity, entity_id, body, replace=replace)
    return reading.read_entity(session, entity=entity, entity_id=entity_id, options=parse_options({}), ctx=ctx)


def delete(session: Session, *, ctx: Context, path: str) -> None:
    """DELETE an entity, or a link with `.../Locations(2)/$ref`."""
    resource = paths.parse_path(path)
    writer = Writer(session, ctx)
    if resource.ref:
        if resource.last.id is None or len(resource.steps) < 2:
            raise InvalidInput("DELETE .../$ref names one linked entity, e.g. Things(1)/Locations(2)/$ref")
        _, target_id, parent = paths.resolve(session, resource, scope=ctx.scope)
        assert parent is not None and target_id is not None
        assert resource.last.via is not None
        writer.remove_ref(parent[0].entity, parent[1], resource.last.via, target_id)
        return
    if resource.prop is not None or not resource.last.single:
        raise InvalidInput("DELETE addresses one entity, e.g. /Things(1)")
    _, entity_id, _ = paths.resolve(session, resource, scope=ctx.scope)
    assert entity_id is not None
    writer.delete(resource.last.entity, entity_id)


def create_observations(session: Session, *, ctx: Context, body: Any) -> list[str]:
    """Data Array extension (OGC 18-088 §14.4): many Observations per Datastream in one request.

    Answers one entry per row, in order: the new (or already stored) Observation's selfLink, or "error".
    """
    if not isinstance(body, list):
        raise InvalidInput("CreateObservations takes a JSON array of {Datastream, components, dataArray} objects")
    rows: list[dict[str, Any] | None] = []
    needs_default: set[int] = set()
    for group_index, group in enumerate(body):
        datastream_id, components, array = _data_array_group(group, group_index)
        for values in array:
            if not isinstance(values, list) or len(values) != len(components):
                rows.append(None)
                continue
            fields = dict(zip(components, values))
            foi = fields.get("FeatureOfInterest/id")
            row = observation_row(fields, datastream_id=datastream_id, foi_id=foi)
            if foi is None:
                needs_default.add(datastream_id)
            rows.append(row)
    defaults = default_features_of_interest(session, _visible_datastreams(session, needs_default, ctx)) if needs_default else {}
    for row in rows:
        if row is not None and row["feature_of_interest_id"] is None:
            row["feature_of_interest_id"] = defaults.get(row["datastream_id"])
    candidates = [r for r in rows if r is not None]
    outcome = ingest.insert_observations(session, candidates, park_id=ctx.park_id) if candidates else []
    answers: list[str] = []
    ids = iter(outcome)
    observations = BY_SET["Observations"]
    for row in rows:
        if row is None:
            answers.append("error")
            continue
        observation_id = next(ids)
        answers.append(ctx.self_link(observations, observation_id) if observation_id is not None else "error")
    return answers


def _data_array_group(group: Any, index: int) -> tuple[int, list[str], list[Any]]:
    if not isinstance(group, dict):
        raise InvalidInput(f"CreateObservations[{index}] must be an object")
    datastream = group.get("Datastream")
    if not isinstance(datastream, dict) or "@iot.id" not in datastream:
        raise InvalidInput(f"CreateObservations[{index}].Datastream must be {{\"@iot.id\": n}}")
    datastream_id = paths.parse_id(str(datastream["@iot.id"]), f"CreateObservations[{index}].Datastream")
    components = group.get("components")
    if not isinstance(components, list) or not all(isinstance(c, str) for c in components):
        raise InvalidInput(f"CreateObservations[{index}].components must be a list of property names")
    unknown = [c for c in components if c not in DATA_ARRAY_COMPONENTS]
    if unknown:
        raise InvalidInput(f"CreateObservations[{index}].components: unknown {', '.join(unknown)}; known: {', '.join(sorted(DATA_ARRAY_COMPONENTS))}")
    if "result" not in components:
        raise InvalidInput(f"CreateObservations[{index}].components must include result")
    array = group.get("dataArray")
    if not isinstance(array, list):
        raise InvalidInput(f"CreateObservations[{index}].dataArray must be an array of arrays")
    return datastream_id, components, array


def _visible_datastreams(session: Session, ids: set[int], ctx: Context) -> list[int]:
    stmt = select(Datastream.id).where(Datastream.id.in_(ids))
    scope = ctx.scope(BY_SET["Datastreams"])
    if scope is not None:
        stmt = stmt.where(scope)
    return list(session.scalars(stmt))


def _parent_and_nav(session: Session, resource: paths.ResourcePath, ctx: Context) -> tuple[tuple[Any, int], Any]:
    """For `A(1)/Nav/$ref`: ((A's entity type, 1), Nav)."""
    if len(resource.steps) < 2 or resource.last.via is None:
        raise InvalidInput("$ref writes need a navigation path, e.g. Things(1)/Locations/$ref")
    parent_path = paths.ResourcePath(resource.steps[:-1])
    _, parent_id, _ = paths.resolve(session, parent_path, scope=ctx.scope)
    if parent_id is None:
        raise NotFound("the entity owning the link was not found")
    return (resource.steps[-2].entity, parent_id), resource.last.via


def _reverse_nav(child_set: str, parent_set: str) -> str:
    """The navigation property of the new child pointing back to its parent (Datastream → 'Thing')."""
    for nav in BY_SET[child_set].navs.values():
        if nav.target == parent_set:
            return nav.name
    raise InvalidInput(f"{child_set} cannot be created under {parent_set}")


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode()
