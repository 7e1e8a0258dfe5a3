"""OGC SensorThings API 1.1 (Part 1: Sensing) at /sta/v1.1: entity sets, CRUD, dataArray, and two extensions.

Reads need a viewer token (a park-scoped token sees only its park's Things and what hangs off them);
writes need the integrator role. Resource paths follow OGC 18-088 (`Things(1)/Datastreams`,
`Observations(9)/result/$value`, `.../$ref`), so they are routed by one path parameter and parsed
in twin.integration.sta.paths.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

from twin.access.roles import Principal, Role
from twin.api.auth import Reader, require
from twin.api.deps import SessionDep, SettingsDep, parse_bbox
from twin.errors import InvalidInput
from twin.integration.sta import extensions, service
from twin.integration.sta.paths import parse_id
from twin.integration.sta.reading import Context



class STAResponse(JSONResponse):  # a JSONResponse, so OpenAPI documents an object body, not a string
    """JSON serialised by orjson (large collections and dataArrays)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


PREFIX = "/sta/v1.1"
router = APIRouter(prefix=PREFIX, tags=["SensorThings API 1.1"], default_response_class=STAResponse)
Integrator = Annotated[Principal, Depends(require(Role.integrator))]
MAX_BODY_BYTES = 50 * 1024 * 1024

PATH_HELP = (
    "A SensorThings resource path: `Things`, `Things(1)`, `Things(1)/Datastreams`, `Datastreams(5)/Observations`, "
    "`Datastreams(5)/Thing`, `Observations(9)/result`, `Observations(9)/result/$value`, `Things(1)/Locations/$ref`."
)
QUERY_HELP = """
Query options (OGC 18-088 §9.3): `$filter` (comparison, logical, arithmetic operators; string, date,
math and geo functions: `geo.distance` and `geo.length` in metres, `st_within`, `st_intersects`...,
with `geography'POINT(104.06 30.54)'` literals; paths such as `Datastream/Thing/name`; `any()`/`all()`),
`$expand` (nested with `;`, at most 5 levels), `$select`, `$orderby`, `$top` (default 100, capped at
the server maximum), `$skip`, `$count=true`, `$resultFormat=dataArray` (Observations).
"""


def _context(request: Request, principal: Principal, settings: Any) -> Context:
    return Context(base=str(request.base_url).rstrip("/") + PREFIX, park_id=principal.park_id, max_top=settings.max_page_size)


def _params(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in params and key.startswith("$"):
            raise InvalidInput(f"query option {key} is given more than once")
        params[key] = value
    return params


async def _body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise InvalidInput(f"the body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB")
    try:
        return orjson.loads(raw) if raw else None
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from None


@router.get("", summary="Service root")
def root(request: Request, principal: Reader, settings: SettingsDep) -> dict[str, Any]:
    """The entity sets with their URLs, and `serverSettings.conformance` (with the MQTT endpoint)."""
    return service.service_root(_context(request, principal, settings), mqtt_endpoint=f"mqtt://{settings.mqtt_host}:{settings.mqtt_port}")


@router.get("/Latest", summary="Extension: latest value of every Datastream")
def latest(
    request: Request, principal: Reader, session: SessionDep, settings: SettingsDep,
    things: Annotated[str | None, Query(description="comma-separated Thing ids", examples=["1,2,3"])] = None,
    building: Annotated[str | None, Query(description="feature code of a building (its storeys and spaces are included)", examples=["B01"])] = None,
    park: Annotated[str | None, Query(description="park slug (when a building code exists in several parks)")] = None,
    bbox: Annotated[str | None, Query(description="minLon,minLat,maxLon,maxLat (WGS84)")] = None,
) -> dict[str, Any]:
    """ParkTwin extension: the newest Observation of each Datastream of some Things, a building or a bbox,
    served from the `datastream_latest` table (no scan of observations). Datastreams without data have `result: null`."""
    thing_ids = [parse_id(t, "things") for t in things.split(",") if t.strip()] if things else None
    return extensions.latest(
        session, ctx=_context(request, principal, settings), things=thing_ids, building=building, park=park,
        bbox=parse_bbox(bbox), limit=settings.max_page_size,
    )


@router.get("/Datastreams({datastream_id})/Observations/aggregate", summary="Extension: time-bucket aggregation")
def aggregate(
    datastream_id: str, request: Request, principal: Reader, session: SessionDep, settings: SettingsDep,
    interval: Annotated[str, Query(description="bucket length: 15min, 1h, 1d or ISO 8601 PT15M")] = "1h",
    func: Annotated[str, Query(description="avg,min,max,count,sum (any of them)")] = "avg,min,max,count",
    start: Annotated[str | None, Query(alias="from", description="start (inclusive), ISO 8601; default: 24 h before `to`")] = None,
    end: Annotated[str | None, Query(alias="to", description="end (exclusive), ISO 8601; default: now")] = None,
    origin: Annotated[str | None, Query(description="a bucket boundary, ISO 8601; default: midnight in Chengdu (UTC+8)")] = None,
) -> dict[str, Any]:
    """ParkTwin extension: aggregates of a Datastream's Observations per time bucket (PostgreSQL `date_bin`):
    avg/min/max/sum over numeric results, count of observations. Empty buckets are omitted."""
    until = extensions.parse_time_param(end, "to") or datetime.now(UTC)
    since = extensions.parse_time_param(start, "from") or until - timedelta(days=1)
    return extensions.aggregate(
        session, datastream_id=parse_id(datastream_id, "Datastreams"), interval=extensions.parse_interval(interval),
        functions=extensions.parse_functions(func), start=since, end=until,
        origin=extensions.parse_time_param(origin, "origin") or extensions.DEFAULT_ORIGIN, ctx=_context(request, principal, settings),
    )


@router.post("/CreateObservations", status_code=201, summary="Data Array: create many Observations")
async def create_observations(request: Request, principal: Integrator, session: SessionDep, settings: SettingsDep) -> list[str]:
    """Data Array extension (OGC 18-088 §14.4): `[{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime",
    "result"], "dataArray": [[...], ...]}]` → one selfLink (or "error") per row. Repeated readings are stored once."""
    body = await _body(request)
    return await run_in_threadpool(service.create_observations, session, ctx=_context(request, principal, settings), body=body)  # DB work off the event loop: a blocked loop deadlocks concurrent ingest


@router.get("/{path:path}", summary="Read entities", description=PATH_HELP + "\n" + QUERY_HELP,
            responses={200: {"content": {"application/json": {}, "text/plain": {}}, "description": "JSON, or text/plain for `$value`"}})
def read(path: str, request: Request, principal: Reader, session: SessionDep, settings: SettingsDep) -> Any:
    """Entity sets, entities, navigation, properties, `$value` and `$ref`."""
    if path.strip("/") == "":
        return root(request, principal, settings)
    outcome = service.read(session, ctx=_context(request, principal, settings), path=path, params=_params(request))
    if outcome.text is not None:
        return PlainTextResponse(outcome.text)
    return outcome.body


@router.post("/{path:path}", status_code=201, summary="Create entities (deep insert) or links ($ref)", description=PATH_HELP,
             responses={204: {"description": "a link ($ref) was added"}})
async def create(path: str, request: Request, principal: Integrator, session: SessionDep, settings: SettingsDep) -> Any:
    """POST an entity (with nested entities, created or linked by `{"@iot.id": n}`, all in one transaction);
    201 with a Location header. POST `.../Nav/$ref` with `{"@iot.id": n}` adds a link (204)."""
    body = await _body(request)
    location, entity = await run_in_threadpool(service.create, session, ctx=_context(request, principal, settings), path=path, body=body)  # off the event loop
    if not location:
        return Response(status_code=204)
    return STAResponse(entity, status_code=201, headers={"Location": location})


@router.patch("/{path:path}", summary="Update an entity (only the given properties)", description=PATH_HELP)
async def patch(path: str, request: Request, principal: Integrator, session: SessionDep, settings: SettingsDep) -> Any:
    """PATCH an entity; navigation properties given as `{"@iot.id": n}` relink it."""
    body = await _body(request)
    return service.update(session, ctx=_context(request, principal, settings), path=path, body=body, replace=False)


@router.put("/{path:path}", summary="Replace an entity, or a single-entity link ($ref)", description=PATH_HELP,
            responses={204: {"description": "a single-entity link ($ref) was replaced"}})
async def put(path: str, request: Request, principal: Integrator, session: SessionDep, settings: SettingsDep) -> Any:
    """PUT replaces every property (mandatory ones must be given; missing optional ones are cleared)."""
    body = await _body(request)
    entity = service.update(session, ctx=_context(request, principal, settings), path=path, body=body, replace=True)
    return Response(status_code=204) if entity is None else entity


@router.delete("/{path:path}", summary="Delete an entity, or a link ($ref)", description=PATH_HELP,
               response_class=Response, responses={200: {"description": "deleted (OGC 18-088: 200 with no body)"}})
def remove(path: str, request: Request, principal: Integrator, session: SessionDep, settings: SettingsDep) -> Response:
    """DELETE an entity (what depends on it goes too: a Thing's Datastreams and their Observations)."""
    service.delete(session, ctx=_context(request, principal, settings), path=path)
    return Response(status_code=200)
